"""Stage 2 of the RLHF tab: a Bradley-Terry reward model trains in seconds on the lab's pairs plus
the learner's; held-out accuracy and P(chosen beats rejected) of each of the learner's pairs are
shown before and after. A cancelled run keeps the previous reward model in use. The training is
studyapp.lab.reward_tuning's.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFrame, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QSpinBox, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from studyapp.lab import engine, reward_tuning
from studyapp.ui import theme, worker
from studyapp.ui.theme import error_html
from studyapp.ui.widgets import big, button, heading, note, percent, wrapped


class RewardTrainingPage(QWidget):
    """reward_dir is the reward model in use; reward_changed says when it changes."""

    reward_changed = Signal()

    def __init__(self, window, models_dir: Path, mine_dir: Path, missing: dict[str, str],
                 pairs: Callable[[], list], show_stage):
        super().__init__()
        self.window, self.models_dir, self.mine_dir, self.missing = window, models_dir, mine_dir, missing
        self.pairs = pairs                 # the learner's pairs, from stage 1
        self.reward_dir = models_dir / "reward"
        if not missing and engine.folder_problem(mine_dir, "sequence-classification") is None:
            self.reward_dir = mine_dir     # the learner's reward model from an earlier session
        self.train_task = None
        self.last_result: dict | None = None
        self.max_shipped = None            # all the lab's pairs; the tests train on a sample to stay fast
        self.loss_x: list[int] = []
        self.loss_y: list[float] = []
        self._build(show_stage)
        self.reward_changed.connect(self.show_reward_in_use)
        self.show_reward_in_use()

    @property
    def sft_dir(self) -> Path:
        return self.models_dir / "sft"

    def _build(self, show_stage) -> None:
        lay = QVBoxLayout(self)
        lay.addWidget(wrapped(heading("Stage 2 — a reward model learns to agree with the rankings")))
        lay.addWidget(note(
            "The reward model reads a prompt and an answer and returns one number, r. Training pushes "
            "r(chosen) above r(rejected) with the Bradley-Terry loss −log σ(r(chosen) − r(rejected)). "
            "It starts from the SFT model's first layer, so it is smaller than the policy. Accuracy is "
            "measured on held-out pairs it never trained on."))
        opts = QHBoxLayout()
        self.start_box = QComboBox()
        self.start_box.addItems(["a fresh reward model (SFT's first layer, no opinion yet)",
                                 "the reward model in use (a short top-up)"])
        self.start_box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.start_box.setMinimumContentsLength(24)
        self.epochs_box = QSpinBox(minimum=1, maximum=6, value=1, suffix=" epoch")
        self.epochs_box.valueChanged.connect(lambda n: self.epochs_box.setSuffix(" epoch" if n == 1 else " epochs"))
        self.weight_box = QSpinBox(minimum=1, maximum=50, value=8, prefix="each of your pairs counts ×")
        self.weight_box.setToolTip("Your pairs are a handful among hundreds; this is how loudly they speak")
        self.train_button = button("Train the reward model", self.train)
        self.cancel_button = button("Cancel", lambda: self.train_task and self.train_task.cancel(), enabled=False)
        opts.addWidget(QLabel("Start from"))
        opts.addWidget(self.start_box, 1)
        lay.addLayout(opts)
        run_row = QHBoxLayout()
        for w in (self.epochs_box, self.weight_box, self.train_button, self.cancel_button):
            run_row.addWidget(w)
        run_row.addStretch(1)
        lay.addLayout(run_row)
        prow = QHBoxLayout()
        self.train_progress = QProgressBar(textVisible=True)
        self.train_status = QLabel(wordWrap=True)
        prow.addWidget(self.train_progress, 1)
        prow.addWidget(self.train_status, 2)
        lay.addLayout(prow)

        figures = QHBoxLayout()
        self.acc_label = QLabel(textFormat=Qt.RichText, wordWrap=True)
        self.mine_label = QLabel(textFormat=Qt.RichText, wordWrap=True)
        for w in (self.acc_label, self.mine_label):
            w.setFrameShape(QFrame.StyledPanel)
            w.setMinimumHeight(70)
            w.setAlignment(Qt.AlignCenter)
            figures.addWidget(w, 1)
        self.loss_plot = pg.PlotWidget(background=self.palette().color(self.backgroundRole()))
        self.loss_plot.getAxis("left").enableAutoSIPrefix(False)
        self.loss_plot.setMinimumHeight(90)
        self.loss_plot.setMaximumHeight(140)
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen(theme.ACCENT, width=2))
        figures.addWidget(self.loss_plot, 1)
        lay.addLayout(figures)
        self.pair_table = QTableWidget(0, 5)
        self.pair_table.setHorizontalHeaderLabels(["Prompt", "Chosen (A)", "Rejected (B)",
                                                   "P(A beats B) before", "after"])
        header = self.pair_table.horizontalHeader()
        for c, mode in enumerate((QHeaderView.Stretch, QHeaderView.Stretch, QHeaderView.Stretch,
                                  QHeaderView.ResizeToContents, QHeaderView.ResizeToContents)):
            header.setSectionResizeMode(c, mode)
        self.pair_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.pair_table.setWordWrap(True)
        lay.addWidget(self.pair_table, 1)
        bottom = QHBoxLayout()
        self.in_use_label = QLabel(wordWrap=True)
        self.shipped_button = button("Use the shipped reward model", self.use_shipped)
        bottom.addWidget(self.in_use_label, 1)
        bottom.addWidget(self.shipped_button)
        bottom.addWidget(button("Next: PPO →", lambda: show_stage(3)))
        lay.addLayout(bottom)
        self.show_results(None)

    # ---- training (on a worker) --------------------------------------------------------------
    def train(self) -> None:
        if self.missing:
            self.train_status.setText("The SFT or reward model is missing (see the message above).")
            return
        cfg = reward_tuning.FinetuneConfig(epochs=self.epochs_box.value(), learner_weight=self.weight_box.value(),
                                 fresh=self.start_box.currentIndex() == 0, max_shipped=self.max_shipped)
        self.loss_x, self.loss_y = [], []
        self.loss_curve.setData([], [])
        try:
            task = worker.run_in_background(
                reward_tuning.finetune_reward, self.reward_dir, list(self.pairs()), self.mine_dir, cfg,
                sft_dir=self.sft_dir, label="Training the reward model", exclusive="training",
                on_progress=self._train_progress, on_result=self._trained, on_error=self._train_failed,
                on_cancelled=self._train_cancelled, on_finished=self._train_done)
        except worker.Busy as exc:
            self.train_status.setText(error_html(html.escape(str(exc))))
            self.window.show_status(str(exc))
            return
        self.train_task = task
        self.window.track_task(task, "Training the reward model")
        self.train_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.train_progress.setRange(0, 0)
        mine = len(self.pairs())
        self.train_status.setText(f"Training on the lab's pairs and {mine} of yours…" if mine else
                                  "Training on the lab's pairs only: rank some answers in stage 1 to add yours.")

    def _train_progress(self, info: dict) -> None:
        if info.get("total"):
            self.train_progress.setRange(0, int(info["total"]))
            self.train_progress.setValue(int(info.get("step", 0)))
        if "loss" in info:
            self.loss_x.append(info["step"])
            self.loss_y.append(info["loss"])
            self.loss_curve.setData(self.loss_x, self.loss_y)
            self.train_status.setText(f"step {info['step']}/{info['total']} · loss {info['loss']:.3f}")

    def _trained(self, result: dict) -> None:
        self.reward_dir = Path(result["out_dir"])
        self.last_result = result
        self.train_status.setText(f"Done in {result['seconds']:.1f} s ({result['steps']} steps). "
                                  "Your reward model is now in use.")
        self.show_results(result)
        self.reward_changed.emit()

    def _train_failed(self, message: str, _tb: str) -> None:
        self.train_status.setText(error_html(f"Training failed: {html.escape(message)}. "
                                             "The previous reward model is still in use."))

    def _train_cancelled(self) -> None:
        self.train_status.setText("Cancelled. The previous reward model is still in use.")

    def _train_done(self) -> None:
        self.train_task = None
        self.train_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.train_progress.maximum() == 0:
            self.train_progress.setRange(0, 1)

    def show_results(self, result: dict | None) -> None:
        """The last training's figures, or (None) the learner's pairs so far, waiting to be measured."""
        if result is None:
            self.acc_label.setText("Held-out accuracy<br>" + big("train to measure"))
            pairs = self.pairs()
            n = len(pairs)
            self.mine_label.setText(f"Your {n} pairs ranked your way<br>" + big("–") + (
                "" if n else "<br><small>rank some answers in stage 1 to add your own pairs</small>"))
            self.pair_table.setRowCount(n)
            for r, p in enumerate(pairs):
                for c, text in enumerate((p.prompt, p.chosen, p.rejected, "–", "–")):
                    self.pair_table.setItem(r, c, QTableWidgetItem(text))
            return
        self.acc_label.setText(
            f"Held-out accuracy ({result['n_heldout']} pairs)<br>"
            + big(f"{percent(result['heldout_before'])} → {percent(result['heldout_after'])}")
            + (f"<br><small>on questions it never saw at all: {percent(result['unseen_before'])} → "
               f"{percent(result['unseen_after'])}</small>" if result.get("n_unseen") else "")
            + ("<br><small>a fresh model has no opinion: 50% is chance</small>" if result["fresh"] else ""))
        agree = result["rater_agreement"]
        judged = agree["agree"] + agree["disagree"]
        self.mine_label.setText(
            f"Your {result['n_mine']} pairs ranked your way<br>"
            + big(f"{percent(result['mine_before'])} → {percent(result['mine_after'])}")
            + (f"<br><small>the rater agrees with {agree['agree']} of the {judged} it can judge; the held-out "
               "test is the rater's, so pairs against it pull that accuracy down</small>" if judged else ""))
        rows = result["pairs"]
        self.pair_table.setRowCount(len(rows))
        for r, p in enumerate(rows):
            cells = (p["prompt"], p["chosen"], p["rejected"], f"{p['p_before']:.4f}", f"{p['p_after']:.4f}")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 3:
                    item.setTextAlignment(Qt.AlignCenter)
                self.pair_table.setItem(r, c, item)
            up = p["p_after"] - p["p_before"]
            self.pair_table.item(r, 4).setForeground(QColor(theme.GOOD if up > 5e-4 else
                                                            theme.ERROR if up < -5e-4 else theme.MUTED))
        self.pair_table.resizeRowsToContents()

    def use_shipped(self) -> None:
        if self.train_task is not None:
            self.train_status.setText("Wait for the training to finish or cancel it first.")
            return
        self.reward_dir = self.models_dir / "reward"
        self.reward_changed.emit()

    def reward_in_use(self) -> str:
        """The reward model in use, named: the learner never types or needs its folder (the PPO
        link carries it)."""
        return ("your reward model (trained here, kept in your profile)" if self.reward_dir == self.mine_dir
                else "the shipped reward model (the lab's)")

    def show_reward_in_use(self) -> None:
        self.in_use_label.setText(f"In use: {self.reward_in_use()}")
        self.shipped_button.setEnabled(self.reward_dir == self.mine_dir)
