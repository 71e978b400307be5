"""The Quiz tab: choose a lesson's bank, practise or take the test, review any past attempt.

Three pages in a stack: the start page (banks, modes, history), the question page and the
review. The rules of a quiz live in studyapp.content.quiz.QuizSession and the attempts in
studyapp.store.quiz.QuizHistory; this module only shows them and takes the learner's input.
Keys on the question page: 1-9 or A-I pick an option, Enter checks / goes on, Esc leaves.
Banks are parsed on a worker (the GUI thread never waits on the disk); answers are small single
transactions written as they are given, so a crash loses nothing the learner saw confirmed.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QProgressBar,
    QPushButton, QScrollArea, QSplitter, QStackedWidget, QTextBrowser, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

from studyapp.content import quiz as qz
from studyapp.store.quiz import QuizHistory, find_quiz_card, insert_quiz_card
from studyapp.store.timeutil import for_people
from studyapp.ui import theme, worker
from studyapp.ui.links import make_link

LETTERS = "ABCDEFGHI"
COLOURS = {  # (light, dark): readable on both themes' window colours
    "right": ("#2e7d32", "#66bb6a"), "wrong": ("#c62828", "#ef6b6b"),
    "right_bg": ("#e8f5e9", "#1e3a23"), "wrong_bg": ("#fdecea", "#4a2424"),
    "pick_bg": ("#e8f0fe", "#22324d"), "muted": ("#5f6368", "#a0a4a8"),
}


def colour(name: str) -> str:
    return COLOURS[name][theme.current() == "dark"]


def _restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def stylesheet() -> str:
    c = {k: colour(k) for k in COLOURS}
    return f"""
    QFrame#option {{ border: 1px solid palette(mid); border-radius: 8px; background: palette(base); }}
    QFrame#option:hover {{ border-color: palette(highlight); }}
    QFrame#option[picked="true"] {{ border: 2px solid palette(highlight); background: {c['pick_bg']}; }}
    QFrame#option[status="right"] {{ border: 2px solid {c['right']}; background: {c['right_bg']}; }}
    QFrame#option[status="wrong"] {{ border: 2px solid {c['wrong']}; background: {c['wrong_bg']}; }}
    QFrame#option[status="missed"] {{ border: 2px dashed {c['right']}; }}
    QLabel#badge {{ border: 1px solid palette(mid); border-radius: 14px; font-weight: bold;
                   min-width: 28px; max-width: 28px; min-height: 28px; max-height: 28px; }}
    QFrame#option[picked="true"] QLabel#badge {{ background: palette(highlight);
                   color: palette(highlighted-text); border-color: palette(highlight); }}
    QFrame#feedback {{ border-radius: 8px; border: 1px solid palette(mid); background: palette(base); }}
    QFrame#feedback[status="right"] {{ border-left: 5px solid {c['right']}; }}
    QFrame#feedback[status="wrong"] {{ border-left: 5px solid {c['wrong']}; }}
    QLabel#muted {{ color: {c['muted']}; }}
    QLabel#chip {{ border-radius: 9px; padding: 2px 10px; background: palette(highlight);
                  color: palette(highlighted-text); font-weight: bold; }}
    QPushButton#primary {{ background: palette(highlight); color: palette(highlighted-text);
                          font-weight: bold; padding: 7px 22px; border-radius: 6px; border: none; }}
    QPushButton#primary:disabled {{ background: palette(mid); }}
    QPushButton#mode {{ text-align: left; padding: 12px 16px; border-radius: 8px; font-size: 11pt; }}
    """


def label(text: str = "", *, size: float | None = None, bold: bool = False, name: str = "",
          wrap: bool = True) -> QLabel:
    widget = QLabel(text, wordWrap=wrap, textFormat=Qt.RichText)
    widget.setTextInteractionFlags(Qt.TextBrowserInteraction)
    widget.setOpenExternalLinks(False)
    if name:
        widget.setObjectName(name)
    if size or bold:
        font = widget.font()
        if size:
            font.setPointSizeF(size)
        font.setBold(bold)
        widget.setFont(font)
    return widget


def percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{round(100 * fraction)}%"


def card_text(question: qz.Question) -> tuple[str, str]:
    """The flashcard a missed question becomes: the question, then the answer and the why."""
    front = question.text if question.kind != "truefalse" else f"True or false? {question.text}"
    return front, f"{question.right_answer_text()}\n\n{question.explanation}"


# ---------------------------------------------------------------------------------------------
# The question page

class OptionRow(QFrame):
    """One option: a key badge, the text, and its feedback once the learner has seen it."""

    clicked = Signal(int)

    def __init__(self, index: int, option: qz.Option):
        super().__init__(objectName="option")
        self.index, self.option = index, option
        self.setCursor(Qt.PointingHandCursor)
        self.setFocusPolicy(Qt.NoFocus)
        self.badge = QLabel(LETTERS[index], objectName="badge", alignment=Qt.AlignCenter)
        self.text = label(qz.to_html(option.text), size=11)
        self.text.setTextInteractionFlags(Qt.NoTextInteraction)   # a click picks the option
        self.feedback = label("")
        self.feedback.hide()
        column = QVBoxLayout()
        column.setSpacing(4)
        column.addWidget(self.text)
        column.addWidget(self.feedback)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 8, 12, 8)
        row.addWidget(self.badge, 0, Qt.AlignTop)
        row.addLayout(column, 1)
        self.setAccessibleName(f"Option {LETTERS[index]} (key {index + 1}): {option.text}")
        self.set_state(False, "")

    def set_state(self, picked: bool, status: str, feedback: bool = False) -> None:
        self.picked, self.status = picked, status
        self.setProperty("picked", picked)
        self.setProperty("status", status)
        mark = {"right": "✓ ", "wrong": "✗ ", "missed": "✓ "}.get(status, "")
        self.feedback.setText(f"<b>{mark}</b>{qz.to_html(self.option.feedback)}")
        self.feedback.setVisible(feedback)
        _restyle(self)
        _restyle(self.badge)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.LeftButton:
            self.clicked.emit(self.index)


class QuestionPage(QWidget):
    """Asks the session's questions one by one; emits `left` or `finished`."""

    left = Signal()
    finished = Signal()
    make_card = Signal(object)       # the Question
    open_section = Signal(str)       # a studyapp:// link

    def __init__(self):
        super().__init__()
        self.session: qz.QuizSession | None = None
        self.rows: list[OptionRow] = []
        self.picked: set[int] = set()
        self.shown = False     # the current question's outcome is on screen
        self._build()

    def _build(self) -> None:
        self.back = QPushButton("← All quizzes", flat=True, clicked=lambda: self.left.emit())
        self.back.setToolTip("Leave this quiz (Esc). Your answers so far are kept in the history.")
        self.title = label(bold=True, size=12)
        self.mode_chip = label(name="chip", wrap=False)
        self.counter = label(wrap=False, size=11)
        self.bar = QProgressBar(textVisible=False, maximumHeight=8)
        top = QHBoxLayout()
        for widget, stretch in ((self.back, 0), (self.title, 1), (self.mode_chip, 0), (self.counter, 0)):
            top.addWidget(widget, stretch)

        self.kind = label(name="muted")
        self.question = label(size=14)
        self.options = QVBoxLayout()
        self.options.setSpacing(8)
        self.answer_box = QLineEdit(placeholderText="Type your answer, then press Enter")
        self.answer_box.setFont(QFont(self.answer_box.font().family(), 12))
        self.answer_box.setMinimumHeight(36)
        self.answer_box.textChanged.connect(lambda _: self._update_buttons())
        self.verdict = label(size=12.5, bold=True)
        self.short_feedback = label()
        self.explanation = label()
        self.explanation.linkActivated.connect(self.open_section.emit)
        self.card_button = QPushButton("Make a flashcard", clicked=self._card_clicked)
        self.card_button.setToolTip("Turn this question into a flashcard linked to its lesson section")
        self.feedback = QFrame(objectName="feedback")
        box = QVBoxLayout(self.feedback)
        box.setContentsMargins(16, 12, 16, 12)
        for widget in (self.verdict, self.short_feedback, self.explanation):
            box.addWidget(widget)
        card_row = QHBoxLayout()
        card_row.addStretch(1)
        card_row.addWidget(self.card_button)
        box.addLayout(card_row)

        body = QWidget(maximumWidth=980)   # long lines are hard to read on a wide window
        column = QVBoxLayout(body)
        column.setContentsMargins(4, 8, 12, 8)
        column.setSpacing(10)
        column.addWidget(self.kind)
        column.addWidget(self.question)
        column.addSpacing(4)
        column.addLayout(self.options)
        column.addWidget(self.answer_box)
        column.addWidget(self.feedback)
        column.addStretch(1)
        centred = QWidget()
        middle = QHBoxLayout(centred)
        middle.setContentsMargins(0, 0, 0, 0)
        middle.addStretch(1)
        middle.addWidget(body, 60)   # up to its maximum width, then the margins grow
        middle.addStretch(1)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
        scroll.setWidget(centred)
        scroll.setFocusPolicy(Qt.NoFocus)
        self.scroll = scroll

        self.hint = label(name="muted", wrap=False)
        self.reveal_button = QPushButton("Show the answer", clicked=self.reveal)
        self.go = QPushButton("Check", objectName="primary", clicked=self.advance)
        for button in (self.back, self.card_button, self.reveal_button, self.go):
            button.setFocusPolicy(Qt.NoFocus)   # Enter belongs to the page, never to a button
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(self.reveal_button)
        bottom.addWidget(self.go)

        page = QVBoxLayout(self)
        page.setContentsMargins(18, 10, 18, 12)
        page.addLayout(top)
        page.addWidget(self.bar)
        page.addWidget(scroll, 1)
        page.addLayout(bottom)

    # ---- showing a question -----------------------------------------------------------------
    def start(self, session: qz.QuizSession) -> None:
        self.session = session
        self.title.setText(html.escape(session.bank.title))
        self.mode_chip.setText("Practice" if session.mode == "practice" else "Test")
        self.show_question()

    def show_question(self) -> None:
        s = self.session
        q = s.current
        self.picked, self.shown = set(), False
        total = len(s.questions)
        self.counter.setText(f"Question <b>{s.index + 1}</b> of {total}")
        self.bar.setRange(0, total)
        self.bar.setValue(s.index)
        kinds = {"single": "Single choice · pick one", "multiple": "Multiple choice · pick all that apply",
                 "truefalse": "True or false", "short": "Short answer · type a word or a short phrase"}
        self.kind.setText(kinds[q.kind])
        self.question.setText(qz.to_html(q.text).replace("\n", "<br>"))
        while self.options.count():
            old = self.options.takeAt(0).widget()
            old.hide()   # at once: deleteLater() waits for the event loop
            old.setParent(None)
            old.deleteLater()
        self.rows = [OptionRow(i, o) for i, o in enumerate(q.options)]
        for row in self.rows:
            row.clicked.connect(self.toggle)
            self.options.addWidget(row)
        is_short = q.kind == "short"
        self.answer_box.setVisible(is_short)
        self.answer_box.setReadOnly(False)
        self.answer_box.clear()
        self.feedback.hide()
        if is_short:
            self.answer_box.setFocus()
        else:
            self.setFocus()
        self.scroll.verticalScrollBar().setValue(0)
        self._update_buttons()

    def toggle(self, index: int) -> None:
        q = self.session.current
        if self.shown and q.id in self.session.over or index >= len(self.rows):
            return
        if self.shown:           # a wrong try is on screen: picking again starts the next try
            self._clear_marks()
        if q.kind == "multiple":
            self.picked ^= {index}
        else:
            self.picked = {index}
        for row in self.rows:
            row.set_state(row.index in self.picked, "")
        self._update_buttons()

    def _clear_marks(self) -> None:
        self.shown = False
        self.feedback.hide()
        for row in self.rows:
            row.set_state(row.index in self.picked, "")

    def response(self) -> frozenset[int] | str | None:
        if self.session.current.kind == "short":
            text = self.answer_box.text().strip()
            return text or None
        return frozenset(self.picked) or None

    def _update_buttons(self) -> None:
        s = self.session
        if s is None:
            return
        q = s.current
        over = q.id in s.over
        if over:
            self.go.setText("See your results" if s.is_last else "Next question →")
            if s.mode == "test" and s.is_last:
                self.go.setText("Finish and see results")
            self.go.setEnabled(True)
        else:
            self.go.setText("Check" if s.mode == "practice" else
                            ("Finish and see results" if s.is_last else "Next question →"))
            self.go.setEnabled(self.response() is not None)
        self.reveal_button.setVisible(s.mode == "practice" and not over and s.tries.get(q.id, 0) > 0)
        n = len(q.options)
        keys = "" if q.kind == "short" or over else f"Keys 1–{n} or A–{LETTERS[n - 1]}: pick · "
        self.hint.setText(f"{keys}Enter: {self.go.text().rstrip(' →').lower()} · Esc: leave")

    # ---- answering --------------------------------------------------------------------------
    def advance(self) -> None:
        """Enter or the main button: check the answer, or go on once the question is over."""
        s = self.session
        if s is None:
            return
        q = s.current
        if q.id not in s.over:
            response = self.response()
            if response is None:
                return
            if self.shown and s.mode == "practice" and q.kind == "short" \
                    and response == s.last.get(q.id):
                return        # the same wrong text again: no new try
            outcome = s.submit(response)
            if s.mode == "practice":
                self.show_outcome(outcome.correct)
                return
        if not s.next():
            s.finish()
            self.finished.emit()
            return
        self.show_question()

    def reveal(self) -> None:
        self.session.reveal()
        self.show_outcome(False, revealed=True)

    def show_outcome(self, correct: bool, revealed: bool = False) -> None:
        """Practice: mark what was chosen, and once the question is over, the answer and why."""
        s, q = self.session, self.session.current
        over = q.id in s.over
        self.shown = True
        for row in self.rows:
            picked = row.index in self.picked
            if picked:
                status = "right" if row.option.correct else "wrong"
            else:
                status = "missed" if over and row.option.correct else ""
            row.set_state(picked, status, feedback=picked or (over and row.option.correct))
        tries = s.tries[q.id]
        if revealed:
            verdict = f"<span style='color:{colour('right')}'>The answer</span>"
        elif correct:
            again = "" if tries == 1 else f" (at try {tries})"
            verdict = f"<span style='color:{colour('right')}'>✓ Right{again}</span>"
        else:
            missed = q.kind == "multiple" and self.picked and self.picked < q.correct_indices
            verdict = (f"<span style='color:{colour('wrong')}'>✗ Not quite. "
                       + ("Those are right, but one or more right options are missing."
                          if missed else "Read the feedback and try again.") + "</span>")
        self.verdict.setText(verdict)
        self.feedback.setProperty("status", "right" if correct else ("" if revealed else "wrong"))
        _restyle(self.feedback)
        if q.kind == "short":
            fb = f"<b>Model answer:</b> {qz.to_html(q.right_answer_text())}<br>" if over else ""
            self.short_feedback.setText(fb + qz.to_html(q.feedback) if over or not correct else "")
            self.answer_box.setReadOnly(over)
        self.short_feedback.setVisible(q.kind == "short")
        self.explanation.setVisible(over)
        if over:
            self.explanation.setText(explanation_html(s.bank, q))
        self.card_button.setVisible(over and not s.first_correct.get(q.id, True))
        self.card_button.setEnabled(True)
        self.card_button.setText("Make a flashcard")
        self.feedback.show()
        self._update_buttons()
        self.scroll.ensureWidgetVisible(self.feedback)

    def _card_clicked(self) -> None:
        self.make_card.emit(self.session.current)

    def card_made(self, made: bool) -> None:
        self.card_button.setText("Flashcard made ✓" if made else "Already a flashcard ✓")
        self.card_button.setEnabled(False)

    def keyPressEvent(self, event) -> None:
        key, text = event.key(), event.text().upper()
        if self.session is None:
            return super().keyPressEvent(event)
        if key in (Qt.Key_Return, Qt.Key_Enter):
            self.advance()
        elif key == Qt.Key_Escape:
            self.left.emit()
        elif text and text in "123456789":
            self.toggle(int(text) - 1)
        elif text and text in LETTERS:
            self.toggle(LETTERS.index(text))
        else:
            super().keyPressEvent(event)


