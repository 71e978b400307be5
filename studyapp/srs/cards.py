"""The flashcards of a profile: the public API other features use, and the shipped-deck sync.

    cards = Cards(store)
    card_id = cards.add("Front", "Back", lesson_id="ppo-and-kl", section_id="reward-hacking",
                        origin="quiz")                       # a wrong quiz answer becomes a card
    cards.update(card_id, back="Better answer")
    token = cards.delete(card_id); cards.undelete(token)    # delete with undo
    cards.lesson_counts()   # {"ppo-and-kl": LessonCounts(total, new, due, mature)} for Progress

Shipped decks (studyapp.content.decks) enter the profile through sync_decks(): idempotent, keyed
by 'deck:key'; a changed text updates the cards the learner has not edited, and a card the learner
deleted stays deleted. Every write is one transaction. No Qt here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from studyapp.store.cards import new_guid, shipped_guid
from studyapp.store.timeutil import to_text

from .scheduling import MATURE_DAYS, Options, Schedule, study_day_end, utc

MY_DECK = "my-cards"
MY_DECK_TITLE = "My cards"
ORIGINS = ("deck", "learner", "quiz", "import")
MAX_TEXT = 20_000


@dataclass(frozen=True)
class CardRow:
    id: int
    deck_id: str
    front: str
    back: str
    lesson_id: str | None
    section_id: str | None
    origin: str
    source_key: str | None
    edited: bool
    schedule: Schedule
    deleted: bool = False
    guid: str = ""          # the card's identity across profiles and in Anki (migration 6)

    @classmethod
    def from_row(cls, row) -> CardRow:
        return cls(row["id"], row["deck_id"], row["front"], row["back"], row["lesson_id"],
                   row["section_id"], row["origin"], row["source_key"], bool(row["edited"]),
                   Schedule.from_row(row), row["deleted_at"] is not None, row["guid"])


@dataclass(frozen=True)
class LessonCounts:
    total: int = 0
    new: int = 0
    due: int = 0
    mature: int = 0


@dataclass
class MergeResult:
    """What Cards.merge_many did: ids added (or brought back) and updated, and rows skipped."""
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    skipped: int = 0


@dataclass(frozen=True)
class DeckInfo:
    id: str
    title: str
    shipped: bool
    total: int


def _check_text(front: str, back: str) -> tuple[str, str]:
    front, back = (front or "").strip(), (back or "").strip()
    if not front or not back:
        raise ValueError("a card needs both a question and an answer")
    if len(front) > MAX_TEXT or len(back) > MAX_TEXT:
        raise ValueError(f"a card's side may hold at most {MAX_TEXT} characters")
    return front, back


class Cards:
    def __init__(self, store) -> None:
        self.store = store

    def now(self) -> datetime:
        return utc(self.store.now())

    # ---- decks ----------------------------------------------------------------------------
    def _ensure_deck(self, db, deck_id: str, title: str | None = None, shipped: bool = False) -> None:
        if not deck_id or len(deck_id) > 100:
            raise ValueError("a deck needs a name of 1-100 characters")
        db.execute("INSERT INTO deck (id, title, shipped, created_at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT(id) DO UPDATE SET title = CASE WHEN excluded.shipped THEN "
                   "excluded.title ELSE deck.title END, shipped = max(deck.shipped, excluded.shipped)",
                   [deck_id, title or (MY_DECK_TITLE if deck_id == MY_DECK else deck_id),
                    int(shipped), self.store.now_text()])

    def decks(self) -> list[DeckInfo]:
        """Every deck with its number of cards (one index count per deck, cheap at 100k cards)."""
        rows = self.store.db.execute("""
            SELECT d.id, d.title, d.shipped,
                   (SELECT count(*) FROM card c WHERE c.deck_id = d.id AND c.deleted_at IS NULL)
            FROM deck d ORDER BY d.shipped DESC, d.title""").fetchall()
        return [DeckInfo(r[0], r[1], bool(r[2]), r[3]) for r in rows]

    # ---- cards ----------------------------------------------------------------------------
    def add(self, front: str, back: str, *, lesson_id: str | None = None,
            section_id: str | None = None, origin: str = "learner", deck_id: str = MY_DECK) -> int:
        """Add a new card and return its id. Raises ValueError on empty or oversized text."""
        front, back = _check_text(front, back)
        if origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}")
        with self.store.transaction() as db:
            return self._insert(db, deck_id, front, back, lesson_id, section_id, origin)

    def _insert(self, db, deck_id, front, back, lesson_id, section_id, origin,
                source_key: str | None = None, guid: str | None = None) -> int:
        self._ensure_deck(db, deck_id)
        now = self.store.now_text()
        guid = guid or (shipped_guid(source_key) if source_key else new_guid())
        cursor = db.execute(
            "INSERT INTO card (deck_id, source_key, front, back, lesson_id, section_id, origin, "
            "created_at, updated_at, state, due, guid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            [deck_id, source_key, front, back, lesson_id or None,
             (section_id or None) if lesson_id else None, origin, now, now, now, guid])
        return cursor.lastrowid

    def add_many(self, rows: list[dict], origin: str = "import") -> list[int]:
        """Add cards (dicts with front, back, deck_id, lesson_id, section_id) in ONE transaction:
        all or none."""
        checked = [(r.get("deck_id") or MY_DECK, *_check_text(r["front"], r["back"]),
                    r.get("lesson_id"), r.get("section_id")) for r in rows]
        with self.store.transaction() as db:
            return [self._insert(db, deck, front, back, lesson, section, origin)
                    for deck, front, back, lesson, section in checked]

    def merge_many(self, rows: list[dict], origin: str = "import",
                   progress=None) -> MergeResult:
        """Add the rows that are new, update those whose guid is known, skip duplicates; ONE
        transaction, all or none.

        A row with a known guid updates that card's text, deck and link (schedule and history
        stay; a deleted card comes back) or is skipped when nothing differs. A row without one
        is skipped when a live card has the same deck, front and back, or when the same row came
        earlier in `rows`. `progress(n)` is told every 1000 rows.
        """
        checked = [(r.get("deck_id") or MY_DECK, *_check_text(r["front"], r["back"]),
                    r.get("lesson_id") or None, r.get("section_id") or None, r.get("guid") or None)
                   for r in rows]
        result = MergeResult()
        with self.store.transaction() as db:
            by_guid = {}
            guids = [row[5] for row in checked if row[5]]
            for start in range(0, len(guids), 500):   # SQLite's bound-parameter limit
                chunk = guids[start:start + 500]
                for found in db.execute(
                        "SELECT guid, id, deck_id, front, back, lesson_id, section_id, deleted_at "
                        f"FROM card WHERE guid IN ({','.join('?' * len(chunk))})", chunk):
                    by_guid[found[0]] = found[1:]
            decks = sorted({row[0] for row in checked})
            present = set()
            for deck in decks:
                present.update((deck, front, back) for front, back in db.execute(
                    "SELECT front, back FROM card WHERE deck_id = ? AND deleted_at IS NULL", [deck]))
            now = self.store.now_text()
            for index, (deck, front, back, lesson, section, guid) in enumerate(checked, start=1):
                section = section if lesson else None
                known = by_guid.get(guid) if guid else None
                if known is not None:
                    card_id, *current, deleted_at = known
                    if tuple(current) == (deck, front, back, lesson, section) and deleted_at is None:
                        result.skipped += 1
                    else:
                        changed = tuple(current[1:]) != (front, back, lesson, section)
                        self._ensure_deck(db, deck)
                        db.execute("UPDATE card SET deck_id = ?, front = ?, back = ?, lesson_id = ?, "
                                   "section_id = ?, edited = edited OR ?, deleted_at = NULL, "
                                   "updated_at = ? WHERE id = ?",
                                   [deck, front, back, lesson, section, int(changed), now, card_id])
                        (result.added if deleted_at else result.updated).append(card_id)
                        by_guid[guid] = (card_id, deck, front, back, lesson, section, None)
                elif (deck, front, back) in present:
                    result.skipped += 1
                else:
                    card_id = self._insert(db, deck, front, back, lesson, section, origin, guid=guid)
                    result.added.append(card_id)
                    if guid:
                        by_guid[guid] = (card_id, deck, front, back, lesson, section, None)
                present.add((deck, front, back))
                if progress and index % 1000 == 0:
                    progress(1000)
            if progress:
                progress(len(checked) % 1000)
        return result

    def get(self, card_id: int) -> CardRow | None:
        row = next(self.store.db.query("SELECT * FROM card WHERE id = ?", [card_id]), None)
        return None if row is None else CardRow.from_row(row)

    def update(self, card_id: int, *, front: str | None = None, back: str | None = None,
               lesson_id: str | None = ..., section_id: str | None = ...,  # type: ignore[assignment]
               deck_id: str | None = None) -> None:
        """Change a card's text, link or deck; a changed shipped card stops following the deck."""
        current = self.get(card_id)
        if current is None:
            raise KeyError(card_id)
        front, back = _check_text(current.front if front is None else front,
                                  current.back if back is None else back)
        lesson = current.lesson_id if lesson_id is ... else (lesson_id or None)
        section = current.section_id if section_id is ... else (section_id or None)
        deck = deck_id or current.deck_id
        changed = (front, back, lesson, section) != (current.front, current.back,
                                                      current.lesson_id, current.section_id)
        with self.store.transaction() as db:
            self._ensure_deck(db, deck)
            db.execute("UPDATE card SET front = ?, back = ?, lesson_id = ?, section_id = ?, "
                       "deck_id = ?, edited = edited OR ?, updated_at = ? WHERE id = ?",
                       [front, back, lesson, section if lesson else None, deck, int(changed),
                        self.store.now_text(), card_id])

    def delete(self, card_id: int) -> int:
        """Soft-delete a card (its history stays); returns the token undelete() takes."""
        with self.store.transaction() as db:
            db.execute("UPDATE card SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                       [self.store.now_text(), card_id])
        return card_id

    def undelete(self, token: int) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE card SET deleted_at = NULL WHERE id = ?", [token])

    def search(self, text: str = "", *, deck_id: str | None = None, limit: int = 2000) -> list[dict]:
        """Cards whose sides contain `text` (case-insensitive), newest first, for the browser."""
        return search_rows(self.store.conn, text, deck_id=deck_id, limit=limit)

    def count(self) -> int:
        return self.store.db.execute("SELECT count(*) FROM card WHERE deleted_at IS NULL").fetchone()[0]

    # ---- for the Progress tab -------------------------------------------------------------
    def lesson_counts(self, now: datetime | None = None) -> dict[str, LessonCounts]:
        """Per lesson slug: cards linked to it, new, due by the end of the study day, mature."""
        now = utc(now or self.now())
        options = Options.load(self.store)
        end_of_day = to_text(study_day_end(now, options.day_starts_hour))
        rows = self.store.db.execute("""
            SELECT lesson_id, count(*),
                   count(*) FILTER (WHERE state = 0),
                   count(*) FILTER (WHERE state > 0 AND due < ?),
                   count(*) FILTER (WHERE state = 2 AND interval_days >= ?)
            FROM card WHERE deleted_at IS NULL AND lesson_id IS NOT NULL
            GROUP BY lesson_id""", [end_of_day, MATURE_DAYS]).fetchall()
        return {r[0]: LessonCounts(r[1], r[2], r[3], r[4]) for r in rows}

    # ---- shipped decks --------------------------------------------------------------------
    def sync_decks(self, decks) -> dict[str, int]:
        """Bring shipped decks (content.decks.Deck) into the profile; returns counts of
        'added' and 'updated' cards. Safe to run on every start."""
        decks = list(decks)
        if not self._decks_differ(decks):
            # Nothing to change (every start but the first after an update): no write lock, so
            # the app starts without waiting while another program writes to the profile.
            return {"added": 0, "updated": 0}
        added = updated = 0
        with self.store.transaction() as db:
            for deck in decks:
                self._ensure_deck(db, deck.id, deck.title, shipped=True)
                keys = [f"{deck.id}:{c.key}" for c in deck.cards]
                existing = _stored_cards(db, keys)
                for key, card in zip(keys, deck.cards):
                    row = existing.get(key)
                    shipped = (card.front, card.back, card.lesson_id, card.section_id)
                    if row is None:
                        self._insert(db, deck.id, *shipped[:2], card.lesson_id, card.section_id,
                                     "deck", source_key=key)
                        added += 1
                    elif not row[1] and tuple(row[2:]) != shipped:
                        db.execute("UPDATE card SET front = ?, back = ?, lesson_id = ?, "
                                   "section_id = ?, updated_at = ? WHERE id = ?",
                                   [*shipped, self.store.now_text(), row[0]])
                        updated += 1
        return {"added": added, "updated": updated}

    def _decks_differ(self, decks) -> bool:
        """Would sync_decks change anything? Read-only; the same comparisons as sync_decks."""
        db = self.store.db
        stored = {row[0]: (row[1], row[2]) for row in db.execute("SELECT id, title, shipped FROM deck")}
        for deck in decks:
            if stored.get(deck.id) != (deck.title, 1):
                return True
            keys = [f"{deck.id}:{c.key}" for c in deck.cards]
            existing = _stored_cards(db, keys)
            for key, card in zip(keys, deck.cards):
                row = existing.get(key)
                if row is None or (not row[1] and tuple(row[2:]) != (
                        card.front, card.back, card.lesson_id, card.section_id)):
                    return True
        return False


def _stored_cards(db, source_keys: list[str]) -> dict[str, tuple]:
    """The stored cards with these source keys: {source_key: (id, edited, front, back, lesson_id,
    section_id)}, read 500 keys at a time (SQLite's bound-parameter limit)."""
    found = {}
    for start in range(0, len(source_keys), 500):
        chunk = source_keys[start:start + 500]
        for row in db.execute("SELECT source_key, id, edited, front, back, lesson_id, section_id FROM card "
                              f"WHERE source_key IN ({','.join('?' * len(chunk))})", chunk):
            found[row[0]] = tuple(row[1:])
    return found


def search_rows(conn, text: str = "", *, deck_id: str | None = None, limit: int = 2000) -> list[dict]:
    """Cards.search on any sqlite3 connection, so the browser can search on a worker thread
    through a read-only connection of its own."""
    where, args = ["deleted_at IS NULL"], []
    if text.strip():
        where.append("(front LIKE ? ESCAPE '\\' OR back LIKE ? ESCAPE '\\')")
        pattern = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        args += [pattern, pattern]
    if deck_id:
        where.append("deck_id = ?")
        args.append(deck_id)
    cursor = conn.execute(
        f"SELECT id, deck_id, front, back, lesson_id, section_id, origin, state, due, "
        f"interval_days, reps, lapses, guid FROM card WHERE {' AND '.join(where)} "
        f"ORDER BY id DESC LIMIT ?", args + [limit])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]
