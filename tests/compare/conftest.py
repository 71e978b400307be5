"""Fixtures for the compare tab: three tiny random GPT-2 folders (seconds to build) and a window on them."""
from pathlib import Path

import pytest

from studyapp.ui import worker
from tests.support import COURSE, make_tiny_models


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """base, sft and rlhf: tests/support.py's tiny SFT stand-in with seeds 0, 1 and 2, untrained, so
    each writes its own nonsense, but it streams, has distributions and loads like a shipped model."""
    return make_tiny_models(tmp_path_factory.mktemp("models"), policies=COURSE, distinct=True, reward=None)


@pytest.fixture
def open_compare(main_windows):
    """open_compare(models_dir=..., **flags) -> (window, tab), with the compare tab shown; after the
    test the tabs stop their answers before main_windows closes the windows."""
    def _open(**flags):
        window, _ = main_windows.open(size=(1280, 820), exposed=True, **flags)
        return window, window.show_tab("compare")

    yield _open
    for window, _ in main_windows.opened:
        window.tab_widgets["compare"].shutdown()
    worker.cancel_all()


def wait_idle(qtbot, tab, timeout=20_000) -> None:
    """Until no model is loading or answering and every queued token is drawn."""
    # worker._live empties only after each task's result handler ran (a loaded model starts its
    # answer from there), so it cannot read idle in the gap between loading and answering.
    def idle():
        assert not worker._live and not any(s.pending for s in tab.slots)
    qtbot.waitUntil(idle, timeout=timeout)
