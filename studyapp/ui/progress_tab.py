"""The Progress tab: per lesson, what was read, the best quiz score, the flashcards, and how much
of it the learner could teach back; plus a CSV/JSON export of these results for a teacher.

The numbers come from studyapp.results (no Qt), read on a worker through a read-only connection
of its own (a profile may hold 100,000 cards), each time the tab is shown.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QProgressBar, QPushButton,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from studyapp.results import (
    LEARNER_KEY, Report, collect, collect_from_file, export_csv, export_filename, export_json,
    learner_name,
)
from studyapp.store.settings import Settings
from studyapp.ui import theme, worker
from studyapp.ui.links import make_link

# ---------------------------------------------------------------------------------------------
# The tab

HEADERS = ["Lesson", "Reading", "Best quiz", "Flashcards", "Teach it back"]
WIDEST_TEACH = "best 100% · latest 100%"   # the longest text of the teach-it-back column
# (light, dark): pale fills under dark text, deep fills under light text, readable either way.
BAR_COLOURS = {"read": ("#a9c4f5", "#2f5aa8"), "quiz": ("#a5d6a7", "#2e6b33"),
               "teach": ("#ffd08a", "#8a5a12")}


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


class ProgressTab(QWidget):
    status = Signal(str)
    link_activated = Signal(str)

    def __init__(self, store, lessons, parent: QWidget | None = None):
        super().__init__(parent)
        self.store, self.lessons = store, [l for l in lessons if l.sections and l.slug != "glossary"]
        self.report: Report | None = None
        self.task: worker.Task | None = None
        self._stale = True
        title = QLabel("<span style='font-size:17pt; font-weight:bold'>Your progress</span>")
        self.summary = QLabel(wordWrap=True)
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_json_button = QPushButton("Export JSON…")
        self.export_csv_button.setToolTip("One row per lesson, for a spreadsheet")
        self.export_json_button.setToolTip("Every result, including each teach-it-back and quiz attempt")
        self.export_csv_button.clicked.connect(lambda: self.ask_export("csv"))
        self.export_json_button.clicked.connect(lambda: self.ask_export("json"))
        self.name_button = QPushButton(flat=True)
        self.name_button.setToolTip("The name your teacher sees on your exported results")
        self.name_button.clicked.connect(lambda: self.ask_name(force=True))
        self._show_name()
        self.class_button = QPushButton("Class report…")
        self.class_button.setToolTip("For teachers: merge the exports of a whole class")
        self.class_button.clicked.connect(self.open_class_report)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.name_button)
        head.addWidget(self.export_csv_button)
        head.addWidget(self.export_json_button)
        head.addWidget(self.class_button)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        for column in range(1, len(HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.Fixed)
            self.table.setColumnWidth(column, 190)
        self.table.verticalHeader().setDefaultSectionSize(58)
        self.table.cellDoubleClicked.connect(self._open_row)
        self.hint = QLabel("Double-click a lesson to open it. Reading counts a section once its "
                           "end has been on screen; the quiz score is the best finished attempt; "
                           "teach-it-back shows how many key points of that lesson your best "
                           "explanation covered, and your latest.", wordWrap=True, objectName="muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addLayout(head)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.hint)
        self._style()

    def _style(self) -> None:
        muted = "#a0a4a8" if theme.current() == "dark" else "#5f6368"
        self.setStyleSheet(f"QLabel#muted {{ color: {muted}; }} QTableWidget {{ font-size: 10.5pt; }}")

    def resizeEvent(self, event) -> None:
        # The four result columns give up width before the lesson titles do: on a small or
        # scaled screen (1366x768 at 150% is 910 pixels wide) titles stay readable.
        super().resizeEvent(event)
        width = max(140, min(190, (self.table.viewport().width() - 320) // 4))
        # The widest teach-it-back text is drawn whole: a progress bar clips its text, never
        # elides it, and at 150% on 1366x768 "best 100% · latest 100%" lost its last letters.
        # 32 = the bar's style margins (2 x 6), border and a little padding.
        teach = max(width + 20, self.fontMetrics().horizontalAdvance(WIDEST_TEACH) + 32)
        for column in range(1, len(HEADERS)):
            self.table.setColumnWidth(column, teach if column == 4 else width)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.PaletteChange:
            self._style()
            if self.report is not None:
                self.show_report(self.report)   # the bars' fills follow the theme
        super().changeEvent(event)

    # ---- loading ------------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()   # results change in other tabs; a few small queries, on a worker

    def refresh(self) -> None:
        if self.task is not None:
            return
        self.summary.setText("Reading your results…" if self.report is None else self.summary.text())
        self.task = worker.run_in_background(
            collect_from_file, self.store.path, self.store.clock, self.lessons,
            label="Reading your progress", on_result=self.show_report,
            on_error=lambda msg, _tb: self.summary.setText(f"Your results could not be read: {msg}"),
            on_finished=self._finished)

    def _finished(self) -> None:
        self.task = None

    def show_report(self, report: Report) -> None:
        self.report = report
        rows = report.lessons
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            name = QTableWidgetItem(f"{r + 1}. {row.title}\n"
                                    f"{'✔ completed' if row.completed else 'not completed yet'}")
            name.setData(Qt.UserRole, row.lesson)
            self.table.setItem(r, 0, name)
            self._bar(r, 1, row.read_fraction, f"{row.sections_read} of {row.sections_total} sections", "read")
            self._bar(r, 2, row.best_quiz, "no quiz taken yet" if row.best_quiz is None
                      else f"best {percent(row.best_quiz)}", "quiz")
            cards = (f"{row.cards_due} due · {row.cards_mature} mature\nof {row.cards_total} cards"
                     if row.cards_total else "no cards for this lesson")
            item = QTableWidgetItem(cards)
            item.setTextAlignment(Qt.AlignCenter)
            self.table.setItem(r, 3, item)
            self._bar(r, 4, row.teach_best, "not explained yet" if row.teach_coverage is None else
                      f"best {percent(row.teach_best)} · latest {percent(row.teach_coverage)}", "teach")
            if row.teach_coverage is not None:
                self.table.cellWidget(r, 4).setToolTip(
                    f"Of this lesson's {row.teach_points_total} key point"
                    f"{'s' if row.teach_points_total != 1 else ''}: best explanation "
                    f"{row.teach_best_covered:g}, latest {row.teach_points_covered:g}")
        completed = sum(r.completed for r in rows)
        read = sum(r.sections_read for r in rows)
        total = sum(r.sections_total for r in rows)
        quizzes = [r.best_quiz for r in rows if r.best_quiz is not None]
        due = sum(r.cards_due for r in rows)
        best_teach = max((a["coverage"] for a in report.teach_attempts), default=None)
        latest_teach = report.teach_attempts[0]["coverage"] if report.teach_attempts else None
        parts = [f"<b>{completed} of {len(rows)}</b> lessons completed",
                 f"<b>{read} of {total}</b> sections read",
                 f"quizzes taken: <b>{len(quizzes)} of {len(rows)}</b>" +
                 (f" (average best {percent(sum(quizzes) / len(quizzes))})" if quizzes else ""),
                 f"<b>{due}</b> cards due today",
                 "teach it back: " + (f"best <b>{percent(best_teach)}</b>, latest "
                                      f"<b>{percent(latest_teach)}</b> in {len(report.teach_attempts)} "
                                      f"attempt{'s' if len(report.teach_attempts) != 1 else ''}"
                                      if best_teach is not None else "not tried yet")]
        text = " · ".join(parts)
        if report.notes:
            text += "<br><span style='color:#c62828'>Not shown: " + "; ".join(report.notes) + "</span>"
        self.summary.setText(text)

    def _bar(self, row: int, column: int, value: float | None, text: str, kind: str) -> None:
        bar = QProgressBar(maximum=100, value=round((value or 0) * 100), textVisible=True)
        bar.setFormat(text)
        bar.setAlignment(Qt.AlignCenter)
        colour = BAR_COLOURS[kind][theme.current() == "dark"]
        bar.setStyleSheet(f"QProgressBar {{ border: 1px solid palette(mid); border-radius: 4px; "
                          f"background: palette(base); margin: 12px 6px; }} "
                          f"QProgressBar::chunk {{ background: {colour}; border-radius: 3px; }}")
        if value is None:
            bar.setEnabled(False)
        self.table.setCellWidget(row, column, bar)

    def _open_row(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.link_activated.emit(make_link("lessons", lesson=item.data(Qt.UserRole)))

    # ---- export -------------------------------------------------------------------------------
    def _show_name(self) -> None:
        name = learner_name(self.store)
        self.name_button.setText(f"Name: {name} ✎" if name else "Set your name ✎")

    def ask_name(self, force: bool = False) -> str:
        """The learner's name for exports: asked once, then kept in the profile."""
        name = learner_name(self.store)
        if name and not force:
            return name
        text, ok = QInputDialog.getText(self, "Your name", "Your name, as your teacher should see "
                                        "it on your exported results:", text=name)
        if ok and text.strip():
            Settings(self.store).set(LEARNER_KEY, " ".join(text.split()))
            self._show_name()
        return learner_name(self.store)

    def ask_export(self, kind: str) -> None:
        name = self.ask_name()
        if not name:
            self.status.emit("Export cancelled: your teacher needs your name on the results.")
            return
        suggested = str(Path.home() / export_filename(name, self.store.now(), kind))
        path, _ = QFileDialog.getSaveFileName(self, "Export your results", suggested,
                                              "CSV (*.csv)" if kind == "csv" else "JSON (*.json)")
        if path:
            self.export(kind, Path(path))

    def export(self, kind: str, path: Path) -> None:
        """Write a fresh report (read now, so it matches the profile at this moment)."""
        try:
            report = collect(self.store, self.lessons)
            if kind == "csv":
                export_csv(report, path)
            else:
                export_json(report, path, profile=self.store.path.parent.name)
        except (OSError, sqlite3.Error) as exc:
            self.status.emit(f"Could not export to {path}: {exc}")
            return
        self.status.emit(f"Results exported to {path}")

    def open_class_report(self):
        from studyapp.ui.class_report import ClassReportDialog

        dialog = ClassReportDialog(self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_link(self, params: dict, fragment: str = "") -> None:
        self.refresh()


def create_tab(window) -> ProgressTab:
    ctx = window.ctx
    tab = ProgressTab(ctx.store, ctx.lessons)
    tab.link_activated.connect(window.open_link)
    tab.status.connect(window.show_status)
    return tab
