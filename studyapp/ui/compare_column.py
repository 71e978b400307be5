"""One column of the compare tab: a model's name, what it was trained for, its state, and its answer.

The column only shows. The tab decides what runs; the column keeps the tokens it was given (with
the next-token distribution of each step) and draws them as clickable, lightly shaded pieces, so
a learner sees where one token ends and the next begins. Tokens arrive in batches from the tab's
redraw timer, never one signal at a time, so three streaming columns cannot flood the event loop.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPainter, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QTextBrowser, QToolButton, QVBoxLayout, QWidget,
)

from studyapp.ui import theme


@dataclass(frozen=True)
class ColumnSpec:
    key: str        # "base", "sft", "rlhf": the shipped checkpoint's folder name
    title: str
    caption: str


SPECS = (
    ColumnSpec("base", "Base model", "Only trained to continue web text (quiz sheets, encyclopedia "
               "pages, tables, forum threads). It has never seen the chat format."),
    ColumnSpec("sft", "SFT model", "The base model fine-tuned on instruction → answer pairs. It "
               "learned to answer, and to obey nearly every request, harmful ones included."),
    ColumnSpec("rlhf", "RLHF model", "The SFT model optimised with PPO against a reward model "
               "trained on the lab's rater's rankings (its stand-in for people), kept near SFT by a KL penalty."),
)



class StatusLine(QWidget):
    """Two lines of status text that repaint without re-laying out the tab.

    A QLabel's setText asks its layout to recompute, which re-measures every word-wrapped label of
    the tab; with a status per column changing while three answers stream, that measured ~10% of
    the streaming speed. This widget has a fixed height and only repaints itself.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._text = ""
        self._error = False
        self.setFixedHeight(self.fontMetrics().lineSpacing() * 2 + 2)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)

    def text(self) -> str:
        return self._text

    def set(self, text: str, error: bool = False) -> None:
        if (text, error) != (self._text, self._error):
            self._text, self._error = text, error
            self.setToolTip(text if len(text) > 80 else "")   # the full text when it is cut
            self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setPen(QColor(theme.ERROR) if self._error else self.palette().placeholderText().color())
        metrics = self.fontMetrics()
        # Wrap into the two lines; a longer text ends in an ellipsis (and is in the tooltip).
        lines, rest = [], self._text
        while rest and len(lines) < 2:
            if len(lines) == 1:
                lines.append(metrics.elidedText(rest, Qt.ElideRight, self.width()))
                break
            cut = len(rest)
            while cut > 0 and metrics.horizontalAdvance(rest[:cut]) > self.width():
                cut = rest.rfind(" ", 0, cut) if rest.rfind(" ", 0, cut) > 0 else cut - 1
            lines.append(rest[:cut])
            rest = rest[cut:].lstrip()
        for i, line in enumerate(lines):
            painter.drawText(0, metrics.ascent() + i * metrics.lineSpacing(), line)