def section_link(bank: qz.Bank, question: qz.Question) -> str:
    return make_link("lessons", question.section, lesson=bank.lesson_id) if question.section else ""


def explanation_html(bank: qz.Bank, question: qz.Question) -> str:
    text = f"<b>Why:</b> {qz.to_html(question.explanation)}"
    link = section_link(bank, question)
    if link:
        text += f" &nbsp;<a href='{html.escape(link)}'>Read the section →</a>"
    return text


# ---------------------------------------------------------------------------------------------
# The review of an attempt (the one just finished, or any from the history)

def _answer_text(question: qz.Question, answer: dict | None) -> str:
    if answer is None:
        return "<i>not answered</i>"
    if answer.get("revealed"):
        return "<i>asked to see the answer</i>"
    response = qz.decode(answer)
    if isinstance(response, str):
        return f"“{html.escape(response)}”"
    return "; ".join(qz.to_html(question.options[i].text) for i in sorted(response or ())
                     if i < len(question.options)) or "<i>nothing</i>"


def review_html(bank: qz.Bank, attempt, cards_made: set[str]) -> str:
    """Every question of the attempt with the learner's answer, the right one and the feedback.

    `attempt` is a store.quiz.Attempt; questions removed from the bank since are named, not lost.
    """
    right, wrong = colour("right"), colour("wrong")
    muted = colour("muted")
    parts = []
    for number, qid in enumerate(attempt.question_ids, start=1):
        q = bank.question(qid)
        tries = attempt.tries(qid)
        if q is None:
            parts.append(f"<h3>{number}. (question {html.escape(qid)} is no longer in this quiz)</h3>")
            continue
        first = tries[0] if tries else None
        ok = bool(first and first.correct)
        mark = (f"<span style='color:{right}'>✓</span>" if ok else f"<span style='color:{wrong}'>✗</span>")
        parts.append(f"<h3>{mark} {number}. {qz.to_html(q.text)}</h3>")
        note = ""
        if attempt.mode == "practice" and len(tries) > 1:
            solved = tries[-1].correct
            note = (f" <span style='color:{muted}'>(right at try {len(tries)})</span>" if solved
                    else f" <span style='color:{muted}'>({len(tries)} tries)</span>")
        parts.append(f"<p><b>Your answer:</b> {_answer_text(q, first.answer if first else None)}{note}</p>")
        if not ok:
            parts.append(f"<p><b style='color:{right}'>Right answer:</b> {qz.to_html(q.right_answer_text())}</p>")
        chosen = qz.decode(first.answer) if first else None
        items = []
        if q.kind == "short":
            items.append(qz.to_html(q.feedback))
        else:
            for i, option in enumerate(q.options):
                picked = isinstance(chosen, frozenset) and i in chosen
                if picked or option.correct:
                    tag = "you chose" if picked else "right option"
                    tint = right if option.correct else wrong
                    items.append(f"<span style='color:{tint}'><b>{LETTERS[i]}</b> ({tag}):</span> "
                                 f"{qz.to_html(option.text)} — <i>{qz.to_html(option.feedback)}</i>")
        parts.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
        parts.append(f"<p>{explanation_html(bank, q)}</p>")
        if not ok:
            action = ("<span style='color:%s'>Flashcard made ✓</span>" % muted if qid in cards_made
                      else f"<a href='card:{html.escape(qid)}'>Make a flashcard</a>")
            parts.append(f"<p>{action}</p>")
        parts.append("<hr>")
    return "".join(parts)


