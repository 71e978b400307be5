"""The next-token probability view of the compare tab: horizontal bars, one per candidate token.

    view = TokenDistView()
    view.show_step(model="SFT model", position=5, chosen=" Paris", dist=[(" Paris", 0.91), ...],
                   greedy=False, temperature=0.7)

The pyqtgraph plot is built on first use, not at start-up, so opening the app stays fast; its bar
and text items are created once and updated in place (the PyMeasure habit), never rebuilt.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from studyapp.ui import theme



def show_token(text: str) -> str:
    """A token as a learner can read it: spaces as '␣', line breaks as '↵', nothing as '∅'."""
    if text == "":
        return "∅"
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")


class TokenDistView(QWidget):
    """An explanation on the left, the bar chart on the right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = None            # pyqtgraph.PlotWidget, made on first use
        self._bars = None
        self._texts: list = []
        self._fg = ""               # the labels' colour, chosen with the theme when the plot is made
        self.current: dict | None = None
        self.caption = QLabel(wordWrap=True, textFormat=Qt.RichText)
        self.caption.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.caption.setMinimumWidth(260)
        self.caption.setMaximumWidth(380)
        self.caption.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Expanding)
        self.chart_box = QVBoxLayout()
        self.chart_box.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel("The bars appear here.", alignment=Qt.AlignCenter)
        self.placeholder.setStyleSheet("color: palette(placeholder-text);")
        self.chart_box.addWidget(self.placeholder)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.caption)
        layout.addLayout(self.chart_box, 1)
        self.clear()

    def clear(self) -> None:
        self.current = None
        self.caption.setText(
            "<b>What could the model have said instead?</b><br>Click any generated token in the "
            "answers above to see the tokens the model weighed at that step and how likely it "
            "found each one.")
        if self.plot is not None:
            self.plot.hide()
        self.placeholder.show()

    # ---- the chart --------------------------------------------------------------------------
    def _ensure_plot(self) -> None:
        if self.plot is not None:
            return
        import pyqtgraph as pg

        dark = theme.current() == "dark"
        fg = "#d0d0d0" if dark else "#333333"
        self.plot = pg.PlotWidget(background=self.palette().base().color())
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        item = self.plot.getPlotItem()
        item.invertY(True)   # the likeliest token on top
        item.showGrid(x=True, y=False, alpha=0.2)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setTextPen(fg)
            axis.setPen(fg)
        item.getAxis("bottom").setLabel("probability (%)", color=fg)
        item.getAxis("bottom").enableAutoSIPrefix(False)
        item.setXRange(0, 100, padding=0.02)
        self._bars = pg.BarGraphItem(x0=[0], y=[0], width=[0], height=0.7, brushes=[theme.BAR_OTHER], pens=[None])
        item.addItem(self._bars)
        self._fg = fg
        self.placeholder.hide()
        self.chart_box.addWidget(self.plot)

    def _text_item(self, i: int):
        import pyqtgraph as pg

        while len(self._texts) <= i:
            text = pg.TextItem(color=self._fg, anchor=(0, 0.5))
            self.plot.getPlotItem().addItem(text)
            self._texts.append(text)
        return self._texts[i]

    def show_step(self, *, model: str, position: int, chosen: str, dist: list[tuple[str, float]],
                  greedy: bool, temperature: float, filtered: bool = False) -> None:
        """Draw the candidates of one step; `chosen` is the token the model produced there."""
        self._ensure_plot()
        self.placeholder.hide()
        self.current = {"model": model, "position": position, "chosen": chosen, "dist": list(dist)}
        labels = [show_token(t) for t, _ in dist]
        probs = [100.0 * float(p) for _, p in dist]   # percent: easier to read than 0.004
        brushes = [theme.ACCENT if t == chosen else theme.BAR_OTHER for t, _ in dist]
        self._bars.setOpts(x0=[0] * len(probs), y=list(range(len(probs))), width=probs,
                           height=0.7, brushes=brushes, pens=[None] * len(probs))
        axis = self.plot.getPlotItem().getAxis("left")
        axis.setTicks([[(i, label) for i, label in enumerate(labels)]])
        # Room on the right of the longest bar for its label; a flat distribution still gets a
        # scale of at least 10% so its short bars look as small as they are.
        top = max(probs, default=100.0)
        right = max(10.0, min(100.0, top) * 1.18 + 1.0)
        item = self.plot.getPlotItem()
        item.setXRange(0, right, padding=0)
        item.setYRange(-0.6, max(len(probs), 1) - 0.4, padding=0)
        step = next(s for s in (1, 2, 5, 10, 20, 25) if min(right, 100) / s <= 6)
        item.getAxis("bottom").setTicks([[(v, f"{v:g}") for v in range(0, 101, step) if v <= right], []])
        for i, p in enumerate(probs):
            text = self._text_item(i)
            text.setText(f"{p:.1f}%" if p >= 0.1 else "<0.1%")
            text.setPos(p, i)
            text.show()
        for text in self._texts[len(probs):]:
            text.hide()
        self.plot.show()
        in_top = any(t == chosen for t, _ in dist)
        how = ("It always takes the likeliest token (greedy)." if greedy else
               f"It drew one at random with these odds (temperature {temperature:g})"
               + (", after top-k/top-p left out the unlikely ones." if filtered else "."))
        missing = "" if in_top else "<br>The token it drew is not among the likeliest shown here."
        self.caption.setText(
            f"<b>{model}, token {position + 1}</b>: it wrote "
            f"<span style='background:{theme.TOKEN_SELECTED['light']}; color:#000; font-family:monospace'>&nbsp;{_html(show_token(chosen))}&nbsp;</span>"
            f"<br>The bars are the {len(dist)} tokens it found likeliest at this step, each with its "
            f"probability (the accent bar is the one it wrote). {how}{missing}")


def _html(text: str) -> str:
    import html

    return html.escape(text)
