"""Windows the app opens besides the main one (dialogs) at a size that fits the screen.

A dialog asks for the size it would like; on a small or scaled screen (a 1366x768 laptop at 150%
has 911x512 logical pixels, less the panels) it gets the screen's free area instead, less room
for the window manager's title bar, so that its buttons are never off the screen.
"""
from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

FRAME = 40   # pixels a window manager's title bar and borders add to the height


def fitted(width: int, height: int, room: tuple[int, int] | None) -> tuple[int, int]:
    """The size asked for, shrunk to the free area `room` (None: unknown, keep the size)."""
    if room is None:
        return width, height
    return min(width, room[0]), min(height, room[1] - FRAME)


def screen_room(widget: QWidget) -> tuple[int, int] | None:
    """The free area of the screen the widget (or its parent) is on, in logical pixels."""
    anchor = widget.parentWidget() or widget
    screen = anchor.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return None
    area = screen.availableGeometry()
    return area.width(), area.height()


def resize_to_fit(widget: QWidget, width: int, height: int) -> None:
    widget.resize(*fitted(width, height, screen_room(widget)))