class ReviewPage(QWidget):
    back = Signal()
    again = Signal()
    link = Signal(str)

    def __init__(self):
        super().__init__()
        self.heading = label(size=17, bold=True)
        self.summary = label(name="muted")
        self.view = QTextBrowser(openLinks=False)
        self.view.anchorClicked.connect(lambda url: self.link.emit(url.toString()))
        self.view.document().setDefaultStyleSheet("h3 { font-size: 12pt; margin-top: 10px; } "
                                                  "p, li { line-height: 135%; }")
        self.back_button = QPushButton("← All quizzes", clicked=lambda: self.back.emit())
        self.again_button = QPushButton("Take it again", objectName="primary", clicked=lambda: self.again.emit())
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.again_button)
        page = QVBoxLayout(self)
        page.setContentsMargins(18, 12, 18, 12)
        page.addWidget(self.heading)
        page.addWidget(self.summary)
        page.addWidget(self.view, 1)
        page.addLayout(buttons)

    def show_attempt(self, bank: qz.Bank, attempt, best: float | None, cards_made: set[str]) -> None:
        total = int(attempt.max_score or len(attempt.question_ids))
        right = int(attempt.score or 0)
        mode = "Practice" if attempt.mode == "practice" else "Test"
        if attempt.finished:
            first = " the first time" if attempt.mode == "practice" else ""
            self.heading.setText(f"{right} of {total} right{first} · {percent(attempt.fraction)}")
        else:
            self.heading.setText(f"Unfinished attempt · {len(set(a.question_id for a in attempt.answers))} "
                                 f"of {total} answered")
        self.summary.setText(f"{html.escape(bank.title)} · {mode} · {for_people(attempt.started_at)}"
                             f" · best score on this quiz: {percent(best)}")
        scroll = self.view.verticalScrollBar().value()
        self.view.setHtml(review_html(bank, attempt, cards_made))
        self.view.verticalScrollBar().setValue(scroll)
        self.attempt = attempt


