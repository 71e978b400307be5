"""The reward-model playground: a prompt and two answers in, r(A), r(B) and P(A beats B) out.

It shows claim 9 with the real reward model: P(A beats B) = σ(r(A) − r(B)), and a slider that adds
the same constant to every reward leaves that probability exactly where it was (only differences
of rewards mean anything). It also shows claim 8: the reward model's size next to the policy's.
A page of the RLHF tab (studyapp://rlhf?playground=1); scoring runs through the worker.
"""
from __future__ import annotations

import html
import random

from PySide6.QtCore import QTimer, Qt
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QFrame, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSlider,
    QVBoxLayout, QWidget,
)

from studyapp.lab import ranking, reward_tuning
from studyapp.lab.common import LabError
from studyapp.lab.preferences import candidate_pool
from studyapp.ui import worker
from studyapp.ui.theme import error_html
from studyapp.ui.widgets import big, heading, note, prompt_picker
from studyapp.wording import count

SHIFT_STEPS = 10  # slider units per reward unit: the slider spans -10 ... +10
DEFAULT_PROMPT = "How do I steal my neighbour's apples?"


class RewardPlayground(QWidget):
    """reward_dir() and sft_dir() give the folders in use (the learner's reward model once trained)."""

    def __init__(self, world, reward_dir, sft_dir, missing: dict[str, str]):
        super().__init__()
        self.world, self.reward_dir, self.sft_dir, self.missing = world, reward_dir, sft_dir, missing
        self.rewards: tuple[float, float] | None = None
        self.active = False
        self.task = None
        self._stale = False
        self._sized = False   # the two models' sizes are measured once per reward model
        self._debounce = QTimer(self, singleShot=True, interval=500, timeout=self._debounced)
        self._build()

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.addWidget(heading("Reward model playground — what does the judge think?"))
        lay.addWidget(note(
            "The reward model gives any answer a single number r. Bradley-Terry turns two numbers into a "
            "probability: <b>P(A beats B) = σ(r(A) − r(B))</b>. Type or pick a prompt and two answers."))
        form = QFormLayout()
        self.prompt_box = prompt_picker(self.world, DEFAULT_PROMPT)
        self.prompt_box.currentIndexChanged.connect(self._fill_examples)
        self.a_box = QComboBox(editable=True, insertPolicy=QComboBox.NoInsert)
        self.b_box = QComboBox(editable=True, insertPolicy=QComboBox.NoInsert)
        for box in (self.prompt_box, self.a_box, self.b_box):
            box.setMinimumWidth(420)
            box.lineEdit().textEdited.connect(lambda _: self._request_score())
            box.activated.connect(lambda _: self._request_score())
        form.addRow("Prompt:", self.prompt_box)
        form.addRow("Answer A:", self.a_box)
        form.addRow("Answer B:", self.b_box)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.score_button = QPushButton("Score both answers")
        self.score_button.clicked.connect(self.score)
        self.status = QLabel(wordWrap=True)
        row.addWidget(self.score_button)
        row.addWidget(self.status, 1)
        lay.addLayout(row)

        panel = QFrame(frameShape=QFrame.StyledPanel)
        grid = QGridLayout(panel)
        self.ra_label, self.rb_label, self.p_label = (QLabel(alignment=Qt.AlignCenter) for _ in range(3))
        for col, w in enumerate((self.ra_label, self.rb_label, self.p_label)):
            grid.addWidget(w, 0, col)
        self.p_bar = QProgressBar(minimum=0, maximum=1000, textVisible=False)
        self.p_bar.setToolTip("P(A beats B): all the way right means A surely wins")
        grid.addWidget(self.p_bar, 1, 0, 1, 3)
        self.formula = QLabel(alignment=Qt.AlignCenter)
        grid.addWidget(self.formula, 2, 0, 1, 3)
        lay.addWidget(panel)

        shift_row = QHBoxLayout()
        self.shift_slider = QSlider(Qt.Horizontal, minimum=-10 * SHIFT_STEPS, maximum=10 * SHIFT_STEPS, value=0)
        self.shift_slider.setTickInterval(SHIFT_STEPS)
        self.shift_slider.setTickPosition(QSlider.TicksBelow)
        self.shift_slider.valueChanged.connect(lambda _: self._render())
        self.shift_label = QLabel()
        shift_row.addWidget(QLabel("Add a constant c to every reward:"))
        shift_row.addWidget(self.shift_slider, 1)
        shift_row.addWidget(self.shift_label)
        lay.addLayout(shift_row)
        self.shift_note = note("")
        lay.addWidget(self.shift_note)
        lay.addWidget(note(
            "<i>Try:</i> put “I understand your concern.” in front of an answer. The lab's rater likes that "
            "phrase a little (+0.3); the reward model learned the taste from its rankings, perhaps too well. "
            "A policy optimised without a KL penalty looks for the reward model's blind spots; the PPO tab's "
            "β = 0 runs found a different one from this phrase: repeated nonsense the reward model over-scores."))

        lay.addWidget(heading("The judge is smaller than the writer"))
        sizes = QGridLayout()
        self.size_labels, self.size_bars = [], []
        for r, name in enumerate(("Reward model", "Policy (SFT model)")):
            label, bar = QLabel(name), QProgressBar(textVisible=False, maximum=1000)
            sizes.addWidget(label, r, 0)
            sizes.addWidget(bar, r, 1)
            self.size_labels.append(label)
            self.size_bars.append(bar)
        sizes.setColumnStretch(1, 1)
        lay.addLayout(sizes)
        self.size_note = note("")
        lay.addWidget(self.size_note)
        lay.addStretch(1)
        self._fill_examples()
        self._render()

    # ---- examples -------------------------------------------------------------------------
    def _fill_examples(self) -> None:
        """The lab's own written variants for a known prompt (right/wrong/refusal/...), as suggestions."""
        judged = ranking.judged_prompt(self.world, self.prompt_box.currentText())
        pool = candidate_pool(judged, self.world, random.Random(0)) if judged else []
        for box, pick in ((self.a_box, 0), (self.b_box, 1)):
            current = box.currentText()
            box.blockSignals(True)
            box.clear()
            for tag, text in pool:
                box.addItem(text)
                box.setItemData(box.count() - 1, f"written example: {tag}", Qt.ToolTipRole)
            box.setCurrentIndex(pick if len(pool) > pick else -1)
            if not pool:
                box.setCurrentText(current)
            box.blockSignals(False)
        self._request_score()

    # ---- scoring --------------------------------------------------------------------------
    def _request_score(self) -> None:
        """Score soon if the page is on screen; else only remember that the scores are stale.

        Scoring loads torch, transformers and the reward model: done for a page nobody had
        opened, it cost 500 MiB and 10 s of CPU in the first 20 s after start (issue 16)."""
        if self.isVisible():
            self._debounce.start()
        else:
            self._stale = True

    def activate(self) -> None:
        """Called when the page is shown: score the current pair and measure the two models once."""
        self.active = True
        if "reward" in self.missing or "sft" in self.missing:
            self.status.setText("The reward model is missing: see the message at the top of the tab.")
            return
        if self.rewards is None or self._stale:
            self.score()
        if not self._sized:
            self._sized = True
            worker.run_in_background(reward_tuning.param_counts, self.reward_dir(), self.sft_dir(),
                                     label="Counting parameters", on_result=self._show_sizes,
                                     on_error=lambda m, _t: self.size_note.setText(f"Could not load: {html.escape(m)}"))

    def reward_changed(self) -> None:
        """The tab switched reward models: rescore now if shown, else when next shown."""
        self._stale = True
        self._sized = False
        if self.active and self.isVisible():
            self.activate()

    def _debounced(self) -> None:
        if self.isVisible():
            self.score()
        else:   # the page was left before the pause after typing ended
            self._stale = True

    def score(self) -> None:
        if "reward" in self.missing:
            return
        try:
            prompt = ranking.check_prompt(self.prompt_box.currentText())
        except LabError as exc:
            self.status.setText(error_html(html.escape(str(exc))))
            return
        a, b = self.a_box.currentText().strip(), self.b_box.currentText().strip()
        if not a or not b:
            self.status.setText(error_html("Type both answers, A and B."))
            return
        if self.task is not None:   # a newer question makes the running one moot
            self.task.cancel()
        self._stale = False
        self._sized = False   # the two models' sizes are measured once per reward model
        self.status.setText("Scoring…")
        task = worker.run_in_background(
            reward_tuning.reward_scores, self.reward_dir(), [prompt, prompt], [a, b], label="Scoring answers",
            on_result=self._scored, on_finished=lambda: self._score_done(task),
            on_error=lambda m, _t: self.status.setText(error_html(html.escape(m))))
        self.task = task

    def _score_done(self, task) -> None:
        if task is self.task:   # a replaced (cancelled) scoring must not clear its successor
            self.task = None

    def _scored(self, rewards) -> None:
        self.rewards = (float(rewards[0]), float(rewards[1]))
        folder = self.reward_dir()
        whose = "your reward model" if folder.name == "reward-mine" else "the shipped reward model"
        # Which model, in words: neither the machine's path nor the folder's name (developer
        # text on screen, issue 15: "(folder reward)").
        self.status.setText(f"Scored by {whose}")
        self._render()

    @property
    def shift(self) -> float:
        return self.shift_slider.value() / SHIFT_STEPS

    @property
    def probability(self) -> float | None:
        """P(A beats B) computed from the shifted rewards, as shown."""
        if self.rewards is None:
            return None
        return reward_tuning.bt_probability(*self.rewards, shift=self.shift)

    def _render(self) -> None:
        c = self.shift
        self.shift_label.setText(f"c = {c:+.1f}")
        if self.rewards is None:
            for w, name in ((self.ra_label, "r(A)"), (self.rb_label, "r(B)"), (self.p_label, "P(A beats B)")):
                w.setText(f"{name}<br>{big('–', 20)}")
            self.formula.setText("")
            self.p_bar.setValue(500)
            return
        ra, rb = self.rewards[0] + c, self.rewards[1] + c
        p = self.probability
        if c:
            self.ra_label.setText(f"r(A) + c = {self.rewards[0]:+.3f} {c:+.1f}<br>{big(f'{ra:+.3f}', 20)}")
            self.rb_label.setText(f"r(B) + c = {self.rewards[1]:+.3f} {c:+.1f}<br>{big(f'{rb:+.3f}', 20)}")
        else:
            self.ra_label.setText(f"r(A)<br>{big(f'{ra:+.3f}', 20)}")
            self.rb_label.setText(f"r(B)<br>{big(f'{rb:+.3f}', 20)}")
        self.p_label.setText(f"P(A beats B)<br>{big(f'{p:.4f}', 20)}")
        self.p_bar.setValue(round(1000 * p))
        self.formula.setText(f"σ({ra:+.3f} − ({rb:+.3f})) = σ({ra - rb:+.3f}) = {p:.4f}")
        if c:
            self.shift_note.setText(f"Every reward moved by {c:+.1f}, yet P(A beats B) is still {p:.4f}: "
                                    "the constant cancels in r(A) − r(B). The loss does not see it either, so "
                                    "a reward model's scale and zero point are arbitrary.")
        else:
            self.shift_note.setText("Drag the slider: the rewards move, the probability does not.")

    def _show_sizes(self, counts: dict) -> None:
        biggest = max(counts["reward"], counts["policy"])
        for label, bar, key, layers in zip(self.size_labels, self.size_bars, ("reward", "policy"),
                                           ("reward_layers", "policy_layers")):
            name = "Reward model" if key == "reward" else "Policy (SFT model)"
            label.setText(f"{name}: {counts[key]:,} parameters, {count(counts[layers], 'layer')}")
            bar.setValue(round(1000 * counts[key] / biggest))
        ratio = counts["reward"] / counts["policy"]
        self.size_note.setText(
            f"The reward model has {ratio:.0%} of the policy's parameters: judging an answer needs less "
            "than writing one, so a smaller model can steer a larger one.")
