"""Quiz attempts and answers in the profile (schema version 2)."""
from __future__ import annotations

from sqlite_utils import Database


def create_tables(db: Database) -> None:
    """Migration 2. Draft schema, free to change until the first release."""
    db.execute("""
        CREATE TABLE quiz_attempt (
            id           INTEGER PRIMARY KEY,
            bank_id      TEXT NOT NULL,
            lesson_id    TEXT,
            mode         TEXT NOT NULL CHECK (mode IN ('practice', 'test')),
            started_at   TEXT NOT NULL,
            finished_at  TEXT,
            score        REAL,
            max_score    REAL
        )""")
    db.execute("CREATE INDEX quiz_attempt_bank ON quiz_attempt(bank_id, started_at)")
    db.execute("""
        CREATE TABLE quiz_answer (
            attempt_id   INTEGER NOT NULL REFERENCES quiz_attempt(id) ON DELETE CASCADE,
            question_id  TEXT NOT NULL,
            try_no       INTEGER NOT NULL DEFAULT 1,
            answer       TEXT NOT NULL CHECK (json_valid(answer)),
            correct      INTEGER NOT NULL,
            answered_at  TEXT NOT NULL,
            PRIMARY KEY (attempt_id, question_id, try_no)
        )""")
