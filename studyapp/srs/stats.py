"""Numbers behind the statistics page: reviews per day, the due forecast, measured retention.

compute_stats() opens its own read-only connection to the profile file, so the UI can run it on
a worker thread while the GUI thread keeps the main connection (WAL lets readers and one writer
work at once). It returns plain lists; drawing is the UI's job. Days are the learner's study days
(local time, starting at Options.day_starts_hour), matching the daily limits. No Qt here.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

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
    reviews_total: int = 0
    reviews_today: int = 0
    elapsed_ms: float = 0.0


def _shift(now: datetime, hour: int) -> str:
    """SQLite date() modifier that maps a UTC stamp onto the study day it belongs to."""
    offset = now.astimezone().utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60) - hour * 60
    return f"{minutes:+d} minutes"


def compute_stats(path: Path, options: Options, now: datetime, *, days: int = 30,
                  forecast_days: int = 30, weeks: int = 12) -> Stats:
    import time
    started = time.perf_counter()
    now = utc(now)
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=5)
    try:
        return _compute(conn, options, now, days, forecast_days, weeks, started)
    finally:
        conn.close()


def _compute(conn: sqlite3.Connection, options: Options, now: datetime, days: int,
             forecast_days: int, weeks: int, started: float) -> Stats:
    import time
    shift = _shift(now, options.day_starts_hour)
    today_start = study_day_start(now, options.day_starts_hour)
    today = conn.execute("SELECT date(?, ?)", [to_text(now), shift]).fetchone()[0]
    today_jd = conn.execute("SELECT julianday(?)", [today]).fetchone()[0]

    # ---- reviews per day (covering index on reviewed_at, state_before, rating)
    learned, reviewed, relearned = [0] * days, [0] * days, [0] * days
    since = to_text(today_start - timedelta(days=days - 1))
    for day, state, count in conn.execute(
            "SELECT julianday(date(reviewed_at, ?)), state_before, count(*) FROM review_log "
            "WHERE reviewed_at >= ? GROUP BY 1, 2", [shift, since]):
        index = days - 1 - int(round(today_jd - day))
        if 0 <= index < days:
            target = learned if state == 0 else reviewed if state == 2 else relearned
            target[index] += count

    # ---- forecast: cards falling due per day; overdue ones count for today
    forecast = [0] * forecast_days
    until = to_text(today_start + timedelta(days=forecast_days))
    for day, count in conn.execute(
            "SELECT julianday(date(due, ?)), count(*) FROM card WHERE state IN (1, 2, 3) "
            "AND due < ? AND deleted_at IS NULL GROUP BY 1", [shift, until]):
        index = max(0, int(round(day - today_jd)))
        if index < forecast_days:
            forecast[index] += count

    # ---- retention: review-state reviews passed (not Again), per week
    passed, total = [0] * weeks, [0] * weeks
    since_weeks = to_text(today_start - timedelta(days=7 * weeks - 1))
    for day, good, count in conn.execute(
            "SELECT julianday(date(reviewed_at, ?)), rating > 1, count(*) FROM review_log "
            "WHERE reviewed_at >= ? AND state_before = 2 GROUP BY 1, 2", [shift, since_weeks]):
        index = weeks - 1 - int((today_jd - day) // 7)
        if 0 <= index < weeks:
            total[index] += count
            passed[index] += count if good else 0
    retention = [p / t if t else None for p, t in zip(passed, total)]
    all_total, all_passed = sum(total), sum(passed)

    row = conn.execute(f"""
        SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state IN (1, 3)),
               count(*) FILTER (WHERE state = 2 AND coalesce(interval_days, 0) < {MATURE_DAYS}),
               count(*) FILTER (WHERE state = 2 AND interval_days >= {MATURE_DAYS}), count(*)
        FROM card WHERE deleted_at IS NULL""").fetchone()
    counts = dict(zip(("new", "learning", "young", "mature", "total"), row))
    reviews_total = conn.execute("SELECT count(*) FROM review_log").fetchone()[0]
    reviews_today = conn.execute("SELECT count(*) FROM review_log WHERE reviewed_at >= ?",
                                 [to_text(today_start)]).fetchone()[0]
    return Stats(
        days=list(range(-days + 1, 1)), learned=learned, reviewed=reviewed, relearned=relearned,
        forecast_days=list(range(forecast_days)), forecast=forecast,
        weeks=list(range(-weeks + 1, 1)), retention=retention, retention_counts=total,
        desired_retention=options.desired_retention,
        measured_retention=all_passed / all_total if all_total else None, measured_count=all_total,
        counts=counts, reviews_total=reviews_total, reviews_today=reviews_today,
        elapsed_ms=(time.perf_counter() - started) * 1000)
