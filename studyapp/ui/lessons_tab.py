"""The Lessons tab: a lesson list, a table of contents, the lesson, search and progress.

A section counts as read once the reader has had its end on screen for a moment (the view
settles for READ_DWELL_MS with the section's last line visible). When every section is read
the lesson is marked complete; the learner can also mark it by hand, or unmark it.
"""
from __future__ import annotations

import html as htmllib
from dataclasses import dataclass

from PySide6.QtCore import QTimer, QUrl, Qt, Signal
from PySide6.QtGui import QColor, QDesktopServices, QFont, QKeySequence, QShortcut, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QProgressBar, QPushButton,
    QSplitter, QTextBrowser, QToolButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from studyapp.content import lessons as content
from studyapp.ui import theme, worker
from studyapp.ui.links import parse_link
from studyapp.ui.storage_errors import save
from studyapp.ui.wrapping import wrap_items
from studyapp.wording import count

READ_DWELL_MS = 1200
# A lesson this short lays out within a frame or two on the GUI thread (the built-in ones are at
# most 12,000 characters, 0.01 s); a longer one is laid out on a worker with a note meanwhile.
SYNC_RENDER_CHARS = 32_000
ROLE_SLUG = Qt.UserRole
ROLE_SECTION = Qt.UserRole + 1

DARK_ADMONITIONS = {  # the same boxes, re-coloured for a dark background
    "#e8f0fe": "#22324d", "#e6f4ea": "#1f3a28", "#f3e8fd": "#34264a",
    "#fef4e5": "#45351c", "#fdeaea": "#4a2424",
}

STYLE = """
h1 { font-size: 22pt; margin-bottom: 4px; }
h2 { font-size: 15pt; margin-top: 18px; }
h3 { font-size: 12.5pt; }
p, li { line-height: 140%; }
code { font-family: 'DejaVu Sans Mono', monospace; }
pre { font-family: 'DejaVu Sans Mono', monospace; padding: 6px; white-space: pre-wrap; }
th { font-weight: bold; text-align: left; padding: 4px 8px; }
td { padding: 4px 8px; }
"""


@dataclass
class _Span:
    id: str
    title: str
    top: float
    bottom: float


