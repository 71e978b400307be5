"""Lab runs (PPO and other training runs started in the app) and their metric series (schema v5)."""
from __future__ import annotations

from sqlite_utils import Database


def create_tables(db: Database) -> None:
    """Migration 5. Draft schema, free to change until the first release."""
    db.execute("""
        CREATE TABLE lab_run (
            id           INTEGER PRIMARY KEY,
            kind         TEXT NOT NULL,          -- 'ppo', 'reward', 'sft', ...
            name         TEXT NOT NULL,
            config       TEXT NOT NULL CHECK (json_valid(config)),
            started_at   TEXT NOT NULL,
            finished_at  TEXT,
            status       TEXT NOT NULL DEFAULT 'running'  -- running, done, cancelled, failed
        )""")
    db.execute("""
        CREATE TABLE lab_metric (
            run_id   INTEGER NOT NULL REFERENCES lab_run(id) ON DELETE CASCADE,
            step     INTEGER NOT NULL,
            t        REAL NOT NULL,                  -- seconds since the run started
            values_  TEXT NOT NULL CHECK (json_valid(values_)),
            PRIMARY KEY (run_id, step)
        )""")
    db.execute("""
        CREATE TABLE lab_sample (
            run_id    INTEGER NOT NULL REFERENCES lab_run(id) ON DELETE CASCADE,
            step      INTEGER NOT NULL,
            prompt    TEXT NOT NULL,
            response  TEXT NOT NULL,
            score     REAL
        )""")
    db.execute("CREATE INDEX lab_sample_run ON lab_sample(run_id, step)")
