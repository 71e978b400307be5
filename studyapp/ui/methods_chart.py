"""The Beyond PPO tab's charts (studyapp/ui/methods_tab.py): the gold score (the rater) and the proxy
score (the reward model) against sqrt(KL to the SFT model), one series per method and source, with
a legend above them. Split from the tab by feature, as cards_* are."""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studyapp.lab import methods as M

STYLE = {   # method -> (colour, symbol); Tableau colours as the PPO charts use
    "best_of_n": ("#1f77b4", "o"), "dpo": ("#2ca02c", "s"), "grpo": ("#d62728", "t"), "ppo": ("#ff7f0e", "d"),
}

# A point this far from SFT (sqrt KL; KL 16 nats, where best-of-256 is 4.5) is "far": PPO without a
# KL penalty lands at about 7, and drawn with it every other point crowds into the left quarter.
FAR_SQRT_KL = 4.0


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

