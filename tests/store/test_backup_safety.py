"""Backups that cannot betray the learner: silent damage, clock changes, two processes, full disks.

Each test rebuilds one failure of issue 12 and asserts the value a learner would check: which
backups are there, what a restore brings back, what is left on disk.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from studyapp.store import LessonProgress, Settings, open_profile, profile
from studyapp.store import backup as backups
from studyapp.store.db import DAMAGE_MARKER
from studyapp.store.errors import ProfileDamageFound, StorageError
from tests.support import REPO

from .helpers import damage_index_silently, damage_middle, integrity, quick_check


def _backups(data_dir):
    return backups.list_backups(data_dir / "backups")


def _sections(path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT section_id FROM lesson_section_read")}
    finally:
        conn.close()


# ---- 1. silent damage ---------------------------------------------------------------------

def test_silent_damage_is_never_backed_up_over_a_good_copy_and_is_repaired(data_dir, clock,
                                                                          monkeypatch):
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).mark_section_read("a", "before")
    store.close()
    [good] = _backups(data_dir)
    path = data_dir / "profile.sqlite3"
    damage_index_silently(path)
    assert quick_check(path) == ["ok"] and integrity(path) != ["ok"]

    # A large profile is checked quickly at start, so the damage is not seen there...
    monkeypatch.setattr(profile, "THOROUGH_OPEN_MAX_BYTES", 0)
    clock.advance(days=1)
    opened = open_profile(data_dir, clock=clock, backup_on_start=False)
    assert opened.messages == []
    LessonProgress(opened.store).mark_section_read("a", "day-0")
    for _ in range(3):   # ...but every backup checks fully and refuses to stand in for `good`
        clock.advance(hours=1)
        with pytest.raises(ProfileDamageFound, match="older backups were all kept"):
            opened.store.backup_now()
    with pytest.raises(ProfileDamageFound):
        opened.store.maybe_backup()
    opened.store.close(backup=False)
    # The good backup is still the only one, and no temporary file is left.
    assert [b.path for b in _backups(data_dir)] == [good.path]
    assert sorted(p.name for p in (data_dir / "backups").iterdir()) == sorted(
        [good.path.name, DAMAGE_MARKER])

    # The next start checks fully because of the marker, and rebuilds: nothing is lost.
    opened = open_profile(data_dir, clock=clock)
    [message] = opened.messages
    assert "was damaged" in message and "nothing was lost" in message, message
    assert LessonProgress(opened.store).sections_read("a") == {"before", "day-0"}
    assert opened.store.db.execute("SELECT x FROM silent_t WHERE rowid = 7").fetchone()[0] == "changed"
    opened.store.close()
    assert integrity(path) == ["ok"] and not (data_dir / "backups" / DAMAGE_MARKER).exists()
    assert any(p.name.startswith("profile.damaged-") for p in data_dir.iterdir())


def test_small_profile_gets_the_full_check_at_start(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).mark_section_read("a", "1")
    store.close()
    damage_index_silently(data_dir / "profile.sqlite3")
    opened = open_profile(data_dir, clock=clock)
    assert "nothing was lost" in opened.messages[0]
    assert LessonProgress(opened.store).sections_read("a") == {"1"}
    opened.store.close()


def test_every_backup_damaged_still_restores_the_readable_one_never_empty(data_dir, clock):
    store = open_profile(data_dir, clock=clock, keep_backups=2).store
    for i in range(2):
        LessonProgress(store).mark_section_read("a", f"s{i}")
        clock.advance(minutes=31)
        store.backup_now()
    store.close(backup=False)
    for b in _backups(data_dir):
        damage_index_silently(b.path)   # readable, but fails integrity_check
    (data_dir / "profile.sqlite3").write_bytes(b"\0" * 4096)   # visible damage
    opened = open_profile(data_dir, clock=clock)
    assert "the newest readable one" in opened.messages[0]
    assert not opened.created
    assert LessonProgress(opened.store).sections_read("a") == {"s0", "s1"}
    opened.store.close()
    assert integrity(data_dir / "profile.sqlite3") == ["ok"]


def test_retention_keeps_daily_weekly_and_monthly_copies(data_dir, clock):
    store = open_profile(data_dir, clock=clock, keep_backups=3).store
    for day in range(120):
        for _ in range(2):
            LessonProgress(store).mark_section_read("a", f"{day}-{clock.now.minute}")
            clock.advance(minutes=31)
            store.backup_now()
        clock.advance(days=1, minutes=-62)
    kept = _backups(data_dir)
    store.close(backup=False)
    ages = sorted({(clock.now - b.taken_at).days for b in kept})
    # 3 newest + the newest of each of 7 days + 4 weeks + 6 months, some periods overlapping.
    assert 10 <= len(kept) <= 3 + backups.DAILY + backups.WEEKS + backups.MONTHS
    assert set(range(0, 7)) <= set(ages)            # every recent day
    assert max(ages) >= 100                         # and a copy three months old
    assert [b.sequence for b in kept] == sorted((b.sequence for b in kept), reverse=True)


# ---- 2. clocks ----------------------------------------------------------------------------

def test_clock_fast_then_corrected_keeps_the_new_backup_and_restores_it(data_dir, clock):
    store = open_profile(data_dir, clock=clock, keep_backups=2).store
    clock.advance(days=400)                         # the clock runs fast ...
    for i in range(3):
        LessonProgress(store).mark_section_read("a", f"fast-{i}")
        clock.advance(minutes=31)
        store.backup_now()
    clock.advance(days=-400)                        # ... and is corrected
    for i in range(3):
        LessonProgress(store).mark_section_read("a", f"now-{i}")
        clock.advance(minutes=31)
        made = store.backup_now()
        assert made.path.exists()                   # not pruned by the call that wrote it
        assert _backups(data_dir)[0] == made        # and ordered newest
    store.close(backup=False)
    assert _sections(_backups(data_dir)[0].path) >= {"now-2"}

    (data_dir / "profile.sqlite3").write_bytes(b"junk" * 1000)
    opened = open_profile(data_dir, clock=clock)
    assert LessonProgress(opened.store).sections_read("a") >= {"fast-2", "now-0", "now-1", "now-2"}
    assert any("dated in the future" in m for m in opened.messages)
    opened.store.close()


def test_legacy_timestamp_names_sort_before_numbered_ones(tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    for name in ("profile-20301127T140205123Z.sqlite3", "profile-000002-20261127T140205123Z.sqlite3",
                 "profile-000010-20201127T140205123Z.sqlite3", "profile-20201127T140205123Z.sqlite3"):
        (folder / name).write_bytes(b"")
    assert [b.path.name for b in backups.list_backups(folder)] == [
        "profile-000010-20201127T140205123Z.sqlite3", "profile-000002-20261127T140205123Z.sqlite3",
        "profile-20301127T140205123Z.sqlite3", "profile-20201127T140205123Z.sqlite3"]


# ---- 3. temporary files, concurrency, full disk ------------------------------------------

def test_leftovers_of_dead_processes_go_and_live_ones_stay(data_dir, clock):
    folder = data_dir / "backups"
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    old = time.time() - 2 * backups.DEAD_PID_GRACE_S
    files = {
        "dead": folder / f"profile-new.sqlite3.{dead.pid}-0a1b.partial",
        "dead-journal": folder / f"profile-new.sqlite3.{dead.pid}-0a1b.partial-journal",
        "live": folder / f"profile-new.sqlite3.{os.getppid()}-0c1d.partial",
        "legacy-old": folder / "profile-20261127T140000000Z.sqlite3.partial",
        "legacy-new": folder / "profile-20261127T150000000Z.sqlite3.partial",
        "dead-new": folder / f"profile-new.sqlite3.{dead.pid}-9999.partial",
    }
    for key, path in files.items():
        path.write_bytes(b"half")
        if key != "legacy-new" and key != "dead-new":
            stamp = time.time() - 2 * backups.STALE_AFTER_S if key == "legacy-old" else old
            os.utime(path, (stamp, stamp))
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).mark_section_read("a", "1")
    store.backup_now()
    store.close()
    left = {key for key, path in files.items() if path.exists()}
    assert left == {"live", "legacy-new", "dead-new"}


CONCURRENT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from studyapp.store import LessonProgress, Settings, open_profile
    store = open_profile(Path(sys.argv[1]), backup_on_start=False).store
    tag = sys.argv[2]
    failures = 0
    for i in range(int(sys.argv[3])):
        LessonProgress(store).mark_section_read(tag, f"s{i}")
        try:
            store.backup_now()
        except Exception as error:
            failures += 1
            print("FAILED", error, file=sys.stderr)
    store.close(backup=False)
    print(failures)
""")


