"""Closing the window, or the profile, while the compare tab's models answer or while the RLHF tab
fine-tunes the reward model: nothing raises (pytest-qt fails a test on any exception in a slot),
nothing is reported as an error, and nothing already saved is lost: the profile's settings, the
window's state, and the learner's reward model from an earlier fine-tune, byte for byte.

Each task is started paused (worker.Task.pause before its thread runs: the worker stops at its
first yield or progress call), so the close happens while the answer or the training is really under way on
every machine, however fast or busy; tests/app/test_clean_exit.py closes the real app at the same
moments without pausing, in a subprocess. (PPO's case: tests/ppo/test_close_during_run.py.)
"""
import contextlib
import hashlib

import pytest

from studyapp.app import build_context, create_window
from studyapp.store import open_profile
from studyapp.store.settings import Settings
from studyapp.ui import worker
from tests.support import make_config, make_tiny_course_models

TIMEOUT_MS = 120_000   # a bound on a condition: torch loads slowly on a busy machine


@pytest.fixture(scope="module")
def course_models(tmp_path_factory):
    return make_tiny_course_models(tmp_path_factory.mktemp("course-models"))


@pytest.fixture
def app(qtbot, tmp_path, course_models):
    """app() -> (ctx, window, reported): the real main window on a fresh profile and the tiny models."""
    opened = []

    def _open():
        ctx = build_context(make_config(tmp_path, models_dir=course_models))
        window = create_window(ctx)
        qtbot.addWidget(window)
        reported = []
        window.report_error = lambda title, message, details="": reported.append((title, message))
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        opened.append((ctx, window))
        return ctx, window, reported

    yield _open
    for ctx, window in opened:
        window.close()
        worker.cancel_all(wait_ms=TIMEOUT_MS)
        if not ctx.store.closed:
            ctx.store.close(backup=False)


@contextlib.contextmanager
def started_paused():
    """Every task started inside is paused before its thread runs, so it stops at its first report.

    Pausing after the start raced the worker: on a fast machine the tiny models' answer was over
    before the pause was seen, and the test failed for want of a moment to close in.
    """
    with pytest.MonkeyPatch.context() as mp:
        init = worker.Task.__init__

        def paused_init(self, *args, **kwargs):
            init(self, *args, **kwargs)
            self.pause()

        mp.setattr(worker.Task, "__init__", paused_init)
        yield


def hold(qtbot, task) -> None:
    """Wait until a task started paused stands at its first report."""
    assert task.paused
    qtbot.waitUntil(lambda: task.held or task.done, timeout=TIMEOUT_MS)
    assert task.held and not task.done, "the task ended before it could be held"


def close(what: str, window, ctx) -> None:
    if what == "window":
        window.close()        # the app closes the profile once the window is gone (app.run_gui)
        assert not window.isVisible() and not worker._live
    ctx.store.close(backup=False)


def reopened_settings(data_dir) -> dict:
    store = open_profile(data_dir, backup_on_start=False).store
    try:
        return {k: Settings(store).get(k) for k in ("probe", "last_tab")}
    finally:
        store.close(backup=False)


@pytest.mark.parametrize("what", ["window", "profile"])
def test_closing_while_the_models_answer_loses_nothing_and_raises_nothing(app, qtbot, tmp_path, what):
    ctx, window, reported = app()
    ctx.settings.set("probe", {"saved": "before the answer"})
    tab = window.show_tab("compare")
    qtbot.waitUntil(lambda: all(s.loaded is not None for s in tab.slots), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not tab.busy(), timeout=TIMEOUT_MS)   # the first (France) run is over
    tab.prompt.setPlainText("What is the capital of France?")
    with started_paused():
        assert tab.generate()
    tasks = [s.task for s in tab.slots]
    for task in tasks:
        hold(qtbot, task)
    qtbot.waitUntil(lambda: all(s.column.prompt_shown for s in tab.slots), timeout=TIMEOUT_MS)

    close(what, window, ctx)
    if what == "profile":     # the answers go on without the profile and end as usual
        for task in tasks:
            task.resume()
        # A task reads done before its result reaches the tab; worker._live empties after that.
        qtbot.waitUntil(lambda: all(t.done for t in tasks) and not worker._live, timeout=TIMEOUT_MS)
        assert all("tokens/s" in s.column.status.text() for s in tab.slots)
        window.close()
    assert all(t.done for t in tasks) and not worker._live
    assert reported == []
    saved = reopened_settings(tmp_path / "profile")
    assert saved["probe"] == {"saved": "before the answer"}
    if what == "window":      # the window saved its state on the way out
        assert saved["last_tab"] == "compare"


def files_of(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def fine_tune(qtbot, page, *, epochs: int = 1):
    page.epochs_box.setValue(epochs)
    page.max_shipped = 64                    # seconds, not minutes: a sample of the lab's pairs
    page.train()
    assert page.train_task is not None, page.train_status.text()
    return page.train_task


@pytest.mark.parametrize("what", ["window", "profile"])
def test_closing_during_a_reward_fine_tune_keeps_the_learners_model_and_raises_nothing(app, qtbot, tmp_path,
                                                                                       what):
    ctx, window, reported = app()
    tab = window.show_tab("rlhf")
    qtbot.waitUntil(lambda: not worker._live, timeout=TIMEOUT_MS)    # the tab's first samples
    page = tab.training
    fine_tune(qtbot, page)                                           # the learner's model, finished
    qtbot.waitUntil(lambda: page.train_task is None, timeout=TIMEOUT_MS)
    mine = tab.mine_dir
    assert tab.reward_dir == mine and reported == []
    before = files_of(mine)
    siblings = sorted(p.name for p in mine.parent.iterdir())

    with started_paused():
        task = fine_tune(qtbot, page, epochs=3)                      # a second one, closed midway
    hold(qtbot, task)
    qtbot.waitUntil(lambda: page.train_progress.maximum() > 0, timeout=TIMEOUT_MS)   # it reported a step
    close(what, window, ctx)
    if what == "profile":     # the training needs no profile: it ends and its model is used
        task.resume()
        qtbot.waitUntil(lambda: page.train_task is None, timeout=TIMEOUT_MS)
        assert "now in use" in page.train_status.text()
        window.close()
    else:
        assert task.done and page.train_task is None
        assert files_of(mine) == before                          # the earlier model, byte for byte
    assert sorted(p.name for p in mine.parent.iterdir()) == siblings   # no half-written folder left
    assert reported == []

    # The next start finds the learner's model in use and loads it.
    ctx2 = build_context(make_config(tmp_path, models_dir=ctx.config.models_path))
    try:
        window2 = create_window(ctx2)
        qtbot.addWidget(window2)
        assert window2.show_tab("rlhf").reward_dir == mine
        from studyapp.lab.reward import load_reward_model
        load_reward_model(mine, "cpu")
        window2.close()
    finally:
        ctx2.store.close(backup=False)
