"""Flashcards, their decks and the review log in the profile (schema version 3).

The queries live with the feature (studyapp/srs/); this module only fixes the tables. Scheduling
state is kept in plain columns rather than a JSON blob so that the queue query ("the next due
card") and the statistics are index lookups, not scans: a learner's profile may hold 100,000
cards and a million reviews.

Times are timeutil.to_text() strings (UTC, milliseconds, "Z"), which sort as text.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:   # migrations run on a plain connection too (migrations.PlainDatabase)
    from sqlite_utils import Database


def create_tables(db: Database) -> None:
    """Migration 3. Draft schema, free to change until the first release."""
    # A deck is a title for a group of cards; shipped decks come from resources/decks/*.md.
    db.execute("""
        CREATE TABLE deck (
            id          TEXT PRIMARY KEY,
            title       TEXT NOT NULL,
            shipped     INTEGER NOT NULL DEFAULT 0,
            created_at  TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE card (
            id            INTEGER PRIMARY KEY,
            deck_id       TEXT NOT NULL REFERENCES deck(id),
            source_key    TEXT UNIQUE,     -- 'deck:key' of a shipped card; NULL for the learner's own
            edited        INTEGER NOT NULL DEFAULT 0,  -- 1: the learner changed a shipped card
            front         TEXT NOT NULL,
            back          TEXT NOT NULL,
            lesson_id     TEXT,
            section_id    TEXT,
            origin        TEXT NOT NULL,   -- 'deck', 'learner', 'quiz', 'import'
            created_at    TEXT NOT NULL,
            updated_at    TEXT NOT NULL,
            deleted_at    TEXT,            -- soft delete, so that a delete can be undone
            -- FSRS state (fsrs.Card), with 0 for a card never reviewed ("new")
            state         INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 3),
            step          INTEGER,
            stability     REAL,
            difficulty    REAL,
            due           TEXT NOT NULL,   -- new cards: when they joined, which orders the new queue
            last_review   TEXT,
            interval_days REAL,            -- due - last_review; a card is mature at >= 21 days
            reps          INTEGER NOT NULL DEFAULT 0,
            lapses        INTEGER NOT NULL DEFAULT 0
        )""")
    # The review queue: "state = ? AND due <= ? ORDER BY due LIMIT 1" is one index seek; with
    # interval_days it also covers the young/mature counts, which then never read the table.
    db.execute("CREATE INDEX card_queue ON card(state, due, interval_days) WHERE deleted_at IS NULL")
    db.execute("CREATE INDEX card_deck_queue ON card(deck_id, state, due) WHERE deleted_at IS NULL")
    # Covers the Progress tab's due / mature counts per lesson (no table reads, no sort).
    db.execute("CREATE INDEX card_lesson ON card(lesson_id, state, due, interval_days) "
               "WHERE deleted_at IS NULL AND lesson_id IS NOT NULL")
    db.execute("""
        CREATE TABLE review_log (
            id            INTEGER PRIMARY KEY,
            card_id       INTEGER NOT NULL REFERENCES card(id) ON DELETE CASCADE,
            rating        INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            reviewed_at   TEXT NOT NULL,
            duration_ms   INTEGER,
            state_before  INTEGER NOT NULL,   -- 0 new, 1 learning, 2 review, 3 relearning
            interval_days REAL,               -- the interval this review scheduled
            card_before   TEXT NOT NULL CHECK (json_valid(card_before))  -- the columns, for undo
        )""")
    db.execute("CREATE INDEX review_log_card ON review_log(card_id, reviewed_at)")
    db.execute("CREATE INDEX review_log_time ON review_log(reviewed_at, state_before, rating)")
    # ^ covering: the statistics (reviews per day, retention) never touch the table itself.


# ---- migration 6: a stable identity per card ------------------------------------------------
# Anki keeps a note's identity in its guid: an import with a known guid updates that note. Card
# ids restart at 1 in every profile, so guids made from them collided between two learners'
# different cards, and a teacher importing both decks saw one overwrite the other. Each card now
# carries a random 64-bit guid of its own; a shipped card's guid is derived from its 'deck:key',
# the same in every profile (and the same as exports before this migration), because it is the
# same card. Text written in Anki's base91 alphabet, as genanki and Anki write guids.
_BASE91 = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
           "!#$%&()*+,-./:;<=>?@[]^_`{|}~")


def _base91(number: int) -> str:
    digits = []
    while number > 0:
        number, rest = divmod(number, len(_BASE91))
        digits.append(_BASE91[rest])
    return "".join(reversed(digits)) or _BASE91[0]


def new_guid() -> str:
    """A random card identity, unique across profiles (64 bits, as Anki's own)."""
    import secrets
    return _base91(secrets.randbits(64))


def shipped_guid(source_key: str) -> str:
    """The identity of a shipped card: genanki.guid_for("studyapp", source_key), kept here so
    that the migration never changes with a library upgrade."""
    import hashlib
    digest = hashlib.sha256(f"studyapp__{source_key}".encode()).digest()[:8]
    return _base91(int.from_bytes(digest, "big"))


def add_card_guid(db: Database) -> None:
    """Migration 6. Every existing card gets its guid, then a unique index keeps them apart."""
    db.execute("ALTER TABLE card ADD COLUMN guid TEXT")
    rows = db.execute("SELECT id, source_key FROM card").fetchall()
    db.conn.executemany("UPDATE card SET guid = ? WHERE id = ?",
                        [(shipped_guid(key) if key else new_guid(), card_id) for card_id, key in rows])
    db.execute("CREATE UNIQUE INDEX card_guid ON card(guid)")
