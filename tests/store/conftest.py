"""Shared helpers for the profile-store tests: a clock the test moves by hand, file damage."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 14, 2, tzinfo=timezone.utc))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "profile-home"
