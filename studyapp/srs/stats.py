"""Numbers behind the statistics page: reviews per day, the due forecast, measured retention.

compute_stats() opens its own read-only connection to the profile file, so the UI can run it on
a worker thread while the GUI thread keeps the main connection (WAL lets readers and one writer
work at once). It returns plain lists; drawing is the UI's job. Days are the learner's study days
(local time, starting at Options.day_starts_hour), matching the daily limits. No Qt here.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from studyapp.store.backup import connect_readonly
from studyapp.store.timeutil import to_text

from .scheduling import MATURE_DAYS, Options, study_day_start, utc


@dataclass
class Stats:
    days: list[int]                       # -N+1 .. 0 (today)
    learned: list[int]                    # new cards seen for the first time, per day
    reviewed: list[int]                   # review-state cards, per day
    relearned: list[int]                  # learning / relearning steps, per day
    forecast_days: list[int]              # 0 (today, overdue included) .. M-1
    forecast: list[int]
    weeks: list[int]                      # -W+1 .. 0
    retention: list[float | None]         # share of review-state reviews not rated Again, per week
    retention_counts: list[int]
    desired_retention: float
    measured_retention: float | None      # over the whole window
    measured_count: int
    counts: dict[str, int] = field(default_factory=dict)   # new / learning / young / mature / total
    reviews_total: int = 0               # over the `days` window (counting the whole log is slow)
    reviews_today: int = 0
    elapsed_ms: float = 0.0


def compute_stats(path: Path, options: Options, now: datetime, *, days: int = 30,
                  forecast_days: int = 30, weeks: int = 12) -> Stats:
    import time
    started = time.perf_counter()
    now = utc(now)
    conn = connect_readonly(path)
    try:
        return _compute(conn, options, now, days, forecast_days, weeks, started)
    finally:
        conn.close()


def _day_edges(now: datetime, hour: int, first: int, count: int, step: int = 1) -> list[str]:
    """Stamps of study-day boundaries: the start of study day first + i*step, i = 0..count,
    each on the local calendar (a DST day is 23 or 25 hours long)."""
    return [to_text(study_day_start(now, hour, days=first + i * step)) for i in range(count + 1)]


def _compute(conn: sqlite3.Connection, options: Options, now: datetime, days: int,
             forecast_days: int, weeks: int, started: float) -> Stats:
    import time
    hour = options.day_starts_hour
    # One small index range query per day (or week) rather than one query that computes a date
    # for each of the million rows: the boundaries are worked out here, in local time, once.
    # ---- reviews per day (covering index on reviewed_at, state_before, rating)
    learned, reviewed, relearned = [0] * days, [0] * days, [0] * days
    edges = _day_edges(now, hour, -(days - 1), days)
    for index in range(days):
        for state, count in conn.execute(
                "SELECT state_before, count(*) FROM review_log WHERE reviewed_at >= ? "
                "AND reviewed_at < ? GROUP BY state_before", edges[index:index + 2]):
            target = learned if state == 0 else reviewed if state == 2 else relearned
            target[index] += count

    # ---- forecast: cards falling due per day; overdue ones count for today
    forecast = [0] * forecast_days
    edges = _day_edges(now, hour, 0, forecast_days)
    edges[0] = ""    # "" sorts before every stamp: today's bucket holds the overdue cards too
    for index in range(forecast_days):
        forecast[index] = conn.execute(
            "SELECT count(*) FROM card WHERE state IN (1, 2, 3) AND due >= ? AND due < ? "
            "AND deleted_at IS NULL", edges[index:index + 2]).fetchone()[0]

    # ---- retention: review-state reviews passed (not Again), per week
    passed, total = [0] * weeks, [0] * weeks
    edges = _day_edges(now, hour, -(7 * weeks - 1), weeks, 7)
    for index in range(weeks):
        for good, count in conn.execute(
                "SELECT rating > 1, count(*) FROM review_log WHERE reviewed_at >= ? AND "
                "reviewed_at < ? AND state_before = 2 GROUP BY 1", edges[index:index + 2]):
            total[index] += count
            passed[index] += count if good else 0
    retention = [p / t if t else None for p, t in zip(passed, total)]
    all_total, all_passed = sum(total), sum(passed)

    row = conn.execute(f"""
        SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state IN (1, 3)),
               count(*) FILTER (WHERE state = 2 AND coalesce(interval_days, 0) < {MATURE_DAYS}),
               count(*) FILTER (WHERE state = 2 AND interval_days >= {MATURE_DAYS}), count(*)
        FROM card INDEXED BY card_queue WHERE deleted_at IS NULL""").fetchone()
    counts = dict(zip(("new", "learning", "young", "mature", "total"), row))
    reviews_today = sum(x[-1] for x in (learned, reviewed, relearned))
    return Stats(
        days=list(range(-days + 1, 1)), learned=learned, reviewed=reviewed, relearned=relearned,
        forecast_days=list(range(forecast_days)), forecast=forecast,
        weeks=list(range(-weeks + 1, 1)), retention=retention, retention_counts=total,
        desired_retention=options.desired_retention,
        measured_retention=all_passed / all_total if all_total else None, measured_count=all_total,
        counts=counts, reviews_total=sum(learned) + sum(reviewed) + sum(relearned),
        reviews_today=reviews_today, elapsed_ms=(time.perf_counter() - started) * 1000)
