"""Teach-it-back attempts in the profile (schema version 4)."""
from __future__ import annotations

from sqlite_utils import Database


def create_tables(db: Database) -> None:
    """Migration 4. Draft schema, free to change until the first release."""
    db.execute("""
        CREATE TABLE teach_attempt (
            id           INTEGER PRIMARY KEY,
            rubric_id    TEXT NOT NULL,
            text         TEXT NOT NULL,
            created_at   TEXT NOT NULL,
            coverage     REAL NOT NULL,
            result       TEXT NOT NULL CHECK (json_valid(result))   -- per key point: score, covered
        )""")
    db.execute("CREATE INDEX teach_attempt_rubric ON teach_attempt(rubric_id, created_at)")
