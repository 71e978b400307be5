"""One Cancelled for the lab and the worker: a stage stopped by its own cancel event reads as
cancelled in the GUI (not as an error), and a task cancelled from the GUI stops a lab stage."""
import threading

from studyapp.lab.common import Cancelled, check_cancel
from studyapp.ui import worker


def test_the_worker_and_the_lab_share_one_cancelled_class():
    assert worker.Cancelled is Cancelled


def test_a_stage_that_raises_the_labs_cancelled_is_reported_as_cancelled(qtbot):
    own = threading.Event()
    own.set()   # e.g. a run stopped from another window: the stage's own event, not the task's
    seen = {"cancelled": 0, "failed": []}

    def stage():
        check_cancel(own)
        return "finished"

    task = worker.run_in_background(stage, on_cancelled=lambda: seen.__setitem__("cancelled", 1),
                                    on_error=lambda msg, _tb: seen["failed"].append(msg))
    qtbot.waitUntil(lambda: task.done and seen["cancelled"] == 1, timeout=10_000)
    assert seen["failed"] == [] and task.error is None


def test_a_cancelled_task_stops_a_lab_stage_at_its_next_check(qtbot):
    started, steps = threading.Event(), []

    def stage(*, progress, cancel):
        for i in range(10_000):
            started.set()
            cancel.wait(0.01)
            check_cancel(cancel)   # the lab's way; the worker's progress call would raise the same class
            progress({"step": i})
            steps.append(i)
        return "finished"

    results, cancelled = [], []
    task = worker.run_in_background(stage, on_result=results.append, on_cancelled=lambda: cancelled.append(1))
    qtbot.waitUntil(started.is_set, timeout=10_000)
    task.cancel()
    qtbot.waitUntil(lambda: task.done and bool(cancelled), timeout=10_000)
    assert results == [] and len(steps) < 10_000
