"""Shared test set-up: headless Qt, and a profile folder per test.

The tests run in a random order (pytest-randomly, a test dependency): a test that passes only after
another one has set some global state (torch's thread count, a Qt singleton, an environment
variable) fails sooner or later instead of hiding. The seed is printed at the start and the end of
every run, even with -q; `pytest --randomly-seed=N` repeats that order, `-p no:randomly` runs the
files in order.
"""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


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
