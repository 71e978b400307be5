"""Flashcards at scale: 100,000 cards and 1,000,000 review-log rows.

    .venv/bin/python bench/cards_scale.py [--cards 100000] [--reviews 1000000] [--dir PATH]

Builds a profile (the real schema, through open_profile) filled in bulk, then times, as medians
over many runs, what a learner waits for, each against a plain-SQLite baseline measured in the
same run on the same connection:

  next due card      Reviewer.next_card() (queue + today's limits)  vs  an indexed point query
  queue counts       Reviewer.counts(), redrawn after every card    vs  the same point query
  commit one review  Reviewer.answer(): fsrs + card row + log row,
                     one transaction, synchronous=FULL              vs  a one-row UPDATE commit
  open statistics    StatsPage.refresh() to plots drawn (worker +
                     GUI thread, offscreen)                          vs  count(*) over the log

Targets (issue 5): next card and commit <= 5 ms, statistics <= 1 s.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from studyapp.srs.cards import Cards  # noqa: E402
from studyapp.srs.review import Reviewer  # noqa: E402
from studyapp.srs.scheduling import Options  # noqa: E402
from studyapp.store import open_profile  # noqa: E402
from studyapp.store.timeutil import to_text  # noqa: E402


def build(data_dir: Path, n_cards: int, n_reviews: int, seed: int = 7) -> float:
    """Fill a fresh profile in bulk; returns seconds taken."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    store = open_profile(data_dir, backup_on_start=False).store
    store.conn.execute("PRAGMA synchronous=OFF")   # a bulk fill, not a learner's write
    store.conn.execute("PRAGMA cache_size=-262144")  # 256 MB: random card_id keys thrash a small cache
    cards = Cards(store)
    with store.transaction() as db:
        cards._ensure_deck(db, "bench", "Bench deck")
        rows = []
        for i in range(n_cards):
            roll = rng.random()
            created = to_text(now - timedelta(days=730) + timedelta(seconds=i))
            if roll < 0.2:       # new
                rows.append(("bench", f"Question {i}", f"Answer {i}", "base-models", "deck", created,
                             created, 0, None, None, None, created, None, None, 0, 0))
                continue
            state = 1 if roll < 0.25 else 2
            interval = rng.uniform(1, 400) if state == 2 else 0.007
            last = now - timedelta(days=rng.uniform(0, interval if state == 2 else 0.01))
            due = last + timedelta(days=interval)
            rows.append(("bench", f"Question {i}", f"Answer {i}", "base-models", "deck", created, created,
                         state, 0 if state == 1 else None, rng.uniform(1, 300), rng.uniform(1, 10),
                         to_text(due), to_text(last), interval, rng.randint(1, 30), rng.randint(0, 3)))
        db.conn.executemany(
            "INSERT INTO card (deck_id, front, back, lesson_id, origin, created_at, updated_at, state, "
            "step, stability, difficulty, due, last_review, interval_days, reps, lapses) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        before = json.dumps({"state": 2})
        span = 730 * 86400

        def logs():
            for _ in range(n_reviews):
                moment = now - timedelta(seconds=rng.uniform(0, span))
                state = rng.choice((0, 1, 2, 2, 2, 2, 3))
                rating = 1 if rng.random() < 0.12 else rng.choice((2, 3, 3, 3, 4))
                yield (rng.randint(1, n_cards), rating, to_text(moment), rng.randint(1500, 20000),
                       state, rng.uniform(0, 200), before)
        db.conn.executemany(
            "INSERT INTO review_log (card_id, rating, reviewed_at, duration_ms, state_before, "
            "interval_days, card_before) VALUES (?, ?, ?, ?, ?, ?, ?)", logs())
    store.close(backup=False)   # runs PRAGMA optimize, as the app does on quit
    return time.perf_counter() - started


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--dir", type=Path, help="profile folder (default: a temporary one)")
    args = parser.parse_args()
    data_dir = args.dir or Path(tempfile.mkdtemp(prefix="studyapp-cards-bench-"))
    print(f"profile: {data_dir}  ({args.cards:,} cards, {args.reviews:,} review-log rows)")
    print(f"built in {build(data_dir, args.cards, args.reviews):.1f} s")

    store = open_profile(data_dir, backup_on_start=False).store
    conn = store.conn
    rng = random.Random(1)
    reviewer = Reviewer(store, options=Options())   # the default daily limits (20 new, 200 reviews)
    ids = [rng.randint(1, args.cards) for _ in range(args.runs)]
    it = iter(ids * 3)
    point = median_ms(lambda: conn.execute("SELECT * FROM card WHERE id = ?", [next(it)]).fetchone(), args.runs)
    next_card = median_ms(reviewer.next_card, args.runs)
    counts = median_ms(reviewer.counts, args.runs)

    def plain_commit() -> None:
        with store.transaction() as db:
            db.execute("UPDATE card SET updated_at = ? WHERE id = ?", [store.now_text(), next(it)])

    commit_base = median_ms(plain_commit, min(args.runs, 100))

    t_next = []

    def timed_review() -> None:
        t0 = time.perf_counter()
        card = reviewer.next_card()
        t_next.append(time.perf_counter() - t0)
        reviewer.answer(card.id, rng.choice((1, 3, 3, 3, 4)), duration_ms=5000)
    review_total = median_ms(timed_review, min(args.runs, 100))
    commit = review_total - statistics.median(t_next) * 1000
    full_scan = median_ms(lambda: conn.execute("SELECT count(*) FROM review_log").fetchone(), 5)
    lessons = median_ms(Cards(store).lesson_counts, 5)
    search = median_ms(lambda: Cards(store).search("Question 9999"), 5)

    from PySide6.QtWidgets import QApplication
    from studyapp.ui import worker
    from studyapp.ui.cards_stats import StatsPage
    app = QApplication.instance() or QApplication([])
    t0 = time.perf_counter()
    page = StatsPage(store)   # pyqtgraph import and plot construction, paid once per session
    page.resize(1200, 700)
    page.show()
    build_s = time.perf_counter() - t0
    opens = []
    for _ in range(3):
        done = []
        page.ready.connect(lambda s, d=done: d.append(s))
        page.refresh()
        while not done:
            app.processEvents()
            time.sleep(0.001)
        app.processEvents()   # the paint of the new data
        page.ready.disconnect()
        opens.append(done[0])
    worker.cancel_all()
    stats_s = statistics.median(opens)
    first_open = build_s + opens[0]

    def row(name, value, unit, base, base_name, target=None):
        mark = "" if target is None else ("  ok" if value <= target else "  OVER TARGET")
        print(f"{name:<22} {value:9.3f} {unit}   baseline {base_name:<28} {base:8.3f} {unit}"
              f"   ratio {value / base:7.1f}x{mark}")

    print()
    row("next due card", next_card, "ms", point, "indexed point query", 5)
    row("queue counts", counts, "ms", point, "indexed point query")
    row("commit one review", commit, "ms", commit_base, "one-row UPDATE commit", 5)
    row("open statistics", stats_s * 1000, "ms", full_scan, "count(*) over the log", 1000)
    row("  first open (+build)", first_open * 1000, "ms", full_scan, "count(*) over the log", 1000)
    row("lesson counts", lessons, "ms", point, "indexed point query")
    row("browse search (LIKE)", search, "ms", full_scan, "count(*) over the log")
    print(f"\n(compute_stats alone: {page.stats.elapsed_ms:.0f} ms; journal=WAL, synchronous=FULL; "
          f"a commit's floor is one fsync of the disk holding {data_dir})")
    store.close(backup=False)
    page.close()
    sys.stdout.flush()
    # Interpreter shutdown with live pyqtgraph items and no event loop can crash in a C
    # extension's finaliser; the figures are printed, so leave without tearing Qt down.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
