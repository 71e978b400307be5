"""Small widget and text helpers the RLHF, playground and HHH pages share (one place, one look)."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFrame, QLabel, QPushButton, QScrollArea, QWidget

from studyapp.lab.ranking import course_prompts
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
