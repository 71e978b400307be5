"""The claims view ("claims"): the course's 14 claims, each with what the lab measured on its own
models, a line on what they show, and a "Show me" button that opens the tab that shows it.

A claim with an experiment (models/experiments/*.json, `studyapp lab experiments`) shows each such
result as ui/experiment_view draws it: figures with mean and range over seeds, plots, the verdict;
a claim without one shows the report's figures (models/report.json). The claims, their figures and
the honest verdicts live in studyapp.lab.claims (no Qt); this tab only lays them out as cards.
Without a report each card says so and the header says how to make it.
Link: studyapp://claims?claim=N scrolls to claim N.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget,
)

from studyapp.lab import claims as C
from studyapp.ui.experiment_view import ExperimentBox
from studyapp.ui.wrapping import FitToWindow


def _esc(text: str) -> str:
    return html.escape(text, quote=False)   # apostrophes stay apostrophes in a QLabel


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
E_NOTATION = re.compile(r"(\d(?:\.\d+)?)e([+-]?)0*(\d+)")
MODEL_SAID = re.compile(r"^(?P<who>[^'\n]*?) on '(?P<prompt>.*?)': '(?P<reply>.*)'$", re.S)


def figure_text(text: str) -> str:
    """1.19e-07 as 1.19 × 10⁻⁷: a learner reads powers of ten, not Python's float format."""
    return E_NOTATION.sub(lambda m: f"{m[1]} × 10{(m[2].replace('+', '') + m[3]).translate(SUPERSCRIPT)}", text)


def note_text(note: str) -> str:
    """The lab writes a model's output as Python literals ('\\nWhat is ...'); show it in quotes, with
    its line breaks as ⏎."""
    note = note.replace("\\n", " ⏎ ")
    said = MODEL_SAID.match(note)
    if said:
        reply = said["reply"].strip()
        cut = "" if reply.endswith((".", "?", "!")) else "…"   # stopped at the lab's token limit
        note = f"{said['who']}, given “{said['prompt']}”, wrote: “{reply}{cut}”"
    return note


# Status chip: text and colour. Green only where the measured figures pass the claim's own test.
STATUS = {
    "experiment": ("measured: experiment over seeds", "#1f5fa8"),
    "experiment shown": ("experiment over seeds: shown", "#2e7d32"),
    "experiment not shown": ("experiment over seeds: the tiny model disagrees", "#b26a00"),
    "shown": ("measured: shown", "#2e7d32"),
    "not shown": ("measured: not shown clearly", "#b26a00"),
    "measured": ("measured", "#1f5fa8"),
    "not measured": ("not measured", "#7a7a7a"),
    "no report": ("no report yet", "#7a7a7a"),
}


class ClaimCard(QFrame):
    def __init__(self, result: C.ClaimResult, open_link, parent=None):
        super().__init__(parent)
        self.claim = result.claim
        self.setObjectName("claimCard")
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        key = result.status
        if key == "experiment" and result.shown is not None:   # the experiment's own rule (experiments.shown)
            key = "experiment shown" if result.shown else "experiment not shown"
        text, colour = STATUS[key]
        head = QLabel(f"<span style='font-size:15px; font-weight:600'>{self.claim.number}. "
                      f"{_esc(self.claim.title)}</span>", wordWrap=True)
        chip = QLabel(f"<span style='color:white; background:{colour}; padding:1px 6px'>&nbsp;{text}&nbsp;</span>")
        self.status_text = text
        chip.setAlignment(Qt.AlignRight | Qt.AlignTop)
        top = QHBoxLayout()
        top.addWidget(head, 1)
        top.addWidget(chip, 0, Qt.AlignTop)
        layout.addLayout(top)
        layout.addWidget(QLabel(f"<i>What this shows:</i> {_esc(self.claim.shows)}", wordWrap=True))
        self.experiments = [ExperimentBox(e) for e in result.experiments]
        for box in self.experiments:
            if not box.experiment.control:
                layout.addWidget(box)
        if result.figures:
            grid = QGridLayout()
            grid.setHorizontalSpacing(12)
            grid.setVerticalSpacing(1)
            row = 0
            for figure in result.figures:
                label = QLabel(figure.label, wordWrap=True, textFormat=Qt.PlainText)
                label.setToolTip(f"from the report: {figure.source}")
                value = QLabel(f"<b>{_esc(figure_text(figure.text))}</b>")
                value.setTextInteractionFlags(Qt.TextSelectableByMouse)
                value.setToolTip(f"from the report: {figure.source}")
                grid.addWidget(label, row, 0)
                if len(figure.text) > 28:   # a per-layer list and the like: its own wrapped line
                    value.setWordWrap(True)
                    row += 1
                    grid.addWidget(value, row, 0, 1, 2)
                else:
                    grid.addWidget(value, row, 1, Qt.AlignRight)
                row += 1
            grid.setColumnStretch(0, 1)
            layout.addLayout(grid)
        if result.note and result.status != "experiment":   # an experiment's note only counts them
            note = QLabel(note_text(result.note), wordWrap=True, textFormat=Qt.PlainText)
            note.setObjectName("note")
            layout.addWidget(note)
        for box in self.experiments:   # controls after the claim's own figures: they inform, not decide
            if box.experiment.control:
                layout.addWidget(box)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.button = QPushButton(f"Show me: {self.claim.link_text} →")
        self.button.setToolTip(self.claim.link)
        self.button.clicked.connect(lambda: open_link(self.claim.link))
        bottom.addWidget(self.button)
        layout.addLayout(bottom)
        self.set_highlighted(False)

    def set_highlighted(self, on: bool) -> None:
        palette = self.palette()
        border = palette.color(QPalette.Highlight).name() if on else palette.color(QPalette.Mid).name()
        muted = palette.color(QPalette.PlaceholderText).name()
        self.setStyleSheet(f"QFrame#claimCard {{ border: {2 if on else 1}px solid {border}; border-radius: 6px;"
                           f" background: {palette.color(QPalette.Base).name()}; }}"
                           f" QLabel#note {{ color: {muted}; }}")


