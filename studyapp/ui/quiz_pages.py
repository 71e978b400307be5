"""The Quiz tab's pages and small widgets: start page, question page, review page, option rows.

QuizTab (quiz_tab.py) puts them in a stack and drives them; these widgets only show a question
or an attempt and report what the learner clicked or typed.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QLayout, QLineEdit, QListView, QListWidget, QProgressBar,
    QPushButton, QScrollArea, QSplitter, QTextBrowser, QTreeWidget,
    QVBoxLayout, QWidget,
)

from studyapp.content import quiz as qz
from studyapp.content.quiz import LETTERS
from studyapp.store.timeutil import for_people
from studyapp.ui import theme
from studyapp.ui.links import make_link

COLOURS = {  # (light, dark): readable on both themes' window colours
    "right": ("#2e7d32", "#66bb6a"), "wrong": ("#c62828", "#ef6b6b"),
    "right_bg": ("#e8f5e9", "#1e3a23"), "wrong_bg": ("#fdecea", "#4a2424"),
    "pick_bg": ("#e8f0fe", "#22324d"), "muted": ("#5f6368", "#a0a4a8"),
}
KIND_HINTS = {"single": "Single choice · pick one", "multiple": "Multiple choice · pick all that apply",
              "truefalse": "True or false", "short": "Short answer · type a word or a short phrase"}


def colours() -> dict[str, str]:
    dark = theme.current() == "dark"
    return {name: pair[dark] for name, pair in COLOURS.items()}


def stylesheet() -> str:
    c = colours()
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
    QLabel#errors {{ color: {c['wrong']}; }}
    QLabel#chip {{ border-radius: 9px; padding: 2px 10px; background: palette(highlight);
                  color: palette(highlighted-text); font-weight: bold; }}
    QPushButton#primary {{ background: palette(highlight); color: palette(highlighted-text);
                          font-weight: bold; padding: 7px 22px; border-radius: 6px; border: none; }}
    QPushButton#primary:disabled {{ background: palette(mid); }}
    """


def label(text: str = "", *, size: float | None = None, bold: bool = False, name: str = "",
          wrap: bool = True) -> QLabel:
    widget = QLabel(text, wordWrap=wrap, textFormat=Qt.RichText, objectName=name)
    widget.setTextInteractionFlags(Qt.TextBrowserInteraction)
    if size or bold:
        font = widget.font()
        font.setPointSizeF(size or font.pointSizeF())
        font.setBold(bold)
        widget.setFont(font)
    return widget


def lay(kind, *items, parent: QWidget | None = None, margins=(0, 0, 0, 0), spacing: int | None = None):
    """A box layout of widgets, layouts, (widget, stretch) pairs, ints (space), None (stretch)."""
    layout = kind(parent) if parent is not None else kind()
    layout.setContentsMargins(*margins)
    if spacing is not None:
        layout.setSpacing(spacing)
    for item in items:
        if item is None:
            layout.addStretch(1)
        elif isinstance(item, int):
            layout.addSpacing(item)
        elif isinstance(item, tuple):
            layout.addWidget(*item)
        elif isinstance(item, QLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item)
    return layout


def restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)   # dynamic properties only take effect on a re-polish
    widget.style().polish(widget)


def percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{round(100 * fraction)}%"


def section_link(bank: qz.Bank, question: qz.Question) -> str:
    return make_link("lessons", question.section, lesson=bank.lesson_id) if question.section else ""


class Clickable(QFrame):
    """A frame that acts as a big button: an option row, a mode card."""

    clicked = Signal()

    def __init__(self):
        super().__init__(objectName="option")
        self.setCursor(Qt.PointingHandCursor)
        self.setFocusPolicy(Qt.NoFocus)
        self.setProperty("picked", False)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.LeftButton and self.isEnabled():
            self.clicked.emit()


# ---------------------------------------------------------------------------------------------
# The question page