def test_two_processes_backing_up_at_once_never_break_each_other(data_dir, clock):
    open_profile(data_dir, clock=clock).store.close(backup=False)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(data_dir), tag, "12"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                for tag in ("one", "two")]
    results = [child.communicate(timeout=300) for child in children]
    assert [out.strip() for out, _ in results] == ["0", "0"], [err for _, err in results]
    made = _backups(data_dir)
    assert len({b.sequence for b in made}) == len(made)
    assert all(backups.problem_with(b.path) is None for b in made)
    assert not [p for p in (data_dir / "backups").iterdir() if ".partial" in p.name]
    assert _sections(made[0].path) >= {"s11"}


DISK_FULL = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    from studyapp.store import LessonProgress, Settings, open_profile
    from studyapp.store.errors import StorageError
    store = open_profile(Path(sys.argv[1]), backup_on_start=False).store
    # No file of this process may grow to the profile's size: the backup copy runs out of room
    # near its end, while the profile's own writes reuse its free pages (see the test).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = store.path.stat().st_size - 65536
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        store.backup_now()
        print("backup written")
    except StorageError as error:
        print("error:", error)
    saved = 0
    for i in range(300):
        LessonProgress(store).mark_section_read("after", f"s{i}")
        saved += 1
    print("saved", saved)
    store.close(backup=False)
