"""The Progress tab and its export: a read lesson, a quiz score, cards and a teach-it-back
attempt show up per lesson, and the CSV/JSON files a teacher gets are valid and complete."""
from __future__ import annotations

import csv
import json

import pytest

from studyapp.store.quiz import QuizHistory
from studyapp.store.teach import TeachAttempts
from studyapp import results
from studyapp.store import Settings
from tests.support import only_tabs


@pytest.fixture
def window(main_windows, monkeypatch):
    only_tabs(monkeypatch, ("lessons", "teach", "progress"))
    return main_windows.open(show=False)


def fill(ctx):
    """Read all of lesson 1 and half of lesson 2, one quiz at 12/16, one teach-it-back attempt."""
    lessons = {lesson.slug: lesson for lesson in ctx.lessons}
    for section in lessons["base-models"].sections:
        ctx.progress.mark_section_read("base-models", section.id)
    ctx.progress.set_completed("base-models")
    for section in lessons["instruction-tuning"].sections[:3]:
        ctx.progress.mark_section_read("instruction-tuning", section.id)
    history = QuizHistory(ctx.store)
    attempt = history.start("base-models", "base-models", "test", [str(i) for i in range(16)])
    for i in range(16):
        history.record_answer(attempt, str(i), {"choices": [0]}, correct=i < 12)
    history.finish(attempt)
    points = [{"id": "a", "status": "covered", "lessons": ["ppo-and-kl"]},
              {"id": "b", "status": "partly", "lessons": ["ppo-and-kl"]},
              {"id": "c", "status": "missing", "lessons": ["hhh"]}]
    TeachAttempts(ctx.store).add("base-to-assistant", "my text",
                                 {"coverage": 0.5, "grader": "g", "band": "Good", "points": points})


def shown(qtbot, win):
    tab = win.show_tab("progress")
    win.show()
    qtbot.waitUntil(lambda: tab.report is not None and tab.task is None, timeout=10_000)
    return tab


def row_of(tab, slug):
    for row in range(tab.table.rowCount()):
        if tab.table.item(row, 0).data(0x0100) == slug:   # Qt.UserRole
            return row
    raise AssertionError(slug)


def test_progress_shows_reading_quiz_cards_and_teach_back(window, qtbot):
    win, ctx = window
    fill(ctx)
    tab = shown(qtbot, win)
    first = row_of(tab, "base-models")
    assert "✔ completed" in tab.table.item(first, 0).text()
    total = len(next(l for l in ctx.lessons if l.slug == "base-models").sections)
    assert tab.table.cellWidget(first, 1).format() == f"{total} of {total} sections"
    assert tab.table.cellWidget(first, 1).value() == 100
    assert tab.table.cellWidget(first, 2).format() == "best 75%"
    second = row_of(tab, "instruction-tuning")
    assert tab.table.cellWidget(second, 1).format().startswith("3 of ")
    assert tab.table.cellWidget(second, 2).format() == "no quiz taken yet"
    ppo = row_of(tab, "ppo-and-kl")
    assert tab.table.cellWidget(ppo, 4).format() == "best 75% · latest 75%"
    assert "1.5" in tab.table.cellWidget(ppo, 4).toolTip()
    assert "1 of 6" in tab.summary.text() and "best <b>50%</b>" in tab.summary.text()
    assert "glossary" not in [tab.table.item(r, 0).data(0x0100) for r in range(tab.table.rowCount())]


def test_progress_refreshes_when_shown_again(window, qtbot):
    win, ctx = window
    tab = shown(qtbot, win)
    assert tab.table.cellWidget(row_of(tab, "base-models"), 2).format() == "no quiz taken yet"
    fill(ctx)
    win.show_tab("lessons")
    tab = shown(qtbot, win)
    qtbot.waitUntil(lambda: tab.table.cellWidget(row_of(tab, "base-models"), 2).format() == "best 75%",
                    timeout=10_000)


def test_double_click_opens_the_lesson(window, qtbot):
    win, ctx = window
    tab = shown(qtbot, win)
    tab.table.cellDoubleClicked.emit(row_of(tab, "ppo-and-kl"), 0)
    assert win.current_tab_name() == "lessons"
    assert win.tab_widgets["lessons"].current.slug == "ppo-and-kl"


