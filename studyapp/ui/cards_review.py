"""The review screen of the Flashcards tab: question, Space to flip, 1-4 to rate, U to undo.

The reviewer's keys live in one table (KEYS), as in Anki's reviewer. Each rating is committed
(one transaction, studyapp.srs.review.Reviewer.answer) before the next card is drawn, so a card
the learner saw move on is on disk. Those writes take a millisecond or two, well inside a frame,
which is why they run on the GUI thread: the order "saved, then next card" is the guarantee.
"""
from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QElapsedTimer, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget,
)

from studyapp.content.decks import card_html as to_html
from studyapp.srs.review import Reviewer
from studyapp.srs.scheduling import RATING_NAMES, RATINGS, format_interval

RATING_COLOURS = {1: "#d1495b", 2: "#e08a1e", 3: "#3a9d5d", 4: "#3d6fd1"}
COUNT_COLOURS = {"new": "#3d6fd1", "learning": "#d1495b", "review": "#3a9d5d"}
MAX_ANSWER_MS = 60_000   # a card left on screen over lunch is not a 40-minute answer
KEYS = {   # key -> what it does; one table, so help text and behaviour cannot drift apart
    Qt.Key_Space: "flip", Qt.Key_Return: "flip", Qt.Key_Enter: "flip",
    Qt.Key_1: 1, Qt.Key_2: 2, Qt.Key_3: 3, Qt.Key_4: 4,
    Qt.Key_U: "undo",
}
CARD_STYLE = """
#cardFrame { background: palette(base); border: 1px solid palette(mid); border-radius: 12px; }
#question { font-size: 19pt; }
#answer { font-size: 14.5pt; }
#lessonLink { font-size: 10.5pt; }
"""


def card_html(text: str) -> str:
    """Card text is Markdown (`code`, **bold**, lists); QLabel draws the HTML."""
    return to_html(text).replace("<code>", "<code style='font-family: DejaVu Sans Mono, monospace;'>")


def _rating_button(rating: int) -> QPushButton:
    button = QPushButton(focusPolicy=Qt.NoFocus, minimumHeight=58, minimumWidth=120)
    button.setStyleSheet(
        f"QPushButton {{ border: 1px solid palette(mid); border-top: 4px solid {RATING_COLOURS[rating]};"
        f" border-radius: 7px; background: palette(button); padding: 4px 16px; font-size: 11pt; }}"
        f"QPushButton:hover {{ background: palette(light); }}"
        f"QPushButton:pressed {{ background: palette(midlight); }}")
    return button


