"""The PPO tab's over-optimisation view: the beta sweep's proxy and gold scores against sqrt(KL to the
SFT model), Gao et al. 2022's curve, from the shipped models/experiments/beta_sweep.json (made by
`studyapp lab experiments beta_sweep`, studyapp.lab.experiments.ppo_claims).

One point per beta (mean over PPO seeds) plus the SFT model itself at the origin, each labelled;
a shaded band spans the seeds' range of each score and a horizontal bar the range of sqrt(KL). Below
the chart: what each beta = 0 seed did and the experiment's verdict. pyqtgraph is imported the first
time the chart is drawn (when the view is first shown), not when the tab is built.
"""
from __future__ import annotations

import html
import json
import math
from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

RESULT = Path("experiments") / "beta_sweep.json"
COMMAND = "studyapp lab experiments beta_sweep"
COLOURS = {"proxy": "#1f77b4", "gold": "#ff7f0e"}
NAMES = {"proxy": "proxy: the reward model's score", "gold": "gold: the rater's score"}


def load_sweep(models: Path) -> tuple[dict | None, str]:
    """(the sweep's result, "") or (None, a sentence saying why there is none)."""
    path = Path(models) / RESULT
    if not path.is_file():
        return None, (f"No beta sweep in {path.parent}: the over-optimisation curve is drawn from the sweep's "
                      f"results. Make them with `{COMMAND}` (tens of minutes on the CPU).")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        by_beta, sft = data["series"]["by_beta"], data["series"]["sft"]
        if not by_beta or any(not _finite(r[k]["mean"]) for r in by_beta for k in ("sqrt_kl", "proxy", "gold")):
            raise ValueError("a beta without its measured scores")
        if not all(_finite(sft.get(k)) for k in ("sqrt_kl", "proxy", "gold")):
            raise ValueError("no SFT point")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"{path} could not be read as a beta sweep ({exc}). Remake it with `{COMMAND}`."
    return data, ""


def curve_points(data: dict) -> list[dict]:
    """The points drawn, in order (SFT, then beta from largest to 0): label, x and its range, and
    each score's mean and range over seeds."""
    sft = data["series"]["sft"]
    points = [{"label": "SFT", "x": sft["sqrt_kl"], "x_min": sft["sqrt_kl"], "x_max": sft["sqrt_kl"],
               **{k: sft[k] for k in COLOURS}, **{f"{k}_min": sft[k] for k in COLOURS},
               **{f"{k}_max": sft[k] for k in COLOURS}}]
    for row in sorted(data["series"]["by_beta"], key=lambda r: -r["beta"]):
        point = {"label": f"β {row['beta']:g}", "x": row["sqrt_kl"]["mean"], "x_min": row["sqrt_kl"]["min"],
                 "x_max": row["sqrt_kl"]["max"]}
        for key in COLOURS:
            point.update({key: row[key]["mean"], f"{key}_min": row[key]["min"], f"{key}_max": row[key]["max"]})
        points.append(point)
    return points


