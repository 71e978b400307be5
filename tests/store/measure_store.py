"""Measure the profile's start-up and backup costs on a large profile (not a test; run by hand).

    python tests/store/measure_store.py [ROWS] [FOLDER]

Builds a profile holding ROWS (default 1,000,000) small review-log-like rows with an index, then
times: open_profile() (which runs quick_check), quick_check vs integrity_check alone, a verified
backup, the thorough check a restore candidate gets, and one small committed write with
synchronous=FULL vs NORMAL. Prints one line per figure.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from studyapp.store import LessonProgress, open_profile
from studyapp.store.backup import problem_with


def timed(label: str, fn, repeat: int = 1):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<46} {best * 1000:9.1f} ms")
    return value


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="measure-"))
    store = open_profile(folder).store
    with store.transaction() as db:
        db.execute("CREATE TABLE review_log (id INTEGER PRIMARY KEY, card_id INTEGER NOT NULL, "
                   "reviewed_at TEXT NOT NULL, rating INTEGER NOT NULL, elapsed_ms INTEGER)")
        db.conn.executemany(
            "INSERT INTO review_log (card_id, reviewed_at, rating, elapsed_ms) VALUES (?,?,?,?)",
            ((i % 3000, f"2026-11-{1 + i % 27:02d}T10:00:{i % 60:02d}.000Z", 1 + i % 4, i % 9000)
             for i in range(rows)))
        db.execute("CREATE INDEX review_log_card ON review_log(card_id, reviewed_at)")
    store.close(backup=False)
    path = folder / "profile.sqlite3"
    print(f"profile: {rows} rows, {path.stat().st_size / 2**20:.1f} MiB in {folder}")

    def check(kind: str) -> None:
        conn = sqlite3.connect(path)
        assert conn.execute(f"PRAGMA {kind}").fetchone()[0] == "ok"
        conn.close()

    timed("PRAGMA quick_check", lambda: check("quick_check"), 3)
    timed("PRAGMA integrity_check", lambda: check("integrity_check"), 3)

    def open_close() -> None:
        result = open_profile(folder, backup_on_start=False)
        result.store.close(backup=False)

    timed("open_profile (quick_check, no backup)", open_close, 3)
    store = open_profile(folder, backup_on_start=False).store
    backup = timed("backup_now (copy + quick_check + fsync)", store.backup_now, 3)
    timed("restore-candidate check (integrity_check)",
          lambda: problem_with(backup.path, thorough=True))
    for mode in ("FULL", "NORMAL"):
        store.conn.execute(f"PRAGMA synchronous={mode}")
        counter = iter(range(10**9))
        timed(f"one mark_section_read commit, synchronous={mode}",
              lambda: LessonProgress(store).mark_section_read("m", f"{mode}{next(counter)}"), 50)
    store.close(backup=False)


if __name__ == "__main__":
    main()
