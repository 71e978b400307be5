"""The open profile: one SQLite connection with our settings, transactions, and timed backups.

Open it with studyapp.store.open_profile(), which also checks, migrates and repairs the file; the
Store itself assumes a healthy, current database. Reads may use `store.db` (a sqlite_utils
Database) directly; every write goes through `with store.transaction():`. Features keep their
queries in their own modules and are built on the store, one way for all of them:
`LessonProgress(store)`, `Settings(store)`, `LabRuns(store)`, `QuizHistory(store)`, `TeachAttempts(store)` ... The
features import this module, never the other way round (no import cycle inside the package).

Durability choice: WAL with synchronous=FULL. With NORMAL a commit survives a crash of the app
but the last commits may roll back if the machine loses power; FULL syncs the WAL on each commit,
so a review the learner saw confirmed is on disk before the next card appears. Our writes are a
few small transactions a minute, so the extra fsync (about a millisecond on an SSD) costs nothing
a learner can notice; bulk writers (lab metric series) should batch rows into one transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from . import backup as backups
from .errors import ProfileClosed, ProfileDamageFound, StorageError, StoreError
from .timeutil import Clock, system_clock, to_text

if TYPE_CHECKING:
    from sqlite_utils import Database

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
BACKUP_INTERVAL = timedelta(minutes=30)
# Left in the backup folder when a backup's integrity_check found the live profile damaged; the
# next open_profile() then runs the full check whatever the profile's size, and repairs.
DAMAGE_MARKER = ".integrity-check-needed"


class Store:
    """A profile database opened for use. Create it through open_profile()."""

    def __init__(self, path: Path, *, backup_dir: Path, clock: Clock = system_clock,
                 keep_backups: int = backups.DEFAULT_KEEP,
                 backup_interval: timedelta = BACKUP_INTERVAL) -> None:
        self.path = Path(path)
        self.backup_dir = Path(backup_dir)
        self.clock = clock
        self.keep_backups = keep_backups
        self.backup_interval = backup_interval
        # check_same_thread=False lets a worker thread write too; _lock serialises transactions
        # so two threads never interleave statements inside one transaction.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise sqlite3.OperationalError(f"journal_mode stayed {mode!r}")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # Keep a long session's WAL from growing without bound between checkpoints.
            conn.execute("PRAGMA journal_size_limit=33554432")
        except sqlite3.Error:
            conn.close()
            raise
        self.conn = conn
        self._db: Database | None = None
        self._lock = threading.RLock()
        newest = backups.list_backups(self.backup_dir)
        self._last_backup_at: datetime | None = newest[0].taken_at if newest else None
        self._changes_at_backup = conn.total_changes
        # Set by open_profile(backup_on_start=False) when the start-up backup was left to the UI.
        self._backup_due = False
        # Set by open_profile() when the file cannot be written: close() then leaves it alone.
        self.read_only = False

    @property
    def db(self) -> Database:
        """The connection as a sqlite_utils Database, made on first use.

        sqlite_utils pulls in numpy, click and dateutil (0.19-0.32 s of imports here), so nothing
        the first window needs uses it: opening an up-to-date profile and the start-up reads
        (settings, lesson progress) go through `conn`, and the window imports sqlite_utils on a
        thread after its first frame (issue 16), before the first write needs it."""
        if self._db is None:
            with self._lock:
                if self.conn is None:
                    raise ProfileClosed(f"The profile {self.path} is closed.")
                if self._db is None:
                    from sqlite_utils import Database

                    # Third-party sqlite-utils plugins have no business changing a learner's
                    # profile connection, and scanning for them costs start-up time.
                    self._db = Database(self.conn, execute_plugins=False)
        return self._db

    # ---- writing ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """`with store.transaction() as db:` commits on success and rolls back on any exception.

        BEGIN IMMEDIATE takes the write lock at the start, so a second app instance waits (up to
        the busy timeout) instead of failing half-way through. Nested use becomes a savepoint.
        """
        with self._lock:
            if self.conn is None:
                raise ProfileClosed(f"The profile {self.path} was closed before this change could be "
                                    "saved; nothing was written.")
            if self.conn.in_transaction:
                with self.db.atomic():
                    yield self.db
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise self._storage_error(error) from error
            try:
                yield self.db
            except BaseException as error:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error) and not isinstance(error, StoreError):
                    raise self._storage_error(error) from error
                raise
            try:
                self.conn.execute("COMMIT")
            except BaseException as error:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error):
                    raise self._storage_error(error) from error
                raise

    def _storage_error(self, error: sqlite3.Error) -> sqlite3.Error:
        # A full disk, a read-only file or another program's lock becomes a StorageError that
        # names the file and the cause in words; anything else (a bug, a constraint) stays as is.
        return StorageError.from_sqlite(self.path, error) or error

    @property
    def closed(self) -> bool:
        """True once close() ran: nothing may be written any more."""
        return self.conn is None

    def now(self) -> datetime:
        return self.clock()

    def now_text(self) -> str:
        return to_text(self.clock())

    # ---- backups ---------------------------------------------------------------------------

    def has_unsaved_backup_changes(self) -> bool:
        """True when something was written since the last backup this session knows of."""
        return self._backup_due or self.conn.total_changes != self._changes_at_backup

    def mark_backup_due(self) -> None:
        """Make the next maybe_backup() back up at once (the deferred start-up backup)."""
        with self._lock:
            self._backup_due = True

    def maybe_backup(self) -> backups.Backup | None:
        """Back up if anything changed and the last backup is older than the interval (30 min).

        Meant for a UI timer (it may run on a worker thread, see backup_now). The start-up backup
        deferred by open_profile(backup_on_start=False) is due at once. Returns the new backup,
        or None when none was due. Skipping
        unchanged profiles matters: an idle app must not rotate the older backups away.
        Raises StoreError when the backup cannot be written.
        """
        with self._lock:
            if self._backup_due:
                return self.backup_now()
            if not self.has_unsaved_backup_changes():
                return None
            last = self._last_backup_at
            # A last backup "in the future" means the clock was set back: do not wait for it.
            if last is not None and timedelta(0) <= self.clock() - last < self.backup_interval:
                return None
            return self.backup_now()

    def backup_now(self) -> backups.Backup:
        """Write a verified backup now and prune old ones; raises StoreError on failure.

        The copy reads through a connection of its own, so it may run on a worker thread while
        the GUI thread keeps writing (WAL lets one writer and readers work at once).
        """
        with self._lock:
            changes = self.conn.total_changes
            now = self.clock()
        try:
            source = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                made = backups.write_backup(source, self.backup_dir, now, self.keep_backups)
            finally:
                source.close()
        except backups.DamagedSourceError as error:
            # The live profile is damaged in a way the start-up check did not see. Keep every
            # older backup (none was pruned) and have the next start check fully and repair.
            try:
                (self.backup_dir / DAMAGE_MARKER).write_text(f"{now.isoformat()} {error}\n")
            except OSError:
                pass
            raise ProfileDamageFound(
                f"studyapp found damage in your profile {self.path} while backing it up ({error}). "
                "Your older backups were all kept. Please restart studyapp soon: it will repair "
                "the profile, or restore the newest good backup, and keep the damaged file.") from error
        except (OSError, sqlite3.Error) as error:
            known = StorageError.from_sqlite(self.backup_dir, error) \
                if isinstance(error, sqlite3.Error) else None
            cause = known.cause if known else getattr(error, "strerror", None) or str(error)
            raise StorageError(self.backup_dir, cause, error, action="back up your profile into",
                               after="Your profile itself is fine; the next backup tries again."
                               ) from error
        with self._lock:
            self._last_backup_at = now
            self._changes_at_backup = max(self._changes_at_backup, changes)
            self._backup_due = False
        return made

    # ---- closing ---------------------------------------------------------------------------

    def close(self, *, backup: bool = True) -> None:
        """Back up unsaved changes (if asked), fold the WAL into the main file, and close.

        The checkpoint comes before the backup so the main file is not rewritten after it: the
        next start sees the newest backup is as new as the profile and skips a redundant one.
        """
        with self._lock:
            if self.conn is None:
                return
            try:
                if not self.read_only:
                    self.conn.execute("PRAGMA optimize")
                    self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as error:
                log.warning("closing profile %s: %s", self.path, error)
            if backup and self.has_unsaved_backup_changes():
                try:
                    self.backup_now()
                except StoreError as error:
                    log.warning("%s", error)
            self.conn.close()
            self.conn = None  # type: ignore[assignment]

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
