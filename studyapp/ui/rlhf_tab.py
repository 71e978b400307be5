"""The RLHF pipeline tab: the three stages of RLHF, stepped through on the lab's real models.

1. Preferences (rlhf_ranking.py): the SFT model samples 2-4 responses to one prompt, the learner
   ranks them or reveals the rater's ranking; every ranking becomes k(k-1)/2 pairs.
2. Reward model (rlhf_reward.py): a Bradley-Terry reward model trains in seconds on the lab's pairs
   plus the learner's, measured before and after; a cancelled run keeps the previous one in use.
3. PPO (below): what happens next, and a button that hands the new reward model to the PPO tab.
The reward-model playground (reward_playground.py) is a fourth page.

Links: studyapp://rlhf?stage=1|2|3, studyapp://rlhf?playground=1, studyapp://rlhf?prompt=TEXT.
The logic is in studyapp.lab (ranking, reward_tuning); model work runs through studyapp.ui.worker.
"""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup, QFrame, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget,
)

from studyapp.lab import engine, reward_tuning
from studyapp.lab.world import load_world
from studyapp.ui.links import make_link
from studyapp.ui.reward_playground import RewardPlayground
from studyapp.ui.rlhf_ranking import RankingPage
from studyapp.ui.rlhf_reward import RewardTrainingPage
from studyapp.ui.widgets import banner, button, heading, note, scrolling, wrapped

STAGES = ("1  Collect preferences", "2  Train the reward model", "3  Optimise the policy (PPO)",
          "Reward model playground")
STEP_STYLE = ("QPushButton { padding: 4px 16px; } "
              "QPushButton:checked { background: palette(highlight); color: palette(highlighted-text); "
              "border-radius: 4px; }")


class PpoPage(QWidget):
    """Stage 3: what PPO does with the reward model, and the way to the PPO tab (handed_over)."""

    handed_over = Signal()

    def __init__(self, models_dir: Path):
        super().__init__()
        self._build(models_dir)

    def _build(self, models_dir: Path) -> None:
        lay = QVBoxLayout(self)
        lay.addWidget(wrapped(heading("Stage 3 — PPO makes the policy write what the reward model scores high")))
        lay.addWidget(note(
            "<p>The SFT model becomes the <b>policy</b>. Each PPO step it answers a batch of prompts; the "
            "reward model scores every answer; PPO nudges the policy toward the answers that scored above "
            "what its value head expected. Clipping keeps each update small.</p>"
            "<p>Left alone, the policy would find answers the reward model over-rates (it is only a model "
            "of the rater). So each token pays a penalty for drifting from the frozen SFT model:</p>"
            "<p align=center><b>total reward = r(answer) − β · KL(policy ‖ SFT)</b></p>"
            "<p>Set β = 0 in the PPO tab and watch the policy hack the reward model.</p>"))
        loop = QHBoxLayout()
        for i, box in enumerate(("a prompt", "the policy writes\nan answer", "the reward model\nscores it: r",
                                 "minus β · KL to the\nfrozen SFT model", "PPO update,\nclipped")):
            label = QLabel(box.replace("\n", " "), alignment=Qt.AlignCenter, wordWrap=True)
            label.setFrameShape(QFrame.StyledPanel)
            label.setMinimumSize(96, 56)   # wraps to three lines rather than widen the tab
            label.setMaximumWidth(170)
            loop.addWidget(label, 1)
            loop.addWidget(QLabel("→" if i < 4 else "↺ next\nbatch"))
        loop.addStretch(0)
        lay.addLayout(loop)
        summary = reward_tuning.ppo_summary(models_dir)
        if summary:
            parts = [f"{summary['steps']} PPO steps" if "steps" in summary else "",
                     f"β = {summary['beta']}" if "beta" in summary else "",
                     (f"reward-model score {summary['scores_start']:+.2f} → {summary['scores_end']:+.2f}"
                      if "scores_end" in summary and "scores_start" in summary else ""),
                     (f"KL to SFT {summary['kl_start']:.2f} → {summary['kl_end']:.2f}"
                      if "kl_end" in summary and "kl_start" in summary else "")]
            lay.addWidget(note("The shipped RLHF model was made this way: "
                               + ", ".join(p for p in parts if p) + "."))
        self.ppo_label = note("")
        lay.addWidget(self.ppo_label)
        self.ppo_button = button("Open the PPO tab with this reward model →", lambda: self.handed_over.emit(),
                                 minimumHeight=40)
        row = QHBoxLayout()
        row.addWidget(self.ppo_button)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(1)

    def show_reward(self, what: str, enabled: bool) -> None:
        self.ppo_label.setText(f"Reward model that PPO will optimise against: <b>{html.escape(what)}</b>")
        self.ppo_button.setEnabled(enabled)