def test_export_writes_valid_csv_and_json(window, qtbot, tmp_path):
    win, ctx = window
    fill(ctx)
    tab = shown(qtbot, win)
    tab.export("csv", tmp_path / "results.csv")
    tab.export("json", tmp_path / "results.json")
    with open(tmp_path / "results.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == results.CSV_COLUMNS
    assert [r["lesson"] for r in rows] == [l.slug for l in tab.lessons]
    first = rows[0]
    assert (first["lesson"], first["completed"], first["best_quiz"]) == ("base-models", "True", "0.75")
    assert rows[1]["best_quiz"] == "" and rows[1]["sections_read"] == "3"
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["format"] == "studyapp-results/2"
    assert data["lessons"][0]["best_quiz"] == 0.75 and data["lessons"][0]["completed"] is True
    (attempt,) = data["teach_attempts"]
    assert (attempt["coverage"], attempt["covered"], attempt["missing"]) == (0.5, ["a"], ["c"])
    assert data["quiz_attempts"][0]["score"] == 12 and data["quiz_attempts"][0]["finished"]
    assert data["quiz_attempts"][0]["first_try"]["0"] is True
    assert data["quiz_attempts"][0]["first_try"]["15"] is False


def test_export_carries_name_date_and_version_and_asks_the_name_once(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    from studyapp import __version__

    win, ctx = window
    fill(ctx)
    tab = shown(qtbot, win)
    asked, suggested = [], []
    monkeypatch.setattr(QInputDialog, "getText",
                        staticmethod(lambda *a, **k: (asked.append(1), ("  Ada   Lovelace ", True))[1]))

    def save_as(_parent, _title, path, _filter):
        suggested.append(path)
        return str(tmp_path / f"out{len(suggested)}.csv"), ""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_as))
    tab.ask_export("csv")
    tab.ask_export("csv")
    assert len(asked) == 1                                  # asked once, then kept in the profile
    assert Settings(ctx.store).get(results.LEARNER_KEY) == "Ada Lovelace"
    assert "studyapp-results-ada-lovelace-" in suggested[0] and suggested[0].endswith(".csv")
    assert "Ada Lovelace" in tab.name_button.text()
    with open(tmp_path / "out1.csv", newline="", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    assert row["learner"] == "Ada Lovelace" and row["app_version"] == __version__
    assert row["exported_at"][:4].isdigit()


def test_best_and_latest_teach_scores_are_both_shown(window, qtbot):
    win, ctx = window
    teach = TeachAttempts(ctx.store)
    good = [{"id": "a", "status": "covered", "lessons": ["ppo-and-kl"]},
            {"id": "b", "status": "covered", "lessons": ["ppo-and-kl"]}]
    worse = [{"id": "a", "status": "covered", "lessons": ["ppo-and-kl"]},
             {"id": "b", "status": "missing", "lessons": ["ppo-and-kl"]}]
    teach.add("base-to-assistant", "first", {"coverage": 0.9, "grader": "g", "points": good})
    teach.add("base-to-assistant", "second", {"coverage": 0.4, "grader": "g", "points": worse})
    report = results.collect(ctx.store, [l for l in ctx.lessons if l.slug != "glossary"])
    row = next(r for r in report.lessons if r.lesson == "ppo-and-kl")
    assert (row.teach_best, row.teach_coverage) == (1.0, 0.5)
    tab = shown(qtbot, win)
    bar = tab.table.cellWidget(row_of(tab, "ppo-and-kl"), 4)
    assert bar.format() == "best 100% · latest 50%"


def test_export_to_an_unwritable_place_says_so(window, qtbot, tmp_path):
    win, ctx = window
    tab = shown(qtbot, win)
    messages = []
    tab.status.connect(messages.append)
    tab.export("csv", tmp_path / "no-such-folder" / "results.csv")
    assert messages and messages[0].startswith("Could not export")


def test_report_on_an_empty_profile(window):
    win, ctx = window
    report = results.collect(ctx.store, [l for l in ctx.lessons if l.slug != "glossary"])
    assert all(r.sections_read == 0 and r.best_quiz is None and r.teach_coverage is None
               for r in report.lessons)
    assert report.notes == []


@pytest.mark.parametrize("size", [(911, 472), (1280, 680)])   # 1366x768 at 150% and at 100%
def test_every_bar_text_fits_its_bar(window, qtbot, size):
    """The widest texts ("best 100% · latest 100%", "no quiz taken yet") are drawn whole inside
    their bars, at 150% scaling of a 1366x768 screen too: a QProgressBar clips, it never elides."""
    win, ctx = window
    fill(ctx)
    full = [{"id": "a", "status": "covered", "lessons": ["ppo-and-kl", "base-models"]}]
    TeachAttempts(ctx.store).add("base-to-assistant", "all", {"coverage": 1.0, "grader": "g", "points": full})
    win.resize(*size)
    tab = shown(qtbot, win)
    qtbot.waitUntil(lambda: tab.table.cellWidget(0, 4) is not None)
    from PySide6.QtWidgets import QApplication
    QApplication.processEvents()
    texts = []
    for row in range(tab.table.rowCount()):
        for column in range(1, tab.table.columnCount()):
            bar = tab.table.cellWidget(row, column)
            if bar is None:
                continue
            texts.append(bar.text())
            inside = bar.width() - 2 * 6 - 2 * 4    # the style's side margins, border and padding
            needed = bar.fontMetrics().horizontalAdvance(bar.text())
            assert needed <= inside, f"{bar.text()!r} needs {needed} px, its bar has {inside}"
    assert "best 100% · latest 100%" in texts
