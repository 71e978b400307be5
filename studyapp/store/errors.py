"""Exceptions of the profile store that the app shows to the learner.

Every StoreError carries a message written for a person, naming the folder or file involved, so
the UI can put `str(error)` in a dialog without rewording it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class StoreError(Exception):
    """The profile cannot be opened or written; the message says why and where."""


class ProfileTooNewError(StoreError):
    """The profile was written by a newer studyapp; it is left untouched, never downgraded."""


class ProfileClosed(StoreError):
    """A write reached a profile that was already closed (a late signal from a background task,
    say). Nothing was written; code that may run that late checks `store.closed` first."""


# SQLite result codes of a write that failed for a reason outside the program: the disk, the
# file's permissions, another program's lock. (Anything else is a bug and stays a plain error.)
_CAUSES = {
    "SQLITE_FULL": "the disk is full",
    "SQLITE_READONLY": "the file is read-only",
    "SQLITE_BUSY": "another program (another studyapp, or `studyapp cards import`) is writing "
                   "to it",
    "SQLITE_LOCKED": "another program is writing to it",
    "SQLITE_IOERR": "the disk reported an error",
    "SQLITE_CANTOPEN": "the file cannot be opened",
    "SQLITE_PERM": "permission was denied",
}


class StorageError(StoreError, sqlite3.OperationalError):
    """A write to the profile failed and was rolled back; `path` and `cause` say where and why.

    Also a sqlite3.OperationalError, so code that already caught sqlite3.Error keeps working.
    The UI shows it (studyapp/ui/storage_errors.py) and keeps the write to try again.
    """

    def __init__(self, path: Path, cause: str, error: BaseException | None = None, *,
                 action: str = "save to your profile",
                 after: str = "Your last change was not saved yet; studyapp keeps it and tries "
                              "again.") -> None:
        self.path = Path(path)
        self.cause = cause
        self.error = error
        super().__init__(f"studyapp could not {action} {self.path}: {cause}. {after}")

    @classmethod
    def from_sqlite(cls, path: Path, error: sqlite3.Error) -> StorageError | None:
        """The StorageError for a failed write, or None when `error` is not about the storage."""
        name = getattr(error, "sqlite_errorname", "") or ""
        text = str(error).lower()
        for code, cause in _CAUSES.items():
            if name.startswith(code):
                return cls(path, cause, error)
        # Errors raised without a code (Python 3.10 and older) still carry SQLite's wording.
        for words, code in (("disk is full", "SQLITE_FULL"), ("readonly database", "SQLITE_READONLY"),
                            ("database is locked", "SQLITE_BUSY"), ("disk i/o error", "SQLITE_IOERR")):
            if words in text:
                return cls(path, _CAUSES[code], error)
        return None


class ProfileDamageFound(StoreError):
    """A backup's full integrity check found damage in the live profile. The damaged copy was
    not kept and no older backup was deleted; the next start repairs the profile."""
