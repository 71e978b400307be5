"""The class report window: a teacher picks the folder of learners' exports and sees the class.

The same work as `studyapp class report FOLDER` (studyapp.classreport, no Qt), run on a worker;
this window shows its per-lesson table and the questions most of the class gets wrong, and says
where the CSV tables and SVG plots were written. Opened from the Progress tab.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout,
)

from studyapp.classreport import write_report
from studyapp.ui import worker


def _pct(value) -> str:
    return "–" if value is None else f"{round(100 * value)}%"


class ClassReportDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Class report")
        self.resize(980, 620)
        self.task: worker.Task | None = None
        self.result: dict | None = None
        intro = QLabel("Put the results your learners exported from their Progress tab into one "
                       "folder, then choose it here. The report merges them (the newest file of "
                       "each learner counts) and writes CSV tables and plots into a "
                       "“class-report” folder inside it.", wordWrap=True)
        self.choose = QPushButton("Choose the folder of exports…")
        self.choose.clicked.connect(self.ask_folder)
        self.summary = QLabel(wordWrap=True, textInteractionFlags=Qt.TextSelectableByMouse)
        self.lessons = self._table(["Lesson", "Learners", "Reading", "Completed", "Best quiz (mean)",
                                    "Teach it back (best, mean)"])
        self.questions = self._table(["Wrong at first try", "Quiz", "Question", "Text"])
        head = QHBoxLayout()
        head.addWidget(self.choose)
        head.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(head)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("<b>Per lesson</b>"))
        layout.addWidget(self.lessons, 1)
        layout.addWidget(QLabel("<b>Questions the class gets wrong most</b> (at the first try)"))
        layout.addWidget(self.questions, 1)

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
        folder = QFileDialog.getExistingDirectory(self, "The folder of your learners' exports")
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
                f"<b>{len(learners)} learner{'s' if len(learners) != 1 else ''}</b>: "
                + ", ".join(l.learner for l in learners[:12]) + ("…" if len(learners) > 12 else "")
                + f".{skipped} Tables and plots are in the “{result['out'].name}” folder beside the exports.")
        rows = result["lessons"]
        self.lessons.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate([row["title"], str(row["learners"]), _pct(row["mean_reading"]),
                                       str(row["completed"]), _pct(row["mean_best_quiz"]),
                                       _pct(row["mean_teach_best"])]):
                self.lessons.setItem(r, c, QTableWidgetItem(value))
        hard = result["questions"][:20]
        self.questions.setRowCount(len(hard))
        for r, q in enumerate(hard):
            values = [f"{_pct(q['wrong_share'])} ({q['wrong']} of {q['answered']})", q["bank"],
                      q["question"], q["text"]]
            for c, value in enumerate(values):
                self.questions.setItem(r, c, QTableWidgetItem(value))