class RlhfTab(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        config = window.ctx.config
        self.models_dir = Path(config.models_path)
        self.mine_dir = Path(config.data_path) / "lab" / "reward-mine"
        self.world = load_world()
        self._started = False
        self.missing = engine.missing_models(self.models_dir, ("sft", "reward"))
        self._build()
        self.training.reward_changed.connect(self._show_reward_in_use)
        self.ppo.handed_over.connect(self.hand_over_to_ppo)
        self._show_reward_in_use()

    @property
    def sft_dir(self) -> Path:
        return self.models_dir / "sft"

    @property
    def reward_dir(self) -> Path:
        """The reward model in use: the learner's once trained, else the shipped one."""
        return self.training.reward_dir

    # ---- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(14, 10, 14, 10)
        steps = QHBoxLayout()
        steps.setSpacing(6)
        self.stage_group = QButtonGroup(self)
        self.stage_buttons = []
        for i, title in enumerate(STAGES):
            step = QPushButton(title, checkable=True)
            step.setMinimumHeight(34)
            step.setStyleSheet(STEP_STYLE)
            step.setToolTip(f"Alt+{i + 1}")
            QShortcut(QKeySequence(f"Alt+{i + 1}"), self, lambda i=i: self.show_stage(i + 1))
            self.stage_group.addButton(step, i)
            self.stage_buttons.append(step)
            steps.addWidget(step)
            if i < 2:
                steps.addWidget(QLabel("→"))
            elif i == 2:
                steps.addStretch(1)
        self.stage_group.idClicked.connect(lambda i: self.show_stage(i + 1))
        root.addLayout(steps)
        self.banner = banner("" if not self.missing else (
            f"<b>The lab's {' and '.join(sorted(self.missing))} "
            f"model{'s are' if len(self.missing) != 1 else ' is'} not in the models folder "
            f"“{html.escape(Path(self.models_dir).name)}”.</b> This tab needs the SFT model to write answers and "
            "the reward model (with its preference pairs) to train on. Train them with <code>studyapp lab train</code>, "
            "or point the app at a folder holding them (<code>--models-dir</code> or <code>models_dir</code> in the "
            "settings). Details: " + html.escape("; ".join(self.missing.values()))))
        root.addWidget(self.banner)
        self.pages = QStackedWidget()
        self.ranking = RankingPage(self.window, self.world, self.sft_dir, self.missing, self.show_stage)
        self.training = RewardTrainingPage(self.window, self.models_dir, self.mine_dir, self.missing,
                                           lambda: self.ranking.learner_pairs, self.show_stage)
        self.ppo = PpoPage(self.models_dir)
        self.playground = RewardPlayground(self.world, lambda: self.training.reward_dir, lambda: self.sft_dir,
                                           self.missing)
        for page in (self.ranking, self.training, self.ppo, self.playground):
            self.pages.addWidget(scrolling(page))
        root.addWidget(self.pages, 1)
        self.stage_buttons[0].setChecked(True)

    # ---- stepping and links ---------------------------------------------------------------
    def show_stage(self, n: int) -> None:
        n = max(1, min(4, n))
        self.pages.setCurrentIndex(n - 1)
        self.stage_buttons[n - 1].setChecked(True)
        if n == 4:
            self.playground.activate()
        if n == 2 and self.training.last_result is None:
            self.training.show_results(None)   # the learner's pairs so far, waiting to be measured

    def open_link(self, params: dict, fragment: str = "") -> None:
        if params.get("playground"):
            self.show_stage(4)
            return
        stage = params.get("stage", "1")
        self.show_stage(int(stage) if stage in ("1", "2", "3") else 1)
        if params.get("prompt"):
            self.ranking.prompt_box.setCurrentText(params["prompt"])
            self.ranking.sample()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # The first sample waits until the tab is opened: no model work for a learner reading lessons.
        if not self._started and "sft" not in self.missing:
            self._started = True
            self.ranking.sample()

    def _show_reward_in_use(self) -> None:
        self.ppo.show_reward(self.training.reward_in_use(), enabled=not self.missing)
        self.playground.reward_changed()

    def hand_over_to_ppo(self) -> None:
        self.window.open_link(make_link("ppo", reward=str(self.reward_dir)))


def create_tab(window) -> QWidget:
    return RlhfTab(window)
