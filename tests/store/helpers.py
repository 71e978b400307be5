"""Helpers for the profile-store tests: a filled profile, file damage, an integrity check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from studyapp.store import open_profile
from tests.support import FakeClock


def fill_profile(data_dir: Path, clock: FakeClock, sections: int = 3000) -> None:
    """Make a profile big enough (many pages) that damage in its middle hits real b-tree pages."""
    result = open_profile(data_dir, clock=clock)
    store = result.store
    with store.transaction():
        for i in range(sections):
            store.progress.mark_section_read(f"lesson-{i % 7}", f"section-{i:05d}-" + "x" * 40)
    store.close(backup=False)


def damage_middle(path: Path, length: int = 8192) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(size // 2)
        handle.write(b"\xa5" * length)


def integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()
