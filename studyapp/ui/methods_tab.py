"""The "Beyond PPO" tab ("methods"): best-of-n, DPO, GRPO and PPO on the same axes.

Two charts (studyapp/ui/methods_chart.py) share their x-axis, sqrt(KL to the SFT model): the gold
score (the rater) and the proxy score (the reward model), one series per method, with a legend. Beside them: a table of every point
(harmful-refusal, harmless-refusal, fact accuracy) and the replies of the selected point. The
shipped results are read from <models>/methods/methods.json (studyapp.lab.methods.read_results, no
torch); when there are none the tab says so and gives the command that makes them.

The learner runs one method with its few knobs (n; beta; steps and group size). The run goes
through the one worker helper (exclusive="training") and, like PPO's, in its own process
(lab.methods.run_one_in_process), so the window stays smooth; the new point lands on the charts
and in the table, ringed. Models it trains go to the profile (<data>/lab/methods), never models/.
Links: studyapp://methods?method=best_of_n|dpo|grpo picks a method.
"""
from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
    QSplitter, QStackedWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from studyapp.lab import methods as M
from studyapp.ui import worker
from studyapp.ui.methods_chart import FAR_SQRT_KL, STYLE, MethodsChart, _finite
from studyapp.ui.widgets import figure, fill_replies, table
from studyapp.ui.wrapping import FillWindow

INTRO = ("<b>Beyond PPO.</b> Four ways to push the SFT model toward what the preferences reward, drawn on the "
         "same axes: how far the model moved from SFT (sqrt of the KL divergence) against the rater's score "
         "(gold, left) and the reward model's score (proxy, right). Best-of-n trains nothing; DPO learns "
         "from the pairs directly; GRPO learns from a checkable reward; PPO is the course's method.")

COLUMNS = ("Method", "sqrt KL", "Gold", "Proxy", "Harmful\nrefused", "Harmless\nrefused", "Facts\nright")
SAMPLE_COLUMNS = ("Prompt", "Reply", "Proxy", "Gold")
LIVE_METHODS = (("best_of_n", "Best-of-n"), ("dpo", "DPO"), ("grpo", "GRPO"))


# What a run does before its first step is reported (the "load" phase), method by method.
LOAD_STATUS = {
    "best_of_n": "Sampling n replies per evaluation prompt and scoring them with the reward model…",
    "dpo": "Loading the models and scoring every preference pair with the frozen SFT model (the reference)…",
    "grpo": "Loading the models and the fact questions…",
}


def _pct(value) -> str:
    return figure(value, "{:.0%}")