""")


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE stands in for a full disk")
def test_backup_that_runs_out_of_space_removes_its_partial_file(data_dir, clock):
    from .helpers import fill_profile
    fill_profile(data_dir, clock, sections=2000)
    store = open_profile(data_dir, clock=clock).store
    Settings(store).set("ballast", "x" * 6_000_000)
    with store.transaction() as db:   # 6 MB of free pages inside the file for later writes
        db.execute("DELETE FROM settings WHERE key = 'ballast'")
    store.close()
    before = _backups(data_dir)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", DISK_FULL, str(data_dir)], capture_output=True,
                          text=True, env=env, timeout=120)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("error: studyapp could not back up your profile into")
    assert str(data_dir / "backups") in lines[0]
    assert lines[1] == "saved 300"
    assert sorted(p.name for p in (data_dir / "backups").iterdir()) == sorted(
        b.path.name for b in before)
    opened = open_profile(data_dir, clock=clock)
    assert len(LessonProgress(opened.store).sections_read("after")) == 300
    opened.store.close()


# ---- 4. failed writes ---------------------------------------------------------------------

def test_a_write_blocked_by_another_programs_lock_is_a_storage_error(data_dir, clock, monkeypatch):
    from studyapp.store import db as store_db
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_MS", 50)
    store = open_profile(data_dir, clock=clock).store
    store.conn.execute("PRAGMA busy_timeout=50")
    holder = sqlite3.connect(data_dir / "profile.sqlite3")
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageError) as raised:
            LessonProgress(store).mark_section_read("a", "1")
        assert raised.value.path == data_dir / "profile.sqlite3"
        assert "another program" in str(raised.value) and "tries again" in str(raised.value)
        assert isinstance(raised.value, sqlite3.OperationalError)   # old handlers still catch it
    finally:
        holder.rollback()
        holder.close()
    LessonProgress(store).mark_section_read("a", "1")   # the retry goes through
    assert LessonProgress(store).sections_read("a") == {"1"}
    store.close()


def test_profile_opens_while_another_process_holds_the_write_lock(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    Settings(store).set("theme", "dark")
    store.close()
    holder = sqlite3.connect(data_dir / "profile.sqlite3")
    holder.execute("BEGIN IMMEDIATE")   # as `studyapp cards import` does for its whole file
    try:
        started = time.monotonic()
        opened = open_profile(data_dir, clock=clock, backup_on_start=False)
        [message] = opened.messages   # explained, not an error
        assert "Another program is writing to your profile" in message
        assert LessonProgress(opened.store).lesson_progress() == {}
        Settings(opened.store).set("theme", "dark")   # unchanged: written without taking the lock
        opened.store.close(backup=False)
    finally:
        holder.rollback()
        holder.close()
    assert time.monotonic() - started < 60   # generous: it used to wait for the busy timeout


def test_damaged_profile_text_is_unchanged_for_visible_damage(data_dir, clock):
    # Visible damage in table pages cannot be rebuilt; the backup is restored as before.
    from .helpers import fill_profile
    fill_profile(data_dir, clock)
    store = open_profile(data_dir, clock=clock).store
    store.backup_now()
    store.close(backup=False)
    damage_middle(data_dir / "profile.sqlite3")
    opened = open_profile(data_dir, clock=clock)
    assert "restored from the backup" in opened.messages[0]
    opened.store.close()


def test_backup_interval_math_survives_a_future_dated_last_backup(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    clock.advance(days=30)
    LessonProgress(store).mark_section_read("a", "1")
    store.backup_now()
    clock.advance(days=-30)
    LessonProgress(store).mark_section_read("a", "2")
    assert store.maybe_backup() is not None   # a future "last backup" does not block backups
    store.close(backup=False)
    assert _sections(_backups(data_dir)[0].path) == {"1", "2"}


def test_damage_found_by_the_start_up_backup_is_repaired_before_use(data_dir, clock, monkeypatch):
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).mark_section_read("a", "before")
    store.close(backup=False)                       # no backup yet: the next start makes one
    damage_index_silently(data_dir / "profile.sqlite3")
    monkeypatch.setattr(profile, "THOROUGH_OPEN_MAX_BYTES", 0)   # a quick check at start...
    opened = open_profile(data_dir, clock=clock)    # ...but the start-up backup checks fully
    [message] = opened.messages
    assert "nothing was lost" in message
    assert LessonProgress(opened.store).sections_read("a") == {"before"}
    opened.store.close()
    assert integrity(data_dir / "profile.sqlite3") == ["ok"]
    assert all(backups.problem_with(b.path) is None for b in _backups(data_dir))
