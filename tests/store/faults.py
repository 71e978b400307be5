"""Fault-injection scenarios for the profile store, sized by their callers.

The suite runs each with a few trials (tests/store/test_faults.py); bench/store_faults.py runs
them at the sizes issue 12 names (20 kills each, 40 bit flips, two processes for a minute). Each
scenario raises AssertionError on the first committed write lost or file left damaged, and
returns what it measured.
"""
from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from studyapp.store import backup as backups
from studyapp.store import LessonProgress, Settings, open_profile
from tests.support import REPO, FakeClock, kill_midway


def integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def _sections(store, lesson: str) -> set[str]:
    return LessonProgress(store).sections_read(lesson)


# ---- kill -9 during backups -----------------------------------------------------------------

BACKUP_CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from studyapp.store import LessonProgress, Settings, open_profile
    store = open_profile(Path(sys.argv[1]), backup_on_start=False).store
    start = int(sys.argv[2])
    for i in range(start, start + 100000):
        LessonProgress(store).mark_section_read("kill", f"s{i:07d}")
        Settings(store).set("padding", "x" * (i % 3000))
        store.backup_now()
        print(i, flush=True)
""")


def kill_during_backups(data_dir: Path, trials: int, seed: int = 1) -> dict:
    """SIGKILL a process that writes and backs up in a loop, `trials` times at random moments."""
    rng = random.Random(seed)
    reported: list[int] = []
    for trial in range(trials):
        reported += kill_midway(BACKUP_CHILD, [str(data_dir), str(trial * 1_000_000)],
                                rng.randint(1, 6))
        opened = open_profile(data_dir, backup_on_start=False)
        assert opened.messages == [] and opened.set_aside == [], opened.messages
        stored = _sections(opened.store, "kill")
        opened.store.close(backup=False)
        missing = {f"s{i:07d}" for i in reported} - stored
        assert not missing, f"committed but lost: {sorted(missing)[:5]}"
        assert integrity(data_dir / "profile.sqlite3") == ["ok"]
        # Every file that looks like a backup is a whole, verified one.
        for made in backups.list_backups(data_dir / "backups"):
            assert backups.problem_with(made.path) is None, made.path
    # What the kills left are temporary files of dead processes; they go after the grace time.
    later = time.time() + 2 * backups.DEAD_PID_GRACE_S
    backups.clean_leftovers(data_dir / "backups", now=later)
    left = [p.name for p in (data_dir / "backups").iterdir() if ".partial" in p.name]
    assert left == [], left
    return {"kills": trials, "committed": len(reported)}


# ---- kill -9 during imports -----------------------------------------------------------------

IMPORT_CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from studyapp.srs.cards import Cards
    from studyapp.srs.csvio import import_csv
    from studyapp.store import LessonProgress, Settings, open_profile
    store = open_profile(Path(sys.argv[1]), backup_on_start=False).store
    cards = Cards(store)
    folder, size = Path(sys.argv[2]), int(sys.argv[3])
    for n in range(int(sys.argv[4]), 100000):
        path = folder / f"batch{n}.csv"
        path.write_text("front,back,deck\\n" + "".join(
            f"batch {n} card {i},answer {i},batch-{n}\\n" for i in range(size)), encoding="utf-8")
        report = import_csv(cards, path)
        assert report.ok and len(report.added) == size, report.text()
        print(n, flush=True)
""")


def kill_during_imports(data_dir: Path, scratch: Path, trials: int, size: int = 400,
                        seed: int = 2) -> dict:
    """SIGKILL a process importing CSV files of `size` cards: each file is all in or all out."""
    rng = random.Random(seed)
    scratch.mkdir(parents=True, exist_ok=True)
    reported: list[int] = []
    for trial in range(trials):
        reported += kill_midway(IMPORT_CHILD, [str(data_dir), str(scratch), str(size),
                                               str(trial * 1000)], rng.randint(1, 3))
        opened = open_profile(data_dir, backup_on_start=False)
        assert opened.messages == [], opened.messages
        counts = dict(opened.store.db.execute(
            "SELECT deck_id, count(*) FROM card WHERE deck_id LIKE 'batch-%' GROUP BY deck_id"))
        opened.store.close(backup=False)
        for n in reported:
            assert counts.get(f"batch-{n}") == size, f"import {n} reported done but incomplete"
        assert all(c == size for c in counts.values()), f"a partial import: {counts}"
        assert integrity(data_dir / "profile.sqlite3") == ["ok"]
    return {"kills": trials, "imports_committed": len(reported)}


# ---- bit flips ------------------------------------------------------------------------------

