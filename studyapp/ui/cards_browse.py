"""The Flashcards tab's Browse page: every card in a searchable table (searched on a worker through a
read-only connection), with edit, delete, CSV import and CSV/.apkg export handed to the tab."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QTimer, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenu, QPushButton, QTableView,
    QToolButton, QVBoxLayout, QWidget,
)

from studyapp.srs.cards import search_rows
from studyapp.srs.scheduling import format_interval
from studyapp.ui import worker
from studyapp.wording import count

STATE_NAMES = {0: "new", 1: "learning", 2: "review", 3: "relearning"}


def _search(path: Path, text: str, deck_id: str | None) -> list[dict]:
    from studyapp.store import connect_readonly
    conn = connect_readonly(path)
    try:
        return search_rows(conn, text, deck_id=deck_id, limit=2000)
    finally:
        conn.close()



class CardTable(QAbstractTableModel):
    HEADERS = ("Question", "Answer", "Deck", "Lesson", "State", "Due", "Interval")

    def __init__(self, lesson_titles: dict) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self.lesson_titles = lesson_titles
        self.deck_titles: dict[str, str] = {}

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ToolTipRole and index.column() in (0, 1, 2, 3):   # the full text of a cut cell
            return row["front"] if index.column() == 0 else row["back"] if index.column() == 1 else \
                self.data(index, Qt.DisplayRole)
        if role != Qt.DisplayRole:
            return None
        column = index.column()
        if column in (0, 1):
            text = row["front"] if column == 0 else row["back"]
            return " ".join(text.split())[:160]
        if column == 2:
            return self.deck_titles.get(row["deck_id"], row["deck_id"])
        if column == 3:
            return self.lesson_titles.get(row["lesson_id"], (row["lesson_id"] or "", {}))[0]
        if column == 4:
            return STATE_NAMES.get(row["state"], "?")
        if column == 5:
            return "" if row["state"] == 0 else row["due"][:10]
        return format_interval_days(row["interval_days"])


def format_interval_days(days) -> str:
    from datetime import timedelta
    return "" if days is None else format_interval(timedelta(days=days))


class BrowsePage(QWidget):
    def __init__(self, tab) -> None:
        """tab: the CardsTab (its store, deck_id, lesson_titles, and its edit/delete/import/export)."""
        super().__init__()
        self.tab = tab
        self.search = QLineEdit(placeholderText="Search questions and answers…", clearButtonEnabled=True)
        self.search.textChanged.connect(lambda _: self._debounce.start())
        self._debounce = QTimer(self, singleShot=True, interval=200, timeout=self.refresh)
        self.model = CardTable(tab.lesson_titles)
        self.table = QTableView(alternatingRowColors=True, sortingEnabled=False)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        for column in range(4, 7):
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)
        # Deck and lesson titles are long and the same for many cards: they get at most a share of
        # the width (see _fit_columns), so the question and answer stay readable on a narrow window.
        for column in (2, 3):
            header.setSectionResizeMode(column, QHeaderView.Interactive)
        self.table.installEventFilter(self)
        self.table.doubleClicked.connect(lambda _: self.edit_selected())
        QShortcut(QKeySequence.Delete, self.table, self.delete_selected)
        self.count = QLabel(styleSheet="color: #8a8a8a;")
        edit = QPushButton("Edit…", clicked=self.edit_selected)
        delete = QPushButton("Delete", clicked=self.delete_selected)
        import_button = QPushButton("Import CSV…", clicked=self.tab.import_csv)
        export = QToolButton(text="Export ▾", popupMode=QToolButton.InstantPopup)
        menu = QMenu(export)
        menu.addAction("CSV file…", lambda: self.tab.export("csv"))
        menu.addAction("Anki package (.apkg)…", lambda: self.tab.export("apkg"))
        export.setMenu(menu)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        for widget in (edit, delete, import_button, export):
            top.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 8)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        self.task = None
        self._again = False

    def refresh(self) -> None:
        if self.task is not None:
            self._again = True
            return
        self.task = worker.run_in_background(
            _search, self.tab.store.path, self.search.text(), self.tab.deck_id, label="Card search",
            on_result=self._show, on_finished=self._finished)

    def _finished(self) -> None:
        self.task = None
        if self._again:
            self._again = False
            self.refresh()

    def eventFilter(self, obj, event) -> bool:
        if obj is self.table and event.type() == QEvent.Resize:
            self._fit_columns()
        return super().eventFilter(obj, event)

    def _fit_columns(self) -> None:
        share = int(0.18 * self.table.viewport().width())
        for column in (2, 3):
            self.table.setColumnWidth(column, max(80, min(self.table.sizeHintForColumn(column), share)))

    def _show(self, rows: list[dict]) -> None:
        self.model.set_rows(rows)
        self._fit_columns()
        more = " (the first 2000 are shown; search to narrow)" if len(rows) >= 2000 else ""
        self.count.setText(f"{count(len(rows), 'card')}{more}")

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()]["id"] if rows else None

    def edit_selected(self) -> None:
        if (card_id := self.selected_id()) is not None:
            self.tab.edit_card(card_id)

    def delete_selected(self) -> None:
        if (card_id := self.selected_id()) is not None:
            self.tab.delete_card(card_id)