class LessonsTab(QWidget):
    """Shows lessons; `progress` is the profile's lesson-progress store."""

    link_activated = Signal(str)   # studyapp:// URLs for other tabs go to the main window
    status = Signal(str)

    def __init__(self, lessons: list[content.Lesson], errors: list[content.LessonError],
                 progress, font_scale: int = 100, parent: QWidget | None = None):
        super().__init__(parent)
        self.lessons = lessons
        self.errors = errors
        self.by_slug = {l.slug: l for l in lessons}
        self.progress = progress
        self.font_scale = font_scale
        self.current: content.Lesson | None = None
        self.spans: list[_Span] = []
        self._read: set[str] = set()
        self._build()
        self._fill_list()
        self._dwell = QTimer(self, singleShot=True, interval=READ_DWELL_MS, timeout=self._mark_visible_read)
        if lessons:
            self.open_lesson(lessons[0].slug)

    # ---- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.search_box = QLineEdit(placeholderText="Search all lessons…", clearButtonEnabled=True)
        self.search_box.textChanged.connect(self._search)
        self.lesson_list = QListWidget()
        self.lesson_list.setSpacing(3)
        wrap_items(self.lesson_list)   # each lesson's "n/m sections read" line stays at any width
        self.lesson_list.itemActivated.connect(self._item_chosen)
        self.lesson_list.itemClicked.connect(self._item_chosen)
        self.toc = QTreeWidget()
        self.toc.setHeaderLabel("In this lesson")
        self.toc.setRootIsDecorated(False)
        self.toc.itemClicked.connect(lambda item: self.scroll_to(item.data(0, ROLE_SECTION)))

        side = QSplitter(Qt.Vertical)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.search_box)
        top_layout.addWidget(self.lesson_list)
        side.addWidget(top)
        side.addWidget(self.toc)
        side.setStretchFactor(0, 3)   # the lessons get more of a short window than the contents
        side.setStretchFactor(1, 2)
        side.setSizes([360, 240])

        self.view = QTextBrowser(openLinks=False)
        self.view.anchorClicked.connect(self._anchor_clicked)
        self.view.verticalScrollBar().valueChanged.connect(lambda _: self._dwell.start())
        self.view.document().setDefaultStyleSheet(STYLE)
        self.view.setAccessibleName("Lesson text")

        self.find_box = QLineEdit(placeholderText="Find in this lesson (Enter: next, Shift+Enter: previous)")
        self.find_box.returnPressed.connect(lambda: self.find_next(backward=False))
        self.find_box.textChanged.connect(lambda _: self.find_next(from_start=True))
        QShortcut(QKeySequence("Shift+Return"), self.find_box, lambda: self.find_next(backward=True))
        QShortcut(QKeySequence(Qt.Key_Escape), self.find_box, self.hide_find)
        close_find = QToolButton(text="✕", autoRaise=True, toolTip="Close (Esc)")
        close_find.clicked.connect(self.hide_find)
        self.find_bar = QWidget()
        find_layout = QHBoxLayout(self.find_bar)
        find_layout.setContentsMargins(0, 0, 0, 0)
        find_layout.addWidget(self.find_box)
        find_layout.addWidget(close_find)
        self.find_bar.hide()

        self.prev_button = QPushButton("◀ Previous lesson", clicked=lambda: self._step(-1))
        self.next_button = QPushButton("Next lesson ▶", clicked=lambda: self._step(1))
        self.read_bar = QProgressBar(textVisible=True, maximumWidth=260)
        self.complete_button = QPushButton(checkable=True, clicked=self._toggle_complete)
        bottom = QHBoxLayout()
        bottom.addWidget(self.prev_button)
        bottom.addStretch(1)
        bottom.addWidget(QLabel("Sections read:"))
        bottom.addWidget(self.read_bar)
        bottom.addWidget(self.complete_button)
        bottom.addStretch(1)
        bottom.addWidget(self.next_button)

        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.addWidget(self.find_bar)
        main_layout.addWidget(self.view, 1)
        main_layout.addLayout(bottom)

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(side)
        splitter.addWidget(main)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([280, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)

    def _fill_list(self) -> None:
        if self.search_box.text().strip():   # keep the search results while a search is open
            return
        self.lesson_list.clear()
        done = self.progress.lesson_progress()
        for lesson in self.lessons:
            state = done.get(lesson.slug)
            read = len(set(state.sections_read) & {s.id for s in lesson.sections}) if state else 0
            mark = "✓ " if state and state.completed else ""
            detail = "shown as plain text" if lesson.note else f"{read}/{len(lesson.sections)} sections read"
            item = QListWidgetItem(f"{mark}{lesson.title}\n{detail}")
            item.setData(ROLE_SLUG, lesson.slug)
            item.setToolTip(f"{lesson.path.name}: shown as plain text because {lesson.note}" if lesson.note
                            else lesson.summary or lesson.title)
            if lesson is self.current:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.lesson_list.addItem(item)
        for error in self.errors:
            item = QListWidgetItem(f"⚠ {error.path.name} could not be loaded\nline {error.line}: {error.message}")
            item.setForeground(QColor("#c62828"))
            item.setToolTip(f"{error.path.name}\nline {error.line}: {error.message}")
            item.setFlags(Qt.ItemIsEnabled)
            self.lesson_list.addItem(item)

    # ---- opening and rendering ------------------------------------------------------------
    def open_lesson(self, slug: str, section: str | None = None) -> bool:
        lesson = self.by_slug.get(slug)
        if lesson is None:
            self.status.emit(f"There is no lesson called '{slug}'.")
            return False
        self.current = lesson
        self._read = set(self.progress.sections_read(slug))
        if not lesson.rendered and not lesson.note and len(lesson.body) > SYNC_RENDER_CHARS:
            self._render_in_background(lesson, section)
        else:
            self._show(lesson, section)
        return True

    def _render_in_background(self, lesson: content.Lesson, section: str | None) -> None:
        """A long lesson is laid out on a worker (Lesson.html renders once and keeps the result)."""
        self.view.setHtml(f"<p>Laying out <b>{htmllib.escape(lesson.title)}</b>…</p>")
        self.spans = []
        self._fill_toc()
        self._fill_list()

        def done(_html) -> None:
            if self.current is lesson:
                self._show(lesson, section)

        self._render_task = worker.run_in_background(lambda: lesson.html, on_result=done,
                                                     label=f"Laying out “{lesson.title}”")

    def _show(self, lesson: content.Lesson, section: str | None) -> None:
        # Rendered on first show (content.lessons.Lesson.html), within the render budget.
        self.view.setHtml(self._page_html(lesson))
        if lesson.note:
            self.status.emit(f"{lesson.path.name} is shown as plain text: {lesson.note}")
        elif (lesson.render_seconds or 0) > content.RENDER_SECONDS:
            self.status.emit(f"{lesson.path.name} took {lesson.render_seconds:.1f} s to lay out; "
                             "`studyapp content check` says what makes it slow")
        self._measure_sections()
        self._fill_toc()
        self._fill_list()
        self._update_progress_widgets()
        index = self.lessons.index(lesson)
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(self.lessons) - 1)
        if section:
            QTimer.singleShot(0, lambda: self.scroll_to(section))
        else:
            self.view.verticalScrollBar().setValue(0)
        self._dwell.start()

    def _page_html(self, lesson: content.Lesson) -> str:
        objectives = "".join(f"<li>{htmllib.escape(o)}</li>" for o in lesson.objectives)
        head = f"<h1>{htmllib.escape(lesson.title)}</h1>"
        if objectives:
            head += ("<table width='100%' cellpadding='8' bgcolor='#e8f0fe' style='margin: 4px 0 10px 0;'>"
                     f"<tr><td><b>By the end of this lesson you can</b><ul>{objectives}</ul></td></tr></table>")
        # A markdown table with more text than room is laid out by Qt one pixel wider than the
        # view (a sideways scroll bar under every lesson with one, at any window size); at 99%
        # it wraps its cells inside the view instead.
        page = head + lesson.html.replace("<table>", "<table width='99%'>")
        if theme.current() == "dark":
            for light, dark in DARK_ADMONITIONS.items():
                page = page.replace(light, dark)
        size = round(11 * self.font_scale / 100, 1)
        return f"<div style='font-size: {size}pt;'>{page}</div>"

    def _measure_sections(self) -> None:
        """Find where each `## ` section starts and ends in the laid-out document."""
        doc = self.view.document()
        layout = doc.documentLayout()
        wanted = {s.id: s.title for s in self.current.sections}
        tops: list[tuple[str, float]] = []
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                names = it.fragment().charFormat().anchorNames()
                for name in names:
                    if name in wanted and name not in dict(tops):
                        tops.append((name, layout.blockBoundingRect(block).top()))
                it += 1
            block = block.next()
        height = layout.documentSize().height()
        self.spans = [_Span(name, wanted[name], top, tops[i + 1][1] if i + 1 < len(tops) else height)
                      for i, (name, top) in enumerate(tops)]

    def _fill_toc(self) -> None:
        self.toc.clear()
        for span in self.spans:
            item = QTreeWidgetItem([("✓ " if span.id in self._read else "   ") + span.title])
            item.setData(0, ROLE_SECTION, span.id)
            self.toc.addTopLevelItem(item)

    def resizeEvent(self, event) -> None:  # layout changes move the sections
        super().resizeEvent(event)
        if self.current:
            self._measure_sections()
            self._dwell.start()

    # ---- reading progress -----------------------------------------------------------------
    def _mark_visible_read(self) -> None:
        if not self.current or not self.isVisible():
            return
        bar = self.view.verticalScrollBar()
        top = bar.value()
        bottom = top + self.view.viewport().height()
        newly = [s.id for s in self.spans if s.id not in self._read and s.bottom <= bottom + 4 and s.bottom > top]
        if not newly:
            return
        slug = self.current.slug
        for section_id in newly:   # a failed write is reported and kept (ui/storage_errors.py)
            save("lesson progress", self.progress.mark_section_read, slug, section_id,
                 key=("read", slug, section_id))
            self._read.add(section_id)
        if self.spans and all(s.id in self._read for s in self.spans):
            state = self.progress.lesson_progress().get(slug)
            if not (state and state.completed):
                save("lesson progress", self.progress.set_completed, slug, True,
                     key=("completed", slug))
                self.status.emit(f"Lesson complete: {self.current.title}")
        self._fill_toc()
        self._fill_list()
        self._update_progress_widgets()

    def _update_progress_widgets(self) -> None:
        total = len(self.spans) or 1
        read = sum(s.id in self._read for s in self.spans)
        self.read_bar.setRange(0, total)
        self.read_bar.setValue(read)
        self.read_bar.setFormat(f"{read} of {len(self.spans)}")
        state = self.progress.lesson_progress().get(self.current.slug) if self.current else None
        done = bool(state and state.completed)
        self.complete_button.setChecked(done)
        self.complete_button.setText("✓ Completed (click to undo)" if done else "Mark lesson complete")

    def _toggle_complete(self, checked: bool) -> None:
        if self.current:
            save("lesson progress", self.progress.set_completed, self.current.slug, checked,
                 key=("completed", self.current.slug))
            self._fill_list()
            self._update_progress_widgets()

    # ---- navigation -----------------------------------------------------------------------
    def scroll_to(self, section_id: str | None) -> None:
        if section_id:
            self.view.scrollToAnchor(section_id)

    def _step(self, delta: int) -> None:
        if self.current:
            index = self.lessons.index(self.current) + delta
            if 0 <= index < len(self.lessons):
                self.open_lesson(self.lessons[index].slug)

    def _item_chosen(self, item: QListWidgetItem) -> None:
        slug, section = item.data(ROLE_SLUG), item.data(ROLE_SECTION)
        if slug:
            self.open_lesson(slug, section)
            if section and self.search_box.text():
                self.find_box.setText(self.search_box.text())

    def _anchor_clicked(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("#"):
            self.scroll_to(text[1:])
        elif parse_link(text) is not None:
            self.link_activated.emit(text)
        elif url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)   # the learner's browser, never the app, goes online
        else:
            self.status.emit(f"Cannot open link {text}")

    def open_link(self, params: dict, fragment: str = "") -> None:
        slug = params.get("lesson") or (self.current.slug if self.current else "")
        self.open_lesson(slug, fragment or params.get("section"))

    # ---- search and find ------------------------------------------------------------------
    def _search(self, query: str) -> None:
        if not query.strip():
            self.search_box.clear()
            self._fill_list()
            return
        hits = content.search(self.lessons, query)
        self.lesson_list.clear()
        if not hits:
            item = QListWidgetItem(f"No section mentions “{query}”.")
            item.setFlags(Qt.ItemIsEnabled)
            self.lesson_list.addItem(item)
        for hit in hits:
            item = QListWidgetItem(f"{hit.lesson_title} › {hit.section_title}\n{hit.snippet}")
            item.setData(ROLE_SLUG, hit.slug)
            item.setData(ROLE_SECTION, hit.section_id)
            self.lesson_list.addItem(item)
        self.status.emit(f"{count(len(hits), 'section')} match{'es' if len(hits) == 1 else ''} “{query}”")

    def show_find(self) -> None:
        self.find_bar.show()
        self.find_box.setFocus()
        self.find_box.selectAll()

    def hide_find(self) -> None:
        self.find_bar.hide()
        self.view.setFocus()

    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def find_next(self, backward: bool = False, from_start: bool = False) -> bool:
        text = self.find_box.text()
        if not text:
            return False
        if from_start:
            self.view.moveCursor(QTextCursor.Start)
        flags = QTextDocument.FindBackward if backward else QTextDocument.FindFlag(0)
        found = self.view.find(text, flags)
        if not found:  # wrap around once
            self.view.moveCursor(QTextCursor.End if backward else QTextCursor.Start)
            found = self.view.find(text, flags)
        self.find_box.setStyleSheet("" if found else "background: #ffd6d6; color: #1c1c1c;")
        return found


def create_tab(window) -> LessonsTab:
    ctx = window.ctx
    tab = LessonsTab(ctx.lessons, ctx.lesson_errors, ctx.progress, font_scale=ctx.config.font_scale)
    tab.link_activated.connect(window.open_link)
    tab.status.connect(window.show_status)
    return tab
