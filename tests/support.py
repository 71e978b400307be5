"""Test helpers shared across areas: a clock the test moves, and a child process killed midway."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class FakeClock:
    """A clock for code that takes `clock=`; starts mid-day UTC, far from any day boundary."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def kill_midway(script: str, args: list[str], kill_after: int) -> list[int]:
    """Run `python -c script *args`, which prints one integer per line for every write it has
    committed; SIGKILL it after `kill_after` lines and return every integer it printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, env=env)
    reported: list[int] = []
    try:
        for line in child.stdout:
            reported.append(int(line))
            if len(reported) >= kill_after:
                os.kill(child.pid, signal.SIGKILL)
                break
        reported.extend(int(line) for line in child.stdout)   # printed before it died
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL, "the child ended before it could be killed"
    return reported
