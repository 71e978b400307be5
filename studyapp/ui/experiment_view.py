"""One experiment result (studyapp.lab.experiments) as the claims view shows it: its figures with
mean and range over the seeds, every "plots" entry drawn the same way (the mean as a line, the
min-max range over seeds as a band), and its verdict. It knows no experiment or figure by name.

pyqtgraph is imported when a plot is first drawn, not when the app starts.
"""
from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from studyapp.lab import claims as C

# The colours of the live training charts (ui/curves.py), so a line reads the same in every tab.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
PLOT_HEIGHT = 210
Y_AXIS_ROOM = 60    # pixels of the plot's height the y title cannot use (x axis, its title, margins)


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def _finite(values) -> list[float]:
    out = []
    for v in values or []:
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = math.nan
        out.append(x if math.isfinite(x) else math.nan)
    return out


def figures_html(experiment: C.Experiment) -> str:
    """The figures as a two-column table: name in words, then mean (range over seeds)."""
    rows = "".join(f"<tr><td>{_esc(f.label or f.name)}</td><td align='right' style='padding-left:10px'>"
                   f"<b>{_esc(f.text)}</b></td></tr>" for f in experiment.figures)
    return f"<table width='100%' cellspacing='0' cellpadding='1'>{rows}</table>"


def legend_html(plot: dict) -> str:
    """The lines' names in their colours, under the plot (a legend inside it hides the lines)."""
    return " &nbsp; ".join(f"<span style='color:{COLOURS[i % len(COLOURS)]}'>&#9632;</span>&nbsp;{_esc(line.get('label', ''))}"
                           for i, line in enumerate(plot.get("lines") or []))


def _fitting_style(text: str, room: int) -> dict:
    """{"font-size": "7.5pt"}: the largest size, down from the application's in half points (6 pt
    at least), at which `text` is at most `room` pixels wide; {} when it fits as it is."""
    font = QFont(QApplication.font())
    size = start = font.pointSizeF()
    while size > 6 and QFontMetrics(font).horizontalAdvance(text) > room:
        size -= 0.5
        font.setPointSizeF(size)
    return {} if size == start else {"font-size": f"{size:g}pt"}


def draw_plot(plot: dict) -> QWidget:
    """A pyqtgraph widget for one "plots" entry: per line the mean, and its min-max band if given."""
    import pyqtgraph as pg

    palette = QApplication.palette()
    widget = pg.PlotWidget(background=palette.color(QPalette.Base))
    text_pen = pg.mkPen(palette.color(QPalette.Text))
    widget.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
    widget.setFixedHeight(PLOT_HEIGHT)
    item = widget.getPlotItem()
    item.setMenuEnabled(False)
    item.hideButtons()
    widget.setMouseEnabled(x=False, y=False)
    log_x = bool(plot.get("log_x"))
    item.setLogMode(x=log_x, y=False)
    for side in ("bottom", "left"):
        axis = item.getAxis(side)
        axis.enableAutoSIPrefix(False)   # 0.2 stays 0.2, not 200 (x0.001)
        axis.setPen(text_pen)
        axis.setTextPen(text_pen)
    # An axis title does not wrap: what follows "; " in the x label goes under the plot (widget.note),
    # and a y title longer than the plot is tall is set smaller until it fits.
    x_label, _, widget.note = str(plot.get("x_label", "")).partition("; ")
    y_label = str(plot.get("y_label", ""))
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label, **_fitting_style(y_label, PLOT_HEIGHT - Y_AXIS_ROOM))
    widget.curves = []   # what was drawn, for tests: (label, xs, ys, band or None)
    for i, line in enumerate(plot.get("lines") or []):
        colour = pg.mkColor(COLOURS[i % len(COLOURS)])
        xs, ys = _finite(line.get("x")), _finite(line.get("y"))
        n = min(len(xs), len(ys))
        xs, ys = xs[:n], ys[:n]
        band = None
        if line.get("y_min") is not None and line.get("y_max") is not None:
            lo, hi = _finite(line["y_min"])[:n], _finite(line["y_max"])[:n]
            if len(lo) == len(hi) == n:
                band = (lo, hi)
                fill = pg.mkColor(colour)
                fill.setAlpha(50)
                low = pg.PlotDataItem(xs, lo, pen=pg.mkPen(None))
                high = pg.PlotDataItem(xs, hi, pen=pg.mkPen(None))
                item.addItem(low)
                item.addItem(high)
                item.addItem(pg.FillBetweenItem(low, high, brush=pg.mkBrush(fill)))
        item.plot(xs, ys, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6, symbolBrush=colour,
                  symbolPen=colour)
        widget.curves.append((str(line.get("label", "")), xs, ys, band))
    ticks = plot.get("x_ticks")
    if ticks:   # categories on the x axis (parts of a model), written by the experiment
        item.getAxis("bottom").setTicks([[(math.log10(x) if log_x else x, str(t)) for x, t in ticks]])
        # Room at both ends, or the first and last category names fall off the axis.
        item.setXRange(min(x for x, _ in ticks) - 0.4, max(x for x, _ in ticks) + 0.4, padding=0)
    elif log_x:   # one tick per measured x, written as the experiment's value (1e-2, not 10^-2)
        xs = sorted({x for _, cx, _, _ in widget.curves for x in cx if x > 0})
        item.getAxis("bottom").setTicks([[(math.log10(x), f"{x:g}") for x in xs]])
    return widget


