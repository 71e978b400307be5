"""Lesson progress: which sections a learner has read, which lessons are done, where they were.

Built on an open store: `LessonProgress(store)`. Lessons and sections are named by the ids the content layer gives
them (a lesson slug such as "sft-basics", a section's anchor id), so renaming a heading's text
keeps the learner's progress while renaming its anchor starts that section afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from .timeutil import from_text

if TYPE_CHECKING:
    from .db import Store


@dataclass(frozen=True)
class Progress:
    lesson_id: str
    sections_read: frozenset[str] = field(default_factory=frozenset)
    completed_at: datetime | None = None
    last_section: str | None = None
    last_scroll: float | None = None
    updated_at: datetime | None = None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


class LessonProgress:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _touch(self, db, lesson_id: str, now: str) -> None:
        # The parent row must exist before a section row can reference it (foreign key).
        db.execute("INSERT INTO lesson_progress (lesson_id, updated_at) VALUES (?, ?) "
                   "ON CONFLICT(lesson_id) DO UPDATE SET updated_at = excluded.updated_at",
                   [lesson_id, now])

    def mark_section_read(self, lesson_id: str, section_id: str) -> bool:
        """Record that a section was read; True the first time, False if it already was."""
        now = self.store.now_text()
        with self.store.transaction() as db:
            self._touch(db, lesson_id, now)
            cursor = db.execute("INSERT OR IGNORE INTO lesson_section_read "
                                "(lesson_id, section_id, read_at) VALUES (?, ?, ?)",
                                [lesson_id, section_id, now])
            return cursor.rowcount == 1

    def sections_read(self, lesson_id: str) -> set[str]:
        # Reads go through the plain connection: the Lessons tab shows them in the first frame,
        # before sqlite_utils has loaded (Store.db).
        rows = self.store.conn.execute("SELECT section_id FROM lesson_section_read WHERE lesson_id = ?",
                                       [lesson_id])
        return {section_id for (section_id,) in rows}

    def set_completed(self, lesson_id: str, done: bool = True) -> None:
        """Mark a lesson done (keeping the first completion time) or not done."""
        now = self.store.now_text()
        with self.store.transaction() as db:
            self._touch(db, lesson_id, now)
            if done:
                db.execute("UPDATE lesson_progress SET completed_at = coalesce(completed_at, ?) "
                           "WHERE lesson_id = ?", [now, lesson_id])
            else:
                db.execute("UPDATE lesson_progress SET completed_at = NULL WHERE lesson_id = ?",
                           [lesson_id])

    def set_position(self, lesson_id: str, section_id: str | None,
                     scroll: float | None = None) -> None:
        """Remember where the learner was (section anchor, scroll fraction 0..1) to return there."""
        now = self.store.now_text()
        with self.store.transaction() as db:
            self._touch(db, lesson_id, now)
            db.execute("UPDATE lesson_progress SET last_section = ?, last_scroll = ? "
                       "WHERE lesson_id = ?", [section_id, scroll, lesson_id])

    def forget(self, lesson_id: str) -> None:
        """Start a lesson over: its read sections, completion and position are removed."""
        with self.store.transaction() as db:
            # ON DELETE CASCADE removes the section rows (foreign_keys is on for our connection).
            db.execute("DELETE FROM lesson_progress WHERE lesson_id = ?", [lesson_id])

    def get(self, lesson_id: str) -> Progress:
        """Progress of one lesson; an empty Progress for a lesson never opened."""
        return self.lesson_progress([lesson_id]).get(lesson_id, Progress(lesson_id))

    def lesson_progress(self, lesson_ids: list[str] | None = None) -> dict[str, Progress]:
        """Progress of every lesson the learner has touched (or of the ids given), by lesson id."""
        conn = self.store.conn
        where, params = "", []
        if lesson_ids is not None:
            where = f"WHERE lesson_id IN ({', '.join('?' for _ in lesson_ids)})"
            params = list(lesson_ids)
        sections: dict[str, set[str]] = {}
        for lesson_id, section_id in conn.execute(
                f"SELECT lesson_id, section_id FROM lesson_section_read {where}", params):
            sections.setdefault(lesson_id, set()).add(section_id)
        result = {}
        for lesson_id, completed_at, last_section, last_scroll, updated_at in conn.execute(
                "SELECT lesson_id, completed_at, last_section, last_scroll, updated_at "
                f"FROM lesson_progress {where}", params):
            result[lesson_id] = Progress(
                lesson_id=lesson_id,
                sections_read=frozenset(sections.get(lesson_id, ())),
                completed_at=from_text(completed_at),
                last_section=last_section,
                last_scroll=last_scroll,
                updated_at=from_text(updated_at),
            )
        return result
