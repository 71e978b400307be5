"""The background-work helper: results, progress, partial results, errors, cancel, pause, busy."""
import threading
import time

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from studyapp.ui import worker


def test_function_result_arrives_on_the_gui_thread(qtbot):
    seen = {}

    def on_result(value):
        seen["value"] = value
        seen["gui"] = QThread.currentThread() is QApplication.instance().thread()

    def work(a, b):
        seen["worker"] = QThread.currentThread() is not QApplication.instance().thread()
        return a + b

    task = worker.run_in_background(work, 2, 3, on_result=on_result)
    qtbot.waitUntil(lambda: task.done and "value" in seen, timeout=5000)
    assert seen == {"value": 5, "gui": True, "worker": True}


def test_progress_callback_and_cancel_event_are_injected(qtbot):
    steps = []

    def stage(*, progress, cancel):
        for i in range(1000):
            if cancel.is_set():
                return "stopped"
            progress({"step": i, "total": 1000})
            time.sleep(0.002)
        return "finished"

    cancelled = []
    task = worker.run_in_background(stage, on_progress=steps.append, on_cancelled=lambda: cancelled.append(1))
    qtbot.waitUntil(lambda: len(steps) >= 5, timeout=5000)
    task.cancel()
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    qtbot.waitUntil(lambda: bool(cancelled), timeout=2000)
    assert 5 <= len(steps) < 1000
    assert steps[0] == {"step": 0, "total": 1000}


def test_generator_yields_arrive_in_order(qtbot):
    def tokens():
        yield from ["The", " capital", " is", " Paris"]

    parts = []
    task = worker.run_in_background(tokens, on_partial=parts.append)
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    qtbot.waitUntil(lambda: len(parts) == 4, timeout=2000)
    assert "".join(parts) == "The capital is Paris"


def test_pause_holds_a_generator_and_resume_continues(qtbot):
    gate = threading.Event()

    def count():
        for i in range(50):
            if i == 3:
                gate.wait(60)   # the pause below is set while the worker still has 47 to send
            yield i

    parts = []
    task = worker.run_in_background(count, on_partial=parts.append)
    qtbot.waitUntil(lambda: len(parts) >= 3, timeout=5000)
    task.pause()
    gate.set()
    # Held: the worker waits at its next yield and can send nothing until resumed. What it sent
    # before stopping is delivered, and then the count stays put while it is held.
    qtbot.waitUntil(lambda: task.held, timeout=30_000)
    QApplication.processEvents()
    held = len(parts)
    QApplication.processEvents()
    assert task.held and len(parts) == held < 50
    task.resume()
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    qtbot.waitUntil(lambda: len(parts) == 50, timeout=2000)


def test_errors_reach_the_handler_with_a_message(qtbot):
    errors = []

    def broken():
        raise ValueError("the model folder has no config.json")

    task = worker.run_in_background(broken, on_error=lambda msg, tb: errors.append((msg, tb)))
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors[0][0] == "the model folder has no config.json"
    assert "ValueError" in errors[0][1]
    assert task.error.startswith("ValueError")


def test_errors_without_a_handler_go_to_the_app_reporter(qtbot, monkeypatch):
    reported = []
    monkeypatch.setattr(worker, "error_reporter", lambda title, msg, tb: reported.append((title, msg)))
    worker.run_in_background(lambda: 1 / 0, label="Dividing")
    qtbot.waitUntil(lambda: bool(reported), timeout=5000)
    assert reported[0] == ("Dividing failed", "division by zero")


def test_exclusive_tasks_refuse_a_second_run(qtbot):
    release = threading.Event()
    task = worker.run_in_background(lambda: release.wait(5), exclusive="training", label="PPO")
    with pytest.raises(worker.Busy, match="PPO is still running"):
        worker.run_in_background(lambda: None, exclusive="training")
    release.set()
    qtbot.waitUntil(lambda: worker.running("training") is None, timeout=5000)
    second = worker.run_in_background(lambda: None, exclusive="training")
    qtbot.waitUntil(lambda: second.done, timeout=5000)
    assert task.done


def test_a_result_queued_before_cancel_is_not_delivered(qtbot):
    delivered = []
    task = worker.run_in_background(lambda: "late", on_result=delivered.append)
    task.wait(5000)          # the result is queued, not yet delivered: the event loop has not run
    task.cancel()
    # Once the task has left the live set its finished signal was delivered, and the result
    # queued before it was handled (dropped) first: signals from one thread arrive in order.
    qtbot.waitUntil(lambda: task.done and task not in worker._live, timeout=5000)
    assert delivered == []


def test_shutdown_cancels_joins_and_delivers_the_last_signals(qtbot):
    started = threading.Event()
    seen = []

    def stage(*, cancel):
        started.set()
        cancel.wait()
        return "stopped"

    task = worker.run_in_background(stage, on_cancelled=lambda: seen.append("cancelled"),
                                     on_finished=lambda: seen.append("finished"))
    assert started.wait(10)
    assert worker.shutdown() == []
    # Joined, and the handlers ran inside shutdown(), while their receivers still exist.
    assert task.done and not task._thread.isRunning()
    assert seen == ["cancelled", "finished"] and task not in worker._live


def test_shutdown_reports_a_task_that_will_not_stop(qtbot):
    release = threading.Event()
    task = worker.run_in_background(lambda: release.wait(30), label="Stubborn")
    try:
        stuck = worker.shutdown(wait_ms=50)
        assert stuck == [task] and task in worker._live     # never destroyed while it runs
    finally:
        release.set()
        qtbot.waitUntil(lambda: task.done and task not in worker._live, timeout=10_000)


def test_a_paused_task_is_held_at_its_next_step_until_resumed(qtbot):
    steps, go = [], threading.Event()

    def stage(*, progress):
        go.wait(10)
        for i in range(1000):
            progress(i)
        return "finished"

    task = worker.run_in_background(stage, on_progress=steps.append)
    task.pause()   # before the first step, so the pause is met at step 0
    go.set()
    qtbot.waitUntil(lambda: task.held, timeout=5000)
    QApplication.processEvents()
    held = len(steps)
    assert task.held and not task.done and held < 1000
    task.resume()
    qtbot.waitUntil(lambda: task.done, timeout=10_000)
    qtbot.waitUntil(lambda: len(steps) == 1000, timeout=5000)
    assert not task.held
