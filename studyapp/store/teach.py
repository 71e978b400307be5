"""Teach-it-back attempts in the profile (schema version 4), and the draft being written.

    attempts = TeachAttempts(store)
    attempt_id = attempts.add("base-to-assistant", text, result.to_json())   # one transaction
    attempts.history("base-to-assistant")     # newest first, for the Teach tab's list
    attempts.best_coverage()                  # {rubric_id: best coverage 0..1}
    attempts.latest_by_point()                # per key point: its latest grade, for Progress

Each attempt keeps the text, the coverage and the full grade as JSON (per key point: status,
score, the learner's matched sentence, the lessons that teach it), so an old attempt is shown
exactly as it was graded even after the rubric or the thresholds change; `grader` records which
model and threshold set graded it. The draft lives in the settings under draft_key(rubric_id).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .settings import Settings
from .timeutil import from_text

if TYPE_CHECKING:
    from sqlite_utils import Database

    from .db import Store


def create_tables(db: Database) -> None:
    """Migration 4. Draft schema, free to change until the first release."""
    db.execute("""
        CREATE TABLE teach_attempt (
            id           INTEGER PRIMARY KEY,
            rubric_id    TEXT NOT NULL,
            text         TEXT NOT NULL,
            created_at   TEXT NOT NULL,
            coverage     REAL NOT NULL CHECK (coverage BETWEEN 0 AND 1),
            grader       TEXT NOT NULL,                              -- model + threshold version
            result       TEXT NOT NULL CHECK (json_valid(result))   -- the whole GradeResult
        )""")
    db.execute("CREATE INDEX teach_attempt_rubric ON teach_attempt(rubric_id, created_at)")


def draft_key(rubric_id: str) -> str:
    return f"teach.draft.{rubric_id}"


@dataclass(frozen=True)
class TeachAttempt:
    id: int
    rubric_id: str
    text: str
    created_at: datetime
    coverage: float
    grader: str
    result: dict[str, Any]


class TeachAttempts:
    """The teach-it-back part of a profile. Instantiate with the open Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, rubric_id: str, text: str, result: dict[str, Any]) -> int:
        """Store a graded attempt and return its id (committed before this returns)."""
        coverage = float(result.get("coverage", 0.0))
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO teach_attempt (rubric_id, text, created_at, coverage, grader, result) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [rubric_id, text, self.store.now_text(), min(max(coverage, 0.0), 1.0),
                 str(result.get("grader", "")), json.dumps(result, allow_nan=False)])
            return cursor.lastrowid

    def delete(self, attempt_id: int) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM teach_attempt WHERE id = ?", [attempt_id])

    @staticmethod
    def _attempt(row: dict) -> TeachAttempt:
        return TeachAttempt(row["id"], row["rubric_id"], row["text"], from_text(row["created_at"]),
                            row["coverage"], row["grader"], json.loads(row["result"]))

    def history(self, rubric_id: str | None = None, limit: int = 500) -> list[TeachAttempt]:
        """Attempts, newest first, of one rubric or of all."""
        where, params = ("WHERE rubric_id = ?", [rubric_id]) if rubric_id else ("", [])
        rows = self.store.db.query(f"SELECT * FROM teach_attempt {where} "
                                   "ORDER BY created_at DESC, id DESC LIMIT ?", params + [limit])
        return [self._attempt(row) for row in rows]

    def get(self, attempt_id: int) -> TeachAttempt | None:
        rows = list(self.store.db.query("SELECT * FROM teach_attempt WHERE id = ?", [attempt_id]))
        return self._attempt(rows[0]) if rows else None

    def best_coverage(self) -> dict[str, float]:
        """{rubric_id: best coverage (0..1)} over every attempt."""
        return {rubric: best for rubric, best in self.store.db.execute(
            "SELECT rubric_id, max(coverage) FROM teach_attempt GROUP BY rubric_id")}

    def latest_by_point(self) -> dict[str, dict[str, Any]]:
        """{point id: the point's entry in the newest attempt of its rubric} over all rubrics.

        The Progress tab turns these into per-lesson coverage through each point's `lessons`.
        Keys are "rubric_id/point_id" so two rubrics may reuse a point title.
        """
        latest: dict[str, dict[str, Any]] = {}
        for (rubric_id,) in self.store.db.execute("SELECT DISTINCT rubric_id FROM teach_attempt"):
            newest = self.history(rubric_id, limit=1)
            for point in newest[0].result.get("points", []) if newest else []:
                latest[f"{rubric_id}/{point.get('id')}"] = point
        return latest

    # ---- the draft -------------------------------------------------------------------------

    def draft(self, rubric_id: str) -> str:
        value = Settings(self.store).get(draft_key(rubric_id), "")
        return value if isinstance(value, str) else ""

    def save_draft(self, rubric_id: str, text: str) -> None:
        Settings(self.store).set(draft_key(rubric_id), text)
