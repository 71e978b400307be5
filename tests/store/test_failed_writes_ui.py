"""A profile write that fails in the GUI is reported once, kept, and saved when it can be.

Lesson progress written while another program holds the profile's lock used to raise inside a
Qt slot: a traceback on stderr, no message, the progress dropped (issue 12, item 4).
"""
from __future__ import annotations

import sqlite3

from PySide6.QtWidgets import QApplication, QMessageBox

from studyapp.ui import storage_errors


def _warnings() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()
            and w.windowTitle() == "Your progress is not saved yet"]


def test_lesson_progress_written_while_locked_is_reported_kept_and_saved_later(qtbot, main_windows):
    window, ctx = main_windows.open(exposed=True)
    writes = storage_errors.pending()
    writes._timer.setInterval(50)
    ctx.store.conn.execute("PRAGMA busy_timeout=50")
    tab = window.tab_widgets["lessons"]
    lesson = tab.current
    holder = sqlite3.connect(ctx.store.path)
    holder.execute("BEGIN IMMEDIATE")          # another program is writing
    try:
        bar = tab.view.verticalScrollBar()
        for value in range(0, bar.maximum() + 400, max(200, tab.view.viewport().height() // 2)):
            bar.setValue(value)
            tab._mark_visible_read()            # no exception escapes the slot
        assert len(writes) == len(lesson.sections) + 1   # every section, and "completed"
        [box] = _warnings()                      # one message, not one per write
        assert str(ctx.store.path) in box.text() and "another program" in box.text()
        assert ctx.progress.sections_read(lesson.slug) == set()
    finally:
        holder.rollback()
        holder.close()
    qtbot.waitUntil(lambda: len(writes) == 0, timeout=20_000)
    assert ctx.progress.sections_read(lesson.slug) == {s.id for s in lesson.sections}
    assert ctx.progress.lesson_progress()[lesson.slug].completed
    assert _warnings() == []
