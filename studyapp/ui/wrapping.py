"""Word-wrapped list items that keep their full height at any width, and a layout that fits a tab
to the window.

A QListWidget with wordWrap measures an item once without a width and lays it out with one: an
item whose one-line width lands just past the list's width (the first quiz, "1. Why a base model
continues your text", in a list 252 px wide at 150% scaling) is laid out on three lines but drawn
in a two-line rectangle, and its last line is lost behind "…". The delegate below measures every
item at the width the list really gives it, so layout and drawing agree.
"""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QListView, QStyledItemDelegate, QStyleOptionViewItem, QVBoxLayout


class WrapToWidth(QStyledItemDelegate):
    def __init__(self, view: QListView):
        super().__init__(view)
        self.view = view

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        width = self.view.viewport().width() - 2 * self.view.spacing()
        if width <= 0:
            return super().sizeHint(option, index)
        measured = QStyleOptionViewItem(option)
        measured.rect = QRect(0, 0, width, 10_000)   # the style wraps text to the rectangle's width
        return QSize(width, super().sizeHint(measured, index).height())


def wrap_items(view: QListView) -> QListView:
    """Make `view` wrap its items' text and re-measure them whenever its width changes."""
    view.setWordWrap(True)
    view.setResizeMode(QListView.Adjust)
    view.setItemDelegate(WrapToWidth(view))
    return view


class FillWindow(QVBoxLayout):
    """A tab's top layout that fills the window's visible area instead of growing to its wrapped
    labels' height: the tab works at any height above its minimum (its charts, answers or tables
    share what there is). The main window holds each tab in a resizable QScrollArea, which sizes a
    height-for-width layout (word-wrapped captions) to heightForWidth(): the charts' size hints then
    made the PPO tab ~1,400 px tall and it scrolled. Saying "no height-for-width" fills the visible
    area instead; the labels inside still wrap. (FitToWindow below also keeps the minimum honest.)"""

    def hasHeightForWidth(self) -> bool:
        return False


class FitToWindow(QVBoxLayout):
    """A tab's top layout that asks the window's scroll area for the least height that shows it whole.

    Word-wrapped labels make a layout height-for-width, and a scroll area gives such a widget its
    *preferred* height for the width (plots and tables ask for a lot) and scrolls. A tab whose
    plots, tables or own scroll area can share whatever height there is should fill the window
    instead, and scroll only below its minimum: one scroll bar, not two, and none at 100%. The
    minimum still counts each wrapped label at its wrapped height, so nothing overlaps.
    """

    _measuring = False

    def heightForWidth(self, width: int) -> int:
        if self._measuring:   # QBoxLayout.minimumHeightForWidth asks heightForWidth to fill its cache
            return super().heightForWidth(width)
        self._measuring = True
        try:
            return self.minimumHeightForWidth(width)
        finally:
            self._measuring = False
