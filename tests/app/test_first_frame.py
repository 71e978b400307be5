"""The first-full-frame probe behind the start-up bench and the timing hook: it reports the end of
the last paint before the window settles (not the first Paint event), waits while background work
is on its way to the screen, and reads the peak memory."""
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QMainWindow

from studyapp.ui.first_frame import FirstFrame, process_start


def test_content_that_arrives_after_the_first_paint_is_part_of_the_first_full_frame(qtbot):
    window, label = QMainWindow(), QLabel("loading…")
    window.setCentralWidget(label)
    qtbot.addWidget(window)
    results, arrived = [], {}
    t0 = time.time()
    FirstFrame(window, lambda seconds, peak: results.append((seconds, peak)), t0=t0)

    def content_arrives():
        label.setText("the lesson")
        arrived["at"] = time.time() - t0

    window.show()
    QTimer.singleShot(100, content_arrives)   # a tab filling in just after its first paint (< QUIET_MS)
    qtbot.waitUntil(lambda: bool(results), timeout=20_000)
    seconds, peak = results[0]
    assert seconds >= arrived["at"] and peak > 10


def test_the_frame_is_not_full_while_background_work_runs(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    results, state = [], {"busy": True, "asked": 0}

    def busy():
        state["asked"] += 1
        return state["busy"]

    FirstFrame(window, lambda seconds, peak: results.append(seconds), busy=busy, t0=time.time())
    window.show()
    # The window painted and went quiet, twice over: the probe asked, heard "busy", and waited.
    qtbot.waitUntil(lambda: state["asked"] >= 2, timeout=20_000)
    assert results == []
    state["busy"] = False
    qtbot.waitUntil(lambda: bool(results), timeout=20_000)
    assert len(results) == 1


def test_process_start_is_before_now():
    start = process_start()
    assert start is None or 0 < time.time() - start < 24 * 3600