class ReviewPage(QWidget):
    reviewed = Signal()                   # a review was saved or undone: counts changed
    lesson_link = Signal(str, str)        # lesson slug, section id
    edit_card = Signal(int)
    delete_card = Signal(int)
    failed = Signal(str)

    def __init__(self, store, lesson_titles: dict[str, tuple[str, dict[str, str]]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.lesson_titles = lesson_titles   # slug -> (title, {section id: title})
        self.deck_titles: dict[str, str] = {}
        self.reviewer = Reviewer(store)
        self.card = None
        self.flipped = False
        self.previews = []
        self.clock = QElapsedTimer()
        self.setFocusPolicy(Qt.StrongFocus)
        self.setStyleSheet(CARD_STYLE)
        self._build()

    # ---- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.counts_label = QLabel(textFormat=Qt.RichText)
        self.undo_button = QPushButton("Undo (U)", focusPolicy=Qt.NoFocus, clicked=self.undo,
                                       toolTip="Take back the last rating (U or Ctrl+Z)")
        self.edit_button = QPushButton("Edit", focusPolicy=Qt.NoFocus, toolTip="Edit this card (E)",
                                       clicked=lambda: self.card and self.edit_card.emit(self.card.id))
        self.delete_button = QPushButton("Delete", focusPolicy=Qt.NoFocus, toolTip="Delete this card",
                                         clicked=lambda: self.card and self.delete_card.emit(self.card.id))
        top = QHBoxLayout()
        top.addWidget(self.counts_label)
        top.addStretch(1)
        for button in (self.undo_button, self.edit_button, self.delete_button):
            top.addWidget(button)

        self.question = QLabel(objectName="question", wordWrap=True, textFormat=Qt.RichText,
                               alignment=Qt.AlignHCenter | Qt.AlignTop)
        self.question.setTextInteractionFlags(Qt.NoTextInteraction)
        self.rule = QFrame(frameShape=QFrame.HLine, frameShadow=QFrame.Sunken)
        self.answer = QLabel(objectName="answer", wordWrap=True, textFormat=Qt.RichText,
                             alignment=Qt.AlignLeft | Qt.AlignTop)
        self.lesson_label = QLabel(objectName="lessonLink", textFormat=Qt.RichText, wordWrap=True,
                                   alignment=Qt.AlignLeft)
        self.lesson_label.linkActivated.connect(self._lesson_clicked)
        self.lesson_label.setFocusPolicy(Qt.NoFocus)
        self.meta = QLabel(objectName="cardMeta", wordWrap=True)
        self.meta.setStyleSheet("color: #8a8a8a; font-size: 9.5pt;")
        inner = QWidget(objectName="cardInner")
        inner_layout = QVBoxLayout(inner)
        inner_layout.setContentsMargins(48, 18, 48, 24)
        inner_layout.setSpacing(18)
        inner_layout.addWidget(self.meta)
        inner_layout.addWidget(self.question)
        inner_layout.addWidget(self.rule)
        inner_layout.addWidget(self.answer)
        inner_layout.addStretch(1)
        inner_layout.addWidget(self.lesson_label)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame, focusPolicy=Qt.NoFocus)
        scroll.setWidget(inner)
        scroll.setStyleSheet("QScrollArea, #cardInner { background: transparent; }")
        self.frame = QFrame(objectName="cardFrame")
        frame_layout = QVBoxLayout(self.frame)
        frame_layout.setContentsMargins(2, 2, 2, 2)
        frame_layout.addWidget(scroll)
        self.frame.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.frame.setMaximumSize(900, 560)

        self.show_button = QPushButton("Show answer      Space", focusPolicy=Qt.NoFocus,
                                       minimumHeight=58, minimumWidth=360, clicked=self.flip)
        self.show_button.setStyleSheet(
            "QPushButton { border: 1px solid palette(mid); border-radius: 7px; font-size: 12pt;"
            " background: palette(button); } QPushButton:hover { background: palette(light); }")
        self.rate_buttons = {}
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.show_button)
        for rating in RATINGS:
            button = _rating_button(int(rating))
            button.clicked.connect(lambda _=False, r=int(rating): self.rate(r))
            button.setToolTip(f"{RATING_NAMES[rating]}: key {int(rating)}")
            self.rate_buttons[int(rating)] = button
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.hint = QLabel(alignment=Qt.AlignCenter)
        self.hint.setStyleSheet("color: #8a8a8a;")

        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(self.frame, 6)
        centre.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 12, 18, 14)
        layout.addLayout(top)
        layout.addSpacing(6)
        layout.addStretch(1)
        layout.addLayout(centre, 24)   # the card takes nearly all the height a short window has
        layout.addStretch(1)
        layout.addSpacing(10)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)

    # ---- session --------------------------------------------------------------------------
    def start(self, deck_id: str | None = None, options=None) -> None:
        """(Re)start on a deck (None: all decks), keeping nothing but the options."""
        self.reviewer = Reviewer(self.store, deck_id, options or self.reviewer.options)
        self.show_next()

    def set_options(self, options) -> None:
        self.reviewer.set_options(options)
        self._show(self.card) if self.card is not None else self.show_next()

    def show_next(self) -> None:
        self._show(self.reviewer.next_card())

    def _show(self, card) -> None:
        self.card, self.flipped = card, False
        self._update_counts()
        self.undo_button.setEnabled(self.reviewer.can_undo)
        self.edit_button.setEnabled(card is not None)
        self.delete_button.setEnabled(card is not None)
        for button in self.rate_buttons.values():
            button.hide()
        if card is None:
            self._show_done()
            return
        self.question.setText(card_html(card.front))
        self.meta.setText(self._meta(card))
        self.meta.show()
        self.rule.hide()
        self.answer.hide()
        self.lesson_label.hide()
        self.show_button.show()
        self.hint.setText("Recall the answer, then press Space to check it.")
        # Computed now, without fuzzing, so the button texts are ready the moment Space is hit.
        self.previews = self.reviewer.previews(card)
        self.clock.start()

    def _show_done(self) -> None:
        self.show_button.hide()
        self.meta.hide()
        self.rule.hide()
        self.lesson_label.hide()
        due = self.reviewer.next_due_at()
        new_done, _ = self.reviewer.done_today()
        self.question.setText("<p style='font-size: 22pt;'>All done for now</p>")
        lines = []
        if due is not None:
            local = due.astimezone()
            wait = due - self.reviewer.now()
            when = local.strftime("%H:%M") if wait.days < 1 else local.strftime("%A %d %B")
            lines.append(f"The next card is due at <b>{when}</b>"
                         + (f" (in {format_interval(wait)})." if wait.total_seconds() > 0 else "."))
        if new_done >= self.reviewer.options.new_per_day and self.reviewer.options.new_per_day:
            lines.append(f"You have met today's limit of {self.reviewer.options.new_per_day} new "
                         "cards. Options… changes it; more cards now means more reviews later.")
        lines.append("Add your own cards in <b>Browse</b>, or see how you are doing in <b>Statistics</b>.")
        self.answer.setText("".join(f"<p>{line}</p>" for line in lines))
        self.answer.setAlignment(Qt.AlignHCenter | Qt.AlignTop)
        self.answer.show()
        self.hint.setText("")

    def flip(self) -> None:
        if self.card is None or self.flipped:
            return
        self.flipped = True
        self.answer.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.answer.setText(card_html(self.card.back))
        self.rule.show()
        self.answer.show()
        link = self._lesson_html(self.card.lesson_id, self.card.section_id)
        self.lesson_label.setText(link)
        self.lesson_label.setVisible(bool(link))
        self.show_button.hide()
        for preview in self.previews:
            button = self.rate_buttons[int(preview.rating)]
            button.setText(f"{RATING_NAMES[preview.rating]}   {int(preview.rating)}\n{preview.label}")
            button.show()
        self.hint.setText("How well did you remember?  1 Again · 2 Hard · 3 Good · 4 Easy")

    def rate(self, rating: int) -> None:
        if self.card is None or not self.flipped:
            return
        elapsed = min(self.clock.elapsed(), MAX_ANSWER_MS) if self.clock.isValid() else None
        try:
            self.reviewer.answer(self.card.id, rating, duration_ms=elapsed)
        except Exception as exc:  # noqa: BLE001 - the card stays on screen; nothing was saved
            self.failed.emit(f"The review could not be saved: {exc}")
            return
        self.reviewed.emit()
        self.show_next()

    def undo(self) -> None:
        card_id = self.reviewer.undo()
        if card_id is None:
            return
        self.reviewed.emit()
        from studyapp.srs.cards import Cards
        self._show(Cards(self.store).get(card_id))

    def reload_card(self) -> None:
        """After the card was edited or deleted elsewhere."""
        if self.card is not None:
            from studyapp.srs.cards import Cards
            fresh = Cards(self.store).get(self.card.id)
            if fresh is None or fresh.deleted:
                self.show_next()
                return
            flipped = self.flipped
            self._show(fresh)
            if flipped:
                self.flip()
        else:
            self.show_next()

    # ---- helpers --------------------------------------------------------------------------
    def _update_counts(self) -> None:
        counts = self.reviewer.counts()
        parts = [(counts.new, "new", "new"), (counts.learning, "learning", "learning"),
                 (counts.review, "to review", "review")]
        self.counts_label.setText("&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:{COUNT_COLOURS[key]}; font-size: 13pt; font-weight: 600;'>{n}</span>"
            f"&nbsp;{label}" for n, label, key in parts))

    def _meta(self, card) -> str:
        schedule = card.schedule
        if schedule.state == 0:
            kind = "New card"
        elif schedule.state in (1, 3):
            kind = "Learning" if schedule.state == 1 else "Relearning"
        else:
            kind = f"Review · last interval {format_interval(timedelta(days=schedule.interval_days or 0))}"
        title = self.deck_titles.get(card.deck_id, card.deck_id)
        return f"{kind}   ·   {title}"

    def _lesson_html(self, slug: str | None, section: str | None) -> str:
        if not slug:
            return ""
        title, sections = self.lesson_titles.get(slug, (slug, {}))
        text = title + (f" › {sections.get(section, section)}" if section else "")
        return f"From the lesson: <a href='{slug}#{section or ''}'>{text}</a>"

    def _lesson_clicked(self, href: str) -> None:
        slug, _, section = href.partition("#")
        self.lesson_link.emit(slug, section)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.Undo):
            self.undo()
            return
        action = KEYS.get(event.key()) if not event.modifiers() & ~Qt.KeypadModifier else None
        if action == "flip":
            self.flip()
        elif action == "undo":
            self.undo()
        elif isinstance(action, int):
            self.rate(action)
        elif event.key() == Qt.Key_E and self.card is not None and not event.modifiers():
            self.edit_card.emit(self.card.id)
        else:
            super().keyPressEvent(event)