def bit_flips(folder: Path, flips: int, seed: int = 3, rows: int = 1500) -> dict:
    """For each flip: a profile of `rows` sections and a backup of it; one random bit flipped in
    the profile; six days of use (a write and a backup each day); then the profile file lost.
    What opening brings back must pass integrity_check and hold every row written before the
    flip (a flip inside a row's text may change that text undetectably: counted, not failed)."""
    rng = random.Random(seed)
    outcomes = {"detected_at_open": 0, "refused_by_backup": 0, "harmless": 0,
                "text_changed_silently": 0}
    for trial in range(flips):
        data_dir = folder / f"flip{trial}"
        clock = FakeClock()
        store = open_profile(data_dir, clock=clock).store
        with store.transaction():
            for i in range(rows):
                LessonProgress(store).mark_section_read("base", f"s{i:05d}-" + "y" * 30)
        store.close()   # a verified backup of every row
        expected = {f"s{i:05d}-" + "y" * 30 for i in range(rows)}
        path = data_dir / "profile.sqlite3"
        size = path.stat().st_size
        offset, bit = rng.randrange(size), rng.randrange(8)
        with open(path, "r+b") as handle:
            handle.seek(offset)
            byte = handle.read(1)[0]
            handle.seek(offset)
            handle.write(bytes([byte ^ (1 << bit)]))
        refused = False
        for day in range(6):
            clock.advance(days=1)
            opened = open_profile(data_dir, clock=clock, backup_on_start=False)
            if day == 0 and opened.messages:
                outcomes["detected_at_open"] += 1
            try:
                LessonProgress(opened.store).mark_section_read("daily", f"d{day}")
                opened.store.backup_now()
            except Exception:   # noqa: BLE001 - damage found by the backup, or a write refused
                refused = True
            opened.store.close(backup=False)
        outcomes["refused_by_backup"] += refused
        path.write_bytes(b"")          # now the profile is lost outright
        opened = open_profile(data_dir, clock=clock)
        rows_back = _sections(opened.store, "base")
        opened.store.close(backup=False)
        assert integrity(path) == ["ok"], f"flip {trial} at byte {offset}: damaged after restore"
        assert len(rows_back) == rows, f"flip {trial} at byte {offset}: {len(rows_back)} of {rows}"
        if rows_back != expected:
            outcomes["text_changed_silently"] += 1
        elif not refused:
            outcomes["harmless"] += 1
    return {"flips": flips, **outcomes}


# ---- two processes at once ------------------------------------------------------------------

TWO_CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from fsrs import Rating
    from studyapp.srs.cards import Cards
    from studyapp.srs.review import Reviewer
    from studyapp.srs.scheduling import Options
    from studyapp.store import LessonProgress, Settings, StorageError, open_profile
    store = open_profile(Path(sys.argv[1]), backup_on_start=False).store
    tag, until = sys.argv[2], time.monotonic() + float(sys.argv[3])
    reviewer = Reviewer(store, deck_id=tag,
                        options=Options(new_per_day=9999, reviews_per_day=99999, learning_steps=()))
    done = failed = backups = 0
    while time.monotonic() < until:
        card = reviewer.next_card()
        if card is None:
            break
        try:
            reviewer.answer(card.id, Rating.Good)
            print("review", card.id, flush=True)
            done += 1
            if done % 10 == 0:
                store.backup_now()
                backups += 1
        except StorageError as error:
            failed += 1
            print("failed", error, file=sys.stderr, flush=True)
    store.close(backup=False)
    print("summary", done, failed, backups, flush=True)
""")


def two_processes(data_dir: Path, seconds: float, cards_each: int = 3000) -> dict:
    """Two processes review their own decks and back up every 10 reviews, for `seconds`."""
    store = open_profile(data_dir, backup_on_start=False).store
    from studyapp.srs.cards import Cards
    Cards(store).add_many([{"front": f"{tag} {i}", "back": "a", "deck_id": tag}
                           for tag in ("one", "two") for i in range(cards_each)])
    store.close(backup=False)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [subprocess.Popen([sys.executable, "-c", TWO_CHILD, str(data_dir), tag,
                                  str(seconds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=env) for tag in ("one", "two")]
    outputs = [child.communicate(timeout=seconds + 300) for child in children]
    reviewed, failures, made = set(), 0, 0
    for out, err in outputs:
        for line in out.splitlines():
            if line.startswith("review "):
                reviewed.add(int(line.split()[1]))
            elif line.startswith("summary "):
                _, done, failed, backups_made = line.split()
                failures += int(failed)
                made += int(backups_made)
        assert "Traceback" not in err, err
    opened = open_profile(data_dir, backup_on_start=False)
    logged = {row[0] for row in opened.store.db.execute("SELECT card_id FROM review_log")}
    opened.store.close(backup=False)
    assert reviewed <= logged, f"reviews lost: {sorted(reviewed - logged)[:5]}"
    assert integrity(data_dir / "profile.sqlite3") == ["ok"]
    listed = backups.list_backups(data_dir / "backups")
    assert len({b.sequence for b in listed}) == len(listed)
    assert all(backups.problem_with(b.path) is None for b in listed)
    return {"reviews": len(reviewed), "failed_writes": failures, "backups": made,
            "backups_kept": len(listed)}