class ClaimsTab(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        self.report_path = Path(window.ctx.config.models_path) / C.REPORT_NAME
        self.experiments_path = Path(window.ctx.config.models_path) / C.EXPERIMENTS_DIR
        self.cards: dict[int, ClaimCard] = {}
        self.results: list[C.ClaimResult] = []
        layout = FitToWindow(self)   # the cards scroll in self.scroll; the tab itself does not
        layout.setContentsMargins(10, 8, 10, 8)
        head = QHBoxLayout()
        self.header = QLabel(wordWrap=True)
        self.header.setTextInteractionFlags(Qt.TextSelectableByMouse)
        reload_button = QPushButton("Reload", toolTip="Read models/report.json and models/experiments again, "
                                                      "e.g. after `studyapp lab report` or `studyapp lab experiments`")
        reload_button.clicked.connect(self.reload)
        head.addWidget(self.header, 1)
        head.addWidget(reload_button, 0, Qt.AlignTop)
        layout.addLayout(head)
        self.scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
        layout.addWidget(self.scroll, 1)
        self.reload()

    def reload(self) -> None:
        report, problem = C.load_report(self.report_path)
        experiments, self.problems = C.load_experiments(self.experiments_path)
        self.results = C.evaluate(report, problem, experiments)
        shown = sum(r.status == "shown" for r in self.results)
        by_experiment = sum(r.status == "experiment" for r in self.results)
        disagree = sum(r.status == "experiment" and r.shown is False for r in self.results)
        measured = sum(r.status in ("experiment", "shown", "not shown", "measured") for r in self.results)
        intro = ("<b>The course's claims, measured on the app's own tiny models.</b> Where an experiment was run "
                 "(SFT or PPO retrained over several seeds), its figures give the mean and, in brackets, the range "
                 "over seeds, and its plots draw the range as a band; other claims show the lab's report of the "
                 "shipped models. A claim the small model does not show is marked so, not hidden.")
        if self.problems:
            intro += "<br><span style='color:#b26a00'>" + " ".join(_esc(p) for p in self.problems) + "</span>"
        if report is None:
            self.header.setText(f"{intro}<br><span style='color:#b26a00'><b>No figures yet.</b> "
                                f"{_esc(problem)}</span>")
        else:
            when = report.get("created") or report.get("created_at") or ""
            self.header.setText(f"{intro}<br>Report: the lab's {_esc(self.report_path.name)}"
                                f"{' (' + _esc(str(when)) + ')' if when else ''} · measured {measured} of "
                                f"{len(self.results)} claims: {by_experiment} by experiments over seeds"
                                + (f" (the tiny model disagrees with {disagree} of them)" if disagree else "")
                                + f", {shown} more shown clearly by the report.")
        body = QWidget()
        grid = QGridLayout(body)
        grid.setSpacing(8)
        self.cards = {}
        for index, result in enumerate(self.results):
            card = ClaimCard(result, self.window.open_link)
            self.cards[result.claim.number] = card
            grid.addWidget(card, index // 2, index % 2, Qt.AlignTop)
        grid.setRowStretch(grid.rowCount(), 1)
        self.scroll.setWidget(body)

    def result_of(self, number: int) -> C.ClaimResult | None:
        return next((r for r in self.results if r.claim.number == number), None)

    def open_link(self, params: dict, fragment: str = "") -> None:
        text = params.get("claim", "")
        if not text.isdigit() or int(text) not in self.cards:
            self.window.show_status(f"There is no claim {text!r}; the claims are numbered 1 to {len(self.cards)}.")
            return
        number = int(text)
        for n, card in self.cards.items():
            card.set_highlighted(n == number)
        card = self.cards[number]
        # After the tab is shown and laid out, or the scroll position is computed on stale sizes.
        QTimer.singleShot(0, lambda: self._scroll_to(card))

    def _scroll_to(self, card: ClaimCard) -> None:
        """The card's top at the top of the view: a card with plots is taller than the window, and
        showing its middle would hide the claim it is about."""
        top = card.mapTo(self.scroll.widget(), card.rect().topLeft()).y()
        self.scroll.verticalScrollBar().setValue(max(0, top - 8))


def create_tab(window) -> QWidget:
    return ClaimsTab(window)