class OptionRow(Clickable):
    """One option: a key badge, the text, and its feedback once the learner has seen it."""

    def __init__(self, index: int, option: qz.Option, position: int | None = None):
        super().__init__()
        # index: the option's place in the bank (what is recorded); position: where it is shown
        # in this attempt (what the badge and the keys 1-9 refer to).
        position = index if position is None else position
        self.index, self.position, self.option = index, position, option
        self.badge = QLabel(LETTERS[position], objectName="badge", alignment=Qt.AlignCenter)
        self.text = label(qz.to_html(option.text), size=11)
        self.text.setTextInteractionFlags(Qt.NoTextInteraction)   # a click picks the option
        self.feedback = label()
        self.feedback.setTextInteractionFlags(Qt.NoTextInteraction)   # ... anywhere on the row
        column = QWidget()
        lay(QVBoxLayout, self.text, self.feedback, parent=column, spacing=4)
        lay(QHBoxLayout, (self.badge, 0, Qt.AlignTop), (column, 1), parent=self, margins=(10, 8, 12, 8))
        self.setAccessibleName(f"Option {LETTERS[position]} (key {position + 1}): {option.text}")
        self.set_state(False, "")

    def set_state(self, picked: bool, status: str, feedback: bool = False) -> None:
        self.picked, self.status = picked, status
        self.setProperty("picked", picked)
        self.setProperty("status", status)
        mark = {"right": "✓ ", "wrong": "✗ ", "missed": "✓ "}.get(status, "")
        self.feedback.setText(f"<b>{mark}</b>{qz.to_html(self.option.feedback)}")
        self.feedback.setVisible(feedback)
        restyle(self)
        restyle(self.badge)


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
        self.shown = False     # the outcome of a try is on screen
        self.back = QPushButton("← All quizzes", flat=True, clicked=lambda: self.left.emit())
        self.back.setToolTip("Leave this quiz (Esc). Your answers so far stay in the history.")
        self.title, self.chip = label(bold=True, size=12), label(name="chip", wrap=False)
        self.counter = label(wrap=False, size=11)
        self.bar = QProgressBar(textVisible=False, maximumHeight=8)

        self.kind, self.question = label(name="muted"), label(size=14)
        self.options = lay(QVBoxLayout, spacing=8)
        self.answer_box = QLineEdit(placeholderText="Type your answer, then press Enter", minimumHeight=36)
        font = self.answer_box.font()
        font.setPointSizeF(12)
        self.answer_box.setFont(font)
        self.answer_box.textChanged.connect(lambda _: self._update_buttons())
        self.verdict, self.short_feedback, self.explanation = label(size=12.5, bold=True), label(), label()
        self.explanation.linkActivated.connect(self.open_section.emit)
        self.card_button = QPushButton("Make a flashcard",
                                       clicked=lambda: self.make_card.emit(self.session.current))
        self.card_button.setToolTip("Turn this question into a flashcard linked to its lesson section")
        self.feedback = QFrame(objectName="feedback")
        lay(QVBoxLayout, self.verdict, self.short_feedback, self.explanation,
            lay(QHBoxLayout, None, self.card_button), parent=self.feedback, margins=(16, 12, 16, 12))
        body = QWidget(maximumWidth=980)   # long lines are hard to read on a wide window
        lay(QVBoxLayout, self.kind, self.question, 4, self.options, self.answer_box, self.feedback, None,
            parent=body, margins=(4, 8, 12, 8), spacing=10)
        centred = QWidget()
        lay(QHBoxLayout, None, (body, 60), None, parent=centred)   # centred up to its max width
        self.scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame, focusPolicy=Qt.NoFocus)
        self.scroll.setWidget(centred)

        self.hint = label(name="muted", wrap=False)
        self.reveal_button = QPushButton("Show the answer", clicked=self.reveal)
        self.go = QPushButton("Check", objectName="primary", clicked=self.advance)
        for button in (self.back, self.card_button, self.reveal_button, self.go):
            button.setFocusPolicy(Qt.NoFocus)   # Enter belongs to the page, never to a button
        lay(QVBoxLayout, lay(QHBoxLayout, self.back, (self.title, 1), self.chip, self.counter),
            self.bar, (self.scroll, 1), lay(QHBoxLayout, (self.hint, 1), self.reveal_button, self.go),
            parent=self, margins=(18, 10, 18, 12))

    # ---- showing a question -----------------------------------------------------------------
    def start(self, session: qz.QuizSession) -> None:
        self.session = session
        self.title.setText(html.escape(session.bank.title))
        self.chip.setText(session.mode.capitalize())
        self.show_question()

    def show_question(self) -> None:
        s, q = self.session, self.session.current
        self.picked, self.shown = set(), False
        self.counter.setText(f"Question <b>{s.index + 1}</b> of {len(s.questions)}")
        self.bar.setRange(0, len(s.questions))
        self.bar.setValue(s.index)
        self.kind.setText(KIND_HINTS[q.kind])
        self.question.setText(qz.to_html(q.text).replace("\n", "<br>"))
        for old in self.rows:
            old.hide()             # at once: deleteLater() waits for the event loop
            old.setParent(None)
            old.deleteLater()
        self.rows = [OptionRow(i, q.options[i], position)
                     for position, i in enumerate(s.display_order(q))]
        for row in self.rows:
            row.clicked.connect(lambda index=row.index: self.toggle(index))
            self.options.addWidget(row)
        self.answer_box.setVisible(q.kind == "short")
        self.answer_box.setReadOnly(False)
        self.answer_box.clear()
        self.feedback.hide()
        (self.answer_box if q.kind == "short" else self).setFocus()
        self.scroll.verticalScrollBar().setValue(0)
        self._update_buttons()

    def toggle(self, index: int) -> None:
        q = self.session.current
        if q.id in self.session.over or index >= len(self.rows):
            return
        if self.shown:           # a wrong try is on screen: picking again starts the next try
            self.shown = False
            self.feedback.hide()
        self.picked = self.picked ^ {index} if q.kind == "multiple" else {index}
        for row in self.rows:
            row.set_state(row.index in self.picked, "")
        self._update_buttons()

    def toggle_position(self, position: int) -> None:
        """A key picks the option shown at that place (the order is shuffled per attempt)."""
        if 0 <= position < len(self.rows):
            self.toggle(self.rows[position].index)

    def response(self) -> frozenset[int] | str | None:
        if self.session.current.kind == "short":
            return self.answer_box.text().strip() or None
        return frozenset(self.picked) or None

    def _update_buttons(self) -> None:
        s = self.session
        if s is None:
            return
        q = s.current
        over = q.id in s.over
        if over or s.mode == "test":
            finish = "See your results" if s.mode == "practice" else "Finish and see results"
            self.go.setText(finish if s.is_last else "Next question →")
        else:
            self.go.setText("Check")
        self.go.setEnabled(over or self.response() is not None)
        self.reveal_button.setVisible(s.mode == "practice" and not over and s.tries.get(q.id, 0) > 0)
        n = len(q.options)
        keys = "" if q.kind == "short" or over else f"Keys 1–{n} or A–{LETTERS[n - 1]}: pick · "
        self.hint.setText(f"{keys}Enter: {self.go.text().rstrip(' →').lower()} · Esc: leave")

    # ---- answering --------------------------------------------------------------------------
    def advance(self) -> None:
        """Enter or the main button: check the answer, or go on once the question is over."""
        s = self.session
        q = s.current
        if q.id not in s.over:
            response = self.response()
            if response is None:
                return
            if self.shown and response == s.last.get(q.id):
                return        # Enter again on the same wrong answer is not a new try
            outcome = s.submit(response)
            if s.mode == "practice":
                return self.show_outcome(outcome.correct)
        if s.next():
            return self.show_question()
        s.finish()
        self.finished.emit()

    def reveal(self) -> None:
        self.session.reveal()
        self.show_outcome(False, revealed=True)

    def show_outcome(self, correct: bool, revealed: bool = False) -> None:
        """Practice: mark what was chosen, and once the question is over, the answer and why."""
        s, q, c = self.session, self.session.current, colours()
        over = q.id in s.over
        self.shown = True
        for row in self.rows:
            picked = row.index in self.picked
            status = ("right" if row.option.correct else "wrong") if picked else \
                ("missed" if over and row.option.correct else "")
            row.set_state(picked, status, feedback=picked or (over and row.option.correct))
        tries = s.tries[q.id]
        if revealed:
            verdict = f"<span style='color:{c['right']}'>The answer</span>"
        elif correct:
            at = "" if tries == 1 else f" (at try {tries})"
            verdict = f"<span style='color:{c['right']}'>✓ Right{at}</span>"
        else:
            missing = q.kind == "multiple" and self.picked and self.picked < q.correct_indices
            verdict = (f"<span style='color:{c['wrong']}'>✗ Not quite. "
                       + ("Those are right, but one or more right options are missing."
                          if missing else "Read the feedback and try again.") + "</span>")
        self.verdict.setText(verdict)
        self.feedback.setProperty("status", "right" if correct else ("" if revealed else "wrong"))
        restyle(self.feedback)
        if q.kind == "short":
            model = f"<b>Model answer:</b> {qz.to_html(q.right_answer_text())}<br>" if over else ""
            self.short_feedback.setText(model + qz.to_html(q.feedback) if over or not correct else "")
            self.answer_box.setReadOnly(over)
        self.short_feedback.setVisible(q.kind == "short")
        self.explanation.setVisible(over)
        self.explanation.setText(qz.explanation_html(q, section_link(s.bank, q)) if over else "")
        self.card_button.setVisible(over and not s.first_correct.get(q.id, True))
        self.card_button.setEnabled(True)
        self.card_button.setText("Make a flashcard")
        self.feedback.show()
        self._update_buttons()
        self.scroll.ensureWidgetVisible(self.feedback)

    def card_made(self, made: bool) -> None:
        self.card_button.setText("Flashcard made ✓" if made else "Already a flashcard ✓")
        self.card_button.setEnabled(False)

    def keyPressEvent(self, event) -> None:
        key, text = event.key(), event.text().upper()
        if self.session is None:
            super().keyPressEvent(event)
        elif key in (Qt.Key_Return, Qt.Key_Enter):
            self.advance()
        elif key == Qt.Key_Escape:
            self.left.emit()
        elif len(text) == 1 and text in "123456789":
            self.toggle_position(int(text) - 1)
        elif len(text) == 1 and text in LETTERS:
            self.toggle_position(LETTERS.index(text))
        else:
            super().keyPressEvent(event)


