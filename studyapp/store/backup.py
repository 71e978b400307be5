"""Rotating, verified backups of the profile, made with SQLite's online backup API.

The backup API copies a consistent snapshot while the app keeps the profile open (a plain file copy
of a WAL database can catch it half-written). Each backup is written under a temporary name of
this process's own, checked with a full integrity_check, flushed to disk and only then given its
final name, so a crash while backing up never leaves a file that looks like a good backup, and a
damaged profile never produces a "good" backup that would rotate an older healthy one away.

Names carry a sequence number and, for people, the UTC time:
backups/profile-000042-20261127T140205123Z.sqlite3. Order comes from the number, never from the
clock: a clock that ran fast and was corrected cannot make a stale backup look newest, or make
the backup just written look oldest. Names without a number (studyapp before 2026-11) sort
before every numbered one, among themselves by time.

Retention follows Anki (rslib/src/collection/backup.rs): the newest `keep` are kept, and beyond
them the newest backup of each of the last DAILY days, WEEKS weeks and MONTHS months that have
one. One bad week (a profile damaged in a way no check sees) therefore cannot rotate every good
copy out: last month's backup is still there.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from .migrations import APPLICATION_ID, LATEST_VERSION
from .timeutil import for_filenames

PREFIX, SUFFIX, PARTIAL = "profile-", ".sqlite3", ".partial"
DEFAULT_KEEP = 5
DAILY, WEEKS, MONTHS = 7, 4, 6   # on top of the newest `keep` (Anki keeps 12/10/9 by default)
STALE_AFTER_S = 3600             # a temporary file with no pid in its name: a leftover after this
DEAD_PID_GRACE_S = 60            # a dead process's temporary file: a leftover after this
_NUMBERED = re.compile(r"^(\d{6,})-(\d{8}T\d{9}Z)$")
_LEGACY = re.compile(r"^(\d{8}T\d{9}Z)$")


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime
    sequence: int = 0


def _parse_stamp(stamp: str) -> datetime:
    taken = datetime.strptime(stamp[:15], "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
    return taken.replace(microsecond=int(stamp[15:18]) * 1000)


def list_backups(folder: Path) -> list[Backup]:
    """Backups in `folder`, newest (highest sequence number) first; other names are ignored."""
    found = []
    if not folder.is_dir():
        return found
    for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
        middle = path.name[len(PREFIX):-len(SUFFIX)]
        numbered, legacy = _NUMBERED.match(middle), _LEGACY.match(middle)
        try:
            if numbered:
                found.append(Backup(path, _parse_stamp(numbered.group(2)), int(numbered.group(1))))
            elif legacy:
                found.append(Backup(path, _parse_stamp(legacy.group(1)), 0))
        except ValueError:
            continue
    found.sort(key=lambda b: (b.sequence, b.taken_at, b.path.name), reverse=True)
    return found


def connect_readonly(path: Path, *, timeout: float = 5.0) -> sqlite3.Connection:
    """A read-only connection to `path` through a properly quoted file: URI.

    Path.as_uri() percent-encodes '#', '?' and '%', which a hand-built f"file:{path}?mode=ro"
    leaves in place: SQLite then cuts the path at '#' or '?' and opens (or creates) another file.
    """
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)


def problem_with(path: Path, *, thorough: bool = True) -> str | None:
    """Why the file at `path` is not a usable profile (None when it is).

    `thorough` runs integrity_check (reads every page and checks every index against its table:
    0.6 s for a 36 MB profile of 20k cards and 200k reviews); otherwise quick_check (0.06 s), which
    misses damage that integrity_check finds (a single flipped bit in an index page, for one).
    """
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return "not an SQLite database"
        conn = connect_readonly(path)
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


class DamagedSourceError(sqlite3.DatabaseError):
    """The snapshot failed integrity_check: the live profile itself is damaged."""


def write_backup(source: sqlite3.Connection, folder: Path, now: datetime,
                 keep: int = DEFAULT_KEEP) -> Backup:
    """Copy the database open on `source` into `folder`, verify it thoroughly, then prune.

    Raises OSError or sqlite3.Error on failure (DamagedSourceError when the copy fails its
    integrity check); then nothing is pruned and no temporary file is left behind.
    """
    folder.mkdir(parents=True, exist_ok=True)
    partial = temporary_name(folder / f"{PREFIX}new{SUFFIX}")
    try:
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
        problem = problem_with(partial, thorough=True)
        if problem and problem.startswith("damaged"):
            raise DamagedSourceError(f"the new backup failed its check: {problem}")
        if problem:   # the copy could not be read back: the disk, not the profile
            raise sqlite3.OperationalError(f"the new backup could not be checked: {problem}")
        _fsync(partial)
        final = _claim_next_name(partial, folder, now)
        _fsync_dir(folder)
    finally:
        _remove_with_journal(partial)
    made = next((b for b in list_backups(folder) if b.path == final), Backup(final, now))
    prune(folder, keep, protect=made.path)
    return made


def _claim_next_name(partial: Path, folder: Path, now: datetime) -> Path:
    """Give the verified file the next free sequence number; two processes never share one.

    os.link() fails if the name exists, so a process that lost the race takes the next number.
    File systems without hard links fall back to an existence check and a rename.
    """
    for _ in range(1000):
        newest = list_backups(folder)
        sequence = (newest[0].sequence if newest else 0) + 1
        final = folder / f"{PREFIX}{sequence:06d}-{for_filenames(now)}{SUFFIX}"
        try:
            os.link(partial, final)
            return final
        except FileExistsError:
            continue
        except OSError:
            if final.exists():
                continue
            os.replace(partial, final)
            return final
    raise OSError(f"could not find a free backup name in {folder}")


def keep_plan(backups: list[Backup], keep: int, *, daily: int = DAILY, weeks: int = WEEKS,
              months: int = MONTHS) -> list[Backup]:
    """The backups to delete: all but the newest `keep` and the newest of each recent
    day / week / month (local calendar), as Anki does. `backups` is newest first."""
    days: set[date] = set()
    week_keys: set[tuple[int, int]] = set()
    month_keys: set[tuple[int, int]] = set()
    obsolete = []
    for index, backup in enumerate(backups):
        local = backup.taken_at.astimezone()
        day, week, month = local.date(), local.isocalendar()[:2], (local.year, local.month)
        if index < keep:
            keep_it = True
        elif day not in days and len(days) < daily:
            keep_it = True
        elif week not in week_keys and len(week_keys) < weeks:
            keep_it = True
        elif month not in month_keys and len(month_keys) < months:
            keep_it = True
        else:
            keep_it = False
        if keep_it:
            # A kept backup covers its day, week and month, so one per period is enough.
            for seen, key, limit in ((days, day, daily), (week_keys, week, weeks),
                                     (month_keys, month, months)):
                if len(seen) < limit:
                    seen.add(key)
        else:
            obsolete.append(backup)
    return obsolete


def prune(folder: Path, keep: int, *, protect: Path | None = None) -> list[Path]:
    """Delete the backups keep_plan() marks obsolete (never `protect`, the one just written) and
    temporary files crashed processes left behind; returns what was deleted."""
    deleted = []
    for backup in keep_plan(list_backups(folder), keep):
        if backup.path != protect:
            backup.path.unlink(missing_ok=True)
            deleted.append(backup.path)
    deleted += clean_leftovers(folder)
    return deleted


# ---- temporary files ------------------------------------------------------------------------

def temporary_name(final: Path) -> Path:
    """`final` + '.<pid>-<random>.partial': unique to this process and this call."""
    return final.with_name(f"{final.name}.{os.getpid()}-{secrets.token_hex(4)}{PARTIAL}")


_TEMP = re.compile(r"\.(\d+)-[0-9a-f]+\.(partial|restoring)(-journal)?$")


def clean_leftovers(folder: Path, *, now: float | None = None) -> list[Path]:
    """Delete temporary files (and their -journal) that crashed processes left behind.

    A file of a live process may be a backup in progress: deleting every `.partial` broke 34 of
    90 concurrent backups. So a file goes only when the process named in it is gone (and the file
    is a minute old, in case the pid is being reused), or, for names without a pid (studyapp
    before 2026-11), when it is an hour old. Killed backups left `.partial-journal` files forever.
    """
    now = time.time() if now is None else now
    deleted = []
    if not folder.is_dir():
        return deleted
    for path in folder.iterdir():
        name = path.name
        if not name.endswith((PARTIAL, PARTIAL + "-journal", ".restoring", ".restoring-journal")):
            continue
        try:
            age = now - path.stat().st_mtime
        except OSError:
            continue
        match = _TEMP.search(name)
        if match is None:
            stale = age > STALE_AFTER_S
        else:
            pid = int(match.group(1))
            alive = _pid_alive(pid)
            limit = STALE_AFTER_S if alive is None else DEAD_PID_GRACE_S
            stale = pid != os.getpid() and alive is not True and age > limit
        if stale:
            path.unlink(missing_ok=True)
            deleted.append(path)
    return deleted


def _pid_alive(pid: int) -> bool | None:
    """True or False, or None where we cannot tell (os.kill(pid, 0) ends a process on Windows)."""
    if os.name != "posix":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _remove_with_journal(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + "-journal").unlink(missing_ok=True)


def copy_into_place(backup: Path, target: Path) -> None:
    """Make `target` a copy of `backup` atomically: a crash leaves the old target or the new one."""
    partial = temporary_name(target).with_suffix(".restoring")
    try:
        shutil.copyfile(backup, partial)
        _fsync(partial)
        os.replace(partial, target)
        _fsync_dir(target.parent)
    finally:
        partial.unlink(missing_ok=True)


# integrity_check messages that speak only of indexes and free space, never of a row's content:
# a rebuild from the rows loses nothing. Anything else (a NULL in a NOT NULL column, rows out of
# order, a bad overflow chain) means rows themselves may be wrong, and a verified backup is safer.
_INDEX_ONLY = re.compile(r"missing from index|wrong # of entries in index|^Freelist|never used")


def index_only_damage(path: Path) -> bool:
    """True when every problem integrity_check finds in `path` is in indexes or free pages."""
    try:
        conn = connect_readonly(path)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check(100)")]
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    lines = [line for problem in problems for line in problem.splitlines() if line.strip()]
    return problems != ["ok"] and all(_INDEX_ONLY.search(line.split(": ", 1)[-1]) or
                                      _INDEX_ONLY.search(line) for line in lines)


def salvage_into(source: Path, target: Path) -> str | None:
    """Rebuild what can still be read of a damaged `source` into a new file at `target`.

    VACUUM INTO reads every table row into a new file (keeping application_id and user_version,
    leaving damaged free pages and page counts behind); it copies index b-trees as they are, so a
    REINDEX then rebuilds every index from the table rows.
    Returns None on success (the new file passes integrity_check), else why it failed; on failure
    `target` does not exist.
    """
    partial = temporary_name(target).with_suffix(".restoring")
    try:
        conn = connect_readonly(source)
        try:
            conn.execute("VACUUM INTO ?", [str(partial)])
        finally:
            conn.close()
        conn = sqlite3.connect(partial)
        try:
            conn.execute("REINDEX")
            conn.commit()
        finally:
            conn.close()
        problem = problem_with(partial, thorough=True)
        if problem:
            return problem
        _fsync(partial)
        os.replace(partial, target)
        _fsync_dir(target.parent)
        return None
    except (OSError, sqlite3.Error) as error:
        return f"unreadable: {error}"
    finally:
        _remove_with_journal(partial)


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
