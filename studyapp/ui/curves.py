"""A grid of live training charts (pyqtgraph) for several runs at once, one colour per run.

The data lives in studyapp.lab.runs.Run objects; this widget only draws them. A QTimer redraws a
few times a second, and only the runs whose `version` moved (or all of them when the smoothing or
the x-axis changed), with setData() on plot items created once per run: the training thread never
touches a plot item, it only appends to the Run through a queued signal on the GUI thread.
Each run is drawn twice, the raw series faint and the smoothed one solid, as TensorBoard does.
"""
from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from studyapp.lab.runs import METRICS, RATER_KEY, Run


# Distinct colours that read on light and dark backgrounds (Tableau 10, reordered so the first two
# runs, default beta and beta = 0, are blue and orange).
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#7f7f7f")
REDRAW_MS = 100
CHARTS_PER_TICK = 2   # a full round of 8 charts every 0.4 s


class Chart(QFrame):
    """One metric: a title, the plot, and a one-line caption saying what to look for."""

    def __init__(self, metric, parent=None):
        super().__init__(parent)
        self.spec = metric
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(1)
        self.title = QLabel(f"<b>{metric.title}</b>", wordWrap=True)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumHeight(110)
        self.plot = self.plot_widget.getPlotItem()
        # Long runs stay fast: draw only what is on screen, at most a point per pixel column.
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setClipToView(True)
        # No grid: pyqtgraph draws it through the axes, and it was ~60% of each repaint (profiled),
        # which is what made the window stutter while a run trains. A reference line where one
        # means something (ratio = 1) is cheap and says more.
        if metric.key == "val/ratio":
            self.plot.addItem(pg.InfiniteLine(1.0, angle=0, pen=pg.mkPen((128, 128, 128, 120), style=Qt.DotLine)))
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.empty = pg.TextItem("", anchor=(0.5, 0.5))
        self.empty.setParentItem(self.plot.getViewBox())
        self.caption = QLabel(metric.caption, wordWrap=True)
        self.caption.setObjectName("caption")
        font = self.caption.font()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        self.caption.setFont(font)
        layout.addWidget(self.title)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.caption)

    def resizeEvent(self, event) -> None:
        # The word-wrapped title and caption ask for the lines they need at this width, so a
        # narrow window (1366x768 at 150% scaling) makes the tab scroll instead of drawing the
        # captions over the plots: the tab's layout does not pass height-for-width up (_FillLayout).
        super().resizeEvent(event)
        margins = self.layout().contentsMargins()
        width = self.contentsRect().width() - margins.left() - margins.right()
        for label in (self.title, self.caption):
            # QLabel.heightForWidth never answers less than the label's minimum height: without the
            # reset, a minimum set while the window was still narrow (at start) stayed for good and
            # pushed the replies table off a 1366x768 screen.
            old = label.minimumHeight()
            label.setMinimumHeight(0)
            needed = label.heightForWidth(width)
            label.setMinimumHeight(needed if needed > 0 else old)

    def set_empty_text(self, text: str) -> None:
        self.empty.setText(text)
        rect = self.plot.getViewBox().boundingRect()
        self.empty.setPos(rect.center())


