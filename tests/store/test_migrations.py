"""Schema versions: every older file reaches the latest version; a newer one is never touched."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from sqlite_utils import Database

from studyapp.store import LATEST_VERSION, LessonProgress, MIGRATIONS, Migration, ProfileTooNewError, Settings, open_profile
from studyapp.store.migrations import APPLICATION_ID, check_sequence, migrate

V1_TABLES = {"lesson_progress", "lesson_section_read", "settings"}


def _pragmas(path):
    conn = sqlite3.connect(path)
    try:
        return tuple(conn.execute(f"PRAGMA {p}").fetchone()[0]
                     for p in ("application_id", "user_version"))
    finally:
        conn.close()


def test_versions_are_consecutive():
    check_sequence(MIGRATIONS)
    with pytest.raises(ValueError):
        check_sequence([Migration(1, "a", lambda db: None), Migration(3, "c", lambda db: None)])


def test_empty_v0_file_is_migrated_to_latest(data_dir, clock):
    data_dir.mkdir()
    sqlite3.connect(data_dir / "profile.sqlite3").close()  # a 0-byte file: SQLite's "v0"
    result = open_profile(data_dir, clock=clock)
    assert result.messages == [] and result.set_aside == []
    assert V1_TABLES <= set(result.store.db.table_names())
    result.store.close()
    assert _pragmas(data_dir / "profile.sqlite3") == (APPLICATION_ID, LATEST_VERSION)


def test_each_version_migrates_to_latest(data_dir, clock, tmp_path):
    # Build a file at every known version by applying a prefix of the list, then open it.
    for stop in range(0, LATEST_VERSION + 1):
        folder = tmp_path / f"v{stop}"
        folder.mkdir()
        db = Database(folder / "profile.sqlite3")
        migrate(db, MIGRATIONS[:stop])
        if stop:
            db.execute("INSERT INTO settings (key, value, updated_at) VALUES ('theme', '\"dark\"', 'x')")
        db.close()
        store = open_profile(folder, clock=clock).store
        assert V1_TABLES <= set(store.db.table_names())
        if stop:
            assert Settings(store).get("theme") == "dark"  # data survives the upgrade
        store.close()
        assert _pragmas(folder / "profile.sqlite3") == (APPLICATION_ID, LATEST_VERSION)


def test_a_later_migration_applies_once_and_failure_rolls_back(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    calls = []
    n = LATEST_VERSION

    def next_one(db):
        calls.append(n + 1)
        db.execute("CREATE TABLE extra_feature (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")

    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("bug in the migration after that")

    extended = MIGRATIONS + [Migration(n + 1, "extra", next_one)]
    assert [m.version for m in migrate(store.db, extended)] == [n + 1]
    assert migrate(store.db, extended) == [] and calls == [n + 1]
    with pytest.raises(RuntimeError):
        migrate(store.db, extended + [Migration(n + 2, "broken", broken)])
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == n + 1
    assert "half_done" not in store.db.table_names()
    store.close()


def test_newer_profile_is_refused_and_left_byte_for_byte(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).mark_section_read("a", "b")
    store.db.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    store.close(backup=False)
    path = data_dir / "profile.sqlite3"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ProfileTooNewError) as raised:
        open_profile(data_dir, clock=clock)
    assert "newer version" in str(raised.value) and str(path) in str(raised.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert list(data_dir.glob("profile.*-2*")) == []  # nothing set aside either
