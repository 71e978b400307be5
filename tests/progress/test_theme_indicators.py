"""Dark theme: an unchecked check box or radio button stands out from the window, and checked
differs clearly from unchecked (both were nearly invisible with plain Fusion)."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QRadioButton, QStyle, QStyleOptionButton

from studyapp.ui import theme


def luminance(colour: QColor) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(colour.red()) + 0.7152 * channel(colour.green()) + 0.0722 * channel(colour.blue())


def contrast(a: QColor, b: QColor) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def indicator_pixels(qtbot, kind, checked):
    widget = kind("Option")
    qtbot.addWidget(widget)
    widget.setChecked(checked)
    widget.resize(widget.sizeHint())
    image = QImage(widget.size(), QImage.Format_RGB32)
    widget.render(image)
    option = QStyleOptionButton()
    widget.initStyleOption(option)
    element = QStyle.SE_CheckBoxIndicator if kind is QCheckBox else QStyle.SE_RadioButtonIndicator
    rect = widget.style().subElementRect(element, option, widget)
    return [image.pixelColor(x, y) for x in range(rect.left(), rect.right() + 1)
            for y in range(rect.top(), rect.bottom() + 1)]


@pytest.fixture
def dark(qapp):
    before = theme.current()
    theme.apply(qapp, "dark")
    yield qapp
    theme.apply(qapp, before)


@pytest.mark.parametrize("kind", [QCheckBox, QRadioButton])
def test_indicators_are_visible_in_the_dark_theme(qtbot, dark, kind):
    window = QColor(theme.DARK[QPalette.Window])
    unchecked = indicator_pixels(qtbot, kind, False)
    # The outline of an empty box stands out from the window (WCAG's 3:1 for UI components).
    assert max(contrast(p, window) for p in unchecked) >= 3.0
    checked = indicator_pixels(qtbot, kind, True)
    # A checked one is filled: many of its pixels are the highlight colour, none of an empty one's.
    highlight = QColor(theme.DARK[QPalette.Highlight])
    def filled(pixels):
        return sum(contrast(p, highlight) < 1.2 for p in pixels)
    assert filled(checked) >= len(checked) // 4 and filled(unchecked) <= len(unchecked) // 20
