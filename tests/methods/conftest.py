"""Fixtures for the comparison of methods: a tiny SFT model, a tiny reward model with a random but
fixed score head (so best-of-n has a favourite) and the preference pairs DPO learns from, all built
in seconds by tests/support.py's builders."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import make_tiny_reward, make_tiny_sft


def build_tiny_models(folder: Path) -> Path:
    make_tiny_sft(folder / "sft")
    make_tiny_reward(folder / "reward", folder / "sft", score_seed=1)
    return folder


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    return build_tiny_models(tmp_path_factory.mktemp("methods-models"))
