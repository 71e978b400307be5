"""Rotating, verified backups of the profile, made with SQLite's online backup API.

The backup API copies a consistent snapshot while the app keeps the profile open (a plain file copy
of a WAL database can catch it half-written). Each backup is written under a temporary name,
checked, flushed to disk and only then renamed into place, so a crash while backing up never
leaves a file that looks like a good backup. The newest `keep` backups are kept.

Backup names carry their UTC time: backups/profile-20261127T140205123Z.sqlite3.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .migrations import APPLICATION_ID, LATEST_VERSION
from .timeutil import for_filenames

PREFIX, SUFFIX, PARTIAL = "profile-", ".sqlite3", ".partial"
DEFAULT_KEEP = 5


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime


def list_backups(folder: Path) -> list[Backup]:
    """Backups in `folder`, newest first; files whose names do not parse are ignored."""
    found = []
    if not folder.is_dir():
        return found
    for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
        stamp = path.name[len(PREFIX):-len(SUFFIX)]
        try:
            taken = datetime.strptime(stamp[:15], "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
            taken = taken.replace(microsecond=int(stamp[15:18]) * 1000)
        except ValueError:
            continue
        found.append(Backup(path, taken))
    found.sort(key=lambda b: (b.taken_at, b.path.name), reverse=True)
    return found


def problem_with(path: Path, *, thorough: bool = True) -> str | None:
    """Why the file at `path` is not a usable profile (None when it is).

    `thorough` runs integrity_check (reads every page and index, the right cost when choosing a
    backup to restore); otherwise quick_check (no index-vs-table cross check, several times faster).
    """
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return "not an SQLite database"
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                return "not a studyapp profile"
            if conn.execute("PRAGMA user_version").fetchone()[0] > LATEST_VERSION:
                return "made by a newer studyapp"
            check = "integrity_check" if thorough else "quick_check"
            rows = [row[0] for row in conn.execute(f"PRAGMA {check}(20)")]
            if rows != ["ok"]:
                return "damaged: " + "; ".join(rows[:3])
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as error:
        return f"unreadable: {error}"
    return None


def write_backup(source: sqlite3.Connection, folder: Path, now: datetime,
                 keep: int = DEFAULT_KEEP, *, thorough: bool = False) -> Backup:
    """Copy the database open on `source` into `folder`, verify it, then prune to `keep`.

    Raises OSError or sqlite3.Error on failure; nothing is pruned unless the new backup is good.
    """
    folder.mkdir(parents=True, exist_ok=True)
    final = _free_name(folder, now)
    partial = final.with_name(final.name + PARTIAL)
    target = sqlite3.connect(partial)
    try:
        # pages=-1 copies everything in one step under one read transaction: a consistent
        # snapshot even while this or another connection keeps writing.
        source.backup(target, pages=-1)
        # The copy inherits WAL mode from the header; a backup must be one self-contained file.
        target.execute("PRAGMA journal_mode=DELETE")
        target.execute("PRAGMA synchronous=FULL")
    finally:
        target.close()
    try:
        problem = problem_with(partial, thorough=thorough)
        if problem:
            raise sqlite3.DatabaseError(f"the new backup {final.name} failed its check: {problem}")
        _fsync(partial)
        os.replace(partial, final)
        _fsync_dir(folder)
    finally:
        partial.unlink(missing_ok=True)
    prune(folder, keep)
    return Backup(final, now)


def prune(folder: Path, keep: int) -> None:
    """Delete all but the newest `keep` backups, and any partial file a crash left behind."""
    for backup in list_backups(folder)[keep:]:
        backup.path.unlink(missing_ok=True)
    for leftover in folder.glob(f"{PREFIX}*{SUFFIX}{PARTIAL}"):
        leftover.unlink(missing_ok=True)


def copy_into_place(backup: Path, target: Path) -> None:
    """Make `target` a copy of `backup` atomically: a crash leaves the old target or the new one."""
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(backup, partial)
    _fsync(partial)
    os.replace(partial, target)
    _fsync_dir(target.parent)


def _free_name(folder: Path, now: datetime) -> Path:
    # Two backups in the same millisecond only happen with a test clock; step forward a tick.
    stamp = for_filenames(now)
    path = folder / f"{PREFIX}{stamp}{SUFFIX}"
    bump = 0
    while path.exists():
        bump += 1
        moment = now.timestamp() + bump / 1000
        stamp = for_filenames(datetime.fromtimestamp(moment, timezone.utc))
        path = folder / f"{PREFIX}{stamp}{SUFFIX}"
    return path


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a directory, and needs not.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
