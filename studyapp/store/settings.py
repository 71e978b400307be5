"""Small per-profile UI state (window geometry, last tab, theme ...) as JSON values by key.

Built on an open store: `Settings(store)`. Values must be JSON-serialisable: the UI stores Qt byte arrays such
as saveGeometry() as base64 text. This is for state that belongs to the learner's profile;
installation-wide options live in studyapp/config.py.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .db import Store


class Settings:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str, default: Any = None) -> Any:
        # Through the plain connection: the window reads its settings before sqlite_utils loads.
        row = self.store.conn.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except ValueError:
            # The CHECK constraint keeps bad JSON out; this only guards a hand-edited file.
            return default

    def set(self, key: str, value: Any) -> None:
        """Store `value` under `key`; raises TypeError/ValueError if it is not JSON-serialisable."""
        text = json.dumps(value, allow_nan=False)
        # An unchanged value is not written: no write lock is taken, so the app starts and
        # switches tabs while `studyapp cards import` holds the lock (a write waited 5 s there).
        if not self.store.conn.in_transaction:
            row = self.store.conn.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
            if row is not None and row[0] == text:
                return
        with self.store.transaction() as db:
            db.execute("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                       "updated_at = excluded.updated_at", [key, text, self.store.now_text()])

    def delete(self, key: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM settings WHERE key = ?", [key])

    def all(self) -> dict[str, Any]:
        return {row["key"]: json.loads(row["value"])
                for row in self.store.db.query("SELECT key, value FROM settings")}

    # The names the foundation issue uses; same behaviour as get()/set().
    get_setting = get
    set_setting = set
