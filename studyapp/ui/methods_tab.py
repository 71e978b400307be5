"""The "Beyond PPO" tab ("methods"): best-of-n, DPO, GRPO and PPO on the same axes.

Two charts share their x-axis, sqrt(KL to the SFT model): the gold score (the rater) and the proxy
score (the reward model), one series per method, with a legend. Beside them: a table of every point
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
import math
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
    QSplitter, QStackedWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from studyapp.lab import methods as M
from studyapp.ui import worker
from studyapp.ui.widgets import figure, fill_replies, table
from studyapp.ui.wrapping import FillWindow

INTRO = ("<b>Beyond PPO.</b> Four ways to push the SFT model toward what the preferences reward, drawn on the "
         "same axes: how far the model moved from SFT (sqrt of the KL divergence) against the rater's score "
         "(gold, left) and the reward model's score (proxy, right). Best-of-n trains nothing; DPO learns "
         "from the pairs directly; GRPO learns from a checkable reward; PPO is the course's method.")

STYLE = {   # method -> (colour, symbol); Tableau colours as the PPO charts use
    "best_of_n": ("#1f77b4", "o"), "dpo": ("#2ca02c", "s"), "grpo": ("#d62728", "t"), "ppo": ("#ff7f0e", "d"),
}
COLUMNS = ("Method", "sqrt KL", "Gold", "Proxy", "Harmful\nrefused", "Harmless\nrefused", "Facts\nright")
SAMPLE_COLUMNS = ("Prompt", "Reply", "Proxy", "Gold")
# A point this far from SFT (sqrt KL; KL 16 nats, where best-of-256 is 4.5) is "far": PPO without a
# KL penalty lands at about 7, and drawn with it every other point crowds into the left quarter.
FAR_SQRT_KL = 4.0
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


class MethodsChart(QWidget):
    """Gold and proxy score against sqrt(KL), one series per method, a ring on the newest point.

    The shipped points are filled symbols (best-of-n's joined by a line); the learner's own points
    are hollow symbols of the same colour, never joined to the shipped ones: both best-of-n curves
    share their x values (the same n), so one line through both zigzagged between them. The newest
    run's best-of-n points are joined by a dashed line of their own."""

    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        # The legend sits above the charts, not inside them, where it covered points.
        self.legend = QLabel(_legend_html(), accessibleName="Legend of the charts")
        outer.addWidget(self.legend)
        layout = QHBoxLayout()
        outer.addLayout(layout, 1)
        self.plots, self.series, self.rings, self.curves = {}, {}, {}, {}
        self.near, self._points = True, []
        for key, title in (("gold", "Gold score (the rater)"), ("proxy", "Proxy score (the reward model)")):
            widget = pg.PlotWidget()
            widget.setMinimumSize(200, 160)
            plot = widget.getPlotItem()
            plot.setTitle(title)
            plot.setLabel("bottom", "sqrt(KL to SFT)")
            plot.setMenuEnabled(False)
            plot.hideButtons()
            self.plots[key] = widget
            self.series[key] = {}
            for method, (colour, symbol) in STYLE.items():
                pen = pg.mkPen(colour, width=2) if method == "best_of_n" else None
                shipped = plot.plot([], [], pen=pen, symbol=symbol, symbolSize=9, symbolBrush=colour,
                                    symbolPen=pg.mkPen(colour), name=M.TITLES[method])
                yours = plot.plot([], [], pen=None, symbol=symbol, symbolSize=10, symbolBrush=None,
                                  symbolPen=pg.mkPen(colour, width=2), name=f"{M.TITLES[method]} (yours)")
                self.series[key][method] = {"shipped": shipped, "yours": yours}
            self.curves[key] = plot.plot([], [], pen=pg.mkPen(STYLE["best_of_n"][0], width=2, style=Qt.DashLine))
            ring = pg.ScatterPlotItem(size=20, brush=None, pen=pg.mkPen("#9467bd", width=2.5))
            plot.addItem(ring)
            self.rings[key] = ring
            layout.addWidget(widget, 1)
        self.apply_palette()

    def set_points(self, points: list[dict], newest: dict | None = None, newest_run: list[dict] = ()) -> None:
        """Draw `points` (each with "source": "shipped" or "yours"), ring `newest` and join the
        best-of-n points of `newest_run` (the learner's latest run) with a dashed line."""
        def drawable(p, key):
            return _finite(p.get(key)) and _finite(p.get("sqrt_kl"))

        for key in self.plots:
            for method, items in self.series[key].items():
                for source, item in items.items():
                    mine = sorted((p for p in points if p.get("method") == method and drawable(p, key)
                                   and (p.get("source") == "yours") == (source == "yours")),
                                  key=lambda p: p["sqrt_kl"])
                    item.setData([p["sqrt_kl"] for p in mine], [p[key] for p in mine])
            curve = sorted((p for p in newest_run if p.get("method") == "best_of_n" and drawable(p, key)),
                           key=lambda p: p["sqrt_kl"])
            self.curves[key].setData([p["sqrt_kl"] for p in curve], [p[key] for p in curve])
            ring = [] if newest is None or not _finite(newest.get(key)) else [{"pos": (newest["sqrt_kl"], newest[key])}]
            self.rings[key].setData(ring)
        self._points = [p for p in points if _finite(p.get("sqrt_kl"))]
        self._fit()

    def set_near(self, near: bool) -> None:
        """Fit the view to the points near SFT (sqrt KL up to FAR_SQRT_KL), or to every point."""
        self.near = near
        self._fit()

    def far_points(self) -> list[dict]:
        return [p for p in self._points if p["sqrt_kl"] > FAR_SQRT_KL]

    def _fit(self) -> None:
        near = [p for p in self._points if p["sqrt_kl"] <= FAR_SQRT_KL]
        for key, widget in self.plots.items():
            plot = widget.getPlotItem()
            ys = [p[key] for p in near if _finite(p.get(key))]
            if self.near and self.far_points() and ys:
                # The far points stay drawn, outside the view; the table lists them.
                plot.setXRange(min(p["sqrt_kl"] for p in near), max(p["sqrt_kl"] for p in near), padding=0.08)
                plot.setYRange(min(ys), max(ys), padding=0.12)
            else:
                plot.enableAutoRange()
                plot.getViewBox().updateAutoRange()   # now, not at the next paint

    def view_range(self, key: str) -> tuple[tuple[float, float], tuple[float, float]]:
        """((x0, x1), (y0, y1)) the gold or proxy chart shows."""
        (x0, x1), (y0, y1) = self.plots[key].getPlotItem().getViewBox().viewRange()
        return (x0, x1), (y0, y1)

    def drawn(self, key: str, method: str, source: str | None = None) -> tuple[list, list]:
        """(x, y) drawn for a method on the gold or proxy chart (tests, and a reader of the code):
        the shipped points, then the learner's; or only those of `source` ("shipped" or "yours")."""
        xs, ys = [], []
        for name, item in self.series[key][method].items():
            if source in (None, name):
                x, y = item.getData()
                xs += [] if x is None else list(x)
                ys += [] if y is None else list(y)
        return xs, ys

    def dashed(self, key: str) -> tuple[list, list]:
        """(x, y) of the dashed line through the newest run's best-of-n points."""
        x, y = self.curves[key].getData()
        return ([] if x is None else list(x)), ([] if y is None else list(y))

    def apply_palette(self) -> None:
        palette = self.palette()
        for widget in self.plots.values():
            widget.setBackground(palette.color(QPalette.Base))
            plot = widget.getPlotItem()
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setTextPen(palette.color(QPalette.Text))
            plot.titleLabel.setText(plot.titleLabel.text, color=palette.color(QPalette.Text).name())

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.PaletteChange:
            self.apply_palette()


SYMBOL_TEXT = {"o": "\u25cf", "s": "\u25a0", "t": "\u25bc", "d": "\u25c6"}


def _legend_html() -> str:
    entries = [f'<span style="color:{colour}">{SYMBOL_TEXT[symbol]}</span>&nbsp;{M.TITLES[method]}'
               for method, (colour, symbol) in STYLE.items()]
    entries.append("hollow:&nbsp;your runs")
    entries.append('<span style="color:#9467bd">\u25ef</span>&nbsp;the newest point')
    return "&nbsp;&nbsp;&nbsp;".join(entries)


def legend_entries() -> list[str]:
    """The method names the legend shows, in order."""
    return [M.TITLES[m] for m in STYLE]


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


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
