"""The Progress tab: per lesson, what was read, the best quiz score, the flashcards, and how much
of it the learner could teach back; plus a CSV/JSON export of these results for a teacher.

The numbers come from each feature's public API (store.progress, store.quiz.QuizHistory,
srs.cards.Cards.lesson_counts, store.teach.TeachAttempts), read on a worker through a read-only
connection of its own (a profile may hold 100,000 cards), each time the tab is shown. The first
half of this module (collect, export_csv, export_json) uses no Qt: it is the report itself, and
it could move to a headless module as is.
"""
from __future__ import annotations

import csv
import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from studyapp.ui import theme, worker
from studyapp.ui.links import make_link

# ---------------------------------------------------------------------------------------------
# The report (no Qt)

CSV_COLUMNS = ["lesson", "title", "sections_read", "sections_total", "completed", "best_quiz",
               "cards_total", "cards_due", "cards_mature", "teach_points_covered",
               "teach_points_total", "teach_coverage"]


@dataclass
class LessonRow:
    lesson: str
    title: str
    sections_read: int
    sections_total: int
    completed: bool
    best_quiz: float | None = None        # 0..1, finished attempts only
    cards_total: int = 0
    cards_due: int = 0
    cards_mature: int = 0
    teach_points_covered: float = 0.0     # partly covered counts half
    teach_points_total: int = 0

    @property
    def teach_coverage(self) -> float | None:
        return self.teach_points_covered / self.teach_points_total if self.teach_points_total else None

    @property
    def read_fraction(self) -> float:
        return self.sections_read / self.sections_total if self.sections_total else 0.0

    def as_record(self) -> dict:
        record = asdict(self)
        record["teach_coverage"] = None if self.teach_coverage is None else round(self.teach_coverage, 4)
        record["best_quiz"] = None if self.best_quiz is None else round(self.best_quiz, 4)
        return record


@dataclass
class Report:
    lessons: list[LessonRow]
    teach_attempts: list[dict] = field(default_factory=list)
    quiz_attempts: list[dict] = field(default_factory=list)
    made_at: str = ""
    notes: list[str] = field(default_factory=list)   # parts that could not be read


class ReadOnlyProfile:
    """Enough of a Store for the features' read APIs, on its own read-only connection, so the
    report can be gathered on a worker while the GUI thread keeps writing to the profile."""

    def __init__(self, path: Path, clock) -> None:
        from sqlite_utils import Database

        self.path = path
        # as_uri() percent-encodes the path: a profile folder may contain spaces, '?' or '#'.
        self.conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5,
                                    check_same_thread=False)
        self.db = Database(self.conn, execute_plugins=False)
        self.clock = clock

    def now(self) -> datetime:
        return self.clock()

    def now_text(self) -> str:
        from studyapp.store.timeutil import to_text
        return to_text(self.clock())

    @cached_property
    def settings(self):
        from studyapp.store.settings import Settings
        return Settings(self)

    @cached_property
    def progress(self):
        from studyapp.store.progress import LessonProgress
        return LessonProgress(self)

    def close(self) -> None:
        self.conn.close()


def _teach_points(store) -> dict[str, list[float]]:
    """{lesson slug: [credit of each key point taught there, from the newest attempt]}."""
    from studyapp.store.teach import TeachAttempts

    credit = {"covered": 1.0, "partly": 0.5}
    per_lesson: dict[str, list[float]] = {}
    for point in TeachAttempts(store).latest_by_point().values():
        for slug in point.get("lessons", []):
            per_lesson.setdefault(slug, []).append(credit.get(point.get("status"), 0.0))
    return per_lesson