class Legend(QLabel):
    """The runs on show, each with its colour, plus the key to the line styles. Part of the PNG.

    One word-wrapped rich-text label, so many runs flow onto a second line instead of overlapping."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.RichText)
        self.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        # A fixed two-line height: a legend that grew when a run was added would re-lay out and
        # repaint all eight charts at once (a visible stall at Start).
        self.setFixedHeight(2 * self.fontMetrics().lineSpacing() + 6)
        self.entries: list[tuple[str, str]] = []

    def set_runs(self, entries: list[tuple[str, str]], x_label: str) -> None:
        self.entries = entries
        runs = "&nbsp;&nbsp; ".join(
            f"<span style='color:{colour}; font-size:16px'>&#9644;</span>&nbsp;{html.escape(name, quote=False)}"
            for name, colour in entries) or "<i>No run selected: tick a run in the list on the left.</i>"
        muted = self.palette().color(QPalette.PlaceholderText).name()
        self.setText(f"{runs}&nbsp;&nbsp;&nbsp; <span style='color:{muted}'>solid: smoothed · faint: raw · "
                     f"dashed: the rater's true score · x: {x_label}</span>")


class CurveGrid(QWidget):
    """Charts for every metric of METRICS, each showing all visible runs."""

    redrawn = Signal()

    def __init__(self, parent=None, columns: int = 4):
        super().__init__(parent)
        pg.setConfigOptions(antialias=True)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        self.legend = Legend()
        outer.addWidget(self.legend)
        grid = QGridLayout()
        grid.setSpacing(2)
        outer.addLayout(grid, 1)
        self.charts = [Chart(m) for m in METRICS]
        for index, chart in enumerate(self.charts):
            grid.addWidget(chart, index // columns, index % columns)
        self.runs: list[Run] = []
        self.colours: dict[int, str] = {}
        self.visible: dict[int, bool] = {}
        self._items: dict[int, list[tuple[str, Chart, pg.PlotDataItem, pg.PlotDataItem]]] = {}
        self._drawn: dict[tuple[int, int], tuple] = {}   # (run, chart) -> what it shows
        self._cursor = 0
        self.smoothing = 0.6
        self.x_axis = "step"
        self.apply_palette()
        self._update_axes()
        self.timer = QTimer(self, interval=REDRAW_MS, timeout=lambda: self.redraw(CHARTS_PER_TICK))
        self.timer.start()

    # ---- runs -----------------------------------------------------------------------------
    def add_run(self, run: Run, colour: str | None = None, visible: bool = True) -> str:
        key = id(run)
        if key in self._items:
            return self.colours[key]
        used = set(self.colours.values())
        colour = colour or next((c for c in COLOURS if c not in used), COLOURS[len(self.runs) % len(COLOURS)])
        self.runs.append(run)
        self.colours[key] = colour
        self.visible[key] = visible
        # Plot items are made chart by chart in _redraw_chart, on the timer: making all 18 at once
        # took ~140 ms (each PlotDataItem builds a scatter item too), a visible hitch at Start.
        self._items[key] = []
        self._forget(run)
        self._refresh_legend()
        return colour

    def remove_run(self, run: Run) -> None:
        key = id(run)
        for _metric, chart, raw, smooth in self._items.get(key, []):
            chart.plot.removeItem(raw)
            chart.plot.removeItem(smooth)
        self._items.pop(key, None)
        self._forget(run)
        self.colours.pop(key, None)
        self.visible.pop(key, None)
        self.runs = [r for r in self.runs if r is not run]
        self._refresh_legend()
        self.redraw()

    def _forget(self, run: Run) -> None:
        for index in range(len(self.charts)):
            self._drawn.pop((id(run), index), None)

    def set_visible(self, run: Run, visible: bool) -> None:
        self.visible[id(run)] = visible
        for _metric, _chart, raw, smooth in self._items.get(id(run), []):
            raw.setVisible(visible)
            smooth.setVisible(visible)
        self._refresh_legend()
        self._update_empty_texts()

    def visible_runs(self) -> list[Run]:
        return [r for r in self.runs if self.visible.get(id(r))]

    # ---- view settings --------------------------------------------------------------------
    def set_smoothing(self, weight: float) -> None:
        self.smoothing = weight
        self._drawn.clear()

    def set_x_axis(self, mode: str) -> None:
        self.x_axis = mode
        self._drawn.clear()
        self._update_axes()
        self._refresh_legend()

    def x_label(self) -> str:
        return "seconds of training" if self.x_axis == "time" else "PPO step"

    def _update_axes(self) -> None:
        for index, chart in enumerate(self.charts):
            if index >= len(self.charts) - 4:   # the bottom row carries the x label for all
                chart.plot.setLabel("bottom", self.x_label())

    def apply_palette(self) -> None:
        """Plot background and text follow the window's theme (light or dark)."""
        palette = self.palette()
        background = palette.color(QPalette.Base)
        text = palette.color(QPalette.Text)
        muted = palette.color(QPalette.PlaceholderText).name()
        for chart in self.charts:
            chart.plot_widget.setBackground(background)
            for axis in ("left", "bottom"):
                chart.plot.getAxis(axis).setPen(pg.mkPen(text))
                chart.plot.getAxis(axis).setTextPen(pg.mkPen(text))
            chart.caption.setStyleSheet(f"color: {muted}")
            chart.empty.setColor(muted)

    # ---- drawing (GUI thread, from the timer) ---------------------------------------------
    def redraw(self, limit: int | None = None) -> None:
        """Bring stale charts up to date; `limit` charts at most (the timer), all when None.

        The timer updates CHARTS_PER_TICK charts per tick, round robin: Qt then repaints only those,
        so a new training step costs a few short paints instead of one long one that freezes the
        window (8 charts at once took 75-270 ms on a busy 2-core machine; two take ~20 ms)."""
        charts = list(range(len(self.charts)))
        order = charts[self._cursor:] + charts[:self._cursor]
        updated = 0
        for index in order:
            if limit is not None and updated >= limit:
                break
            if self._redraw_chart(index):
                updated += 1
                self._cursor = (index + 1) % len(self.charts)
        if updated:
            self._update_empty_texts()
            self.redrawn.emit()

    def _chart_items(self, run: Run, chart: Chart) -> list[tuple[str, Chart, pg.PlotDataItem, pg.PlotDataItem]]:
        """The run's plot items in one chart, made the first time they are needed."""
        items = self._items[id(run)]
        mine = [entry for entry in items if entry[1] is chart]
        if mine:
            return mine
        colour = self.colours[id(run)]
        for metric_key, style in ((chart.spec.key, Qt.SolidLine),) + (
                ((RATER_KEY, Qt.DashLine),) if chart.spec.key == "objective/scores" else ()):
            faint = QColor(colour)
            faint.setAlpha(60)
            # connect="finite": a NaN leaves a gap instead of breaking or hiding the line.
            raw = chart.plot.plot([], [], pen=pg.mkPen(faint, width=1, style=style), connect="finite")
            smooth = chart.plot.plot([], [], pen=pg.mkPen(colour, width=2, style=style), connect="finite")
            mine.append((metric_key, chart, raw, smooth))
        items.extend(mine)
        return mine

    def _redraw_chart(self, index: int) -> bool:
        chart, changed = self.charts[index], False
        for run in self.runs:
            key = (id(run), index)
            state = (run.version, self.smoothing, self.x_axis)
            if self._drawn.get(key) == state or not self.visible.get(id(run)):
                continue   # a hidden run is brought up to date when it is shown again
            for metric_key, _chart, raw, smooth in self._chart_items(run, chart):
                x, y = run.series(metric_key, self.x_axis, 0.0)
                if self.smoothing > 0:
                    raw.setData(x, y)
                    smooth.setData(*run.series(metric_key, self.x_axis, self.smoothing))
                else:
                    raw.setData([], [])
                    smooth.setData(x, y)
            self._drawn[key] = state
            changed = True
        return changed

    def _update_empty_texts(self) -> None:
        shown = self.visible_runs()
        for chart in self.charts:
            if not shown:
                text = "no run selected"
            elif not any(r.has(chart.spec.key) for r in shown):
                text = "waiting for the first step" if any(r.status == "running" for r in shown) else "not measured in these runs"
            else:
                text = ""
            chart.set_empty_text(text)

    def _refresh_legend(self) -> None:
        self.legend.set_runs([(r.name, self.colours[id(r)]) for r in self.visible_runs()], self.x_label())

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.PaletteChange:   # the learner switched between light and dark
            self.apply_palette()
            self._refresh_legend()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self._update_empty_texts)   # keep the "no data" notes centred

    def save_png(self, path: str) -> bool:
        """The charts with their legend and captions, as on screen."""
        self.redraw()
        return self.grab().save(str(path), "PNG")
