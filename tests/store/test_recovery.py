"""Damaged, truncated, missing and foreign profile files: repaired or set aside, never lost."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from studyapp.store import LessonProgress, StoreError, open_profile, profile
from studyapp.store.timeutil import for_people

from .helpers import damage_middle, fill_profile, integrity


def _backup_then_more_work(data_dir, clock):
    fill_profile(data_dir, clock)
    store = open_profile(data_dir, clock=clock).store
    store.backup_now()
    clock.advance(hours=1)
    LessonProgress(store).mark_section_read("after-backup", "lost")
    store.close(backup=False)


def test_damaged_middle_is_restored_from_backup_and_kept_aside(data_dir, clock):
    _backup_then_more_work(data_dir, clock)
    path = data_dir / "profile.sqlite3"
    damage_middle(path)
    damaged_bytes = path.read_bytes()

    result = open_profile(data_dir, clock=clock)
    [message] = result.messages
    taken = for_people(datetime(2026, 11, 27, 14, 2, tzinfo=timezone.utc))  # the learner's zone
    assert "was damaged" in message and f"restored from the backup of {taken};" in message
    assert result.restored_from is not None
    aside = [p for p in result.set_aside if p.name.startswith("profile.damaged-")]
    assert aside and aside[0].name in message
    assert aside[0].read_bytes() == damaged_bytes  # kept unchanged
    store = result.store
    assert len(LessonProgress(store).sections_read("lesson-0")) > 100
    assert LessonProgress(store).sections_read("after-backup") == set()
    store.close()
    assert integrity(path) == ["ok"]


def test_truncated_file_is_restored(data_dir, clock):
    _backup_then_more_work(data_dir, clock)
    path = data_dir / "profile.sqlite3"
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 3)
    result = open_profile(data_dir, clock=clock)
    assert result.restored_from is not None and "restored" in result.messages[0]
    assert len(LessonProgress(result.store).sections_read("lesson-1")) > 100
    result.store.close()


def test_damaged_without_backup_is_set_aside_and_fresh_profile_started(data_dir, clock):
    fill_profile(data_dir, clock)
    path = data_dir / "profile.sqlite3"
    damage_middle(path)
    result = open_profile(data_dir, clock=clock)
    [message] = result.messages
    assert "No usable backup" in message and "new, empty profile" in message
    assert result.created and result.restored_from is None
    assert result.set_aside[0].exists() and result.set_aside[0].name in message
    assert LessonProgress(result.store).lesson_progress() == {}
    result.store.close()


def test_damaged_newest_backup_is_skipped(data_dir, clock):
    _backup_then_more_work(data_dir, clock)
    store = open_profile(data_dir, clock=clock).store
    clock.advance(hours=1)
    newest = store.backup_now()
    store.close(backup=False)
    damage_middle(newest.path)
    damage_middle(data_dir / "profile.sqlite3")
    result = open_profile(data_dir, clock=clock)
    assert result.restored_from != newest.path and result.restored_from is not None
    assert "1 newer backup(s) were damaged" in result.messages[0]
    result.store.close()


def test_text_file_is_foreign_set_aside_not_deleted(data_dir, clock):
    data_dir.mkdir()
    path = data_dir / "profile.sqlite3"
    path.write_text("my notes, not a database\n")
    result = open_profile(data_dir, clock=clock)
    [message] = result.messages
    assert "not a studyapp profile" in message
    [aside] = result.set_aside
    assert aside.name.startswith("profile.foreign-") and aside.read_text() == "my notes, not a database\n"
    assert result.created
    result.store.close()


def test_unrelated_sqlite_database_is_foreign(data_dir, clock):
    data_dir.mkdir()
    path = data_dir / "profile.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    conn.commit()
    conn.close()
    result = open_profile(data_dir, clock=clock)
    assert "another program's SQLite database (tables invoices)" in result.messages[0]
    [aside] = result.set_aside
    conn = sqlite3.connect(aside)
    assert conn.execute("SELECT total FROM invoices").fetchall() == [(9.5,)]
    conn.close()
    result.store.close()


def test_foreign_file_with_backups_restores_our_profile(data_dir, clock):
    _backup_then_more_work(data_dir, clock)
    (data_dir / "profile.sqlite3").write_bytes(b"\x00" * 5000)
    result = open_profile(data_dir, clock=clock)
    assert result.restored_from is not None
    assert "not a studyapp profile" in result.messages[0] and "restored" in result.messages[0]
    result.store.close()


def test_missing_profile_with_backups_is_restored(data_dir, clock):
    _backup_then_more_work(data_dir, clock)
    (data_dir / "profile.sqlite3").unlink()
    result = open_profile(data_dir, clock=clock)
    assert "was missing" in result.messages[0] and result.restored_from is not None
    assert len(LessonProgress(result.store).sections_read("lesson-2")) > 100
    result.store.close()


def test_locked_profile_is_an_error_not_damage(data_dir, clock, monkeypatch):
    monkeypatch.setattr(profile, "INSPECT_TIMEOUT_S", 0.05)
    fill_profile(data_dir, clock)
    holder = sqlite3.connect(data_dir / "profile.sqlite3", timeout=0)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="cannot open your profile"):
            open_profile(data_dir, clock=clock)
    finally:
        holder.rollback()
        holder.close()
    assert list(data_dir.glob("profile.damaged-*")) == []


def test_set_aside_never_overwrites_an_earlier_one(data_dir, clock):
    for _ in range(2):  # same clock reading both times
        data_dir.mkdir(exist_ok=True)
        (data_dir / "profile.sqlite3").write_text("junk")
        result = open_profile(data_dir, clock=clock)
        result.store.close()
        (data_dir / "profile.sqlite3").unlink()
    assert len(list(data_dir.glob("profile.foreign-*"))) == 2


def test_orphan_wal_without_its_database_is_kept_aside(data_dir, clock):
    data_dir.mkdir()
    (data_dir / "profile.sqlite3-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\x00" * 60)
    result = open_profile(data_dir, clock=clock)
    assert [p.name.endswith("-wal") for p in result.set_aside] == [True]
    assert result.messages == [] and result.created
    result.store.close()