FIGURES_OPEN = 12   # more figures than this start folded behind a button


class ExperimentBox(QFrame):
    """An experiment under its claim: title, figures, plots (drawn on construction), verdict."""

    def __init__(self, experiment: C.Experiment, parent=None):
        super().__init__(parent)
        self.experiment = experiment
        self.setObjectName("experimentBox")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 2)
        layout.setSpacing(3)
        seeds = ", ".join(str(s) for s in experiment.seeds)
        secs = f", {experiment.seconds:.0f} s" if experiment.seconds is not None else ""
        kind = "Control, read beside this claim (it does not decide it)" if experiment.control else "Experiment"
        head = QLabel(f"<b>{kind}: {_esc(experiment.title)}</b> <span style='color:gray'>"
                      f"(seeds {_esc(seeds)}{secs}; mean, range over seeds)</span>", wordWrap=True)
        head.setToolTip(f"models/experiments/{experiment.name}.json, made by "
                        f"`{C.HOW_TO_EXPERIMENT} {experiment.name}`")
        layout.addWidget(head)
        self.plots: list[QWidget] = []
        for plot in experiment.plots:
            title = QLabel(f"<span style='font-size:12px'>{_esc(plot.get('title', ''))}</span>", wordWrap=True)
            layout.addWidget(title)
            widget = draw_plot(plot)
            self.plots.append(widget)
            layout.addWidget(widget)
            note = f"<br><span style='color:gray'>{_esc(widget.note)}</span>" if widget.note else ""
            layout.addWidget(QLabel(f"<span style='font-size:11px'>{legend_html(plot)}{note}</span>", wordWrap=True))
        if experiment.verdict:
            verdict = QLabel(experiment.verdict, wordWrap=True, textFormat=Qt.PlainText)
            verdict.setObjectName("verdict")
            verdict.setTextInteractionFlags(Qt.TextSelectableByMouse)
            layout.addWidget(verdict)
        self.figures = QLabel(figures_html(experiment), wordWrap=True)
        self.figures.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.more = None
        n = len(experiment.figures)
        if n > FIGURES_OPEN:   # a sweep's long table (the beta sweep has 43 rows, under three claims): folded
            self.more = QToolButton(text=f"Show all {n} figures", checkable=True)
            self.more.setArrowType(Qt.RightArrow)
            self.more.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            self.more.setAutoRaise(True)

            def unfold(on: bool) -> None:
                self.figures.setVisible(on)
                self.more.setArrowType(Qt.DownArrow if on else Qt.RightArrow)
                self.more.setText(f"{'Hide' if on else 'Show all'} {n} figures")

            self.more.toggled.connect(unfold)
            layout.addWidget(self.more, 0, Qt.AlignLeft)
            self.figures.setVisible(False)
        layout.addWidget(self.figures)

    def shown_figures(self) -> list[str]:
        return [f.name for f in self.experiment.figures]
