"""The statistics page of the Flashcards tab: reviews per day, due forecast, retention.

The numbers are computed off the GUI thread (studyapp.srs.stats.compute_stats through
worker.run_in_background, with its own read-only connection); the plots are created once and
only get new data (setOpts / setData) on the GUI thread, as PyMeasure and pyqtgraph advise.
pyqtgraph is imported when this page is first built, not when the app starts.
"""
from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studyapp.srs.scheduling import Options
from studyapp.srs.stats import Stats, compute_stats
from studyapp.ui import worker
from studyapp.ui.wrapping import FitToWindow

COLOURS = {"new": "#3d6fd1", "learning": "#e08a1e", "review": "#3a9d5d", "forecast": "#7a5cc4",
           "measured": "#3a9d5d", "desired": "#d1495b"}


def _tile(title: str) -> tuple[QWidget, QLabel, QLabel]:
    box = QWidget(objectName="statTile")
    value = QLabel("–", styleSheet="font-size: 20pt; font-weight: 600;")
    note = QLabel(title, styleSheet="color: #8a8a8a;", wordWrap=True)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(14, 8, 14, 8)
    layout.addWidget(value)
    layout.addWidget(note)
    return box, value, note


class StatsPage(QWidget):
    ready = Signal(float)   # seconds from refresh() to the drawn plots, for the bench and tests

    def __init__(self, store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.task = None
        self.stats: Stats | None = None
        self._asked_at = 0.0
        self._again = False
        self.setStyleSheet("#statTile { background: palette(base); border: 1px solid palette(mid);"
                           " border-radius: 8px; }")
        self._build()

    # ---- layout ---------------------------------------------------------------------------
    def _plot(self, title: str, left: str, bottom: str) -> pg.PlotWidget:
        palette = self.palette()
        plot = pg.PlotWidget(background=palette.color(QPalette.Base))
        text = palette.color(QPalette.WindowText)
        plot.setTitle(title, color=text.name(), size="11pt")
        item = plot.getPlotItem()
        for axis, label in (("left", left), ("bottom", bottom)):
            item.getAxis(axis).setPen(pg.mkPen(QColor("#9a9a9a")))
            item.getAxis(axis).setTextPen(pg.mkPen(text))
            item.setLabel(axis, label, color=text.name())
        item.showGrid(y=True, alpha=0.15)
        item.setMenuEnabled(False)
        item.getViewBox().setMouseEnabled(x=False, y=False)
        plot.setMinimumHeight(160)   # two rows of plots and the tiles fit a 1366x768 screen
        return plot

    def _build(self) -> None:
        tiles = QHBoxLayout()
        self.tiles = {}
        for key, title in (("cards", "cards (new · learning · young · mature)"),
                           ("today", "reviews today"),
                           ("retention", "measured retention, last 12 weeks"),
                           ("total", "reviews in the last 30 days")):
            box, value, note = _tile(title)
            self.tiles[key] = (value, note)
            tiles.addWidget(box, 2 if key == "cards" else 1)
        self.refresh_button = QPushButton("Refresh", clicked=self.refresh)
        tiles.addWidget(self.refresh_button, 0, Qt.AlignTop)

        self.per_day = self._plot("Reviews per day (last 30 days)", "reviews", "days ago")
        self.per_day.addLegend(offset=(-8, 4), colCount=3, labelTextColor=self.palette().color(QPalette.WindowText))
        self.bars = {}
        for key, name in (("review", "review"), ("learning", "learning / relearning"), ("new", "new")):
            bars = pg.BarGraphItem(x=[0], height=[0], width=0.8, brush=COLOURS[key], pen=None, name=name)
            self.per_day.addItem(bars)   # named items join the legend by themselves
            self.bars[key] = bars
        self.forecast = self._plot("Due forecast (next 30 days)", "cards due", "days from today")
        self.forecast_bars = pg.BarGraphItem(x=[0], height=[0], width=0.8, brush=COLOURS["forecast"], pen=None)
        self.forecast.addItem(self.forecast_bars)
        self.retention = self._plot("Retention per week vs desired", "% remembered", "weeks ago")
        self.retention.setYRange(50, 100)
        self.retention_curve = self.retention.plot(
            [], [], pen=pg.mkPen(COLOURS["measured"], width=2), symbol="o", symbolSize=7,
            symbolBrush=COLOURS["measured"], symbolPen=None, connect="finite")
        self.desired_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(COLOURS["desired"], width=2, style=Qt.DashLine),
                                            label="desired {value:.0f}%",
                                            labelOpts={"color": COLOURS["desired"], "position": 0.02,
                                                       "anchors": [(0, 0), (0, 1)]})   # text starts at the left edge, whole at any width
        self.retention.addItem(self.desired_line)
        self.explain = QLabel(wordWrap=True, textFormat=Qt.RichText, alignment=Qt.AlignTop)
        self.explain.setText(
            "<p><b>Reading these plots.</b> FSRS chooses each interval so that you have the "
            "<i>desired retention</i> chance of still knowing a card when it comes back. "
            "<i>Measured retention</i> is the share of reviews of learned cards you did not rate "
            "Again; when it sits near the dashed line, the scheduler fits your memory.</p>"
            "<p>Far below the line: the cards may be too hard or worded unclearly; rewrite them. "
            "Far above: you could lower the desired retention and review less. With a few hundred "
            "reviews, <b>Options… › Optimize</b> fits the scheduler to you.</p>")
        self.status = QLabel(styleSheet="color: #8a8a8a;")

        grid = QGridLayout()
        grid.addWidget(self.per_day, 0, 0)
        grid.addWidget(self.forecast, 0, 1)
        grid.addWidget(self.retention, 1, 0)
        grid.addWidget(self.explain, 1, 1)
        layout = FitToWindow(self)   # the plots share the height there is; no scrolling at 1366x768
        layout.setContentsMargins(14, 10, 14, 8)
        layout.addLayout(tiles)
        layout.addLayout(grid, 1)
        layout.addWidget(self.status)

    # ---- data -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Compute on a worker; a refresh asked for while one runs is done right after it."""
        if self.task is not None:
            self._again = True
            return
        self._asked_at = time.perf_counter()
        self.status.setText("Computing…")
        self.task = worker.run_in_background(
            compute_stats, self.store.path, Options.load(self.store), self.store.now(),
            label="Card statistics", on_result=self.show_stats, on_error=self._failed,
            on_finished=self._finished)

    def _finished(self) -> None:
        self.task = None
        if self._again:
            self._again = False
            self.refresh()

    def _failed(self, message: str, _details: str) -> None:
        self.status.setText(f"The statistics could not be computed: {message}")

    def show_stats(self, stats: Stats) -> None:
        self.stats = stats
        counts = stats.counts
        value, note = self.tiles["cards"]
        value.setText(f"{counts.get('total', 0)}")
        note.setText(f"cards: {counts.get('new', 0)} new · {counts.get('learning', 0)} learning · "
                     f"{counts.get('young', 0)} young · {counts.get('mature', 0)} mature (21 days +)")
        self.tiles["today"][0].setText(str(stats.reviews_today))
        self.tiles["total"][0].setText(f"{stats.reviews_total:,}")
        value, note = self.tiles["retention"]
        if stats.measured_retention is None:
            value.setText("–")
            note.setText(f"measured retention: no reviews of learned cards yet "
                         f"(desired {stats.desired_retention:.0%})")
        else:
            value.setText(f"{stats.measured_retention:.1%}")
            note.setText(f"measured over {stats.measured_count} reviews, last 12 weeks "
                         f"(desired {stats.desired_retention:.0%})")

        x = [float(d) for d in stats.days]
        review, learning, new = stats.reviewed, stats.relearned, stats.learned
        self.bars["review"].setOpts(x=x, height=review, y0=[0] * len(x), width=0.8)
        self.bars["learning"].setOpts(x=x, height=learning, y0=review, width=0.8)
        self.bars["new"].setOpts(x=x, height=new, y0=[a + b for a, b in zip(review, learning)], width=0.8)
        top = max([a + b + c for a, b, c in zip(review, learning, new)] + [1])
        self.per_day.setXRange(x[0] - 0.6, 0.6, padding=0)
        self.per_day.setYRange(0, top * 1.15, padding=0)

        fx = [float(d) for d in stats.forecast_days]
        self.forecast_bars.setOpts(x=fx, height=stats.forecast, width=0.8)
        self.forecast.setXRange(-0.6, fx[-1] + 0.6, padding=0)
        self.forecast.setYRange(0, max(stats.forecast + [1]) * 1.15, padding=0)

        wx = [float(w) for w in stats.weeks]
        wy = [r * 100 if r is not None else float("nan") for r in stats.retention]
        if any(y == y for y in wy):
            self.retention_curve.setData(wx, wy)
        else:
            self.retention_curve.setData([], [])   # no learned-card reviews yet: an empty plot
        low = min([y for y in wy if y == y] + [stats.desired_retention * 100]) - 5
        self.retention.setYRange(max(0, min(50, low)), 101, padding=0)
        self.retention.setXRange(wx[0] - 0.5, 0.5, padding=0)
        self.desired_line.setValue(stats.desired_retention * 100)

        seconds = time.perf_counter() - self._asked_at if self._asked_at else 0.0
        empty = "No reviews yet: the plots fill in as you study. " if not stats.reviews_total else ""
        self.status.setText(f"{empty}All decks. Computed in {stats.elapsed_ms:.0f} ms.")
        self.ready.emit(seconds)
