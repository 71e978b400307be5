"""open_profile(): find, check, repair, migrate and back up the learner's profile database.

This is the one way the app opens a profile. The rules it keeps:
- a file that is ours and healthy is migrated forward (after a backup) and used;
- a file from a newer studyapp is not touched at all: ProfileTooNewError;
- a damaged file, or a file that is not a studyapp profile, is renamed aside (never deleted or
  overwritten) and replaced by, in this order: a rebuild of the damaged file itself when the
  damage is only in indexes or free pages (rebuilt from its rows, nothing is lost); the newest backup
  (by sequence number) that passes integrity_check; a rebuild of the newest backup that can still
  be read; and only when nothing at all is readable, a fresh profile. The returned messages say
  which, in words a learner can act on;
- a read-only profile file, or a backup dated in the future, is opened as usual with a message;
- a profile we cannot even look at (locked, permission denied) is a StoreError, not "damage":
  moving aside a file another program is using would lose its work.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from pathlib import Path

from . import backup as backups
from .db import BACKUP_INTERVAL, BUSY_TIMEOUT_MS, DAMAGE_MARKER, Store
from .errors import ProfileDamageFound, ProfileTooNewError, StoreError
from .fsinfo import ensure_writable_dir, network_fs_type
from .migrations import APPLICATION_ID, LATEST_VERSION, PlainDatabase, migrate, user_version
from .timeutil import Clock, for_filenames, for_people, system_clock

PROFILE_NAME = "profile.sqlite3"
BACKUP_DIR_NAME = "backups"
SIDE_FILES = ("-wal", "-shm")

# SQLite result codes that mean the bytes on disk are wrong, as opposed to "busy" or "no access".
_DAMAGE_CODES = ("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_IOERR_SHORT_READ")
# Codes a read-only connection gets when a WAL left by a crash needs recovering first.
_NEEDS_WRITE_CODES = ("SQLITE_CANTOPEN", "SQLITE_READONLY")
# How long to wait for another program's write lock before saying the profile is in use.
INSPECT_TIMEOUT_S = 3.0
# Up to this size the start-up check is the full integrity_check (about 18 ms per MB here: 0.15 s
# at 8 MB); a larger profile gets quick_check at start (0.06 s for 36 MB), and its backups, which
# run on a worker thread, do the full check. quick_check missed 15 of 40 single-bit flips.
THOROUGH_OPEN_MAX_BYTES = 8 * 2**20
# A backup stamped later than the clock by more than this is reported: the clock was wrong once.
FUTURE_TOLERANCE = timedelta(minutes=10)


class FileState(Enum):
    MISSING = "missing"
    EMPTY = "empty"        # an SQLite file (or 0 bytes) with nothing in it yet
    OURS = "ours"
    NEWER = "newer"
    DAMAGED = "damaged"
    FOREIGN = "foreign"


@dataclass
class OpenResult:
    store: Store
    messages: list[str] = field(default_factory=list)
    restored_from: Path | None = None
    set_aside: list[Path] = field(default_factory=list)
    created: bool = False


def open_profile(data_dir: Path, *, clock: Clock = system_clock,
                 keep_backups: int = backups.DEFAULT_KEEP, backup_on_start: bool = True,
                 backup_interval: timedelta = BACKUP_INTERVAL, _second_try: bool = False
                 ) -> OpenResult:
    """Open data_dir/profile.sqlite3 for use, repairing what can be repaired.

    backup_on_start=False leaves the start-up backup (0.3-0.6 s for a 1M-row profile) to the
    first store.maybe_backup() call, which the UI can run on a worker thread; a backup before a
    schema migration is always taken at once.

    Raises StoreError when the folder is unusable or the file cannot be read, and
    ProfileTooNewError (a StoreError) for a profile of a newer studyapp.
    """
    data_dir = Path(data_dir)
    ensure_writable_dir(data_dir)
    path = data_dir / PROFILE_NAME
    backup_dir = data_dir / BACKUP_DIR_NAME
    messages: list[str] = []

    fs_type = network_fs_type(data_dir)
    if fs_type:
        messages.append(
            f"Your data folder {data_dir} is on a network file system ({fs_type}). SQLite cannot "
            "lock files reliably there, so the profile can be damaged, especially if it is used "
            "from two computers at once. A folder on this computer's own disk is safer "
            "(--data-dir or STUDYAPP_HOME).")

    backups.clean_leftovers(data_dir)
    backups.clean_leftovers(backup_dir)
    marker = backup_dir / DAMAGE_MARKER
    thorough = marker.exists() or (path.exists() and path.stat().st_size <= THOROUGH_OPEN_MAX_BYTES)
    state, detail, version = inspect_profile(path, thorough=thorough)
    if state is FileState.NEWER:
        raise ProfileTooNewError(
            f"Your profile {path} was saved by a newer version of studyapp (profile format "
            f"{version}; this version knows formats up to {LATEST_VERSION}). It was left "
            "untouched. Please update studyapp, or start this version with another data folder "
            "(--data-dir).")

    have_backups = bool(backups.list_backups(backup_dir))
    result_aside: list[Path] = []
    restored: backups.Backup | None = None
    created = False
    if state in (FileState.DAMAGED, FileState.FOREIGN) or (
            state in (FileState.MISSING, FileState.EMPTY) and have_backups):
        label = "foreign" if state is FileState.FOREIGN else "damaged"
        if state is not FileState.MISSING:
            result_aside = _set_aside(path, label, clock)
        else:
            # A -wal without its database would be replayed onto the new file; keep it aside.
            result_aside = _set_aside(path, "orphan", clock, main=False)
        kept = [p for p in result_aside if not p.name.endswith(SIDE_FILES)]
        if state is FileState.DAMAGED and kept and backups.index_only_damage(kept[0]) and \
                backups.salvage_into(kept[0], path) is None:
            messages.append(_explain_rebuilt(detail, path, kept[0]))
        else:
            restored, skipped, rebuilt = _restore_from_backups(backup_dir, path)
            created = restored is None
            messages.append(_explain(state, detail, path, result_aside, restored, skipped, rebuilt))
    elif state in (FileState.MISSING, FileState.EMPTY):
        created = True
        if state is FileState.MISSING:
            result_aside = _set_aside(path, "orphan", clock, main=False)

    marker.unlink(missing_ok=True)   # the full check ran (and repaired) above
    messages += _future_backups(backup_dir, clock)
    read_only = _read_only_reason(path)
    if read_only:
        messages.append(
            f"Your profile file {path} cannot be written ({read_only}). You can look at your "
            "progress, but nothing new will be saved until the file is writable again: check its "
            "permissions, or start studyapp with another data folder (--data-dir).")

    migrating = state is FileState.OURS and version < LATEST_VERSION
    # Decided before Store() opens the file: WAL mode creates a -wal and would move its mtime.
    changed = state is FileState.OURS and _profile_newer_than_backups(path, backup_dir)
    try:
        store = Store(path, backup_dir=backup_dir, clock=clock, keep_backups=keep_backups,
                      backup_interval=backup_interval)
    except sqlite3.Error as error:
        raise StoreError(f"studyapp could not open your profile {path}: {error}") from error
    try:
        if migrating or (changed and backup_on_start):
            # Before a migration this backup is also the way back if the new version misbehaves.
            try:
                store.backup_now()
            except ProfileDamageFound:
                if _second_try:
                    raise
                # The backup's full check saw damage the quick start-up check missed; it left
                # the marker, so opening again checks fully and repairs before anything is used.
                store.close(backup=False)
                return open_profile(data_dir, clock=clock, keep_backups=keep_backups,
                                    backup_on_start=backup_on_start,
                                    backup_interval=backup_interval, _second_try=True)
            except StoreError as error:
                messages.append(f"{error} (Your profile was opened anyway.)")
        elif changed:
            store.mark_backup_due()
        if user_version(store.conn) < LATEST_VERSION:
            # On the plain connection: neither an up-to-date profile nor a new one (a first start)
            # waits for sqlite_utils' imports before the first window (issue 16).
            with store._lock:
                migrate(PlainDatabase(store.conn, lambda: store.db))
    except Exception as error:  # a failed migration rolled back; the file stays as it was
        store.close(backup=False)
        raise StoreError(f"studyapp could not prepare your profile {path}: {error}") from error
    store.read_only = bool(read_only)
    if not read_only and _another_writer(store):
        messages.append(
            f"Another program is writing to your profile {path} right now (another studyapp, or "
            "`studyapp cards import`). studyapp opened it anyway; what you change is saved as "
            "soon as that program is done.")
    return OpenResult(store, messages, restored.path if restored else None, result_aside, created)


def inspect_profile(path: Path, *, thorough: bool = True) -> tuple[FileState, str, int]:
    """Classify the file at `path` without changing it: (state, reason in words, user_version).

    `thorough` runs integrity_check, else quick_check (see THOROUGH_OPEN_MAX_BYTES)."""
    if not path.exists():
        return FileState.MISSING, "", 0
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as error:
        raise StoreError(f"studyapp cannot read your profile {path}: {error.strerror}") from error
    if not header:
        return FileState.EMPTY, "the file is empty", 0
    if not header.startswith(b"SQLite format 3\x00"):
        return FileState.FOREIGN, "it is not an SQLite database file", 0
    if len(header) < 100:
        return FileState.DAMAGED, "the file is cut short", 0
    try:
        conn = _connect_for_inspection(path)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            names = [row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' LIMIT 5")]
            if app_id != APPLICATION_ID:
                if app_id == 0 and version == 0 and not names:
                    return FileState.EMPTY, "", 0
                what = f"tables {', '.join(names)}" if names else f"application id {app_id}"
                return FileState.FOREIGN, f"it is another program's SQLite database ({what})", 0
            if version > LATEST_VERSION:
                return FileState.NEWER, "", version
            check = "integrity_check" if thorough else "quick_check"
            problems = [row[0] for row in conn.execute(f"PRAGMA {check}(20)")]
            if problems != ["ok"]:
                return FileState.DAMAGED, "; ".join(problems[:3]), version
            return FileState.OURS, "", version
        finally:
            conn.close()
    except sqlite3.Error as error:
        if getattr(error, "sqlite_errorname", "").startswith(_DAMAGE_CODES) or isinstance(
                error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
            return FileState.DAMAGED, str(error), 0
        raise StoreError(f"studyapp cannot open your profile {path} ({error}). If studyapp or "
                         "another program is using it, close that and try again.") from error


def _connect_for_inspection(path: Path) -> sqlite3.Connection:
    # Read-only, so inspecting a newer or foreign file cannot change it (no WAL checkpoint on
    # close). Recovering a WAL left by a crash needs write access; only then fall back.
    try:
        conn = backups.connect_readonly(path, timeout=INSPECT_TIMEOUT_S)
        conn.execute("PRAGMA schema_version").fetchone()
        return conn
    except sqlite3.OperationalError as error:
        if not getattr(error, "sqlite_errorname", "").startswith(_NEEDS_WRITE_CODES):
            raise
        return sqlite3.connect(path, timeout=INSPECT_TIMEOUT_S)


def _set_aside(path: Path, label: str, clock: Clock, *, main: bool = True) -> list[Path]:
    """Rename the profile (and its -wal/-shm) to profile.<label>-<time>.sqlite3; never delete."""
    stamp = for_filenames(clock())
    target = path.with_name(f"{path.stem}.{label}-{stamp}{path.suffix}")
    bump = 1
    while any(target.with_name(target.name + side).exists() for side in ("",) + SIDE_FILES):
        bump += 1  # never overwrite an earlier set-aside file, whatever the clock says
        target = path.with_name(f"{path.stem}.{label}-{stamp}-{bump}{path.suffix}")
    moved = []
    try:
        if main:
            os.replace(path, target)
            moved.append(target)
        for side in SIDE_FILES:
            source = path.with_name(path.name + side)
            if source.exists():
                os.replace(source, target.with_name(target.name + side))
                moved.append(target.with_name(target.name + side))
    except OSError as error:
        raise StoreError(f"studyapp found a problem with your profile {path} but could not move "
                         f"it aside to {target.name} ({error.strerror}); nothing was changed."
                         ) from error
    return moved


def _restore_from_backups(backup_dir: Path, path: Path
                          ) -> tuple[backups.Backup | None, list[backups.Backup], bool]:
    """Put the best backup in place at `path`: (backup used, newer ones skipped, rebuilt?).

    First the newest backup that passes integrity_check; if none does, the newest one that can
    still be read, rebuilt (a damaged backup still holds the learner's work; an empty profile
    holds none). (None, all, False) when nothing is readable.
    """
    candidates = backups.list_backups(backup_dir)
    skipped = []
    for candidate in candidates:
        if backups.problem_with(candidate.path, thorough=True) is None:
            backups.copy_into_place(candidate.path, path)
            return candidate, skipped, False
        skipped.append(candidate)
    for index, candidate in enumerate(candidates):
        if backups.salvage_into(candidate.path, path) is None:
            return candidate, candidates[:index], True
    return None, skipped, False


def _future_backups(backup_dir: Path, clock: Clock) -> list[str]:
    now = clock()
    ahead = [b for b in backups.list_backups(backup_dir) if b.taken_at - now > FUTURE_TOLERANCE]
    if not ahead:
        return []
    return [f"{len(ahead)} backup(s) of your profile are dated in the future (the latest "
            f"{for_people(max(b.taken_at for b in ahead))}; this computer's clock says "
            f"{for_people(now)}), so the clock was wrong when they were made, or is wrong now. "
            "Nothing is lost: backups are ordered by their number, not their date. Please check "
            "the computer's date and time."]


def _another_writer(store: Store) -> bool:
    """True when another connection holds the write lock now (asked without waiting)."""
    conn = store.conn
    with store._lock:
        conn.execute("PRAGMA busy_timeout=0")
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as error:
            return getattr(error, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) \
                or "locked" in str(error)
        finally:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _read_only_reason(path: Path) -> str | None:
    """Why `path` cannot be opened for writing, or None. Opening is the honest test: os.access()
    says yes to root on a read-only mount."""
    if not path.exists():
        return None
    try:
        with open(path, "r+b"):
            return None
    except OSError as error:
        return error.strerror or str(error)


def _profile_newer_than_backups(path: Path, backup_dir: Path) -> bool:
    # After a clean close the WAL is folded in and removed, so the main file's mtime is the time
    # of the last change; a backup written after it already holds everything.
    newest = backups.list_backups(backup_dir)
    if not newest:
        return True
    # An empty -wal (left by the read-only inspection) holds no change; one with frames does.
    changed = max(p.stat().st_mtime for p in (path, path.with_name(path.name + "-wal"))
                  if p.exists() and p.stat().st_size > 0)
    # Equal times happen within one clock tick of the file system; close() writes before it backs up.
    return changed > newest[0].path.stat().st_mtime


def _explain_rebuilt(detail: str, path: Path, aside: Path) -> str:
    what = f" ({detail})" if detail else ""
    return (f"Your profile database {path} was damaged{what}. The damage was only in its "
            "indexes, so studyapp rebuilt them from your data and nothing was lost. The damaged "
            f"file was kept, unchanged, as {aside.name} in {path.parent}.")


def _explain(state: FileState, detail: str, path: Path, aside: list[Path],
             restored: backups.Backup | None, skipped: list[backups.Backup],
             rebuilt: bool = False) -> str:
    if state is FileState.MISSING:
        opening = f"Your profile database {path} was missing"
    elif state is FileState.FOREIGN:
        opening = (f"The file {path} is not a studyapp profile ({detail}); it may be damaged or "
                   "belong to another program")
    else:
        opening = f"Your profile database {path} was damaged ({detail})" if detail else \
            f"Your profile database {path} was damaged"
    if restored is not None and rebuilt:
        text = (f"{opening}. Every backup was damaged too; the newest readable one, of "
                f"{for_people(restored.taken_at)}, was rebuilt and restored (changes made after "
                "that time are lost).")
    elif restored is not None:
        text = (f"{opening}. It was restored from the backup of "
                f"{for_people(restored.taken_at)}; changes made after that time are lost.")
    else:
        text = f"{opening}. No usable backup was found, so a new, empty profile was started."
    if skipped:
        text += f" {len(skipped)} newer backup(s) were damaged too and were skipped."
    kept = [p for p in aside if not p.name.endswith(SIDE_FILES)]
    if kept:
        text += f" The old file was kept, unchanged, as {kept[0].name} in {path.parent}."
    return text
