"""Light and dark themes (the Fusion style with a palette, so both look the same everywhere), and
the named colours every tab uses beyond the palette."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory

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


# Named colours the tabs share, chosen to read on both themes' windows.
ERROR = "#c62828"       # an error message; a probability that fell
GOOD = "#2e7d32"        # a probability that rose
MUTED = "#888888"       # a figure that did not change
ACCENT = LIGHT[QPalette.Highlight]   # a curve; the token a model wrote
BANNER = "background:#fdeaea; color:#5c1a1a; border-radius:4px;"   # a model is missing
TINTS = {"good": {"light": "#e6f4ea", "dark": "#1f3a28"},   # faint row backgrounds: text stays readable
         "bad": {"light": "#fdeaea", "dark": "#4a2424"}}
# The compare tab's answers: alternating token shades, the token whose bars are shown, and the
# probability bars (the written token in ACCENT, the others it weighed in BAR_OTHER).
TOKEN_SHADES = {"light": ("#e4ecfb", "#fbeede"), "dark": ("#2f3c55", "#4a3b2b")}
TOKEN_SELECTED = {"light": "#ffd54a", "dark": "#8a6d00"}
BAR_OTHER = "#9bb0d6"
PROMPT_TEXT = "#8a8a8a"   # the prompt as the model reads it, before the answer


def error_html(text: str) -> str:
    """Rich text that shows an (already escaped) message in the error colour."""
    return f"<span style='color:{ERROR}'>{text}</span>"


def resolve(theme: str) -> str:
    """'system' becomes light or dark, as the desktop says."""
    if theme in ("light", "dark"):
        return theme
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", lambda: Qt.ColorScheme.Unknown)()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


# Fusion draws an unchecked box or radio button as a dark square on a dark window, outlined in a
# shade only a little lighter: nearly invisible in the dark theme. The outline below has a
# contrast of about 5:1 on the dark window, and a checked indicator gets the highlight's fill.
INDICATOR_OUTLINE = {"dark": "#a8aeb6", "light": "#6b7078"}


class IndicatorStyle(QProxyStyle):
    """Fusion, with check boxes and radio buttons that can be seen in both themes."""

    INDICATORS = (QStyle.PE_IndicatorCheckBox, QStyle.PE_IndicatorRadioButton)

    def drawPrimitive(self, element, option, painter, widget=None):
        if element not in self.INDICATORS:
            return super().drawPrimitive(element, option, painter, widget)
        dark = current() == "dark"
        radio = element == QStyle.PE_IndicatorRadioButton
        checked = bool(option.state & QStyle.State_On)
        enabled = bool(option.state & QStyle.State_Enabled)
        if not (dark and checked):
            super().drawPrimitive(element, option, painter, widget)
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        rect = QRectF(option.rect).adjusted(0.6, 0.6, -0.6, -0.6)
        if dark and checked:
            # A filled indicator with a white mark: "on" is seen at a glance, not searched for.
            fill = QColor(DARK[QPalette.Highlight])
            if not enabled:
                fill.setAlphaF(0.5)
            painter.setPen(Qt.NoPen)
            painter.setBrush(fill)
            painter.drawEllipse(rect) if radio else painter.drawRoundedRect(rect, 2, 2)
            painter.setBrush(QColor("#ffffff"))
            if radio:
                r = rect.width() * 0.2
                painter.drawEllipse(rect.center(), r, r)
            else:
                pen = QPen(QColor("#ffffff"), max(1.6, rect.width() / 7))
                pen.setCapStyle(Qt.RoundCap)
                pen.setJoinStyle(Qt.RoundJoin)
                painter.setPen(pen)
                x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
                painter.drawPolyline([QPointF(x + w * 0.22, y + h * 0.52), QPointF(x + w * 0.42, y + h * 0.72),
                                      QPointF(x + w * 0.78, y + h * 0.3)])
        else:
            colour = QColor(INDICATOR_OUTLINE["dark" if dark else "light"])
            if not enabled:
                colour.setAlphaF(0.45)
            painter.setPen(QPen(colour, 1.2))
            painter.setBrush(Qt.NoBrush)
            painter.drawEllipse(rect) if radio else painter.drawRoundedRect(rect, 2, 2)
        painter.restore()


def apply(app: QApplication, theme: str) -> str:
    name = resolve(theme)
    style = app.style()
    if not isinstance(style, IndicatorStyle):
        app.setStyle(IndicatorStyle(QStyleFactory.create("Fusion")))
    palette = QPalette()
    for role, colour in (DARK if name == "dark" else LIGHT).items():
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    app.setProperty("studyapp_theme", name)
    return name


def current(app: QApplication | None = None) -> str:
    app = app or QApplication.instance()
    return app.property("studyapp_theme") or "light"
