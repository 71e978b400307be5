"""The compare tab's rows of settings: the prompt's format (chat or raw text), and the sampling
settings (temperature, top-k, top-p, max new tokens, seed, greedy) with the switch to the
learner's own models; and the note under the prompt when it lies outside the tiny models' world."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QRadioButton, QSpinBox,
    QWidget,
)

from studyapp.lab import coverage
from studyapp.ui.links import make_link

# The lesson section that says what the tiny models were trained on.
WORLD_LESSON = make_link("lessons", "see-it-in-the-apps-tiny-model", lesson="base-models")

MODE_TEXT = {
    "chat": "Chat format: your words are wrapped as <|user|>…<|end|><|assistant|>, the format SFT "
            "taught. The base model never saw these markers.",
    "raw": "Raw text: each model gets exactly your words and continues them, the way the base model "
           "continued web pages during pretraining.",
}



class FormatChoice(QWidget):
    """Chat format or raw text, with a line saying what each one sends; `changed` on a switch."""

    changed = Signal()

    def __init__(self):
        super().__init__()
        self.chat_radio = QRadioButton("Chat format")
        self.raw_radio = QRadioButton("Raw text")
        self.group = QButtonGroup(self)
        for radio in (self.chat_radio, self.raw_radio):
            self.group.addButton(radio)
        self.chat_radio.setChecked(True)
        self.mode_text = QLabel(MODE_TEXT["chat"], wordWrap=True)
        self.mode_text.setTextFormat(Qt.PlainText)
        self.chat_radio.toggled.connect(self._toggled)
        mode_row = QHBoxLayout(self)
        mode_row.setContentsMargins(0, 0, 0, 0)
        mode_row.addWidget(QLabel("<b>Send as</b>"))
        mode_row.addWidget(self.chat_radio)
        mode_row.addWidget(self.raw_radio)
        mode_row.addSpacing(8)
        mode_row.addWidget(self.mode_text, 1)

    @property
    def mode(self) -> str:
        return "chat" if self.chat_radio.isChecked() else "raw"

    def set_mode(self, mode: str) -> None:
        (self.chat_radio if mode == "chat" else self.raw_radio).setChecked(True)

    def _toggled(self, _checked: bool) -> None:
        self.mode_text.setText(MODE_TEXT[self.mode])
        self.changed.emit()


class SamplingControls(QWidget):
    def __init__(self, config, allow_own: bool):
        super().__init__()
        self.temperature = QDoubleSpinBox(minimum=0.05, maximum=2.0, singleStep=0.1, value=0.7, decimals=2)
        self.temperature.setToolTip("Below 1 the likely tokens get likelier; above 1 the odds even out")
        self.top_k = QSpinBox(minimum=0, maximum=1000, value=0, specialValueText="off")
        self.top_k.setToolTip("Draw only among the k likeliest tokens (off: all of them)")
        self.top_p = QDoubleSpinBox(minimum=0.05, maximum=1.0, singleStep=0.05, value=1.0, decimals=2)
        self.top_p.setToolTip("Draw only among the likeliest tokens that together hold this much "
                              "probability (1: all of them)")
        low, high = config.limit("compare.max_new_tokens", 1, 512)
        self.max_new = QSpinBox(minimum=int(low), maximum=int(high), value=min(40, int(high)))
        self.max_new.setToolTip("The most tokens each model may write (its context may stop it earlier)")
        self.seed = QSpinBox(minimum=0, maximum=999_999, value=0)
        self.seed.setToolTip("The same seed and settings give the same answer again")
        self.greedy = QCheckBox("Greedy")
        self.greedy.setToolTip("Always take the likeliest token: no randomness at all")
        self.greedy.toggled.connect(self._greedy_changed)
        self.own_models = QCheckBox("Use my own models")
        self.own_models.setObjectName("own-models")
        if allow_own:
            self.own_models.setToolTip("Load any local Hugging Face causal-LM folder into each column, "
                                       "for example a real base and instruct pair")
        else:
            self.own_models.setEnabled(False)
            self.own_models.setToolTip("Loading your own models is turned off on this computer "
                                       "(setting allow_own_models)")
        if config.hidden("compare.own_models"):
            self.own_models.hide()   # (never show(): on a widget with no parent yet it opens a window)
        controls = QHBoxLayout(self)
        controls.setContentsMargins(0, 0, 0, 0)
        for text, widget in (("Temperature", self.temperature), ("Top-k", self.top_k), ("Top-p", self.top_p),
                             ("Max new tokens", self.max_new), ("Seed", self.seed)):
            label = QLabel(text)
            label.setBuddy(widget)
            controls.addWidget(label)
            controls.addWidget(widget)
            controls.addSpacing(6)
        controls.addWidget(self.greedy)
        controls.addStretch(1)
        controls.addWidget(self.own_models)

    def settings(self) -> dict:
        """What stream_job takes, but for the chat format."""
        return {"max_new_tokens": self.max_new.value(), "temperature": self.temperature.value(),
                "top_k": self.top_k.value(), "top_p": self.top_p.value(), "seed": self.seed.value(),
                "greedy": self.greedy.isChecked()}

    def _greedy_changed(self, greedy: bool) -> None:
        for widget in (self.temperature, self.top_k, self.top_p, self.seed):
            widget.setEnabled(not greedy)


class CoverageNote(QLabel):
    """A short note when a prompt lies outside what the tiny models know (studyapp.lab.coverage),
    with a link to the lesson that describes their world; hidden for any prompt inside it."""

    def __init__(self, open_link):
        super().__init__(wordWrap=True)
        self.setObjectName("coverage-note")
        self.setTextFormat(Qt.RichText)
        self.setStyleSheet("color: palette(placeholder-text);")
        self.linkActivated.connect(open_link)
        self.hide()

    def show_for(self, prompt: str) -> bool:
        """Show the note if `prompt` is outside the world (True), else hide it."""
        try:
            found = coverage.check(prompt)
        except Exception:  # noqa: BLE001 - an edited world file must not stop a generation
            found = None
        if found is None or found.inside:
            self.hide()
            return False
        self.setText(f"{html.escape(found.note)} <a href='{WORLD_LESSON}'>What the tiny models learned</a>")
        self.show()
        return True