def collect(store, lessons) -> Report:
    """Gather the learner's results per lesson; a feature that cannot be read adds a note."""
    from studyapp.store.teach import TeachAttempts
    from studyapp.store.timeutil import to_text

    notes: list[str] = []
    progress = store.progress.lesson_progress()
    best: dict[str, float] = {}
    quiz_attempts: list[dict] = []
    try:
        from studyapp.store.quiz import QuizHistory
        history = QuizHistory(store)
        best = history.best_scores()
        quiz_attempts = [{"bank": a.bank_id, "lesson": a.lesson_id, "mode": a.mode,
                          "started_at": to_text(a.started_at) if a.started_at else None,
                          "finished": a.finished, "score": a.score, "max_score": a.max_score}
                         for a in history.attempts(limit=10_000)]
    except (ImportError, sqlite3.Error) as exc:
        notes.append(f"quiz results: {exc}")
    counts = {}
    try:
        from studyapp.srs.cards import Cards
        counts = Cards(store).lesson_counts()
    except (ImportError, sqlite3.Error) as exc:
        notes.append(f"flashcards: {exc}")
    teach = _teach_points(store)
    rows = []
    for lesson in lessons:
        done = progress.get(lesson.slug)
        section_ids = {s.id for s in lesson.sections}
        cards = counts.get(lesson.slug)
        points = teach.get(lesson.slug, [])
        rows.append(LessonRow(
            lesson.slug, lesson.title,
            len(done.sections_read & section_ids) if done else 0, len(section_ids),
            bool(done and done.completed), best.get(lesson.slug),
            cards.total if cards else 0, cards.due if cards else 0, cards.mature if cards else 0,
            sum(points), len(points)))
    teach_attempts = []
    for attempt in TeachAttempts(store).history(limit=10_000):
        points = attempt.result.get("points", [])
        teach_attempts.append({
            "rubric": attempt.rubric_id, "created_at": to_text(attempt.created_at),
            "coverage": attempt.coverage, "band": attempt.result.get("band", ""),
            "covered": [p["id"] for p in points if p.get("status") == "covered"],
            "partly": [p["id"] for p in points if p.get("status") == "partly"],
            "missing": [p["id"] for p in points if p.get("status") == "missing"],
            "words": len(attempt.text.split()), "grader": attempt.grader})
    return Report(rows, teach_attempts, quiz_attempts, to_text(store.now()), notes)


def collect_from_file(path: Path, clock, lessons) -> Report:
    """collect() on a read-only connection of its own (for a worker thread)."""
    profile = ReadOnlyProfile(path, clock)
    try:
        return collect(profile, lessons)
    finally:
        profile.close()


def export_csv(report: Report, path: Path) -> None:
    """One row per lesson, the columns of CSV_COLUMNS; empty cells where there is no result."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in report.lessons:
            record = row.as_record()
            writer.writerow({k: ("" if record.get(k) is None else record.get(k)) for k in CSV_COLUMNS})


def export_json(report: Report, path: Path, profile: str = "") -> None:
    """Everything: per-lesson rows, every teach-it-back and quiz attempt (without texts)."""
    data = {"format": "studyapp-results/1", "profile": profile, "exported_at": report.made_at,
            "lessons": [r.as_record() for r in report.lessons],
            "teach_attempts": report.teach_attempts, "quiz_attempts": report.quiz_attempts}
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# The tab

HEADERS = ["Lesson", "Reading", "Best quiz", "Flashcards", "Teach it back"]
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
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.export_csv_button)
        head.addWidget(self.export_json_button)
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
                           "teach-it-back shows the key points of that lesson your latest "
                           "explanation covered.", wordWrap=True, objectName="muted")
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
            self._bar(r, 4, row.teach_coverage, "not explained yet" if row.teach_coverage is None else
                      f"{row.teach_points_covered:g} of {row.teach_points_total} key "
                      f"point{'s' if row.teach_points_total != 1 else ''}", "teach")
        completed = sum(r.completed for r in rows)
        read = sum(r.sections_read for r in rows)
        total = sum(r.sections_total for r in rows)
        quizzes = [r.best_quiz for r in rows if r.best_quiz is not None]
        due = sum(r.cards_due for r in rows)
        best_teach = max((a["coverage"] for a in report.teach_attempts), default=None)
        parts = [f"<b>{completed} of {len(rows)}</b> lessons completed",
                 f"<b>{read} of {total}</b> sections read",
                 f"quizzes taken: <b>{len(quizzes)} of {len(rows)}</b>" +
                 (f" (average best {percent(sum(quizzes) / len(quizzes))})" if quizzes else ""),
                 f"<b>{due}</b> cards due today",
                 "teach it back: " + (f"best <b>{percent(best_teach)}</b> in "
                                      f"{len(report.teach_attempts)} attempt{'s' if len(report.teach_attempts) != 1 else ''}" if best_teach is not None
                                      else "not tried yet")]
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
    def ask_export(self, kind: str) -> None:
        suggested = str(Path.home() / f"studyapp-results.{kind}")
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
                export_json(report, path, profile=str(self.store.path.parent))
        except (OSError, sqlite3.Error) as exc:
            self.status.emit(f"Could not export to {path}: {exc}")
            return
        self.status.emit(f"Results exported to {path}")

    def open_link(self, params: dict, fragment: str = "") -> None:
        self.refresh()


def create_tab(window) -> ProgressTab:
    ctx = window.ctx
    tab = ProgressTab(ctx.store, ctx.lessons)
    tab.link_activated.connect(window.open_link)
    tab.status.connect(window.show_status)
    return tab