# ---------------------------------------------------------------------------------------------
# The review, the start page

class ReviewPage(QWidget):
    """An attempt, the one just finished or one from the history, question by question."""

    back, again, link = Signal(), Signal(), Signal(str)

    def __init__(self):
        super().__init__()
        self.attempt = None
        self.heading, self.summary = label(size=17, bold=True), label(name="muted")
        self.view = QTextBrowser(openLinks=False)
        self.view.anchorClicked.connect(lambda url: self.link.emit(url.toString()))
        self.view.document().setDefaultStyleSheet("h3 { font-size: 12pt; margin-top: 10px; } "
                                                  "p, li { line-height: 135%; }")
        self.back_button = QPushButton("← All quizzes", clicked=lambda: self.back.emit())
        self.again_button = QPushButton("Take it again", objectName="primary", clicked=lambda: self.again.emit())
        lay(QVBoxLayout, self.heading, self.summary, (self.view, 1),
            lay(QHBoxLayout, self.back_button, None, self.again_button), parent=self, margins=(18, 12, 18, 12))

    def show_attempt(self, bank: qz.Bank, attempt, best: float | None, cards_made: set[str]) -> None:
        total = int(attempt.max_score or len(attempt.question_ids))
        if attempt.finished:
            first = " the first time" if attempt.mode == "practice" else ""
            right = int(attempt.score or 0)
            self.heading.setText(f"{right} of {total} right{first} · {percent(attempt.fraction)}")
        else:
            answered = len({a.question_id for a in attempt.answers})
            self.heading.setText(f"Unfinished attempt · {answered} of {total} answered")
        self.summary.setText(f"{html.escape(bank.title)} · {attempt.mode.capitalize()} · "
                             f"{for_people(attempt.started_at)} · best score on this quiz: {percent(best)}")
        # Re-rendering the same attempt (a card was just made) keeps the reader's place.
        keep = self.attempt is not None and self.attempt.id == attempt.id
        scroll = self.view.verticalScrollBar().value() if keep else 0
        self.view.setHtml(qz.review_html(bank, attempt, colours=colours(), cards_made=cards_made,
                                         link_for=lambda q: section_link(bank, q)))
        self.view.verticalScrollBar().setValue(scroll)
        self.attempt = attempt