# ---------------------------------------------------------------------------------------------
# The start page and the tab

class ModeCard(QFrame):
    """A large clickable card that starts a mode: a title and one line on what it does."""

    clicked = Signal()

    def __init__(self, title: str, text: str):
        super().__init__(objectName="option")
        self.setCursor(Qt.PointingHandCursor)
        self.setAccessibleName(title.split(maxsplit=1)[-1])
        column = QVBoxLayout(self)
        column.setContentsMargins(16, 12, 16, 12)
        column.addWidget(label(title, size=13, bold=True))
        column.addWidget(label(text, name="muted"))
        self.setProperty("picked", False)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.LeftButton and self.isEnabled():
            self.clicked.emit()


class StartPage(QWidget):
    """Banks on the left; the chosen bank's modes and its history of attempts on the right."""

    def __init__(self):
        super().__init__()
        self.banks = QListWidget(wordWrap=True)
        self.banks.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.banks.setSpacing(3)
        self.banks.setMinimumWidth(260)
        self.banks.setAccessibleName("Quizzes, one per lesson")
        self.errors = label()
        self.errors.setStyleSheet(f"color: {colour('wrong')};")
        self.errors.hide()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(label("<b>Quizzes</b> · one per lesson", size=11))
        left_layout.addWidget(self.banks, 1)
        left_layout.addWidget(self.errors)

        self.title = label(size=17, bold=True)
        self.about = label(name="muted")
        self.about.linkActivated.connect(lambda url: self.link.emit(url))
        self.practice = ModeCard("▶  Practice", "Feedback on every answer at once; try again "
                                 "until it is right. Good while you learn.")
        self.test = ModeCard("✎  Take the test", "One answer per question, graded at the end, "
                             "then a review of every question.")
        modes = QHBoxLayout()
        modes.addWidget(self.practice)
        modes.addWidget(self.test)
        self.history = QTreeWidget(rootIsDecorated=False, alternatingRowColors=True)
        self.history.setHeaderLabels(["When", "Mode", "Score", ""])
        self.history.setColumnWidth(0, 170)
        self.history.setAccessibleName("Your attempts at this quiz")
        self.review_button = QPushButton("Review the selected attempt")
        self.review_button.setEnabled(False)
        self.history.itemSelectionChanged.connect(
            lambda: self.review_button.setEnabled(bool(self.history.selectedItems())))
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(16, 0, 0, 0)
        right_layout.addWidget(self.title)
        right_layout.addWidget(self.about)
        right_layout.addSpacing(8)
        right_layout.addLayout(modes)
        right_layout.addSpacing(12)
        right_layout.addWidget(label("<b>Your attempts</b> · double-click one to review it", size=11))
        right_layout.addWidget(self.history, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.review_button)
        right_layout.addLayout(row)

        split = QSplitter(Qt.Horizontal, childrenCollapsible=False)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([320, 900])
        page = QVBoxLayout(self)
        page.setContentsMargins(12, 12, 12, 12)
        page.addWidget(split)

    link = Signal(str)


