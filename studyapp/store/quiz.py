"""Quiz attempts and answers in the profile (schema version 2), and cards made from mistakes.

    history = QuizHistory(store)
    attempt = history.start("base-models", "base-models", "test", ["1", "2", ...])
    history.record_answer(attempt, "1", {"choices": [1]}, correct=True)   # committed at once
    history.finish(attempt)                                               # -> the score, 0..1
    history.best_scores()          # {"base-models": 0.75, ...} for the Progress tab

Cards made from missed questions are added through studyapp.srs.cards (origin "quiz");
find_quiz_card() keeps one mistake from becoming two cards.

Every answer is committed in its own transaction the moment it is given, so a crash loses at
most the question on screen. An attempt's score counts questions answered right at the first
try: in a test that is the only try, in practice it is the honest measure of what was known.
Unfinished attempts stay in the history (marked so) but never count as a best score.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .timeutil import from_text

if TYPE_CHECKING:
    from sqlite_utils import Database

    from .db import Store

MODES = ("practice", "test")


def create_tables(db: Database) -> None:
    """Migration 2. Draft schema, free to change until the first release."""
    # question_ids keeps the order the questions were asked in, so a review of an old attempt
    # shows the questions that were skipped or never reached as well as the answered ones.
    db.execute("""
        CREATE TABLE quiz_attempt (
            id            INTEGER PRIMARY KEY,
            bank_id       TEXT NOT NULL,
            lesson_id     TEXT,
            mode          TEXT NOT NULL CHECK (mode IN ('practice', 'test')),
            question_ids  TEXT NOT NULL CHECK (json_valid(question_ids)),
            started_at    TEXT NOT NULL,
            finished_at   TEXT,
            score         REAL,
            max_score     REAL
        )""")
    db.execute("CREATE INDEX quiz_attempt_bank ON quiz_attempt(bank_id, started_at)")
    db.execute("CREATE INDEX quiz_attempt_lesson ON quiz_attempt(lesson_id, finished_at)")
    db.execute("""
        CREATE TABLE quiz_answer (
            attempt_id   INTEGER NOT NULL REFERENCES quiz_attempt(id) ON DELETE CASCADE,
            question_id  TEXT NOT NULL,
            try_no       INTEGER NOT NULL DEFAULT 1,
            answer       TEXT NOT NULL CHECK (json_valid(answer)),
            correct      INTEGER NOT NULL CHECK (correct IN (0, 1)),
            answered_at  TEXT NOT NULL,
            PRIMARY KEY (attempt_id, question_id, try_no)
        ) WITHOUT ROWID""")


@dataclass(frozen=True)
class Answer:
    question_id: str
    try_no: int
    answer: dict[str, Any]     # {"choices": [indices]} or {"text": "..."} or {"revealed": true}
    correct: bool
    answered_at: datetime


@dataclass(frozen=True)
class Attempt:
    id: int
    bank_id: str
    lesson_id: str | None
    mode: str
    question_ids: list[str]
    started_at: datetime
    finished_at: datetime | None = None
    score: float | None = None        # questions right at the first try
    max_score: float | None = None    # questions in the attempt
    answers: list[Answer] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def fraction(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return self.score / self.max_score

    def tries(self, question_id: str) -> list[Answer]:
        return [a for a in self.answers if a.question_id == question_id]


class QuizHistory:
    """The quiz part of a profile. Instantiate with the open Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- writing ---------------------------------------------------------------------------

    def start(self, bank_id: str, lesson_id: str | None, mode: str, question_ids: list[str]) -> int:
        """Open an attempt and return its id."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO quiz_attempt (bank_id, lesson_id, mode, question_ids, started_at, "
                "max_score) VALUES (?, ?, ?, ?, ?, ?)",
                [bank_id, lesson_id, mode, json.dumps(list(question_ids)), self.store.now_text(),
                 len(question_ids)])
            return cursor.lastrowid

    def record_answer(self, attempt_id: int, question_id: str, answer: dict[str, Any],
                      correct: bool) -> int:
        """Store one try at a question; returns its try number (1 for the first)."""
        with self.store.transaction() as db:
            row = db.execute("SELECT coalesce(max(try_no), 0) FROM quiz_answer "
                             "WHERE attempt_id = ? AND question_id = ?",
                             [attempt_id, question_id]).fetchone()
            try_no = row[0] + 1
            db.execute("INSERT INTO quiz_answer (attempt_id, question_id, try_no, answer, correct, "
                       "answered_at) VALUES (?, ?, ?, ?, ?, ?)",
                       [attempt_id, question_id, try_no, json.dumps(answer), int(bool(correct)),
                        self.store.now_text()])
            return try_no

    def finish(self, attempt_id: int) -> float:
        """Close an attempt, store its score, and return the fraction right (0..1)."""
        with self.store.transaction() as db:
            right = db.execute("SELECT count(*) FROM quiz_answer WHERE attempt_id = ? "
                               "AND try_no = 1 AND correct = 1", [attempt_id]).fetchone()[0]
            db.execute("UPDATE quiz_attempt SET finished_at = ?, score = ? WHERE id = ?",
                       [self.store.now_text(), right, attempt_id])
            total = db.execute("SELECT max_score FROM quiz_attempt WHERE id = ?",
                               [attempt_id]).fetchone()[0]
        return right / total if total else 0.0

    def delete(self, attempt_id: int) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM quiz_attempt WHERE id = ?", [attempt_id])

    # ---- reading ---------------------------------------------------------------------------

    @staticmethod
    def _attempt(row: dict, answers: list[Answer] | None = None) -> Attempt:
        return Attempt(id=row["id"], bank_id=row["bank_id"], lesson_id=row["lesson_id"],
                       mode=row["mode"], question_ids=json.loads(row["question_ids"]),
                       started_at=from_text(row["started_at"]),
                       finished_at=from_text(row["finished_at"]), score=row["score"],
                       max_score=row["max_score"], answers=answers or [])

    def attempts(self, bank_id: str | None = None, limit: int = 200) -> list[Attempt]:
        """The newest attempts first (without their answers), of one bank or of all."""
        where, params = ("WHERE bank_id = ?", [bank_id]) if bank_id else ("", [])
        rows = self.store.db.query(f"SELECT * FROM quiz_attempt {where} "
                                   "ORDER BY started_at DESC, id DESC LIMIT ?", params + [limit])
        return [self._attempt(row) for row in rows]

    def attempt(self, attempt_id: int) -> Attempt | None:
        """One attempt with every try at every question, for its review."""
        rows = list(self.store.db.query("SELECT * FROM quiz_attempt WHERE id = ?", [attempt_id]))
        if not rows:
            return None
        answers = [Answer(question_id=a["question_id"], try_no=a["try_no"],
                          answer=json.loads(a["answer"]), correct=bool(a["correct"]),
                          answered_at=from_text(a["answered_at"]))
                   for a in self.store.db.query(
                       "SELECT * FROM quiz_answer WHERE attempt_id = ? ORDER BY answered_at, try_no",
                       [attempt_id])]
        return self._attempt(rows[0], answers)

    def best_scores(self, mode: str | None = None) -> dict[str, float]:
        """{lesson_id: best fraction right (0..1)} over finished attempts (of one mode if given)."""
        return self._best("lesson_id", mode)

    def best_by_bank(self, mode: str | None = None) -> dict[str, float]:
        """{bank_id: best fraction right (0..1)} over finished attempts."""
        return self._best("bank_id", mode)

    def _best(self, key: str, mode: str | None) -> dict[str, float]:
        # key is one of two column names chosen above, never user input.
        where, params = ("AND mode = ?", [mode]) if mode else ("", [])
        rows = self.store.db.execute(
            f"SELECT {key}, max(score * 1.0 / max_score) FROM quiz_attempt "
            f"WHERE finished_at IS NOT NULL AND max_score > 0 AND {key} IS NOT NULL {where} "
            f"GROUP BY {key}", params)
        return {name: best for name, best in rows}


# ---- flashcards from mistakes ------------------------------------------------------------

def find_quiz_card(store: Store, front: str) -> int | None:
    """The live card a quiz already made with this front, so a mistake becomes one card."""
    row = store.db.execute("SELECT id FROM card WHERE origin = 'quiz' AND front = ? "
                           "AND deleted_at IS NULL", [front]).fetchone()
    return row[0] if row else None
