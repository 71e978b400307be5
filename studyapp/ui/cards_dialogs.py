"""Dialogs of the Flashcards tab: add or edit a card, and the scheduling options.

The options dialog also offers the FSRS optimizer. It is enabled only when the optional
fsrs[optimizer] extra is installed and the profile holds enough reviews, and it says which of the
two is missing otherwise; the fit itself runs on a worker (worker.run_in_background).
"""
from __future__ import annotations

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGroupBox,
    QLabel, QLineEdit, QMessageBox, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout,
)

from studyapp.srs import optimize
from studyapp.srs.cards import MY_DECK
from studyapp.srs.scheduling import Options, parse_steps
from studyapp.ui import worker
from studyapp.ui.screen_fit import resize_to_fit


class CardDialog(QDialog):
    """Front, back, deck and the lesson section that teaches the card."""

    def __init__(self, parent, lessons, decks: list[tuple[str, str]], card=None,
                 deck_id: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit card" if card else "Add card")
        self.lessons = lessons
        self.front = QPlainTextEdit(placeholderText="The question, e.g. What does the KL penalty do?")
        self.back = QPlainTextEdit(placeholderText="The answer. `code` and **bold** work (Markdown).")
        for edit in (self.front, self.back):
            edit.setTabChangesFocus(True)
            edit.setMinimumHeight(90)
        self.deck = QComboBox(editable=True)
        for deck_key, title in decks:
            self.deck.addItem(title, deck_key)
        if self.deck.findData(MY_DECK) < 0:
            self.deck.addItem("My cards", MY_DECK)
        self.lesson = QComboBox()
        self.lesson.addItem("(no lesson)", None)
        for lesson in lessons:
            self.lesson.addItem(lesson.title, lesson.slug)
        self.section = QComboBox()
        self.lesson.currentIndexChanged.connect(self._fill_sections)
        self.error = QLabel(styleSheet="color: #d1495b;")
        self.error.hide()

        form = QFormLayout()
        form.addRow("&Question", self.front)
        form.addRow("&Answer", self.back)
        form.addRow("&Deck", self.deck)
        form.addRow("&Lesson", self.lesson)
        form.addRow("&Section", self.section)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        resize_to_fit(self, 620, 460)

        if card is not None:
            self.front.setPlainText(card.front)
            self.back.setPlainText(card.back)
            deck_id = card.deck_id
        self._select(self.deck, deck_id or MY_DECK)
        self._select(self.lesson, card.lesson_id if card else None)
        self._fill_sections()
        if card is not None:
            self._select(self.section, card.section_id)

    @staticmethod
    def _select(combo: QComboBox, value) -> None:
        index = combo.findData(value)
        if index >= 0:
            combo.setCurrentIndex(index)

    def _fill_sections(self) -> None:
        self.section.clear()
        self.section.addItem("(whole lesson)", None)
        slug = self.lesson.currentData()
        lesson = next((l for l in self.lessons if l.slug == slug), None)
        for section in lesson.sections if lesson else []:
            self.section.addItem(section.title, section.id)
        self.section.setEnabled(lesson is not None)

    def values(self) -> dict:
        deck = self.deck.currentData() if self.deck.currentText() == self.deck.itemText(
            self.deck.currentIndex()) else None
        deck = deck or self.deck.currentText().strip()   # a name typed in makes a new deck
        return {"front": self.front.toPlainText().strip(), "back": self.back.toPlainText().strip(),
                "deck_id": deck, "lesson_id": self.lesson.currentData(),
                "section_id": self.section.currentData()}

    def accept(self) -> None:
        values = self.values()
        if not values["front"] or not values["back"]:
            self.error.setText("A card needs both a question and an answer.")
            self.error.show()
            return
        if not values["deck_id"]:
            self.error.setText("Choose a deck or type a name for a new one.")
            self.error.show()
            return
        super().accept()


class OptionsDialog(QDialog):
    """Desired retention, steps, daily limits, and the optimizer."""

    def __init__(self, parent, store, options: Options) -> None:
        super().__init__(parent)
        self.setWindowTitle("Flashcard options")
        self.store = store
        self.options = options
        self.task = None          # the optimizer run, while one is going
        self.retention = QDoubleSpinBox(minimum=0.70, maximum=0.99, singleStep=0.01, decimals=2,
                                        value=options.desired_retention)
        self.retention.setToolTip("The chance of remembering a card when it comes due. Higher means "
                                  "more reviews; 0.90 is a good start.")
        self.learning = QLineEdit(" ".join(options.learning_steps))
        self.relearning = QLineEdit(" ".join(options.relearning_steps))
        for edit in (self.learning, self.relearning):
            edit.setPlaceholderText("e.g. 1m 10m (s, m, h, d)")
        self.new_per_day = QSpinBox(minimum=0, maximum=9999, value=options.new_per_day)
        self.reviews_per_day = QSpinBox(minimum=0, maximum=99999, value=options.reviews_per_day)
        self.day_start = QSpinBox(minimum=0, maximum=23, value=options.day_starts_hour, suffix=":00")
        self.fuzz = QCheckBox("Spread review days a little (fuzz), so cards learned together "
                              "do not stay together", checked=options.enable_fuzzing)
        form = QFormLayout()
        form.addRow("Desired &retention", self.retention)
        form.addRow("&Learning steps", self.learning)
        form.addRow("Re&learning steps", self.relearning)
        form.addRow("&New cards per day", self.new_per_day)
        form.addRow("Re&views per day", self.reviews_per_day)
        form.addRow("A study day starts at", self.day_start)
        form.addRow(self.fuzz)

        group = QGroupBox("FSRS parameters")
        self.optimizer_note = QLabel(wordWrap=True)
        self.optimize_button = QPushButton("Optimize from my reviews", clicked=self._optimize)
        self.reset_button = QPushButton("Use the default parameters", clicked=self._reset)
        group_layout = QVBoxLayout(group)
        group_layout.addWidget(self.optimizer_note)
        group_layout.addWidget(self.optimize_button)
        group_layout.addWidget(self.reset_button)
        self._update_optimizer()

        self.error = QLabel(styleSheet="color: #d1495b;", wordWrap=True)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(group)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _update_optimizer(self) -> None:
        ready, reason = optimize.availability(self.store)
        which = ("fitted to your reviews on " + self.options.optimized_at[:10]
                 if self.options.parameters else "the FSRS defaults")
        self.optimizer_note.setText(f"Scheduling uses {which}.\n{reason}")
        self.optimize_button.setEnabled(ready and self.task is None)
        self.reset_button.setEnabled(self.options.parameters is not None)

    def _optimize(self) -> None:
        self.optimize_button.setEnabled(False)
        self.optimizer_note.setText("Fitting the parameters to your reviews… (this can take a minute)")
        self.task = worker.run_in_background(
            optimize.optimize, self.store.path, label="Optimizing FSRS", exclusive="fsrs-optimizer",
            on_result=self._optimized, on_error=self._optimize_failed)

    def _optimized(self, parameters) -> None:
        self.task = None
        try:
            self.options = optimize.save_parameters(self.store, self.options, parameters,
                                                    self.store.now())
        except ValueError as exc:
            self._optimize_failed(str(exc), "")
            return
        self._update_optimizer()

    def _optimize_failed(self, message: str, _details: str) -> None:
        self.task = None
        self._update_optimizer()
        QMessageBox.warning(self, "Optimizer", f"The optimizer failed: {message}")

    def _reset(self) -> None:
        self.options = self.options.with_(parameters=None, optimized_at=None, optimized_reviews=0)
        self._update_optimizer()

    def result_options(self) -> Options:
        return self.options.with_(
            desired_retention=round(self.retention.value(), 2),
            learning_steps=parse_steps(self.learning.text()),
            relearning_steps=parse_steps(self.relearning.text()),
            new_per_day=self.new_per_day.value(), reviews_per_day=self.reviews_per_day.value(),
            day_starts_hour=self.day_start.value(), enable_fuzzing=self.fuzz.isChecked())

    def accept(self) -> None:
        try:
            self.result_options().save(self.store)
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        super().accept()

