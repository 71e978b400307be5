"""Lab runs (PPO and other training runs started in the app) and their metric series (schema v5).

    runs = LabRuns(store)
    run_id = runs.create("ppo", "beta 0.1, 60 steps", config)
    runs.add_step(run_id, step, t, metrics, samples)   # one transaction per step: a crash loses
    runs.finish(run_id, "done", summary)               # at most the step in flight
    runs.list("ppo"); runs.load(run_id); runs.delete(run_id)

A run is created as 'running'; a run still 'running' when the profile is next opened was cut off
by a crash or a kill, and list() reports it as 'interrupted' (its steps are all there).
Metric values are stored as one JSON object per step: SQLite's JSON has no NaN, so a NaN or inf
is stored as null and read back as NaN.
"""
from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

    from .db import Store

STATUSES = ("running", "done", "cancelled", "failed")


def create_tables(db: Database) -> None:
    """Migration 5. Draft schema, free to change until the first release."""
    db.execute("""
        CREATE TABLE lab_run (
            id           INTEGER PRIMARY KEY,
            kind         TEXT NOT NULL,          -- 'ppo', 'reward', 'sft', ...
            name         TEXT NOT NULL,
            config       TEXT NOT NULL CHECK (json_valid(config)),
            summary      TEXT CHECK (summary IS NULL OR json_valid(summary)),  -- the stage's result
            message      TEXT,                   -- why it failed, in words
            started_at   TEXT NOT NULL,
            finished_at  TEXT,
            status       TEXT NOT NULL DEFAULT 'running'
                         CHECK (status IN ('running', 'done', 'cancelled', 'failed'))
        )""")
    db.execute("CREATE INDEX lab_run_kind ON lab_run(kind, started_at)")
    db.execute("""
        CREATE TABLE lab_metric (
            run_id   INTEGER NOT NULL REFERENCES lab_run(id) ON DELETE CASCADE,
            step     INTEGER NOT NULL,
            t        REAL NOT NULL,                  -- training seconds since the run started
            values_  TEXT NOT NULL CHECK (json_valid(values_)),
            PRIMARY KEY (run_id, step)
        ) WITHOUT ROWID""")
    db.execute("""
        CREATE TABLE lab_sample (
            run_id    INTEGER NOT NULL REFERENCES lab_run(id) ON DELETE CASCADE,
            step      INTEGER NOT NULL,
            prompt    TEXT NOT NULL,
            response  TEXT NOT NULL,
            score     REAL,                          -- the reward model's score
            rater     REAL                           -- the rater's (the "human's") score
        )""")
    db.execute("CREATE INDEX lab_sample_run ON lab_sample(run_id, step)")


def _json(value: Any) -> str:
    """JSON with NaN/inf as null (SQLite's json_valid rejects NaN), nested lists and dicts included."""
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v
    return json.dumps(clean(value), allow_nan=False, default=str)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class LabRuns:
    """The lab_run/lab_metric/lab_sample tables of one open profile."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, kind: str, name: str, config: dict) -> int:
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO lab_run (kind, name, config, started_at) VALUES (?, ?, ?, ?)",
                [kind, name, _json(config), self.store.now_text()])
            return int(cursor.lastrowid)

    def add_step(self, run_id: int, step: int, t: float, values: dict, samples: list[dict] = ()) -> None:
        """One step's metrics and sampled replies, in one transaction. Re-adding a step replaces it."""
        numbers = {k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        with self.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO lab_metric (run_id, step, t, values_) VALUES (?, ?, ?, ?)",
                       [run_id, int(step), float(t) if math.isfinite(t) else 0.0, _json(numbers)])
            for s in samples:
                db.execute("INSERT INTO lab_sample (run_id, step, prompt, response, score, rater) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           [run_id, int(s.get("step", step)), str(s.get("prompt", "")), str(s.get("response", "")),
                            _number(s.get("score")), _number(s.get("rater"))])

    def finish(self, run_id: int, status: str, summary: dict | None = None, message: str | None = None) -> None:
        if status not in STATUSES or status == "running":
            raise ValueError(f"a run finishes as done, cancelled or failed, not {status!r}")
        with self.store.transaction() as db:
            db.execute("UPDATE lab_run SET status = ?, finished_at = ?, summary = ?, message = ? WHERE id = ?",
                       [status, self.store.now_text(), _json(summary) if summary is not None else None,
                        message, run_id])

    def delete(self, run_id: int) -> None:
        # ON DELETE CASCADE removes the metrics and samples with the run.
        with self.store.transaction() as db:
            db.execute("DELETE FROM lab_run WHERE id = ?", [run_id])

    def list(self, kind: str | None = None, *, live_ids: set[int] = frozenset()) -> list[dict]:
        """Runs, newest first, with their step count. A 'running' run that is not in live_ids (the
        runs this app instance is training right now) was cut off: it is reported 'interrupted'."""
        where, args = ("WHERE r.kind = ?", [kind]) if kind else ("", [])
        rows = self.store.db.execute(f"""
            SELECT r.id, r.kind, r.name, r.config, r.summary, r.message, r.started_at, r.finished_at,
                   r.status, (SELECT COUNT(*) FROM lab_metric m WHERE m.run_id = r.id) AS steps
            FROM lab_run r {where} ORDER BY r.started_at DESC, r.id DESC""", args).fetchall()
        out = []
        for row in rows:
            run = dict(zip(("id", "kind", "name", "config", "summary", "message", "started_at",
                            "finished_at", "status", "steps"), row))
            run["config"] = json.loads(run["config"])
            run["summary"] = json.loads(run["summary"]) if run["summary"] else None
            if run["status"] == "running" and run["id"] not in live_ids:
                run["status"] = "interrupted"
            out.append(run)
        return out

    def get(self, run_id: int, *, live_ids: set[int] = frozenset()) -> dict | None:
        return next((r for r in self.list(live_ids=live_ids) if r["id"] == run_id), None)

    def load(self, run_id: int, *, live_ids: set[int] = frozenset()) -> dict:
        """{'run': row as in list(), 'metrics': [(step, t, {key: float})], 'samples': [dict]}."""
        run = self.get(run_id, live_ids=live_ids)
        if run is None:
            raise KeyError(f"no lab run {run_id}")
        metrics = []
        for step, t, text in self.store.db.execute(
                "SELECT step, t, values_ FROM lab_metric WHERE run_id = ? ORDER BY step", [run_id]).fetchall():
            values = {k: (math.nan if v is None else v) for k, v in json.loads(text).items()}
            metrics.append((step, t, values))
        samples = [dict(zip(("step", "prompt", "response", "score", "rater"), row)) for row in self.store.db.execute(
            "SELECT step, prompt, response, score, rater FROM lab_sample WHERE run_id = ? ORDER BY step, rowid",
            [run_id]).fetchall()]
        return {"run": run, "metrics": metrics, "samples": samples}
