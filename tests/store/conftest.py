"""Shared helpers for the profile-store tests: a clock the test moves by hand, file damage."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 14, 2, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "profile-home"
