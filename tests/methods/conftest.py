"""Fixtures for the comparison of methods: a tiny SFT model, a tiny reward model with a random but
fixed score head (so best-of-n has a favourite) and the preference pairs DPO learns from, all built
in seconds by tests/support.py's one builder."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import make_tiny_models


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    return make_tiny_models(tmp_path_factory.mktemp("methods-models"), reward="untrained", score_seed=1)
