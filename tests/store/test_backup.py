"""Backups: consistent, verified, rotated, and taken no more often than the interval allows."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from studyapp.store import LessonProgress, migrations, open_profile
from studyapp.store.backup import list_backups, problem_with

from .helpers import integrity


def _backups(data_dir):
    return list_backups(data_dir / "backups")


def test_rotation_keeps_the_newest_n(data_dir, clock):
    store = open_profile(data_dir, clock=clock, keep_backups=3).store
    made = []
    for i in range(6):
        LessonProgress(store).mark_section_read("a", f"s{i}")
        clock.advance(minutes=31)
        made.append(store.maybe_backup())
    assert all(made)
    kept = _backups(data_dir)
    assert [b.path for b in kept] == [b.path for b in reversed(made[-3:])]
    # The newest backup holds everything written before it, as one standalone file.
    conn = sqlite3.connect(kept[0].path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT count(*) FROM lesson_section_read").fetchone()[0] == 6
    conn.close()
    assert not list((data_dir / "backups").glob("*-wal")) and integrity(kept[0].path) == ["ok"]
    store.close()


def test_maybe_backup_respects_the_interval_and_needs_changes(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    assert store.maybe_backup() is None  # nothing written yet
    LessonProgress(store).mark_section_read("a", "1")
    first = store.maybe_backup()  # no backup exists yet: due at once
    assert first is not None
    LessonProgress(store).mark_section_read("a", "2")
    clock.advance(minutes=29)
    assert store.maybe_backup() is None
    clock.advance(minutes=2)
    assert store.maybe_backup() is not None
    clock.advance(hours=5)
    assert store.maybe_backup() is None  # idle: no change since, keep the older backups
    assert len(_backups(data_dir)) == 2
    store.close()


def test_interval_is_remembered_across_restarts(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).mark_section_read("a", "1")
    store.close()  # close backs up the unsaved change
    assert len(_backups(data_dir)) == 1
    clock.advance(minutes=10)
    store = open_profile(data_dir, clock=clock).store
    assert len(_backups(data_dir)) == 1  # unchanged since the close-time backup: no new one
    LessonProgress(store).mark_section_read("a", "2")
    assert store.maybe_backup() is None  # only 10 minutes since the last one
    store.close(backup=False)


def test_start_backup_when_profile_changed_since_last_backup(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).mark_section_read("a", "1")
    store.close(backup=False)
    assert _backups(data_dir) == []
    store = open_profile(data_dir, clock=clock).store
    [backup] = _backups(data_dir)
    assert problem_with(backup.path) is None
    store.close()


def test_backup_is_consistent_while_a_transaction_is_open(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).mark_section_read("a", "committed")
    with store.transaction():
        LessonProgress(store).mark_section_read("a", "not yet committed")
        backup = store.backup_now()
    conn = sqlite3.connect(backup.path)
    rows = {r[0] for r in conn.execute("SELECT section_id FROM lesson_section_read")}
    conn.close()
    assert rows == {"committed"}
    store.close()


def test_a_partial_backup_left_by_a_crash_is_cleaned_and_ignored(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    leftover = data_dir / "backups" / "profile-20261127T140000000Z.sqlite3.partial"
    leftover.parent.mkdir(exist_ok=True)
    leftover.write_bytes(b"half")
    hours_ago = time.time() - 2 * 3600   # a name without a pid is a leftover after an hour
    os.utime(leftover, (hours_ago, hours_ago))
    assert _backups(data_dir) == []
    LessonProgress(store).mark_section_read("a", "1")
    store.backup_now()
    assert not leftover.exists()
    store.close()


def test_deferred_start_backup_is_taken_by_the_first_maybe_backup(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).mark_section_read("a", "1")
    store.backup_now()
    LessonProgress(store).mark_section_read("a", "2")
    store.close(backup=False)
    clock.advance(minutes=1)
    store = open_profile(data_dir, clock=clock, backup_on_start=False).store
    assert len(_backups(data_dir)) == 1  # start-up did not pay for it
    assert store.maybe_backup() is not None  # due at once, although only a minute passed
    assert store.maybe_backup() is None
    store.close()
    assert len(_backups(data_dir)) == 2


def test_migration_takes_a_backup_first(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).mark_section_read("a", "1")
    store.close()
    [before] = _backups(data_dir)
    latest = migrations.LATEST_VERSION
    extended = migrations.MIGRATIONS + [migrations.Migration(latest + 1, "t", lambda db: db.execute(
        "CREATE TABLE t (x)"))]
    # Pretend this build knows one more version, everywhere the latest version is consulted.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", extended)
        patch.setattr("studyapp.store.profile.LATEST_VERSION", latest + 1)
        patch.setattr("studyapp.store.backup.LATEST_VERSION", latest + 1)
        patch.setattr("studyapp.store.profile.migrate",
                      lambda db: migrations.migrate(db, extended))
        clock.advance(minutes=1)
        store = open_profile(data_dir, clock=clock, backup_on_start=False).store
        assert "t" in store.db.table_names()
        store.close(backup=False)
    newest = _backups(data_dir)[0]
    assert newest.path != before.path
    conn = sqlite3.connect(newest.path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest  # taken before migrating
    conn.close()


def test_clock_set_back_does_not_stop_backups(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).mark_section_read("a", "1")
    assert store.maybe_backup() is not None
    clock.advance(days=-2)
    LessonProgress(store).mark_section_read("a", "2")
    assert store.maybe_backup() is not None
    store.close()
