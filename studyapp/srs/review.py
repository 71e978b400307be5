"""A review session: which card comes next, what each rating would do, answering and undo.

    session = Reviewer(store)                # all decks; Reviewer(store, deck_id="course")
    card = session.next_card()               # None when nothing is due (see next_due_at())
    session.previews(card)                   # [Preview(Again, 1m), ... (Easy, 8d)], no fuzzing
    session.answer(card.id, Rating.Good)     # ONE committed transaction: card row + review log
    session.undo()                           # puts the last answered card back as it was

The queue, in order: learning cards that are due, review cards that are due (up to the daily
review limit), new cards (up to the daily new-card limit), then learning cards due within the
next LEARN_AHEAD minutes so that a session does not stop one minute short. The study day starts at
Options.day_starts_hour local time, as in Anki. No Qt here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from fsrs import Rating

from studyapp.store.timeutil import from_text, to_text

from .cards import CardRow
from .scheduling import SCHEDULE_COLUMNS, Options, Preview, Schedule, previews, study_day_start, utc

LEARN_AHEAD = timedelta(minutes=20)


@dataclass(frozen=True)
class QueueCounts:
    new: int
    learning: int
    review: int

    @property
    def total(self) -> int:
        return self.new + self.learning + self.review


class Reviewer:
    def __init__(self, store, deck_id: str | None = None, options: Options | None = None) -> None:
        self.store = store
        self.deck_id = deck_id
        self.options = options or Options.load(store)
        self._undo: list[int] = []     # review_log ids answered in this session, newest last
        self._scheduler = self.options.scheduler()

    def set_options(self, options: Options) -> None:
        self.options = options
        self._scheduler = options.scheduler()

    def now(self) -> datetime:
        return utc(self.store.now())

    # ---- the queue ------------------------------------------------------------------------
    def _deck(self) -> tuple[str, list]:
        return ("AND deck_id = ?", [self.deck_id]) if self.deck_id else ("", [])

    def done_today(self, now: datetime | None = None) -> tuple[int, int]:
        """(new cards introduced, review cards reviewed) since the study day began."""
        start = to_text(study_day_start(now or self.now(), self.options.day_starts_hour))
        deck, args = self._deck()
        if deck:
            sql = ("SELECT count(*) FILTER (WHERE l.state_before = 0), count(*) FILTER (WHERE "
                   "l.state_before = 2) FROM review_log l JOIN card c ON c.id = l.card_id "
                   "WHERE l.reviewed_at >= ? AND c.deck_id = ?")
        else:
            sql = ("SELECT count(*) FILTER (WHERE state_before = 0), count(*) FILTER (WHERE "
                   "state_before = 2) FROM review_log WHERE reviewed_at >= ?")
        return tuple(self.store.db.execute(sql, [start, *args]).fetchone())  # type: ignore[return-value]

    def _first(self, states: tuple[int, ...], due_before: str | None) -> CardRow | None:
        """The card due first among `states`. One index seek per state: "state IN (1, 3) ORDER
        BY due" would sort every due learning card instead. Ties on `due` (cards added in one
        transaction) come out in index order, which ends in the rowid, so oldest first."""
        deck, args = self._deck()
        due = "AND due <= ?" if due_before else ""
        best = None
        for state in states:
            sql = (f"SELECT * FROM card WHERE state = ? {due} {deck} AND deleted_at IS NULL "
                   f"ORDER BY due LIMIT 1")
            row = next(self.store.db.query(sql, [state, *([due_before] if due_before else []), *args]), None)
            if row is not None and (best is None or row["due"] < best["due"]):
                best = row
        return None if best is None else CardRow.from_row(best)

    def next_card(self, now: datetime | None = None) -> CardRow | None:
        now = now or self.now()
        stamp = to_text(now)
        new_done, reviews_done = self.done_today(now)
        card = self._first((1, 3), stamp)
        if card is None and reviews_done < self.options.reviews_per_day:
            card = self._first((2,), stamp)
        if card is None and new_done < self.options.new_per_day:
            card = self._first((0,), None)
        if card is None:
            card = self._first((1, 3), to_text(now + LEARN_AHEAD))
        return card

    def counts(self, now: datetime | None = None) -> QueueCounts:
        """What is left today, limits applied (the numbers above the card)."""
        now = now or self.now()
        new_done, reviews_done = self.done_today(now)
        new_left = max(0, self.options.new_per_day - new_done)
        review_left = max(0, self.options.reviews_per_day - reviews_done)
        deck, args = self._deck()

        def capped(where: str, params: list, cap: int) -> int:
            # Counting stops at the cap, so a backlog of 50,000 due cards costs no more than 200.
            sql = (f"SELECT count(*) FROM (SELECT 1 FROM card WHERE {where} {deck} AND "
                   f"deleted_at IS NULL LIMIT ?)")
            return self.store.db.execute(sql, [*params, *args, cap]).fetchone()[0]

        return QueueCounts(
            new=capped("state = 0", [], new_left),
            learning=capped("state IN (1, 3) AND due <= ?", [to_text(now + LEARN_AHEAD)], 1_000_000),
            review=capped("state = 2 AND due <= ?", [to_text(now)], review_left))

    def next_due_at(self) -> datetime | None:
        """When the next card of any kind falls due (for "come back at ..."), ignoring limits."""
        deck, args = self._deck()
        found = [self.store.db.execute(   # per state: each min() is one index seek
            f"SELECT min(due) FROM card WHERE state = ? {deck} AND deleted_at IS NULL",
            [state, *args]).fetchone()[0] for state in (1, 2, 3)]
        found = [due for due in found if due]
        return from_text(min(found)) if found else None

    # ---- answering ------------------------------------------------------------------------
    def previews(self, card: CardRow, now: datetime | None = None) -> list[Preview]:
        return previews(self.options, card.schedule, card.id, now or self.now())

    def answer(self, card_id: int, rating: Rating | int, duration_ms: int | None = None,
               now: datetime | None = None) -> int:
        """Schedule the card with fsrs and commit the card and its log row in one transaction;
        returns the review-log id. When this returns, the review is on disk."""
        rating = Rating(int(rating))
        now = utc(now or self.now())
        with self.store.transaction() as db:
            row = next(db.query("SELECT * FROM card WHERE id = ? AND deleted_at IS NULL", [card_id]), None)
            if row is None:
                raise KeyError(f"card {card_id} does not exist or was deleted")
            before = Schedule.from_row(row)
            after_card, _log = self._scheduler.review_card(before.to_fsrs(card_id), rating,
                                                           review_datetime=now,
                                                           review_duration=duration_ms)
            after = before.after(after_card, rating)
            log_id = db.execute(
                "INSERT INTO review_log (card_id, rating, reviewed_at, duration_ms, state_before, "
                "interval_days, card_before) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [card_id, int(rating), to_text(now), duration_ms, before.state,
                 after.interval_days, json.dumps(before.as_dict())]).lastrowid
            db.execute("UPDATE card SET state = ?, step = ?, stability = ?, difficulty = ?, due = ?, "
                       "last_review = ?, interval_days = ?, reps = ?, lapses = ? WHERE id = ?",
                       [after.state, after.step, after.stability, after.difficulty, after.due,
                        after.last_review, after.interval_days, after.reps, after.lapses, card_id])
        self._undo.append(log_id)
        return log_id

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def undo(self) -> int | None:
        """Take back the last review of this session; returns the card's id (None: nothing to undo)."""
        while self._undo:
            log_id = self._undo[-1]
            with self.store.transaction() as db:
                row = db.execute("SELECT card_id, card_before FROM review_log WHERE id = ?",
                                 [log_id]).fetchone()
                if row is not None:
                    stored = json.loads(row[1])
                    # Only known column names reach the SQL text, whatever the file holds.
                    before = {name: stored.get(name) for name in SCHEDULE_COLUMNS}
                    columns = ", ".join(f"{name} = ?" for name in before)
                    db.execute(f"UPDATE card SET {columns} WHERE id = ?", [*before.values(), row[0]])
                    db.execute("DELETE FROM review_log WHERE id = ?", [log_id])
            self._undo.pop()
            if row is not None:
                return row[0]
        return None