class QuizTab(QWidget):
    status = Signal(str)
    link_activated = Signal(str)

    def __init__(self, store, lessons: list, folders: list, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.history = QuizHistory(store)
        self.lessons = {lesson.slug: lesson for lesson in lessons}
        self.banks: list[qz.Bank] = []
        self.bank: qz.Bank | None = None
        self.load_errors: list[qz.QuizError] = []
        self.cards_made: set[tuple[str, str]] = set()
        self._pending_link: tuple[dict, str] | None = None
        self._theme = theme.current()
        self.setStyleSheet(stylesheet())
        self.start_page, self.question_page, self.review_page = StartPage(), QuestionPage(), ReviewPage()
        self.stack = QStackedWidget()
        for page in (self.start_page, self.question_page, self.review_page):
            self.stack.addWidget(page)
        QVBoxLayout(self).addWidget(self.stack)
        self.layout().setContentsMargins(0, 0, 0, 0)
        sp = self.start_page
        sp.banks.currentRowChanged.connect(self._bank_chosen)
        sp.practice.clicked.connect(lambda: self.start_quiz("practice"))
        sp.test.clicked.connect(lambda: self.start_quiz("test"))
        sp.history.itemActivated.connect(lambda item, _c: self.review_attempt(item.data(0, Qt.UserRole)))
        sp.review_button.clicked.connect(self._review_selected)
        sp.link.connect(self.link_activated.emit)
        qp = self.question_page
        qp.left.connect(self._leave_quiz)
        qp.finished.connect(self._quiz_finished)
        qp.make_card.connect(self._make_card_from_page)
        qp.open_section.connect(self.link_activated.emit)
        rp = self.review_page
        rp.back.connect(self.show_start)
        rp.again.connect(lambda: self.start_quiz(rp.attempt.mode))
        rp.link.connect(self._review_link)
        sp.title.setText("Loading the quizzes…")
        sections = {lesson.slug: {s.id for s in lesson.sections} for lesson in lessons}
        self.loading = worker.run_in_background(
            load_and_check, folders, sections, label="Loading quizzes", on_result=self._loaded,
            on_error=lambda msg, _tb: sp.title.setText(f"The quizzes could not be read: {msg}"))

    def changeEvent(self, event) -> None:
        # The View > Theme menu swaps the application palette; the tints here follow it.
        if event.type() == QEvent.PaletteChange and self._theme != theme.current():
            self._theme = theme.current()
            self.setStyleSheet(stylesheet())
        super().changeEvent(event)

    # ---- banks --------------------------------------------------------------------------------
    def _loaded(self, result) -> None:
        banks, errors = result
        order = {slug: (lesson.order, lesson.title) for slug, lesson in self.lessons.items()}
        self.banks = sorted(banks, key=lambda b: (order.get(b.lesson_id, (999, b.title)), b.id))
        self.load_errors = errors
        sp = self.start_page
        if errors:
            shown = "<br>".join(html.escape(str(e)) for e in errors[:8])
            more = f"<br>… and {len(errors) - 8} more" if len(errors) > 8 else ""
            sp.errors.setText(f"<b>Some questions could not be loaded:</b><br>{shown}{more}")
            sp.errors.show()
        self.refresh_banks()
        if not self.banks:
            sp.title.setText("No quizzes are installed")
            sp.about.setText("Quiz banks are markdown files in resources/quizzes/ or a content "
                             "pack's quizzes/ folder.")
            sp.practice.setEnabled(False)
            sp.test.setEnabled(False)
        elif sp.banks.currentRow() < 0:
            sp.banks.setCurrentRow(0)
        if self._pending_link is not None:
            self.open_link(*self._pending_link)

    def refresh_banks(self) -> None:
        best = self.history.best_by_bank()
        sp = self.start_page
        row = sp.banks.currentRow()
        sp.banks.blockSignals(True)
        sp.banks.clear()
        for bank in self.banks:
            lesson = self.lessons.get(bank.lesson_id)
            number = f"{lesson.order}. " if lesson and lesson.order < 99 else ""
            score = f"best {percent(best[bank.id])}" if bank.id in best else "not taken yet"
            item = QListWidgetItem(f"{number}{bank.title}\n{len(bank.questions)} questions · {score}")
            item.setData(Qt.UserRole, bank.id)
            item.setToolTip(f"{bank.path}")
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
        mix = ", ".join(f"{n} {k}" for k, n in kinds.items())
        lesson = self.lessons.get(bank.lesson_id)
        read = (f" · <a href='{make_link('lessons', lesson=bank.lesson_id)}'>Read the lesson</a>"
                if lesson else "")
        sp.about.setText(f"{len(bank.questions)} questions: {mix}{read}")
        self.fill_history()

    def fill_history(self) -> None:
        sp = self.start_page
        sp.history.clear()
        attempts = self.history.attempts(self.bank.id) if self.bank else []
        for attempt in attempts:
            if attempt.finished:
                score = f"{int(attempt.score or 0)} / {int(attempt.max_score or 0)}  ({percent(attempt.fraction)})"
                state = ""
            else:
                score, state = "–", "not finished"
            item = QTreeWidgetItem([for_people(attempt.started_at), attempt.mode.capitalize(), score, state])
            item.setData(0, Qt.UserRole, attempt.id)
            sp.history.addTopLevelItem(item)
        if not attempts:
            empty = QTreeWidgetItem(["No attempts yet: your results will be listed here.", "", "", ""])
            empty.setFlags(Qt.NoItemFlags)
            sp.history.addTopLevelItem(empty)
            empty.setFirstColumnSpanned(True)
        sp.review_button.setEnabled(False)

    # ---- taking a quiz ------------------------------------------------------------------------
    def show_start(self) -> None:
        self.refresh_banks()
        self.stack.setCurrentWidget(self.start_page)

    def start_quiz(self, mode: str) -> None:
        if self.bank is None:
            return
        self.session = qz.QuizSession(self.bank, mode, self.history)
        self.question_page.start(self.session)
        self.stack.setCurrentWidget(self.question_page)
        self.question_page.setFocus()

    def _leave_quiz(self) -> None:
        if self.session.attempt_id is not None:
            self.status.emit("Quiz left unfinished; your answers so far are in the history.")
        self.show_start()

    def _quiz_finished(self) -> None:
        s = self.session
        self.status.emit(f"{s.bank.title}: {s.right_so_far()} of {len(s.questions)} right the first time")
        if s.attempt_id is None:
            return self.show_start()
        self.review_attempt(s.attempt_id)

    def review_attempt(self, attempt_id: int | None) -> None:
        attempt = self.history.attempt(attempt_id) if attempt_id is not None else None
        bank = next((b for b in self.banks if attempt and b.id == attempt.bank_id), None)
        if attempt is None or bank is None:
            self.status.emit("That attempt's quiz is no longer installed.")
            return
        made = {qid for b, qid in self.cards_made if b == bank.id}
        self.review_page.show_attempt(bank, attempt, self.history.best_by_bank().get(bank.id), made)
        self.stack.setCurrentWidget(self.review_page)

    def _review_selected(self) -> None:
        items = self.start_page.history.selectedItems()
        if items:
            self.review_attempt(items[0].data(0, Qt.UserRole))

    def _review_link(self, url: str) -> None:
        if url.startswith("card:"):
            attempt = self.review_page.attempt
            bank = next(b for b in self.banks if b.id == attempt.bank_id)
            question = bank.question(url[len("card:"):])
            if question is not None:
                self.make_card(bank, question)
                self.review_attempt(attempt.id)
        else:
            self.link_activated.emit(url)

    # ---- flashcards ---------------------------------------------------------------------------
    def _make_card_from_page(self, question: qz.Question) -> None:
        made = self.make_card(self.session.bank, question)
        if made is not None:
            self.question_page.card_made(made)

    def make_card(self, bank: qz.Bank, question: qz.Question) -> bool | None:
        """Turn a missed question into a flashcard; True if new, False if it already was one."""
        front, back = card_text(question)
        try:
            if find_quiz_card(self.store, front) is not None:
                made = False
            else:
                add_card(self.store, front, back, bank.lesson_id, question.section)
                made = True
        except Exception as exc:  # noqa: BLE001 - e.g. a profile without the cards tables
            self.status.emit(f"Could not make the flashcard: {exc}")
            return None
        self.cards_made.add((bank.id, question.id))
        self.status.emit("Flashcard made: it is due in the Flashcards tab now." if made
                         else "That question is already a flashcard.")
        return made

    # ---- links --------------------------------------------------------------------------------
    def open_link(self, params: dict, fragment: str = "") -> None:
        """studyapp://quiz?lesson=SLUG[&mode=practice|test]: that lesson's quiz (and start it)."""
        if not self.banks:
            self._pending_link = (params, fragment)
            return
        self._pending_link = None
        wanted = params.get("lesson") or params.get("bank")
        for row, bank in enumerate(self.banks):
            if wanted in (bank.lesson_id, bank.id):
                self.show_start()
                self.start_page.banks.setCurrentRow(row)
                if params.get("mode") in ("practice", "test"):
                    self.start_quiz(params["mode"])
                return
        self.status.emit(f"There is no quiz for the lesson {wanted!r}.")


def add_card(store, front: str, back: str, lesson_id: str, section_id: str) -> int:
    """The flashcards feature's own API when this build has it, else a direct insert."""
    try:
        from studyapp.srs.cards import Cards
    except ImportError:
        return insert_quiz_card(store, front, back, lesson_id, section_id)
    return Cards(store).add(front, back, lesson_id=lesson_id, section_id=section_id or None,
                            origin="quiz")


def load_and_check(folders: list, sections: dict[str, set[str]]):
    """Worker thread: parse the banks and check their section links against the lessons."""
    banks, errors = qz.load_banks(*folders)
    return banks, errors + qz.check_sections(banks, sections)


def create_tab(window) -> QuizTab:
    from studyapp.app import content_folders
    ctx = window.ctx
    tab = QuizTab(ctx.store, ctx.lessons, content_folders(ctx.config, "quizzes"))
    tab.link_activated.connect(window.open_link)
    tab.status.connect(window.show_status)
    return tab