class OverOptView(QWidget):
    """The over-optimisation curve of the shipped beta sweep, or a note saying why it is missing."""

    def __init__(self, models: Path, parent=None):
        super().__init__(parent)
        self.models = Path(models)
        self.data, self.problem = load_sweep(self.models)
        self.points = curve_points(self.data) if self.data else []
        self.plot_widget = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.title = QLabel(wordWrap=True)
        self.legend = QLabel(wordWrap=True, textFormat=Qt.RichText)
        self.note = QLabel(wordWrap=True, textFormat=Qt.RichText)
        self.note.setTextInteractionFlags(Qt.TextSelectableByMouse)
        font = self.note.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.note.setFont(font)
        layout.addWidget(self.title)
        layout.addWidget(self.legend)
        self.chart_holder = QVBoxLayout()
        layout.addLayout(self.chart_holder, 1)
        layout.addWidget(self.note)
        if self.data is None:
            self.title.setText("<b>Over-optimisation: not measured yet</b>")
            self.note.setText(html.escape(self.problem))
            layout.addStretch(1)
        else:
            self._fill_texts()

    def _fill_texts(self) -> None:
        series = self.data["series"]
        counts = [sum(v is not None for v in r["gold"]["per_seed"]) for r in series["by_beta"]]
        seeds = f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"
        self.title.setText(
            f"<b>Over-optimisation, measured:</b> PPO at {len(series['by_beta'])} values of beta, {seeds} seeds "
            f"each ({series.get('steps', '?')} steps, shipped SFT and reward models). Gao et al. 2022: as KL grows the "
            "proxy score rises while the true (gold) score rises, peaks and falls. Scores are means over held-out prompts; dotted: SFT's gold score.")
        swatch = lambda key: f"<span style='color:{COLOURS[key]}; font-size:16px'>&#9644;</span>"  # noqa: E731
        self.legend.setText("&nbsp;&nbsp; ".join(f"{swatch(k)}&nbsp;{NAMES[k]}" for k in COLOURS)
                            + "&nbsp;&nbsp; <i>line: mean over seeds · band and bars: range over seeds</i>")
        runs = series.get("beta0_runs", [])
        did = "; ".join(f"seed {r['seed']}: {r['kind']} (stock phrase {r['stock_phrase']:.0%}, "
                        f"same opening {r['same_opening']:.0%})" for r in runs)
        parts = [f"<b>beta = 0:</b> {html.escape(did)}." if did else "",
                 html.escape(self.data.get("verdict", ""))]
        self.note.setText(" ".join(p for p in parts if p))

    def resizeEvent(self, event) -> None:
        # As in curves.CurveChart: the wrapped texts ask for the lines they need at this width, so
        # a narrow window (1366x768 at 150%) makes the tab scroll instead of squeezing the note
        # under the chart (its first line was drawn beneath the plot).
        super().resizeEvent(event)
        margins = self.layout().contentsMargins()
        width = self.contentsRect().width() - margins.left() - margins.right()
        for label in (self.title, self.legend, self.note):
            old = label.minimumHeight()
            label.setMinimumHeight(0)   # heightForWidth never answers less than the minimum
            needed = label.heightForWidth(width)
            label.setMinimumHeight(needed if needed > 0 else old)

    # ---- drawing ----------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.data is not None and self.plot_widget is None:
            self.draw()

    def draw(self) -> None:
        """Make the chart (imports pyqtgraph); a second call does nothing."""
        if self.data is None or self.plot_widget is not None:
            return
        import pyqtgraph as pg

        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumHeight(160)
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLabel("bottom", "sqrt(KL to the SFT model), nats^½")
        # Short: the chart is about 160 px tall at 150% scaling and a longer label was cut off.
        plot.setLabel("left", "held-out score")
        xs = [p["x"] for p in self.points]
        self.items = {}
        for key, colour in COLOURS.items():
            clear = pg.mkPen((0, 0, 0, 0))
            lo = pg.PlotCurveItem(xs, [p[f"{key}_min"] for p in self.points], pen=clear)
            hi = pg.PlotCurveItem(xs, [p[f"{key}_max"] for p in self.points], pen=clear)
            shade = QColor(colour)
            shade.setAlpha(60)
            for edge in (lo, hi):   # FillBetweenItem fills between curves that are in the plot
                plot.addItem(edge)
            band = pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(shade))
            plot.addItem(band)
            bars = pg.ErrorBarItem(x=_array(xs), y=_array([p[key] for p in self.points]),
                                   left=_array([p["x"] - p["x_min"] for p in self.points]),
                                   right=_array([p["x_max"] - p["x"] for p in self.points]),
                                   beam=0.05, pen=pg.mkPen(colour, width=1))
            plot.addItem(bars)
            line = plot.plot(xs, [p[key] for p in self.points], pen=pg.mkPen(colour, width=2), symbol="o",
                             symbolSize=8, symbolBrush=colour, symbolPen=pg.mkPen(colour))
            self.items[key] = line
        self.labels = []
        span = (max(xs) - min(xs)) or 1.0
        last_above = None
        for p in self.points:   # each point named once, above its higher score or, when the previous
            # label sits close by above, below its lower score
            below = last_above is not None and abs(p["x"] - last_above) < 0.06 * span
            text = pg.TextItem(p["label"], anchor=(0.5, -0.2) if below else (0.5, 1.2))
            text.setPos(p["x"], min(p["proxy"], p["gold"]) if below else max(p["proxy"], p["gold"]))
            plot.addItem(text)
            self.labels.append(text)
            last_above = None if below else p["x"]
        # Room above the highest point for its label, and beside the outermost range bars.
        ys = [p[f"{k}_{end}"] for p in self.points for k in COLOURS for end in ("min", "max")]
        low, high = min(ys), max(ys)
        plot.setYRange(low, high + 0.15 * ((high - low) or 1.0), padding=0.04)
        plot.setXRange(min(p["x_min"] for p in self.points), max(p["x_max"] for p in self.points), padding=0.05)
        plot.addItem(pg.InfiniteLine(self.points[0]["gold"], angle=0,
                                     pen=pg.mkPen((128, 128, 128, 140), style=Qt.DotLine)))
        self.chart_holder.addWidget(self.plot_widget, 1)
        self.apply_palette()

    def drawn(self, key: str) -> tuple[list, list]:
        """(x, y) of the proxy or gold line as drawn (tests)."""
        x, y = self.items[key].getData()
        return list(x), list(y)

    def apply_palette(self) -> None:
        if self.plot_widget is None:
            return
        palette = self.palette()
        self.plot_widget.setBackground(palette.color(QPalette.Base))
        plot = self.plot_widget.getPlotItem()
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen(palette.color(QPalette.Text))
            plot.getAxis(axis).setPen(palette.color(QPalette.Text))
        for text in self.labels:
            text.setColor(palette.color(QPalette.Text))

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.PaletteChange:
            self.apply_palette()


def _array(values):
    import numpy as np

    return np.asarray(values, dtype=float)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