class ModeCard(Clickable):
    def __init__(self, title: str, text: str):
        super().__init__()
        self.setAccessibleName(title.split(maxsplit=1)[-1])
        self.heading, self.text = label(title, size=13, bold=True), label(text, name="muted")
        for child in (self.heading, self.text):
            # A label with text interaction takes the click for itself; without, the press
            # goes on to the card, so the card starts the quiz wherever it is clicked.
            child.setTextInteractionFlags(Qt.NoTextInteraction)
        lay(QVBoxLayout, self.heading, self.text, parent=self, margins=(16, 12, 16, 12))


class StartPage(QWidget):
    """Banks on the left; the chosen bank's modes and its history of attempts on the right."""

    link = Signal(str)

    def __init__(self):
        super().__init__()
        self.banks = QListWidget(wordWrap=True, minimumWidth=260, spacing=3)
        self.banks.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        # Re-lay the items out when the list narrows (a scaled screen, a moved splitter): wrapped
        # titles otherwise keep the height measured at the old width and get cut with "…".
        self.banks.setResizeMode(QListView.Adjust)
        self.banks.setTextElideMode(Qt.ElideNone)
        self.banks.setAccessibleName("Quizzes, one per lesson")
        self.errors = label(name="errors")
        self.errors.hide()
        self.title, self.about = label(size=17, bold=True), label(name="muted")
        self.about.linkActivated.connect(self.link.emit)
        self.practice = ModeCard("▶  Practice", "Feedback on every answer at once; try again "
                                 "until it is right. Good while you learn.")
        self.test = ModeCard("✎  Take the test", "One answer per question, graded at the end, "
                             "then a review of every question.")
        self.history = QTreeWidget(rootIsDecorated=False, alternatingRowColors=True)
        self.history.setHeaderLabels(["When", "Mode", "Score", ""])
        self.history.setColumnWidth(0, 170)
        self.history.setAccessibleName("Your attempts at this quiz")
        self.review_button = QPushButton("Review the selected attempt", enabled=False)
        self.history.itemSelectionChanged.connect(
            lambda: self.review_button.setEnabled(bool(self.history.selectedItems())))
        left, right = QWidget(), QWidget()
        lay(QVBoxLayout, label("<b>Quizzes</b> · one per lesson", size=11), (self.banks, 1), self.errors,
            parent=left)
        lay(QVBoxLayout, self.title, self.about, 8, lay(QHBoxLayout, self.practice, self.test), 12,
            label("<b>Your attempts</b> · double-click one to review it", size=11), (self.history, 1),
            lay(QHBoxLayout, None, self.review_button), parent=right, margins=(16, 0, 0, 0))
        split = QSplitter(Qt.Horizontal, childrenCollapsible=False)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([320, 900])
        lay(QVBoxLayout, split, parent=self, margins=(12, 12, 12, 12))


# ---------------------------------------------------------------------------------------------
# The tab
