"""The RLHF pipeline tab: the three stages of RLHF, stepped through on the lab's real models.

1. Preferences: the SFT model samples 2-4 responses to one prompt, the learner ranks them (drag,
   buttons or Ctrl+Up/Down) or reveals the rater's ranking; every ranking becomes k(k-1)/2 pairs.
2. Reward model: a Bradley-Terry reward model trains in seconds on the lab's pairs plus the
   learner's; held-out accuracy and P(chosen beats rejected) of each of the learner's pairs are
   shown before and after. A cancelled run keeps the previous reward model in use.
3. PPO: what happens next, and a button that hands the new reward model to the PPO tab.
The reward-model playground (reward_playground.py) is a fourth page.

Links: studyapp://rlhf?stage=1|2|3, studyapp://rlhf?playground=1, studyapp://rlhf?prompt=TEXT.
All the logic is in studyapp.lab.interactive; model work runs through studyapp.ui.worker.
"""
from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QTimer, Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QComboBox, QDoubleSpinBox, QFrame, QHBoxLayout, QHeaderView, QLabel,
    QListWidget, QListWidgetItem, QProgressBar, QPushButton, QSpinBox, QSplitter, QStackedWidget,
    QScrollArea, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from studyapp.lab import interactive as lab
from studyapp.lab.common import LabError
from studyapp.lab.world import load_world
from studyapp.ui import worker
from studyapp.ui.links import make_link
from studyapp.ui.reward_playground import RewardPlayground, button, heading, note
from studyapp.ui.wrapping import wrap_items

STAGES = ("1  Collect preferences", "2  Train the reward model", "3  Optimise the policy (PPO)",
          "Reward model playground")
ROLE_RESPONSE = Qt.UserRole
SILENT = "(says nothing)"   # an empty answer, shown so rather than as a bare number or “”
FIRST_PROMPT = "What is the capital of Germany?"   # seen in pretraining only: SFT's answers vary
LIST_STYLE = ("QListWidget::item { padding: 6px 4px; border-bottom: 1px solid palette(midlight); } "
              "QListWidget::item:selected { background: palette(highlight); color: palette(highlighted-text); }")
STEP_STYLE = ("QPushButton { padding: 4px 16px; } "
              "QPushButton:checked { background: palette(highlight); color: palette(highlighted-text); "
              "border-radius: 4px; }")


def scrolling(page: QWidget) -> QScrollArea:
    """A stage page in a frameless scroll area: on a short window (150% scaling on a laptop) the page
    scrolls under the stage buttons, which stay in view, instead of the whole tab scrolling."""
    area = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
    area.setWidget(page)
    return area


def wrapped(label: QLabel) -> QLabel:
    label.setWordWrap(True)
    return label


def percent(x: float) -> str:
    return "–" if x != x else f"{100 * x:.1f}%"  # x != x: NaN, no pairs to measure on