class Knobs(QGroupBox):
    """The method to run and its few knobs, one page of knobs per method."""

    def __init__(self, parent=None):
        super().__init__("Run a method", parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.method = QComboBox(toolTip="The method to run on this computer's CPU")
        for key, title in LIVE_METHODS:
            self.method.addItem(title, key)
        label = QLabel("&Method")
        label.setBuddy(self.method)
        form.addRow(label, self.method)
        self.pages = QStackedWidget()
        self.n = QSpinBox(minimum=1, maximum=64, value=16,
                          toolTip="Replies sampled per prompt; the reward model's favourite is kept")
        self.beta = QDoubleSpinBox(decimals=2, minimum=0.01, maximum=2.0, singleStep=0.05, value=0.1,
                                   toolTip="DPO's only knob: how strongly the policy is held near the SFT model")
        self.epochs = QSpinBox(minimum=1, maximum=5, value=1, toolTip="Passes over the preference pairs")
        self.steps = QSpinBox(minimum=1, maximum=200, value=40, toolTip="GRPO steps: sample, reward, learn")
        self.k = QSpinBox(minimum=2, maximum=16, value=8,
                          toolTip="Group size: replies per question, compared with each other")
        for rows in ((("&n", self.n),), (("beta (&KL weight)", self.beta), ("Ep&ochs", self.epochs)),
                     (("&Steps", self.steps), ("Group si&ze", self.k))):
            page = QWidget()
            page_form = QFormLayout(page)
            page_form.setContentsMargins(0, 0, 0, 0)
            for text, widget in rows:
                buddy = QLabel(text)
                buddy.setBuddy(widget)
                page_form.addRow(buddy, widget)
            self.pages.addWidget(page)
        form.addRow(self.pages)
        self.method.currentIndexChanged.connect(self.pages.setCurrentIndex)

    def choice(self) -> tuple[str, dict]:
        method = self.method.currentData()
        if method == "best_of_n":
            return method, {"n": self.n.value()}
        if method == "dpo":
            return method, {"beta": round(self.beta.value(), 4), "epochs": self.epochs.value()}
        return method, {"steps": self.steps.value(), "k": self.k.value()}

    def pick(self, method: str) -> bool:
        index = self.method.findData(method)
        if index >= 0:
            self.method.setCurrentIndex(index)
        return index >= 0


class MethodsTab(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        self.ctx = window.ctx
        self.models = Path(self.ctx.config.models_path)
        # The learner's own runs: their models and their points (methods.json) live in the profile.
        self.live_dir = Path(self.ctx.config.data_path) / "lab" / "methods"
        self.points: list[dict] = []
        self.newest: dict | None = None
        self.newest_run: list[dict] = []     # the points of the learner's latest run
        self.task: worker.Task | None = None
        self.running: str | None = None      # the method of the run in progress
        self._build()
        self.load_shipped()

    # ---- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        intro = QLabel(INTRO, wordWrap=True)
        self.notice = QLabel(wordWrap=True, textInteractionFlags=Qt.TextSelectableByMouse)
        self.knobs = Knobs()
        # Mnemonics avoid the tab bar's (L C R P H Q F T G B) and the menus' (F E V H).
        self.start_button = QPushButton("St&art", toolTip="Run the method now and add its point to the charts")
        self.cancel_button = QPushButton("Ca&ncel", enabled=False)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.status = QLabel(wordWrap=True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.knobs)
        side.addLayout(buttons)
        side.addWidget(self.status)
        self.near_box = QCheckBox("&Drop far points from the view", checked=True,
                                  toolTip=f"Fit the charts to the points within sqrt KL {FAR_SQRT_KL:g} of SFT; "
                                          "the far ones stay in the table")
        self.near_box.toggled.connect(self._set_near)
        self.far_note = QLabel(wordWrap=True)
        side.addWidget(self.near_box)
        side.addWidget(self.far_note)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setMinimumWidth(200)
        side_widget.setMaximumWidth(260)

        self.chart = MethodsChart()
        self.table = table(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Interactive)
        self.table.setColumnWidth(0, 150)
        self.table.setAccessibleName("Every point: its method and its rates")
        self.table.itemSelectionChanged.connect(self._show_samples)
        self.samples_title = QLabel(wordWrap=True)
        self.samples = table(SAMPLE_COLUMNS, stretch=1)
        self.samples.horizontalHeader().setSectionResizeMode(0, QHeaderView.Interactive)
        self.samples.setColumnWidth(0, 130)
        self.samples.setAccessibleName("Replies of the selected point")
        samples_box = QWidget()
        samples_layout = QVBoxLayout(samples_box)
        samples_layout.setContentsMargins(0, 0, 0, 0)
        samples_layout.addWidget(self.samples_title)
        samples_layout.addWidget(self.samples, 1)
        bottom = QSplitter(Qt.Horizontal)
        bottom.addWidget(self.table)
        bottom.addWidget(samples_box)
        bottom.setSizes([520, 420])
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.chart)
        right.addWidget(bottom)
        right.setSizes([330, 220])
        top = QHBoxLayout()
        top.addWidget(side_widget)
        top.addWidget(right, 1)
        layout = FillWindow(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(intro)
        layout.addWidget(self.notice)
        layout.addLayout(top, 1)
        self.setTabOrder(self.knobs.method, self.start_button)

    # ---- results ----------------------------------------------------------------------------
    def load_shipped(self) -> None:
        folder = self.models / "methods"
        try:
            data = M.read_results(folder)
        except M.LabError as exc:
            data = None
            self.notice.setText(f"<b>The shipped results could not be read.</b> {html.escape(_no_paths(str(exc), folder))}")
        else:
            if data is None:
                self.notice.setText(
                    f"<b>No shipped results yet</b> in the models folder “{html.escape(self.models.name)}” "
                    f"(it has no methods/methods.json). Make them with <code>{M.COMMAND}</code> (a few minutes "
                    "on the CPU), or run one method below and watch its point land.")
            else:
                ev = data.get("eval", {})
                self.notice.setText(
                    f"Shipped results: {len(data['points'])} points, each measured on the same "
                    f"{ev.get('prompts', '?')} prompts of the held-out evaluation set (one sampled reply per "
                    "prompt; best-of-n keeps the reward model's favourite of n).")
        self.points = [dict(p, source="shipped") for p in (data or {}).get("points", []) if isinstance(p, dict)]
        try:
            mine = M.read_results(self.live_dir) or {}
        except M.LabError:
            mine = {}
            self.status.setText("Your earlier points could not be read; new runs start a fresh list.")
        self.points += [dict(p, source="yours") for p in mine.get("points", []) if isinstance(p, dict)]
        self._refresh()

    def add_points(self, new: list[dict]) -> None:
        for p in new:
            self.points.append(dict(p, source="yours"))
        if new:
            self.newest = self.points[-1]
            self.newest_run = self.points[-len(new):]
            self._save_yours()
        self._refresh(select=self.newest)

    def _save_yours(self) -> None:
        yours = [{k: v for k, v in p.items() if k != "source"} for p in self.points if p.get("source") == "yours"]
        try:
            self.live_dir.mkdir(parents=True, exist_ok=True)
            M.write_results(self.live_dir, {"version": 1, "points": yours})
        except OSError as exc:
            self.window.show_status(f"Your new point is shown but could not be kept: {exc.strerror or exc}")

    def _set_near(self, near: bool) -> None:
        self.chart.set_near(near)
        self._note_far()

    def _note_far(self) -> None:
        far = self.chart.far_points()
        self.near_box.setVisible(bool(far))
        if far and self.near_box.isChecked():
            names = "; ".join(f"{html.escape(p.get('label', '?'))} at sqrt KL {p['sqrt_kl']:.1f} (gold "
                              f"{figure(p.get('gold'))}, proxy {figure(p.get('proxy'))})" for p in far)
            self.far_note.setText(f"Off the charts: {names}. Untick to see {'it' if len(far) == 1 else 'them'}.")
        else:
            self.far_note.setText("")

    def _refresh(self, select: dict | None = None) -> None:
        self.chart.set_points(self.points, self.newest, self.newest_run)
        self._note_far()
        self.table.setRowCount(len(self.points))
        for row, p in enumerate(self.points):
            label = p.get("label") or M.TITLES.get(p.get("method"), "?")
            if p.get("source") == "yours":
                label += " (yours)"
            cells = (label, figure(p.get("sqrt_kl"), "{:.2f}"), figure(p.get("gold")), figure(p.get("proxy")),
                     _pct(p.get("harmful_refusal")), _pct(p.get("harmless_refusal")), _pct(p.get("fact_accuracy")))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                else:
                    item.setForeground(pg.mkColor(STYLE.get(p.get("method"), ("#7f7f7f",))[0]))
                    item.setToolTip(_describe(p))
                self.table.setItem(row, column, item)
        if select is not None and select in self.points:
            self.table.selectRow(self.points.index(select))
        elif self.points and not self.table.selectedItems():
            self.table.selectRow(0)
        self._show_samples()

    def selected_point(self) -> dict | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.points[min(rows)] if rows else None

    def _show_samples(self) -> None:
        p = self.selected_point()
        samples = (p or {}).get("samples") or []
        title = (f"<b>Replies of {html.escape(p.get('label', ''))}</b> (sampled)" if p
                 else "<i>Select a point to read its replies.</i>")
        if p and _finite(p.get("implicit_accuracy_heldout")):
            title += ". " + self.implicit_reward_text(p)
        self.samples_title.setText(title)
        fill_replies(self.samples, samples, ("proxy", "gold"))

    def implicit_reward_text(self, p: dict) -> str:
        """A DPO point's implicit-reward accuracy beside the reward model's on the same held-out pairs."""
        rm = p.get("reward_model_accuracy_heldout")
        if not _finite(rm):
            rm = M.reward_model_accuracy(self.models / "reward")
        text = f"Its implicit reward, beta log(pi/pi_sft), ranks {p['implicit_accuracy_heldout']:.0%} of the held-out pairs right"
        return text + (f"; the reward model, {rm:.0%}." if _finite(rm) else ".")

    # ---- a live run -------------------------------------------------------------------------
    def start(self) -> None:
        if (other := worker.running("training")) is not None:
            self._say(f"{other.label} is still running. Wait for it to finish or cancel it first.")
            return
        sft, reward = self.models / "sft", self.models / "reward"
        for folder, what in ((sft, "SFT model"), (reward, "reward model")):
            if not (folder / "config.json").is_file():
                self._say(f"The {what} is not in the models folder “{self.models.name}”: train it first "
                          "(studyapp lab train) or point the app at a folder that has it.")
                return
        method, knobs = self.knobs.choice()
        out = self.live_dir
        try:
            self.task = worker.run_in_background(
                M.run_one_in_process, method, sft, reward, out, knobs,
                on_progress=self._on_progress, on_result=self._on_result, on_error=self._on_failed,
                on_cancelled=self._on_cancelled, on_finished=self._on_finished,
                label=f"{M.TITLES[method]} run", exclusive="training")
        except worker.Busy as exc:
            self._say(str(exc))
            return
        if hasattr(self.window, "track_task"):
            self.window.track_task(self.task, f"{M.TITLES[method]} run")
        self._set_running(True)
        self.running = method
        self.status.setText("Loading torch and the models… (a few seconds)")

    def cancel(self) -> None:
        if self.task is not None and not self.task.done:
            self.task.cancel()
            self.status.setText("Cancelling after the current step…")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.knobs.setEnabled(not running)

    def _on_progress(self, info) -> None:
        if not isinstance(info, dict) or "point" in info:
            return
        phase = info.get("phase", "")
        if info.get("inner_step") is not None:
            title = M.TITLES.get(phase.split('_beta')[0], phase)
            step, total = info["inner_step"], info.get("inner_total", "?")
            if info.get("done") or step == total:
                # Training is over; the policy is now measured like every other point.
                self.status.setText(f"{title}: trained ({total} steps); sampling its replies to the evaluation "
                                    "prompts and scoring them…")
            else:
                self.status.setText(f"{title}: step {step} of {total}")
        elif phase == "load":
            self.status.setText(LOAD_STATUS.get(self.running, "Loading the models…"))

    def _on_result(self, points) -> None:
        points = points if isinstance(points, list) else []
        self.add_points(points)
        if points:
            p = points[-1]
            self.status.setText(f"Done: {p['label']} landed at sqrt KL {figure(p.get('sqrt_kl'), '{:.2f}')}, "
                                f"gold {figure(p.get('gold'))}, proxy {figure(p.get('proxy'))} (ringed).")

    def _on_cancelled(self) -> None:
        self.status.setText("Cancelled; nothing was added.")

    def _on_failed(self, message: str, details: str) -> None:
        first = message.splitlines()[0] if message else "unknown error"
        # The learner sees folder names, not this machine's paths (the details keep everything).
        for folder in (self.models, self.live_dir):
            first = first.replace(str(folder), folder.name)
        self.status.setText(f"The run stopped: {first}")
        self.window.report_error("The run failed", first, details)

    def _on_finished(self) -> None:
        self._set_running(False)
        self.task = None

    def _say(self, message: str) -> None:
        self.status.setText(message)
        self.window.show_status(message)

    # ---- links ------------------------------------------------------------------------------
    def open_link(self, params: dict, fragment: str = "") -> None:
        method = params.get("method")
        if method is not None and not self.knobs.pick(method):
            self.status.setText(f"Unknown method {method!r}; the methods are: best_of_n, dpo, grpo.")


def _describe(p: dict) -> str:
    knobs = ", ".join(f"{k} = {v}" for k, v in (p.get("knobs") or {}).items())
    parts = [p.get("label", ""), f"KL: {p.get('kl_from', '')}"]
    if knobs:
        parts.append(knobs)
    if _finite(p.get("implicit_accuracy_heldout")):
        parts.append(f"its implicit reward ranks {p['implicit_accuracy_heldout']:.0%} of the held-out pairs right")
    if _finite(p.get("fact_reward_end")):
        parts.append(f"fact reward of its sampled replies at the end of training: {p['fact_reward_end']:.2f}")
    if p.get("seconds") is not None:
        parts.append(f"{p['seconds']:.0f} s on the machine that measured it")
    return "\n".join(parts)


def _no_paths(message: str, folder: Path) -> str:
    """A message with the machine's path to the models folder replaced by the folder's name."""
    return message.replace(str(folder.parent), folder.parent.name)


def create_tab(window) -> QWidget:
    return MethodsTab(window)
