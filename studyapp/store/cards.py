"""Flashcards and their review log in the profile (schema version 3)."""
from __future__ import annotations

from sqlite_utils import Database


def create_tables(db: Database) -> None:
    """Migration 3. Draft schema, free to change until the first release."""
    db.execute("""
        CREATE TABLE card (
            id           INTEGER PRIMARY KEY,
            deck_id      TEXT NOT NULL,
            source_key   TEXT UNIQUE,          -- a shipped card's stable key; NULL for the learner's own
            front        TEXT NOT NULL,
            back         TEXT NOT NULL,
            lesson_id    TEXT,
            section_id   TEXT,
            origin       TEXT NOT NULL DEFAULT 'deck',
            created_at   TEXT NOT NULL,
            updated_at   TEXT NOT NULL,
            deleted_at   TEXT,
            fsrs         TEXT CHECK (fsrs IS NULL OR json_valid(fsrs)),  -- fsrs.Card.to_dict()
            due          TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX card_due ON card(due) WHERE deleted_at IS NULL")
    db.execute("""
        CREATE TABLE review_log (
            id           INTEGER PRIMARY KEY,
            card_id      INTEGER NOT NULL REFERENCES card(id),
            rating       INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            reviewed_at  TEXT NOT NULL,
            duration_ms  INTEGER,
            card_before  TEXT CHECK (card_before IS NULL OR json_valid(card_before))  -- for undo
        )""")
    db.execute("CREATE INDEX review_log_card ON review_log(card_id, reviewed_at)")
    db.execute("CREATE INDEX review_log_time ON review_log(reviewed_at)")
