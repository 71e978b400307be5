"""Closing the profile, or the whole window, while a PPO run trains or cancels: nothing raises in
the event loop and nothing the run wrote is lost (its steps stay in the profile and reopen)."""
import pytest

from studyapp.store import open_profile
from studyapp.store.labruns import LabRuns
from studyapp.ui import worker
from studyapp.ui.ppo_tab import PPOTab
from tests.support import make_config

RUN_TIMEOUT_MS = 300_000   # a bound on a condition: torch loads slowly on a busy machine


def started_run(qtbot, window, steps=200):
    tab = PPOTab(window)
    qtbot.addWidget(tab)
    tab.settings.steps.setValue(steps)
    tab.settings.batch.setValue(4)
    tab.start()
    assert tab.task is not None, tab.status.text()
    run = tab.live
    qtbot.waitUntil(lambda: len(run) >= 1 or tab.task is None, timeout=RUN_TIMEOUT_MS)
    assert window.errors == [] and len(run) >= 1
    return tab, run


def stored_runs(data_dir):
    store = open_profile(data_dir, backup_on_start=False).store
    try:
        return LabRuns(store).list("ppo")
    finally:
        store.close(backup=False)


def test_closing_the_profile_while_a_run_cancels_raises_nothing_and_keeps_its_steps(qtbot, make_window,
                                                                                   tiny_models, tmp_path):
    window = make_window(models=tiny_models)
    tab, run = started_run(qtbot, window)
    task = tab.task
    tab.cancel()
    # The profile closes while the run is still winding down: its last signals (cancelled,
    # finished) are still queued when the connection goes.
    worker.cancel_all(wait_ms=RUN_TIMEOUT_MS)
    assert task.done
    window.ctx.store.close(backup=False)
    qtbot.waitUntil(lambda: tab.task is None, timeout=RUN_TIMEOUT_MS)   # the queued signals arrive
    assert window.errors == []
    [row] = stored_runs(tmp_path / "profile")
    assert row["steps"] == len(run) >= 1          # every step the tab showed is in the profile


@pytest.mark.parametrize("cancelling", [False, True], ids=["training", "cancelling"])
def test_closing_the_window_during_a_run_keeps_it_as_cancelled_with_every_step(qtbot, tiny_models, tmp_path,
                                                                                cancelling):
    from studyapp.app import build_context
    from studyapp.ui.main_window import MainWindow

    data = tmp_path / "profile"
    ctx = build_context(make_config(tmp_path, data_dir=data, models_dir=tiny_models))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    reported = []
    window.report_error = lambda title, message, details="": reported.append((title, message))
    tab = window.show_tab("ppo")
    tab.settings.steps.setValue(200)
    tab.settings.batch.setValue(4)
    tab.start()
    assert tab.task is not None, tab.status.text()
    run = tab.live
    qtbot.waitUntil(lambda: len(run) >= 1 or tab.task is None, timeout=RUN_TIMEOUT_MS)
    assert reported == [] and len(run) >= 1
    if cancelling:
        tab.cancel()
    window.close()                      # what the learner does; the app then closes the profile
    assert not window.isVisible() and tab.task is None and worker.running("training") is None
    ctx.store.close(backup=False)
    assert reported == []
    [row] = stored_runs(data)
    assert row["status"] == "cancelled" and row["steps"] == len(run) >= 1