class RlhfTab(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        config = window.ctx.config
        self.models_dir = Path(config.models_path)
        self.mine_dir = Path(config.data_path) / "lab" / "reward-mine"
        self.world = load_world()
        self.learner_pairs: list = []
        self.n_rankings = 0
        self.seed = 0
        self.responses: list[lab.Response] = []
        self.rater_order = None
        self.sample_task = self.train_task = None
        self.max_shipped = None   # all the lab's pairs; the tests train on a sample to stay fast
        self._started = False
        self.missing = lab.missing_models(self.models_dir, ("sft", "reward"))
        self.reward_dir = self.models_dir / "reward"
        if not self.missing and lab.folder_problem(self.mine_dir, "sequence-classification") is None:
            self.reward_dir = self.mine_dir   # the learner's reward model from an earlier session
        self._build()
        self._show_reward_in_use()

    @property
    def sft_dir(self) -> Path:
        return self.models_dir / "sft"

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
        self.banner = QLabel(wordWrap=True, textFormat=Qt.RichText)
        self.banner.setStyleSheet("background:#fdeaea; color:#5c1a1a; padding:8px; border-radius:4px;")
        self.banner.setVisible(bool(self.missing))
        if self.missing:
            self.banner.setText(
                f"<b>The lab's {' and '.join(sorted(self.missing))} "
                f"model{'s are' if len(self.missing) != 1 else ' is'} not in the models folder "
                f"“{html.escape(Path(self.models_dir).name)}”.</b> This tab needs the SFT model to write answers and "
                "the reward model (with its preference pairs) to train on. Train them with <code>studyapp lab train</code>, or point the app at a "
                "folder holding them (<code>--models-dir</code> or <code>models_dir</code> in the settings). "
                "Details: " + html.escape("; ".join(self.missing.values())))
        root.addWidget(self.banner)
        self.pages = QStackedWidget()
        self.playground = RewardPlayground(self.world, lambda: self.reward_dir, lambda: self.sft_dir,
                                           self.missing)
        for page in (self._build_stage1(), self._build_stage2(), self._build_stage3(), self.playground):
            self.pages.addWidget(scrolling(page))
        root.addWidget(self.pages, 1)
        self.stage_buttons[0].setChecked(True)

    def _build_stage1(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.addWidget(wrapped(heading("Stage 1 — people rank answers, and rankings become pairs")))
        lay.addWidget(note(
            "Writing the perfect answer is hard; saying which of a few answers is better is easy and "
            "consistent. So for one prompt the SFT model writes 2-4 answers and a person ranks them, best "
            "first. Every ordered pair of the ranking is one training example for the reward model."))
        row = QHBoxLayout()
        self.prompt_box = QComboBox(editable=True, insertPolicy=QComboBox.NoInsert)
        for label, text in lab.course_prompts(self.world):
            self.prompt_box.addItem(text)
            self.prompt_box.setItemData(self.prompt_box.count() - 1, label, Qt.ToolTipRole)
        self.prompt_box.setCurrentText(FIRST_PROMPT)
        self.prompt_box.lineEdit().setPlaceholderText("Pick a prompt or type your own")
        self.prompt_box.lineEdit().returnPressed.connect(self.sample)
        self.prompt_box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.prompt_box.setMinimumContentsLength(16)   # long course prompts must not widen the tab
        self.count_box = QSpinBox(minimum=2, maximum=4, value=4, suffix=" answers")
        self.temp_box = QDoubleSpinBox(minimum=0.1, maximum=2.0, singleStep=0.1, value=1.0, prefix="temperature ")
        self.temp_box.setToolTip("Higher: more varied (and more often wrong) answers")
        self.sample_button = button("① Sample answers from the SFT model", self.sample, default=True)
        for w, stretch in ((QLabel("Prompt:"), 0), (self.prompt_box, 1), (self.count_box, 0), (self.temp_box, 0),
                           (self.sample_button, 0)):
            row.addWidget(w, stretch)
        lay.addLayout(row)
        self.sample_info = note("")
        lay.addWidget(self.sample_info)

        split = QSplitter(Qt.Horizontal)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 6, 0)
        ll.addWidget(wrapped(QLabel("<b>② Your ranking</b> — drag to reorder, best at the top "
                                    "(or Ctrl+↑ / Ctrl+↓)")))
        self.rank_list = wrap_items(QListWidget(alternatingRowColors=True))
        self.rank_list.setDragDropMode(QAbstractItemView.InternalMove)
        self.rank_list.setDefaultDropAction(Qt.MoveAction)
        self.rank_list.setStyleSheet(LIST_STYLE)
        font = self.rank_list.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.rank_list.setFont(font)
        self.rank_list.model().rowsMoved.connect(lambda *_: QTimer.singleShot(0, self._render_ranking))
        ll.addWidget(self.rank_list, 1)
        buttons = QHBoxLayout()
        self.up_button = button("▲ Better", lambda: self.move_selected(-1))
        self.down_button = button("▼ Worse", lambda: self.move_selected(+1))
        QShortcut(QKeySequence("Ctrl+Up"), self.rank_list, lambda: self.move_selected(-1))
        QShortcut(QKeySequence("Ctrl+Down"), self.rank_list, lambda: self.move_selected(+1))
        self.reveal_button = QPushButton("Reveal the rater's ranking", checkable=True)
        self.reveal_button.toggled.connect(lambda _: self._render_ranking())
        self.adopt_button = button("Use the rater's order", self.adopt_rater_order)
        for b in (self.up_button, self.down_button, self.reveal_button, self.adopt_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        ll.addLayout(buttons)
        self.rater_info = note("")
        ll.addWidget(self.rater_info)
        split.addWidget(left)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 0, 0, 0)
        self.pairs_title = wrapped(QLabel("<b>Pairs</b>"))
        rl.addWidget(self.pairs_title)
        self.pairs_list = wrap_items(QListWidget(alternatingRowColors=True))
        self.pairs_list.setSelectionMode(QAbstractItemView.NoSelection)
        self.pairs_list.setStyleSheet(LIST_STYLE)
        rl.addWidget(self.pairs_list, 1)
        split.addWidget(right)
        split.setSizes([600, 500])
        lay.addWidget(split, 1)

        bottom = QHBoxLayout()
        self.keep_button = button("③ Add these pairs to my preference data", self.keep_pairs)
        self.data_label = wrapped(QLabel())
        self.clear_button = button("Clear my data", self.clear_pairs)
        for w, stretch in ((self.keep_button, 0), (self.data_label, 1), (self.clear_button, 0),
                           (button("Next: train the reward model →", lambda: self.show_stage(2)), 0)):
            bottom.addWidget(w, stretch)
        lay.addLayout(bottom)
        self._update_data_label()
        self._render_ranking()
        return page

    def _build_stage2(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
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
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#3d6fd1", width=2))
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
        bottom.addWidget(button("Next: PPO →", lambda: self.show_stage(3)))
        lay.addLayout(bottom)
        self._show_results(None)
        return page

    def _build_stage3(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
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
        summary = lab.ppo_summary(self.models_dir)
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
        self.ppo_button = button("Open the PPO tab with this reward model →", self.hand_over_to_ppo, minimumHeight=40)
        row = QHBoxLayout()
        row.addWidget(self.ppo_button)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(1)
        return page

    # ---- stepping and links ---------------------------------------------------------------
    def show_stage(self, n: int) -> None:
        n = max(1, min(4, n))
        self.pages.setCurrentIndex(n - 1)
        self.stage_buttons[n - 1].setChecked(True)
        if n == 4:
            self.playground.activate()
        if n == 2 and getattr(self, "last_result", None) is None:
            self._show_results(None)   # the learner's pairs so far, waiting to be measured

    def open_link(self, params: dict, fragment: str = "") -> None:
        if params.get("playground"):
            self.show_stage(4)
            return
        stage = params.get("stage", "1")
        self.show_stage(int(stage) if stage in ("1", "2", "3") else 1)
        if params.get("prompt"):
            self.prompt_box.setCurrentText(params["prompt"])
            self.sample()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # The first sample waits until the tab is opened: no model work for a learner reading lessons.
        if not self._started and "sft" not in self.missing:
            self._started = True
            self.sample()

    # ---- stage 1 --------------------------------------------------------------------------
    def sample(self) -> None:
        try:
            prompt = lab.check_prompt(self.prompt_box.currentText())
        except LabError as exc:
            self.sample_info.setText(f"<span style='color:#c62828'>{html.escape(str(exc))}</span>")
            return
        if "sft" in self.missing:
            self.sample_info.setText("The SFT model is missing (see the message above).")
            return
        if self.sample_task is not None:
            self.sample_task.cancel()
        self.seed += 1
        self.sample_button.setEnabled(False)
        self.sample_info.setText("The SFT model is writing answers…")

        def job(sft_dir, prompt, k, temperature, seed):
            model, tok = lab.models.get("policy", sft_dir)
            return prompt, lab.sample_responses(model, tok, prompt, k, seed=seed, temperature=temperature,
                                                world=self.world)

        task = worker.run_in_background(job, self.sft_dir, prompt, self.count_box.value(), self.temp_box.value(),
                                        self.seed, label="Sampling answers", on_result=self._sampled,
                                        on_error=self._sample_failed, on_finished=lambda: self._sample_done(task))
        self.sample_task = task

    def _sample_done(self, task) -> None:
        if task is self.sample_task:   # a replaced (cancelled) sampling must not clear its successor
            self.sample_task = None
            self.sample_button.setEnabled(True)

    def _sample_failed(self, message: str, _tb: str) -> None:
        self.sample_info.setText(f"<span style='color:#c62828'>Could not sample: {html.escape(message)}</span>")

    def _sampled(self, result) -> None:
        prompt, responses = result
        self.prompt = prompt
        self.responses = responses
        self.rater_order = lab.rater_ranking(self.world, prompt, [r.text for r in responses])
        n_model = sum(r.sampled for r in responses)
        extra = "" if n_model == len(responses) else (
            f" The model said only {n_model} different thing{'s' if n_model != 1 else ''}, so "
            f"{len(responses) - n_model} written example{'s' if len(responses) - n_model != 1 else ''} "
            "from the lab's preference data fill the list (marked as such).")
        self.sample_info.setText(f"{len(responses)} answers to “{html.escape(prompt)}”.{extra}")
        self.rank_list.clear()
        for r in responses:
            item = QListWidgetItem()
            item.setData(ROLE_RESPONSE, r)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
            self.rank_list.addItem(item)
        self.rank_list.setCurrentRow(0)
        self._render_ranking()

    def ranked_texts(self) -> list[str]:
        return [self.rank_list.item(i).data(ROLE_RESPONSE).text for i in range(self.rank_list.count())]

    def move_selected(self, delta: int) -> None:
        row = self.rank_list.currentRow()
        new = row + delta
        if row < 0 or not 0 <= new < self.rank_list.count():
            return
        item = self.rank_list.takeItem(row)
        self.rank_list.insertItem(new, item)
        self.rank_list.setCurrentRow(new)
        self._render_ranking()

    def adopt_rater_order(self) -> None:
        if not self.rater_order:
            return
        items = [self.rank_list.takeItem(0) for _ in range(self.rank_list.count())]
        by_text = {it.data(ROLE_RESPONSE).text: it for it in items}
        for index, _ in self.rater_order:
            self.rank_list.addItem(by_text.pop(self.responses[index].text))
        for it in by_text.values():
            self.rank_list.addItem(it)
        self._render_ranking()

    def _render_ranking(self) -> None:
        reveal = self.reveal_button.isChecked() and self.rater_order is not None
        rater_rank = {}
        if self.rater_order:
            for pos, (index, judgement) in enumerate(self.rater_order, start=1):
                rater_rank[self.responses[index].text] = (pos, judgement)
        for i in range(self.rank_list.count()):
            item = self.rank_list.item(i)
            r = item.data(ROLE_RESPONSE)
            lines = [f"{i + 1}.  {r.text or SILENT}", f"      {r.source}"]
            if reveal and r.text in rater_rank:
                pos, j = rater_rank[r.text]
                why = "; ".join(v for v in j.reasons.values() if v)
                lines.append(f"      rater: #{pos}, score {j.total:+.2f} ({why})")
            item.setText("\n".join(lines))
        has = self.rank_list.count() > 0
        for b in (self.up_button, self.down_button, self.keep_button):
            b.setEnabled(has)
        self.reveal_button.setEnabled(self.rater_order is not None)
        self.adopt_button.setEnabled(self.rater_order is not None)
        if not has:
            self.rater_info.setText("")
        elif self.rater_order is None:
            self.rater_info.setText("The lab's rater checks answers against the world's facts, so it can "
                                    "rank only the course's prompts; this one is yours alone to judge.")
        else:
            rater = [self.responses[i].text for i, _ in self.rater_order]
            mine = lab.ranking_pairs(self.prompt, self.ranked_texts())
            pos = {t: k for k, t in enumerate(rater)}
            scores = {self.responses[i].text: j.total for i, j in self.rater_order}
            agree = sum(pos[p.chosen] < pos[p.rejected] for p in mine
                        if abs(scores[p.chosen] - scores[p.rejected]) > 1e-9)
            ties = sum(abs(scores[p.chosen] - scores[p.rejected]) <= 1e-9 for p in mine)
            tie_text = (f" ({ties} pair{'s' if ties != 1 else ''} the rater scores as a tie)"
                        if ties else "")
            self.rater_info.setText(f"You agree with the rater on {agree} of {len(mine) - ties} pairs{tie_text}."
                                    if self.reveal_button.isChecked() else
                                    "Rank them yourself, then reveal the rater's ranking to compare.")
        self._render_pairs()

    def _render_pairs(self) -> None:
        self.pairs_list.clear()
        texts = self.ranked_texts()
        k = len(texts)
        pairs = lab.ranking_pairs(getattr(self, "prompt", ""), texts) if k else []
        self.current_pairs = pairs
        self.keep_button.setText(f"③ Add these {len(pairs)} pairs to my preference data")
        self.pairs_title.setText(f"<b>Pairs</b> — {k} answers → {k}·{max(k - 1, 0)}/2 = {len(pairs)} pairs "
                                 "(chosen &gt; rejected)" if k else "<b>Pairs</b> — sample some answers first")
        number = {t: i + 1 for i, t in enumerate(texts)}
        for p in pairs:
            self.pairs_list.addItem(f"#{number[p.chosen]} > #{number[p.rejected]}    {quoted(p.chosen)}  >  "
                                    f"{quoted(p.rejected)}")

    def keep_pairs(self) -> None:
        known = {(p.prompt, p.chosen, p.rejected) for p in self.learner_pairs}
        # A new ranking of the same answers replaces the old one's pairs rather than doubling them.
        fresh = [p for p in self.current_pairs if (p.prompt, p.chosen, p.rejected) not in known]
        flipped = {(p.prompt, p.rejected, p.chosen) for p in fresh}
        self.learner_pairs = [p for p in self.learner_pairs if (p.prompt, p.chosen, p.rejected) not in flipped]
        self.learner_pairs += fresh
        self.n_rankings += 1
        self._update_data_label()
        self.window.show_status(f"Added {len(fresh)} pairs; {len(self.learner_pairs)} of yours in all.")

    def clear_pairs(self) -> None:
        self.learner_pairs, self.n_rankings = [], 0
        self._update_data_label()

    def _update_data_label(self) -> None:
        n = len(self.learner_pairs)
        self.data_label.setText(f"Your preference data: <b>{n} pairs</b> from {self.n_rankings} ranking{'s' if self.n_rankings != 1 else ''}")
        self.clear_button.setEnabled(n > 0)

    # ---- stage 2 --------------------------------------------------------------------------
    def train(self) -> None:
        if self.missing:
            self.train_status.setText("The SFT or reward model is missing (see the message above).")
            return
        cfg = lab.FinetuneConfig(epochs=self.epochs_box.value(), learner_weight=self.weight_box.value(),
                                 fresh=self.start_box.currentIndex() == 0, max_shipped=self.max_shipped)
        self.loss_x, self.loss_y = [], []
        self.loss_curve.setData([], [])
        try:
            task = worker.run_in_background(
                lab.finetune_reward, self.reward_dir, list(self.learner_pairs), self.mine_dir, cfg,
                sft_dir=self.sft_dir, label="Training the reward model", exclusive="training",
                on_progress=self._train_progress, on_result=self._trained, on_error=self._train_failed,
                on_cancelled=self._train_cancelled, on_finished=self._train_done)
        except worker.Busy as exc:
            self.train_status.setText(f"<span style='color:#c62828'>{html.escape(str(exc))}</span>")
            self.window.show_status(str(exc))
            return
        self.train_task = task
        self.window.track_task(task, "Training the reward model")
        self.train_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.train_progress.setRange(0, 0)
        mine = len(self.learner_pairs)
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
        self._show_results(result)
        self._show_reward_in_use()

    def _train_failed(self, message: str, _tb: str) -> None:
        self.train_status.setText(f"<span style='color:#c62828'>Training failed: {html.escape(message)}. "
                                  "The previous reward model is still in use.</span>")

    def _train_cancelled(self) -> None:
        self.train_status.setText("Cancelled. The previous reward model is still in use.")

    def _train_done(self) -> None:
        self.train_task = None
        self.train_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.train_progress.maximum() == 0:
            self.train_progress.setRange(0, 1)

    def _show_results(self, result: dict | None) -> None:
        big = "<span style='font-size:18pt; font-weight:600'>{}</span>"
        if result is None:
            self.acc_label.setText("Held-out accuracy<br>" + big.format("train to measure"))
            n = len(self.learner_pairs)
            self.mine_label.setText(f"Your {n} pairs ranked your way<br>" + big.format("–") + (
                "" if n else "<br><small>rank some answers in stage 1 to add your own pairs</small>"))
            self.pair_table.setRowCount(n)
            for r, p in enumerate(self.learner_pairs):
                for c, text in enumerate((p.prompt, p.chosen, p.rejected, "–", "–")):
                    self.pair_table.setItem(r, c, QTableWidgetItem(text))
            return
        self.acc_label.setText(
            f"Held-out accuracy ({result['n_heldout']} pairs)<br>"
            + big.format(f"{percent(result['heldout_before'])} → {percent(result['heldout_after'])}")
            + (f"<br><small>on questions it never saw at all: {percent(result['unseen_before'])} → "
               f"{percent(result['unseen_after'])}</small>" if result.get("n_unseen") else "")
            + ("<br><small>a fresh model has no opinion: 50% is chance</small>" if result["fresh"] else ""))
        agree = result["rater_agreement"]
        judged = agree["agree"] + agree["disagree"]
        self.mine_label.setText(
            f"Your {result['n_mine']} pairs ranked your way<br>"
            + big.format(f"{percent(result['mine_before'])} → {percent(result['mine_after'])}")
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
            self.pair_table.item(r, 4).setForeground(QColor("#2e7d32") if up > 5e-4 else
                                                     QColor("#c62828") if up < -5e-4 else QColor("#888888"))
        self.pair_table.resizeRowsToContents()

    def use_shipped(self) -> None:
        if self.train_task is not None:
            self.train_status.setText("Wait for the training to finish or cancel it first.")
            return
        self.reward_dir = self.models_dir / "reward"
        self._show_reward_in_use()

    def _show_reward_in_use(self) -> None:
        mine = self.reward_dir == self.mine_dir
        # Named, not a folder path: the learner never types or needs it (the PPO link carries it).
        what = ("your reward model (trained here, kept in your profile)" if mine
                else "the shipped reward model (the lab's)")
        self.in_use_label.setText(f"In use: {what}")
        self.shipped_button.setEnabled(mine)
        self.ppo_label.setText(f"Reward model that PPO will optimise against: <b>{html.escape(what)}</b>")
        self.ppo_button.setEnabled(not self.missing)
        self.playground.reward_changed()

    # ---- stage 3 --------------------------------------------------------------------------
    def hand_over_to_ppo(self) -> None:
        self.window.open_link(make_link("ppo", reward=str(self.reward_dir)))


def quoted(text: str, n: int = 60) -> str:
    return f"“{short(text, n)}”" if text else SILENT


def short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def create_tab(window) -> QWidget:
    return RlhfTab(window)
