"""Shared test set-up: headless Qt, and a profile folder per test.

The tests run in a random order (pytest-randomly, a test dependency): a test that passes only after
another one has set some global state (torch's thread count, a Qt singleton, an environment
variable) fails sooner or later instead of hiding. The seed is printed at the start and the end of
every run, even with -q; `pytest --randomly-seed=N` repeats that order, `-p no:randomly` runs the
files in order.
"""
import os
import sys

import pytest
from pytestqt.qtbot import QtBot

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# A wait on a condition (qtbot.waitUntil, waitSignal, ...) is a bound for a test that hangs, never a
# speed check. Bounds of 2-5 s that an idle machine meets with room to spare fail when two other
# processes keep both cores busy (a training run, another test run); so no wait gives up sooner
# than this. A passing test waits no longer than before; only a failing one fails later.
MIN_WAIT_MS = 120_000


def _patient(timeout: int) -> int:
    return timeout if timeout <= 0 else max(timeout, MIN_WAIT_MS)   # 0 or less: pytest-qt's "no bound"


class PatientQtBot(QtBot):
    """pytest-qt's QtBot with every wait bounded by at least MIN_WAIT_MS."""

    def waitUntil(self, callback, *, timeout=5000):
        return super().waitUntil(callback, timeout=_patient(timeout))

    def waitSignal(self, signal, *, timeout=5000, **kwargs):
        return super().waitSignal(signal, timeout=_patient(timeout), **kwargs)

    def waitSignals(self, signals, *, timeout=5000, **kwargs):
        return super().waitSignals(signals, timeout=_patient(timeout), **kwargs)

    def waitCallback(self, *, timeout=5000, **kwargs):
        return super().waitCallback(timeout=_patient(timeout), **kwargs)

    def waitExposed(self, widget, *, timeout=5000):
        return super().waitExposed(widget, timeout=_patient(timeout))

    def waitActive(self, widget, *, timeout=5000):
        return super().waitActive(widget, timeout=_patient(timeout))


@pytest.fixture
def main_windows(qtbot, tmp_path):
    """tests/support.MainWindows on this test's tmp_path: `main_windows.open(**flags)` gives the
    real main window and its context; every window still open is closed after the test, passed or
    failed."""
    from tests.support import MainWindows

    windows = MainWindows(tmp_path, qtbot)
    yield windows
    windows.close()


@pytest.fixture
def qtbot(qtbot):
    """Every test's qtbot (pytest-qt's own) waits patiently: see MIN_WAIT_MS."""
    qtbot.__class__ = PatientQtBot
    return qtbot



def _torch_threads() -> int | None:
    """torch's thread count, or None while torch is not (or not yet wholly) imported: the main
    window imports it on a thread of its own after the first frame (ui/main_window.py)."""
    get = getattr(sys.modules.get("torch"), "get_num_threads", None)
    return get() if get is not None else None


@pytest.fixture(autouse=True)
def _process_state_restored():
    """What one test changes for the whole process is put back before the next test, so that no
    test passes or fails because of the tests that ran before it: the environment (the CLI turns
    global flags into variables, the tutor and the self-test set offline switches), torch's thread
    count (the lab sets it per process), the worker's error reporter (a main window installs its
    own, then is deleted) and the app-wide theme (a test switches to dark)."""
    environ = dict(os.environ)
    threads = _torch_threads()
    yield
    if dict(os.environ) != environ:
        os.environ.clear()
        os.environ.update(environ)
    if threads is not None and _torch_threads() not in (None, threads):
        sys.modules["torch"].set_num_threads(threads)
    worker = sys.modules.get("studyapp.ui.worker")
    if worker is not None:
        worker.set_error_reporter(worker._default_error_reporter)
    theme = sys.modules.get("studyapp.ui.theme")
    if theme is not None:
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is not None and theme.current(app) != "light":
            theme.apply(app, "light")


def _order_line(config) -> str | None:
    if not config.pluginmanager.hasplugin("randomly"):
        return None
    seed = config.getoption("randomly_seed", None)
    if seed is None or config.getoption("randomly_reorganize", True) is False:
        return None
    return f"random test order, seed {seed}: repeat it with  pytest --randomly-seed={seed}"


def pytest_collection_finish(session) -> None:
    line = _order_line(session.config)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if line and reporter is not None:
        reporter.write_line(line)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    line = _order_line(config)
    if line:
        terminalreporter.write_line(line)
