"""The profile's schema history: an ordered list of forward migrations, one per schema version.

PRAGMA user_version holds the number of the last migration applied; PRAGMA application_id marks
the file as a studyapp profile. To change the schema, append a Migration with the next version
number (its `apply` may live next to the feature, e.g. studyapp/store/cards.py) and never edit
one that has shipped: a learner's file may already have run it. There are no downgrades; a file
whose user_version is above LATEST_VERSION belongs to a newer studyapp and is not touched.

Migrations write plain SQL rather than sqlite-utils' create_table(): the SQL a migration runs must
stay identical forever, and a library upgrade must not change what version 1 means. So a migration
needs only `db.execute(sql, params)` and `db.conn`, and open_profile() runs them through
PlainDatabase on the profile's own connection: creating a profile on a first start then does not
wait for sqlite_utils (numpy, click, dateutil: 0.2-0.4 s of imports) before the first window
(issue 16). Anything else a migration asks of `db` still works: PlainDatabase hands it to a real
sqlite_utils Database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

    from sqlite_utils import Database

# "STDY" in ASCII; tells our profile apart from any other SQLite file (sqlite.org/fileformat2.html).
APPLICATION_ID = 0x53544459


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Database], None]


def _v1_lesson_progress(db: Database) -> None:
    # One row per lesson the learner has opened; completed_at NULL means "not completed".
    db.execute("""
        CREATE TABLE lesson_progress (
            lesson_id     TEXT PRIMARY KEY,
            completed_at  TEXT,
            last_section  TEXT,
            last_scroll   REAL,
            updated_at    TEXT NOT NULL
        )""")
    # A section counts as read once; the first time is kept (that is when it was learned).
    db.execute("""
        CREATE TABLE lesson_section_read (
            lesson_id   TEXT NOT NULL REFERENCES lesson_progress(lesson_id) ON DELETE CASCADE,
            section_id  TEXT NOT NULL,
            read_at     TEXT NOT NULL,
            PRIMARY KEY (lesson_id, section_id)
        ) WITHOUT ROWID""")
    # UI state (window geometry, last tab, theme ...) as JSON, so any value type round-trips.
    db.execute("""
        CREATE TABLE settings (
            key         TEXT PRIMARY KEY,
            value       TEXT NOT NULL CHECK (json_valid(value)),
            updated_at  TEXT NOT NULL
        )""")


def _feature(module: str, function: str = "create_tables") -> Callable[[Database], None]:
    """A migration whose SQL lives next to its feature (studyapp/store/<module>.py)."""
    def apply(db: Database) -> None:
        import importlib
        getattr(importlib.import_module(f"studyapp.store.{module}"), function)(db)
    return apply


MIGRATIONS: list[Migration] = [
    Migration(1, "lesson progress and settings", _v1_lesson_progress),
    Migration(2, "quiz attempts", _feature("quiz")),
    Migration(3, "flashcards and review log", _feature("cards")),
    Migration(4, "teach-it-back attempts", _feature("teach")),
    Migration(5, "lab runs and metric series", _feature("labruns")),
    Migration(6, "a stable random guid per card", _feature("cards", "add_card_guid")),
]

LATEST_VERSION = MIGRATIONS[-1].version


def check_sequence(migrations: list[Migration]) -> None:
    """Versions must run 1, 2, 3 ... with no gap, or user_version would lie about the schema."""
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(f"migration {migration.name!r} has version {migration.version}, "
                             f"expected {expected}")


check_sequence(MIGRATIONS)


def user_version(db: Database | sqlite3.Connection) -> int:
    """The profile's schema version (a sqlite_utils Database or a plain connection)."""
    return db.execute("PRAGMA user_version").fetchone()[0]


class PlainDatabase:
    """The part of a sqlite_utils Database that migrations use, on a plain sqlite3 connection:
    `execute(sql, params)` (a cursor, as sqlite_utils returns) and `conn`. Any other attribute
    comes from `full()` (by default a sqlite_utils Database on the same connection), loaded the
    first time one is asked for."""

    def __init__(self, conn: sqlite3.Connection, full: Callable[[], Database] | None = None):
        self.conn = conn
        self._full = full

    def execute(self, sql: str, parameters=None):
        return self.conn.execute(sql, parameters) if parameters is not None else self.conn.execute(sql)

    def __getattr__(self, name: str):
        if self._full is None:
            from sqlite_utils import Database
            conn = self.conn
            self._full = lambda: Database(conn, execute_plugins=False)
        return getattr(self._full(), name)


def migrate(db: Database, migrations: list[Migration] = MIGRATIONS) -> list[Migration]:
    """Apply every pending migration, each in its own IMMEDIATE transaction; return those applied.

    `db` is a sqlite_utils Database or a PlainDatabase (what a migration can use is the same).

    Each step re-reads user_version inside its transaction, so two app instances starting at once
    cannot both apply the same step. A failing migration rolls back to the previous version.
    """
    applied = []
    if not migrations or user_version(db) >= migrations[-1].version:
        # Nothing to do: take no write lock, so the app opens while `studyapp cards import`
        # holds it (waiting for it here made start-up fail after the busy timeout).
        return applied
    for migration in migrations:
        conn = db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = user_version(db)
            if current >= migration.version:
                conn.execute("ROLLBACK")
                continue
            if current == 0:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            migration.apply(db)
            # PRAGMA does not take parameters; the version is our own int, not user input.
            conn.execute(f"PRAGMA user_version = {int(migration.version)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(migration)
    return applied
