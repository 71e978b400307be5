"""Small widget and text helpers the tabs share (one place, one look): the RLHF, playground and
HHH pages' labels and pickers, and the read-only tables of figures and sampled replies that the
PPO and Beyond PPO tabs show."""
from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFrame, QHeaderView, QLabel, QPushButton, QScrollArea, QTableWidget,
    QTableWidgetItem, QWidget,
)

from studyapp.lab.ranking import course_prompts
from studyapp.lab.runs import to_float
from studyapp.ui import theme

SILENT = "(says nothing)"   # an empty answer, shown so rather than as a bare number or “”


def heading(text: str) -> QLabel:
    label = QLabel(f"<span style='font-size:14pt; font-weight:600'>{html.escape(text)}</span>")
    label.setContentsMargins(0, 6, 0, 2)
    return label


def note(text: str) -> QLabel:
    """Selectable rich text that wraps."""
    label = QLabel(text, wordWrap=True, textFormat=Qt.RichText)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


def banner(text: str, padding: int = 8) -> QLabel:
    """A warning across a tab (a model is missing, with the command that fixes it); hidden when
    `text` is empty."""
    label = QLabel(text, wordWrap=True, textFormat=Qt.RichText)
    label.setStyleSheet(f"{theme.BANNER} padding:{padding}px;")
    label.setVisible(bool(text))
    return label


def wrapped(label: QLabel) -> QLabel:
    label.setWordWrap(True)
    return label


def button(text: str, slot=None, **props) -> QPushButton:
    """A push button wired to `slot` (the tabs build many)."""
    b = QPushButton(text, **props)
    if slot is not None:
        b.clicked.connect(slot)
    return b


def prompt_picker(world, text: str) -> QComboBox:
    """An editable box holding the course's prompts (each labelled in its tooltip), showing `text`."""
    box = QComboBox(editable=True, insertPolicy=QComboBox.NoInsert)
    for label, prompt in course_prompts(world):
        box.addItem(prompt)
        box.setItemData(box.count() - 1, label, Qt.ToolTipRole)
    box.setCurrentText(text)
    return box


def scrolling(page: QWidget) -> QScrollArea:
    """A page in a frameless scroll area: on a short window (150% scaling on a laptop) the page
    scrolls under the tab's own buttons, which stay in view, instead of the whole tab scrolling."""
    area = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
    area.setWidget(page)
    return area


def big(text: str, pt: int = 18) -> str:
    """Rich text for a headline figure."""
    return f"<span style='font-size:{pt}pt; font-weight:600'>{text}</span>"


def percent(x: float) -> str:
    return "–" if x != x else f"{100 * x:.1f}%"  # x != x: NaN, no pairs to measure on


def short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def quoted(text: str, n: int = 60) -> str:
    return f"“{short(text, n)}”" if text else SILENT


def figure(value, spec: str = "{:+.2f}") -> str:
    """A figure for a table or a status line: `spec` of the number, "—" when it is missing, not a
    number or not finite (a metric the run did not log, a NaN)."""
    number = to_float(value)
    return spec.format(number) if math.isfinite(number) else "—"


def table(columns, stretch: int | None = None) -> QTableWidget:
    """A read-only table, one line a row (the full text of a cell is in its tooltip, see fill_rows),
    rows selected whole; columns fit their contents, column `stretch` takes the spare width."""
    view = QTableWidget(0, len(columns))
    view.setHorizontalHeaderLabels(columns)
    view.verticalHeader().hide()
    view.setEditTriggers(QAbstractItemView.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    view.setWordWrap(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeToContents)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.Stretch)
    return view


def fill_replies(view: QTableWidget, samples, scores: tuple[str, str]) -> None:
    """One row a sampled reply: its prompt, its text ("(empty reply)" when it said nothing) and the
    two figures under the keys `scores`, right-aligned; each cell's full text in its tooltip."""
    view.setRowCount(len(samples))
    for row, sample in enumerate(samples):
        cells = (sample.get("prompt", ""), sample.get("response", "") or "(empty reply)",
                 *(figure(sample.get(key)) for key in scores))
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            if column >= 2:
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            view.setItem(row, column, item)
