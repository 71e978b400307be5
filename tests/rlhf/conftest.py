"""Models and a stand-in main window for the RLHF and HHH tab tests.

A tiny set is built once per session, whatever models are on disk, so the tests run the same
everywhere (tests/support.py's make_tiny_course_models): one 2-layer 32-wide GPT-2 saved as base, SFT and RLHF,
its tokenizer trained with the chat exchanges too, and an untrained 1-layer reward model with the
lab's preference pairs; a few seconds.
"""
import os
from pathlib import Path

import pytest

from tests.support import FakeWindow, make_tiny_course_models

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """Tiny models, built here whatever is on disk: the same models on every machine."""
    return make_tiny_course_models(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture
def open_tab(qtbot, tmp_path, models_dir):
    """open_tab(module, models=None) -> (tab, fake window), shown, with its first background work done."""
    from studyapp.ui import worker

    def _open(module, models: Path | None = None):
        window = FakeWindow.on_models(models or models_dir, tmp_path / "profile")
        tab = module.create_tab(window)
        qtbot.addWidget(tab)
        tab.resize(1200, 800)
        tab.show()
        qtbot.waitUntil(lambda: not worker._live, timeout=30_000)
        return tab, window

    yield _open
    worker.cancel_all()
