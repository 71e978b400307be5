"""The class report window: a teacher picks the folder of learners' exports and sees the class.

The same work as `studyapp class report FOLDER` (studyapp.classreport, no Qt), run on a worker;
this window shows what it wrote: the class table (one line per learner, best and latest
teach-it-back), the per-lesson table and plot, and the questions most of the class gets wrong
with their plot, and says where the CSV tables and SVG plots are. Opened from the Progress tab.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton, QScrollArea, QSizePolicy,
    QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

from studyapp.classreport import write_report
from studyapp.ui import worker
from studyapp.ui.screen_fit import resize_to_fit


def _pct(value) -> str:
    return "–" if value is None else f"{round(100 * value)}%"


class SvgPlot(QWidget):
    """One of the report's SVG plots, drawn at its own size or smaller to fit the width (its
    height follows), never stretched; a tall one scrolls."""

    def __init__(self):
        super().__init__()
        self._renderer = QSvgRenderer(self)
        policy = QSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def renderer(self) -> QSvgRenderer:
        return self._renderer

    def load(self, path: str) -> None:
        self._renderer.load(path)
        self.updateGeometry()
        self.update()

    def _scale(self, width: int) -> float:
        natural = self._renderer.defaultSize()
        return min(1.0, width / natural.width()) if natural.width() > 0 else 1.0

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return round(self._renderer.defaultSize().height() * self._scale(width))

    def sizeHint(self) -> QSize:
        return self._renderer.defaultSize() if self._renderer.isValid() else QSize(400, 100)

    def minimumSizeHint(self) -> QSize:
        return QSize(200, self.heightForWidth(200))

    def paintEvent(self, _event) -> None:
        if not self._renderer.isValid():
            return
        natural = self._renderer.defaultSize()
        scale = self._scale(self.width())
        w, h = natural.width() * scale, natural.height() * scale
        painter = QPainter(self)
        self._renderer.render(painter, QRectF((self.width() - w) / 2, 0, w, h))
        painter.end()


def _plot() -> tuple[QScrollArea, SvgPlot]:
    view = SvgPlot()
    area = QScrollArea(widgetResizable=True)
    area.setWidget(view)
    return area, view


class ClassReportDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Class report")
        resize_to_fit(self, 1000, 640)   # 1500x960 pixels at 150%: more than a 1366x768 screen
        self.task: worker.Task | None = None
        self.result: dict | None = None
        intro = QLabel("Put the results your learners exported from their Progress tab into one "
                       "folder, then choose it here. The report merges them (the newest file of "
                       "each learner counts) and writes CSV tables and plots into a "
                       "“class-report” folder inside it.", wordWrap=True)
        self.choose = QPushButton("Choose the folder of exports…")
        self.choose.clicked.connect(self.ask_folder)
        self.summary = QLabel(wordWrap=True, textInteractionFlags=Qt.TextSelectableByMouse)
        self.learners = self._table(["Learner", "Exported (UTC)", "Reading", "Lessons completed",
                                     "Best quiz (mean)", "Teach it back: best", "Teach it back: latest"])
        # Means over the class; short headers, so the lesson titles keep their room at 1000 px.
        self.lessons = self._table(["Lesson", "Learners", "Reading", "Completed", "Best quiz",
                                    "Teach-back best", "Teach-back latest"])
        self.questions = self._table(["Wrong at first try", "Quiz", "Question", "Text"])
        lessons_area, self.lessons_plot = _plot()
        questions_area, self.questions_plot = _plot()
        self.pages = QTabWidget()
        self.pages.addTab(self.learners, "Class")
        self.pages.addTab(self._split(self.lessons, lessons_area), "Per lesson")
        self.pages.addTab(self._split(self.questions, questions_area), "Questions the class gets wrong")
        head = QHBoxLayout()
        head.addWidget(self.choose)
        head.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(head)
        layout.addWidget(self.summary)
        layout.addWidget(self.pages, 1)

    @staticmethod
    def _split(table: QTableWidget, plot: QWidget) -> QSplitter:
        split = QSplitter(Qt.Vertical, childrenCollapsible=False)
        split.addWidget(table)
        split.addWidget(plot)
        split.setSizes([1, 1])
        return split

    @staticmethod
    def _table(headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    def ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "The folder of your learners' exports", str(Path.home()))
        if folder:
            self.load(Path(folder))

    def load(self, folder: Path) -> None:
        if self.task is not None:
            return
        self.summary.setText("Reading the exports…")
        self.choose.setEnabled(False)
        self.task = worker.run_in_background(
            write_report, folder, label="Building the class report", on_result=self.show_result,
            on_error=lambda message, _tb: self.summary.setText(f"The report could not be built: {message}"),
            on_finished=self._finished)

    def _finished(self) -> None:
        self.task = None
        self.choose.setEnabled(True)

    @staticmethod
    def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
        table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c > 0 and value[:1].isdigit() or value == "–":
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                table.setItem(r, c, item)

    def show_result(self, result: dict) -> None:
        self.result = result
        learners = result["learners"]
        if not learners:
            self.summary.setText("No studyapp exports in that folder. Learners export them from "
                                 "their Progress tab (Export CSV or Export JSON).")
        else:
            skipped = (f" Skipped {len(result['skipped'])} file"
                       f"{'s' if len(result['skipped']) != 1 else ''} that "
                       f"{'are' if len(result['skipped']) != 1 else 'is'} not an export."
                       if result["skipped"] else "")
            self.summary.setText(
                f"<b>{len(learners)} learner{'s' if len(learners) != 1 else ''}</b>, the newest "
                f"export of each.{skipped} The tables (CSV) and plots (SVG) are in the "
                f"“{result['out'].name}” folder beside the exports.")
        self._fill(self.learners, [
            [row["learner"], row["exported_at"][:16].replace("T", " "), _pct(row["reading"]),
             f"{row['completed']} of {row['lessons']}", _pct(row["best_quiz"]),
             _pct(row["teach_best"]), _pct(row["teach_latest"])]
            for row in result.get("class", [])])
        self._fill(self.lessons, [
            [row["title"], str(row["learners"]), _pct(row["mean_reading"]), str(row["completed"]),
             _pct(row["mean_best_quiz"]), _pct(row["mean_teach_best"]), _pct(row.get("mean_teach_latest"))]
            for row in result["lessons"]])
        self._fill(self.questions, [
            [f"{_pct(q['wrong_share'])} ({q['wrong']} of {q['answered']})", q["bank"], q["question"], q["text"]]
            for q in result["questions"][:20]])
        for view, name in ((self.lessons_plot, "lessons.svg"), (self.questions_plot, "questions.svg")):
            path = result["out"] / name
            if learners and path.is_file():
                view.load(str(path))
