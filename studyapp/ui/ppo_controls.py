"""The PPO tab's two panels that only show and ask: the settings of a new run (with presets) and
the table of replies a run sampled at a step. studyapp.ui.ppo_tab puts them together."""
from __future__ import annotations

import math

from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QSpinBox, QVBoxLayout,
    QWidget,
)

from studyapp.lab import runs as R
from studyapp.ui.widgets import fill_replies, table

LEARNING_RATES = ("1e-5", "3e-5", "1e-4", "3e-4", "5e-4", "1e-3", "3e-3")


class SettingsBox(QGroupBox):
    """The knobs of a new run, within PPO_LIMITS (narrowed by a classroom's site config, whose
    `hidden_controls` may also hide a knob: "ppo.beta", "ppo.cliprange", "ppo.lr", "ppo.steps",
    "ppo.batch_size"), plus the presets."""

    def __init__(self, parent=None, config=None):
        super().__init__("New run", parent)

        def limits(key: str):
            low, high = R.PPO_LIMITS[key]
            return config.limit(f"ppo.{key}", low, high) if config is not None else (low, high)

        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.preset = QComboBox()
        self.preset.addItem(f"Default (beta = {R.PPO_DEFAULTS['beta']:g})", "default")
        self.preset.addItem("beta = 0: watch the reward hacking", "beta0")
        self.preset.addItem("Custom", "custom")
        # Long preset names must not widen the whole tab on a small screen.
        self.preset.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.preset.setMinimumContentsLength(12)
        low, high = limits("beta")
        self.beta = QDoubleSpinBox(decimals=3, minimum=low, maximum=high, singleStep=0.01,
                                   toolTip="KL coefficient: how strongly the policy is held near the SFT model. 0 = not at all.")
        low, high = limits("cliprange")
        self.clip = QDoubleSpinBox(decimals=2, minimum=low, maximum=high, singleStep=0.05,
                                   toolTip="PPO clip range epsilon: the ratio new/old is clipped to [1 - eps, 1 + eps].")
        self.lr = QComboBox(editable=False, toolTip="Adam learning rate of the policy.")
        self.lr.addItems(LEARNING_RATES)
        self.steps = QSpinBox(minimum=int(limits("steps")[0]), maximum=int(limits("steps")[1]),
                              toolTip="PPO steps: each samples a batch of replies, scores them and updates the policy.")
        self.batch = QSpinBox(minimum=int(limits("batch_size")[0]), maximum=int(limits("batch_size")[1]),
                              singleStep=4, toolTip="Prompts (and replies) per step.")
        form.addRow("Preset", self.preset)
        form.addRow("beta (KL)", self.beta)
        form.addRow("Clip range", self.clip)
        form.addRow("Learning rate", self.lr)
        form.addRow("Steps", self.steps)
        form.addRow("Batch size", self.batch)
        if config is not None:
            for key, widget in (("beta", self.beta), ("cliprange", self.clip), ("lr", self.lr),
                                ("steps", self.steps), ("batch_size", self.batch)):
                if config.hidden(f"ppo.{key}"):
                    form.setRowVisible(widget, False)
        self.shipped_settings: dict[str, dict] = {}   # preset -> the shipped run's settings
        self.apply_preset("default")
        self.preset.activated.connect(lambda _i: self.apply_preset(self.preset.currentData()))
        for box in (self.beta, self.clip, self.steps, self.batch):
            box.valueChanged.connect(self._edited)
        self.lr.activated.connect(self._edited)

    def apply_preset(self, name: str) -> None:
        if name not in R.PRESETS:
            return
        # A preset repeats the shipped run of the same name when its settings are known, so
        # "beta = 0" trains exactly the hacking demo whose curves are on show.
        values = {**R.PRESETS[name], **self.shipped_settings.get(name, {})}
        self._applying = True
        self.beta.setValue(values["beta"])
        self.clip.setValue(values["cliprange"])
        self._set_lr(float(values["lr"]))
        self.steps.setValue(values["steps"])
        self.batch.setValue(values["batch_size"])
        self.preset.setCurrentIndex(self.preset.findData(name))
        self._applying = False

    def _set_lr(self, lr: float) -> None:
        texts = [self.lr.itemText(i) for i in range(self.lr.count())]
        match = next((i for i, t in enumerate(texts) if math.isclose(float(t), lr, rel_tol=1e-6)), None)
        if match is None:   # a shipped run's own rate, not one of the usual choices
            self.lr.addItem(f"{lr:g}")
            match = self.lr.count() - 1
        self.lr.setCurrentIndex(match)

    def _edited(self, *_args) -> None:
        if not getattr(self, "_applying", False):
            self.preset.setCurrentIndex(self.preset.findData("custom"))

    def values(self) -> dict:
        return R.clamp_settings({"beta": self.beta.value(), "cliprange": self.clip.value(),
                                 "lr": float(self.lr.currentText()), "steps": self.steps.value(),
                                 "batch_size": self.batch.value()})


class SamplesView(QWidget):
    """The replies one run sampled at one step."""

    COLUMNS = ("Prompt", "Reply", "RM score", "Rater")

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.title = QLabel(wordWrap=True)
        self.step = QComboBox(toolTip="The step whose sampled replies are shown")
        top.addWidget(self.title, 1)
        top.addWidget(QLabel("Step"))
        top.addWidget(self.step)
        layout.addLayout(top)
        # One line per reply keeps four replies in view; the full text is in each cell's tooltip.
        self.table = table(self.COLUMNS, stretch=1)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Interactive)
        self.table.setColumnWidth(0, 300)
        layout.addWidget(self.table)
        self.run: R.Run | None = None
        self._follow = True   # keep showing the newest step while a run trains
        self.step.activated.connect(self._step_chosen)

    def show_run(self, run: R.Run | None) -> None:
        self.run, self._follow = run, True
        self.refresh()

    def refresh(self) -> None:
        run = self.run
        steps = run.sample_steps() if run else []
        if run is None:
            self.title.setText("<i>Select a run to read the replies it sampled.</i>")
        elif not steps:
            self.title.setText(f"<b>{run.name}</b>: no sampled replies were kept for this run"
                               + (" (the shipped series keeps only the metrics)." if run.source == "shipped" else "."))
        else:
            self.title.setText(f"<b>Replies sampled by {run.name}</b> (RM = the reward model; rater = the "
                               "rule-based judge standing in for people)")
        current = self.step.currentData()
        if [self.step.itemData(i) for i in range(self.step.count())] != steps:
            self.step.clear()
            for s in steps:
                self.step.addItem(str(s), s)
        if steps:
            wanted = steps[-1] if self._follow or current not in steps else current
            self.step.setCurrentIndex(steps.index(wanted))
        self._fill(run.samples_at(self.step.currentData()) if steps else [])

    def _step_chosen(self, _index: int) -> None:
        self._follow = self.step.currentIndex() == self.step.count() - 1
        self._fill(self.run.samples_at(self.step.currentData()) if self.run else [])

    def _fill(self, samples: list[dict]) -> None:
        if samples and all(s.get("final") for s in samples):
            # A shipped run keeps no per-step samples; these are its trained policy's greedy replies.
            self.title.setText(f"<b>{self.run.name}</b>: the trained policy's replies after the last step "
                               "(greedy, harmful requests kept out of training and fact questions)")
        fill_replies(self.table, samples, ("score", "rater"))