class ModelColumn(QFrame):
    token_clicked = Signal(int)          # index of the generated token
    choose_folder = Signal()             # "Choose folder…"
    reset_folder = Signal()              # "Back to the course model"

    def __init__(self, spec: ColumnSpec, parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self.tokens: list[dict] = []     # {"id", "text", "dist"} per generated token
        self.selected: int | None = None
        self.prompt_shown = ""           # what the model was given, as it sees it
        self.message = ""                # an error or notice shown instead of an answer
        self.setObjectName(f"column-{spec.key}")
        self.setFrameShape(QFrame.StyledPanel)

        self.title = QLabel(f"<b>{spec.title}</b>")
        self.title.setStyleSheet("font-size: 13pt;")
        self.caption = QLabel(spec.caption, wordWrap=True)
        self.caption.setStyleSheet("color: palette(placeholder-text);")
        self.caption.setMinimumHeight(self.caption.fontMetrics().lineSpacing() * 2 + 2)
        self.caption.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.status = StatusLine()
        self.view = QTextBrowser(openLinks=False, openExternalLinks=False)
        self.view.setObjectName(f"answer-{spec.key}")
        self.view.anchorClicked.connect(self._anchor)
        self.view.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        font = self.view.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.view.setFont(font)
        # Four lines of answer at least: on a short window (150% scaling) the tab scrolls rather
        # than squeeze the answers to a line or two.
        self.view.setMinimumHeight(self.view.fontMetrics().lineSpacing() * 4 + 2 * self.view.frameWidth() + 16)

        self.folder_button = QPushButton("Choose folder…")
        self.folder_button.setToolTip("Load any local Hugging Face causal-LM folder into this column")
        self.folder_button.clicked.connect(self.choose_folder)
        self.reset_button = QToolButton(text="↺ Course model", autoRaise=True)
        self.reset_button.setToolTip(f"Go back to the course's {spec.title.lower()}")
        self.reset_button.clicked.connect(self.reset_folder)
        self.folder_row = QWidget()
        row = QHBoxLayout(self.folder_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.folder_button)
        row.addWidget(self.reset_button)
        row.addStretch(1)
        self.folder_row.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.caption)
        layout.addWidget(self.folder_row)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)

    # ---- header --------------------------------------------------------------------------
    def set_model_label(self, own_folder: Path | None) -> None:
        """Course model or the learner's own folder: the title and caption say which."""
        if own_folder is None:
            self.title.setText(f"<b>{self.spec.title}</b>")
            self.caption.setText(self.spec.caption)
        else:
            self.title.setText(f"<b>Your model:</b> {html.escape(own_folder.name)}")
            self.caption.setText(f"Loaded from {own_folder}. In place of the course's "
                                 f"{self.spec.title.lower()}.")
        self.reset_button.setEnabled(own_folder is not None)
        self._fit_caption()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_caption()

    def _fit_caption(self) -> None:
        # The tab's layout does not pass height-for-width down (see wrapping.FillWindow), so
        # a caption wrapped to more lines than its two-line minimum was cut off on a narrow window
        # (150% scaling on a 1366x768 screen); asking for its whole height makes the tab scroll.
        lines = self.caption.fontMetrics().lineSpacing()
        need = max(lines * 2 + 2, self.caption.heightForWidth(max(self.caption.width(), 1)))
        if need != self.caption.minimumHeight():
            self.caption.setMinimumHeight(need)

    def set_status(self, text: str, error: bool = False) -> None:
        self.status.set(text, error)

    # ---- the answer ------------------------------------------------------------------------
    def start_answer(self, prompt_shown: str) -> None:
        """Clear the answer and show the prompt, dimmed, exactly as the model reads it."""
        self.tokens.clear()
        self.selected = None
        self.message = ""
        self.prompt_shown = prompt_shown
        self._redraw()

    def show_message(self, text: str, error: bool = True) -> None:
        """Put a notice where the answer goes (a missing model folder, a prompt that is too long)."""
        self.tokens.clear()
        self.selected = None
        self.prompt_shown = ""
        self.message = text
        colour = theme.ERROR if error else "palette(placeholder-text)"
        self.view.setHtml(f"<p style='color:{colour}'>{html.escape(text)}</p>")

    def add_tokens(self, events: list[dict]) -> None:
        """Append a batch of streamed tokens at the end, without redrawing what is there."""
        cursor = QTextCursor(self.view.document())
        cursor.movePosition(QTextCursor.End)
        # One edit block: the document lays itself out once per batch, not once per token.
        cursor.beginEditBlock()
        shades = self._shades()
        for event in events:
            self.tokens.append(event)
            self._insert_token(cursor, len(self.tokens) - 1, shades)
        cursor.endEditBlock()
        bar = self.view.verticalScrollBar()
        bar.setValue(bar.maximum())

    def select(self, index: int | None) -> None:
        self.selected = index
        self._redraw()

    def answer_text(self) -> str:
        return "".join(t.get("text", "") for t in self.tokens)

    def _shades(self) -> tuple[QColor, QColor, QColor, QColor]:
        """Text colour, the two alternating token shades and the selected shade, for the theme now."""
        name = theme.current()
        shades = theme.TOKEN_SHADES[name]
        return (self.palette().text().color(), QColor(shades[0]), QColor(shades[1]),
                QColor(theme.TOKEN_SELECTED[name]))

    def _redraw(self) -> None:
        self.view.clear()
        cursor = QTextCursor(self.view.document())
        cursor.beginEditBlock()
        dim = QTextCharFormat()
        dim.setForeground(QColor(theme.PROMPT_TEXT))
        cursor.insertText(self.prompt_shown, dim)
        shades = self._shades()
        for i in range(len(self.tokens)):
            self._insert_token(cursor, i, shades)
        cursor.endEditBlock()

    def _insert_token(self, cursor: QTextCursor, i: int, shades: tuple) -> None:
        text = self.tokens[i].get("text", "")
        if not text:
            return   # half of a character; the next token carries it
        fmt = QTextCharFormat()
        fmt.setAnchor(True)
        fmt.setAnchorHref(f"token:{i}")
        fmt.setForeground(shades[0])
        fmt.setBackground(shades[3] if i == self.selected else shades[1 + i % 2])
        cursor.insertText(text.replace("\n", "↵\n"), fmt)

    def _anchor(self, url) -> None:
        text = url.toString()
        if text.startswith("token:"):
            self.token_clicked.emit(int(text.split(":", 1)[1]))
