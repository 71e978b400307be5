"""The Quiz tab: choose a lesson's bank, practise or take the test, review any past attempt.

Three pages in a stack: the start page (banks, modes, history), the question page and the
review. The rules of a quiz live in studyapp.content.quiz.QuizSession and the attempts in
studyapp.store.quiz.QuizHistory; this module only shows them and takes the learner's input.
Keys on the question page: 1-9 or A-I pick an option, Enter checks / goes on, Esc leaves.
Banks are parsed on a worker (the GUI thread never waits on the disk); each answer is one small
transaction written as it is given, so a crash loses nothing the learner saw confirmed.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QListWidgetItem, QStackedWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from studyapp.content import quiz as qz
from studyapp.srs.cards import Cards
from studyapp.store.quiz import QuizHistory, find_quiz_card
from studyapp.store.timeutil import for_people
from studyapp.ui import theme, worker
from studyapp.ui.links import make_link
from studyapp.ui.wrapping import wrap_items
from studyapp.ui.quiz_pages import (
    QuestionPage, ReviewPage, StartPage, lay, percent, stylesheet,
)

class QuizTab(QWidget):
    status = Signal(str)
    link_activated = Signal(str)

    def __init__(self, store, lessons: list, folders: list, parent: QWidget | None = None):
        super().__init__(parent)
        self.store, self.history = store, QuizHistory(store)
        self.lessons = {lesson.slug: lesson for lesson in lessons}
        self.banks: list[qz.Bank] = []
        self.bank: qz.Bank | None = None
        self.session: qz.QuizSession | None = None
        self.shuffle_options = True     # a new option order each attempt (tests turn it off)
        self.load_errors: list[qz.QuizError] = []
        self.cards_made: set[tuple[str, str]] = set()      # (bank id, question id) this session
        self._pending_link: tuple[dict, str] | None = None
        self._theme = theme.current()
        self.setStyleSheet(stylesheet())
        sp, qp, rp = self.start_page, self.question_page, self.review_page = \
            StartPage(), QuestionPage(), ReviewPage()
        self.stack = QStackedWidget()
        for page in (sp, qp, rp):
            self.stack.addWidget(page)
        lay(QVBoxLayout, self.stack, parent=self)
        wrap_items(sp.banks)   # each quiz's second line (questions · best score) stays at any width
        sp.banks.currentRowChanged.connect(self._bank_chosen)
        sp.practice.clicked.connect(lambda: self.start_quiz("practice"))
        sp.test.clicked.connect(lambda: self.start_quiz("test"))
        sp.history.itemActivated.connect(lambda item, _col: self.review_attempt(item.data(0, Qt.UserRole)))
        sp.review_button.clicked.connect(
            lambda: [self.review_attempt(i.data(0, Qt.UserRole)) for i in sp.history.selectedItems()[:1]])
        sp.link.connect(self.link_activated.emit)
        qp.left.connect(self._leave_quiz)
        qp.finished.connect(self._quiz_finished)
        qp.make_card.connect(self._card_from_question_page)
        qp.open_section.connect(self.link_activated.emit)
        rp.back.connect(self.show_start)
        rp.again.connect(lambda: self.start_quiz(rp.attempt.mode))
        rp.link.connect(self._review_link)
        sp.title.setText("Loading the quizzes…")
        sections = {lesson.slug: {s.id for s in lesson.sections} for lesson in lessons}
        self.loading = worker.run_in_background(
            load_and_check, folders, sections, label="Loading quizzes", on_result=self._loaded,
            on_error=lambda msg, _tb: sp.title.setText(f"The quizzes could not be read: {html.escape(msg)}"))

    def changeEvent(self, event) -> None:
        # View > Theme swaps the application palette; the tints of this tab follow it.
        if event.type() == QEvent.PaletteChange and self._theme != theme.current():
            self._theme = theme.current()
            self.setStyleSheet(stylesheet())
        super().changeEvent(event)

    # ---- banks --------------------------------------------------------------------------------
    def _loaded(self, result) -> None:
        banks, self.load_errors = result
        order = {slug: (lesson.order, lesson.title) for slug, lesson in self.lessons.items()}
        self.banks = sorted(banks, key=lambda b: (order.get(b.lesson_id, (999, b.title)), b.id))
        sp, errors = self.start_page, self.load_errors
        if errors:
            shown = "<br>".join(html.escape(str(e)) for e in errors[:8])
            more = f"<br>… and {len(errors) - 8} more" if len(errors) > 8 else ""
            sp.errors.setText(f"<b>Some questions could not be loaded:</b><br>{shown}{more}")
            sp.errors.show()
        self.refresh_banks()
        if not self.banks:
            sp.title.setText("No quizzes are installed")
            sp.about.setText("Quiz banks are markdown files in resources/quizzes/ or in a content "
                             "pack's quizzes/ folder.")
            sp.practice.setEnabled(False)
            sp.test.setEnabled(False)
        elif sp.banks.currentRow() < 0:
            sp.banks.setCurrentRow(0)
        if self._pending_link is not None:
            self.open_link(*self._pending_link)

    def refresh_banks(self) -> None:
        best, sp = self.history.best_by_bank(), self.start_page
        row = sp.banks.currentRow()
        sp.banks.blockSignals(True)
        sp.banks.clear()
        for bank in self.banks:
            lesson = self.lessons.get(bank.lesson_id)
            number = f"{lesson.order}. " if lesson and lesson.order < 99 else ""
            score = f"best {percent(best[bank.id])}" if bank.id in best else "not taken yet"
            item = QListWidgetItem(f"{number}{bank.title}\n{len(bank.questions)} questions · {score}")
            item.setToolTip(f"Quiz file: {bank.path.name}")   # the name, never the install path
            sp.banks.addItem(item)
        sp.banks.blockSignals(False)
        if 0 <= row < sp.banks.count():
            sp.banks.setCurrentRow(row)
            self._bank_chosen(row)

    def _bank_chosen(self, row: int) -> None:
        if not 0 <= row < len(self.banks):
            return
        bank = self.bank = self.banks[row]
        sp = self.start_page
        sp.title.setText(html.escape(bank.title))
        kinds: dict[str, int] = {}
        for q in bank.questions:
            kinds[qz.KIND_NAMES[q.kind].lower()] = kinds.get(qz.KIND_NAMES[q.kind].lower(), 0) + 1
        mix = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        read = (f" · <a href='{make_link('lessons', lesson=bank.lesson_id)}'>Read the lesson</a>"
                if bank.lesson_id in self.lessons else "")
        sp.about.setText(f"{len(bank.questions)} questions: {mix}{read}")
        self.fill_history()

    def fill_history(self) -> None:
        tree = self.start_page.history
        tree.clear()
        attempts = self.history.attempts(self.bank.id) if self.bank else []
        for attempt in attempts:
            score = (f"{int(attempt.score or 0)} / {int(attempt.max_score or 0)}  ({percent(attempt.fraction)})"
                     if attempt.finished else "–")
            item = QTreeWidgetItem([for_people(attempt.started_at), attempt.mode.capitalize(), score,
                                    "" if attempt.finished else "not finished"])
            item.setData(0, Qt.UserRole, attempt.id)
            tree.addTopLevelItem(item)
        if not attempts:
            empty = QTreeWidgetItem(["No attempts yet: your results will be listed here."])
            empty.setFlags(Qt.NoItemFlags)
            tree.addTopLevelItem(empty)
            empty.setFirstColumnSpanned(True)
        self.start_page.review_button.setEnabled(False)

    # ---- taking and reviewing a quiz ------------------------------------------------------------
    def show_start(self) -> None:
        self.refresh_banks()
        self.stack.setCurrentWidget(self.start_page)

    def start_quiz(self, mode: str) -> None:
        if self.bank is None:
            return
        self.session = qz.QuizSession(self.bank, mode, self.history, shuffle=self.shuffle_options)
        self.question_page.start(self.session)
        self.stack.setCurrentWidget(self.question_page)

    def _leave_quiz(self) -> None:
        if self.session.attempt_id is not None:
            self.status.emit("Quiz left unfinished; your answers so far are in the history.")
        self.show_start()

    def _quiz_finished(self) -> None:
        s = self.session
        self.status.emit(f"{s.bank.title}: {s.right_so_far()} of {len(s.questions)} right")
        self.review_attempt(s.attempt_id)

    def review_attempt(self, attempt_id: int | None) -> None:
        attempt = self.history.attempt(attempt_id) if attempt_id is not None else None
        bank = next((b for b in self.banks if attempt and b.id == attempt.bank_id), None)
        if attempt is None or bank is None:
            self.status.emit("That attempt's quiz is no longer installed.")
            return self.show_start()
        made = {qid for bank_id, qid in self.cards_made if bank_id == bank.id}
        self.review_page.show_attempt(bank, attempt, self.history.best_by_bank().get(bank.id), made)
        self.stack.setCurrentWidget(self.review_page)

    def _review_link(self, url: str) -> None:
        if not url.startswith("card:"):
            return self.link_activated.emit(url)
        attempt = self.review_page.attempt
        bank = next(b for b in self.banks if b.id == attempt.bank_id)
        question = bank.question(url[len("card:"):])
        if question is not None and self.make_card(bank, question) is not None:
            self.review_attempt(attempt.id)

    # ---- flashcards and links -------------------------------------------------------------------
    def _card_from_question_page(self, question: qz.Question) -> None:
        made = self.make_card(self.session.bank, question)
        if made is not None:
            self.question_page.card_made(made)

    def make_card(self, bank: qz.Bank, question: qz.Question) -> bool | None:
        """Turn a missed question into a flashcard: True if new, False if it was one already."""
        front, back = question.as_card()
        try:
            made = find_quiz_card(self.store, front) is None
            if made:
                add_card(self.store, front, back, bank.lesson_id, question.section)
        except Exception as exc:  # noqa: BLE001 - e.g. a profile without the cards tables
            self.status.emit(f"Could not make the flashcard: {exc}")
            return None
        self.cards_made.add((bank.id, question.id))
        self.status.emit("Flashcard made: it is due in the Flashcards tab now." if made
                         else "That question is already a flashcard.")
        return made

    def open_link(self, params: dict, fragment: str = "") -> None:
        """studyapp://quiz?lesson=SLUG[&mode=practice|test]: that lesson's quiz (and start it)."""
        if not self.banks:
            self._pending_link = (params, fragment)   # opened once the banks are read
            return
        self._pending_link = None
        wanted = params.get("lesson") or params.get("bank")
        row = next((i for i, b in enumerate(self.banks) if wanted in (b.lesson_id, b.id)), None)
        if row is None:
            return self.status.emit(f"There is no quiz for the lesson {wanted!r}.")
        self.show_start()
        self.start_page.banks.setCurrentRow(row)
        if params.get("mode") in ("practice", "test"):
            self.start_quiz(params["mode"])


def add_card(store, front: str, back: str, lesson_id: str, section_id: str) -> int:
    """A flashcard from a missed question, through the flashcards feature's own rules."""
    return Cards(store).add(front, back, lesson_id=lesson_id, section_id=section_id or None, origin="quiz")


def load_and_check(folders: list, sections: dict[str, set[str]]):
    """Worker thread: parse the banks and check their section links against the lessons."""
    banks, errors = qz.load_banks(*folders)
    return banks, errors + qz.check_sections(banks, sections)


def create_tab(window) -> QuizTab:
    ctx = window.ctx
    tab = QuizTab(ctx.store, ctx.lessons, ctx.config.content_folders("quizzes"))
    tab.link_activated.connect(window.open_link)
    tab.status.connect(window.show_status)
    return tab
