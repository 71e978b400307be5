"""Light and dark themes: the Fusion style with a palette, so both look the same everywhere."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

DARK = {
    QPalette.Window: "#2b2d30", QPalette.WindowText: "#e6e6e6", QPalette.Base: "#1f2023",
    QPalette.AlternateBase: "#2b2d30", QPalette.ToolTipBase: "#2b2d30",
    QPalette.ToolTipText: "#e6e6e6", QPalette.Text: "#e6e6e6", QPalette.Button: "#35373b",
    QPalette.ButtonText: "#e6e6e6", QPalette.BrightText: "#ff6b6b", QPalette.Link: "#7aa7ff",
    QPalette.Highlight: "#3d6fd1", QPalette.HighlightedText: "#ffffff",
    QPalette.PlaceholderText: "#8c8c8c", QPalette.LinkVisited: "#b18cff",
}
LIGHT = {
    QPalette.Window: "#f3f3f3", QPalette.WindowText: "#1c1c1c", QPalette.Base: "#ffffff",
    QPalette.AlternateBase: "#f6f7f9", QPalette.ToolTipBase: "#ffffdc",
    QPalette.ToolTipText: "#1c1c1c", QPalette.Text: "#1c1c1c", QPalette.Button: "#ececec",
    QPalette.ButtonText: "#1c1c1c", QPalette.BrightText: "#d00000", QPalette.Link: "#1a56c4",
    QPalette.Highlight: "#3d6fd1", QPalette.HighlightedText: "#ffffff",
    QPalette.PlaceholderText: "#8a8a8a", QPalette.LinkVisited: "#6b3fb5",
}


def resolve(theme: str) -> str:
    """'system' becomes light or dark, as the desktop says."""
    if theme in ("light", "dark"):
        return theme
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", lambda: Qt.ColorScheme.Unknown)()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def apply(app: QApplication, theme: str) -> str:
    name = resolve(theme)
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (DARK if name == "dark" else LIGHT).items():
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    app.setProperty("studyapp_theme", name)
    return name


def current(app: QApplication | None = None) -> str:
    app = app or QApplication.instance()
    return app.property("studyapp_theme") or "light"
