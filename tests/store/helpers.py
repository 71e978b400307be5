"""Helpers for the profile-store tests: a filled profile, file damage, an integrity check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from studyapp.store import LessonProgress, open_profile
from tests.support import FakeClock


def fill_profile(data_dir: Path, clock: FakeClock, sections: int = 3000) -> None:
    """Make a profile big enough (many pages) that damage in its middle hits real b-tree pages."""
    result = open_profile(data_dir, clock=clock)
    store = result.store
    with store.transaction():
        for i in range(sections):
            LessonProgress(store).mark_section_read(f"lesson-{i % 7}", f"section-{i:05d}-" + "x" * 40)
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


def damage_index_silently(path: Path) -> None:
    """Make an index disagree with its table, as a flipped bit in an index page does: the
    page structure stays valid, so quick_check says "ok" and only integrity_check finds it.

    The index's SQL is turned into "WHERE 0" for one write (so the write skips it) and back.
    """
    conn = sqlite3.connect(path)
    [sql] = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'silent_t_x'").fetchone() or [None]
    if sql is None:
        conn.execute("CREATE TABLE silent_t (x TEXT)")
        conn.execute("CREATE INDEX silent_t_x ON silent_t(x)")
        conn.executemany("INSERT INTO silent_t VALUES (?)", [(f"v{i:04d}",) for i in range(200)])
        conn.commit()
        sql = "CREATE INDEX silent_t_x ON silent_t(x)"
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'silent_t_x'", [sql + " WHERE 0"])
    conn.commit()
    conn.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE silent_t SET x = 'changed' WHERE rowid = 7")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'silent_t_x'", [sql])
    conn.commit()
    conn.close()


def quick_check(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("PRAGMA quick_check")]
    finally:
        conn.close()
