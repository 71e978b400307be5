"""A review's commit at 100,000 cards against the fsync floor measured in the same run (issue 16: "a
review commit <= 1.5x the fsync floor with no weaker durability").

    python bench/review_commit.py [--cards 100000] [--reviews 300000] [--runs 60] [--dir PATH]

Builds a profile with the real schema (bench/cards_scale.py's bulk fill), then alternates, --runs
times each:

  floor    a bare sqlite3 connection to a one-table database in the same folder, journal_mode=WAL and
           synchronous=FULL as the profile: BEGIN IMMEDIATE, a one-row UPDATE, COMMIT (the least a
           durable commit costs on this disk: one write and one fsync of the WAL)
  review   Reviewer.answer() on the next due card: fsrs, the card row and its review-log row in one
           transaction, committed (choosing the card, Reviewer.next_card(), is not timed)

and prints both medians, their ratio (target <= 1.5x) and the profile's durability settings, which
must be WAL + synchronous=FULL (FULL syncs the WAL at every commit; NORMAL would not): anything
weaker fails the bench, as does any exception.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from cards_scale import build  # noqa: E402

from studyapp.srs.review import Reviewer  # noqa: E402
from studyapp.srs.scheduling import Options  # noqa: E402
from studyapp.store import open_profile  # noqa: E402

TARGET = 1.5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cards", type=int, default=100_000)
    ap.add_argument("--reviews", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--dir", type=Path, help="profile folder (default: a temporary one)")
    args = ap.parse_args()
    data_dir = args.dir or Path(tempfile.mkdtemp(prefix="studyapp-commit-bench-"))
    print(f"profile: {data_dir} ({args.cards:,} cards, {args.reviews:,} review-log rows); built in "
          f"{build(data_dir, args.cards, args.reviews):.1f} s", flush=True)

    store = open_profile(data_dir, backup_on_start=False).store
    mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0].lower()
    sync = store.conn.execute("PRAGMA synchronous").fetchone()[0]
    if mode != "wal" or sync < 2:
        raise RuntimeError(f"the profile runs journal_mode={mode}, synchronous={sync}: weaker than WAL + FULL")
    reviewer = Reviewer(store, options=Options(new_per_day=10_000, reviews_per_day=100_000))

    bare = sqlite3.connect(data_dir / "floor.sqlite3", isolation_level=None)
    bare.execute("PRAGMA journal_mode=WAL")
    bare.execute("PRAGMA synchronous=FULL")
    bare.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
    bare.execute("INSERT OR IGNORE INTO t VALUES (1, '')")

    def floor() -> float:
        t0 = time.perf_counter()
        bare.execute("BEGIN IMMEDIATE")
        bare.execute("UPDATE t SET v = ? WHERE id = 1", [str(time.time())])
        bare.execute("COMMIT")
        return time.perf_counter() - t0

    rng = random.Random(1)

    def review() -> float:
        card = reviewer.next_card()
        if card is None:
            raise RuntimeError("no card due: the bench needs a due card for every run")
        t0 = time.perf_counter()
        reviewer.answer(card.id, rng.choice((1, 3, 3, 3, 4)), duration_ms=5000)
        return time.perf_counter() - t0

    floor(), review()   # warm-up: caches, statements
    floors, reviews = [], []
    for _ in range(args.runs):   # interleaved: the same disk and load for both
        floors.append(floor() * 1000)
        reviews.append(review() * 1000)
    f, r = statistics.median(floors), statistics.median(reviews)
    print(f"fsync floor (bare sqlite commit, WAL + FULL): median {f:.2f} ms "
          f"(p10 {statistics.quantiles(floors, n=10)[0]:.2f}, p90 {statistics.quantiles(floors, n=10)[-1]:.2f})")
    print(f"review commit (Reviewer.answer):            median {r:.2f} ms "
          f"(p10 {statistics.quantiles(reviews, n=10)[0]:.2f}, p90 {statistics.quantiles(reviews, n=10)[-1]:.2f})")
    print(f"profile: journal_mode={mode}, synchronous={sync} (2 = FULL); runs {args.runs} each, interleaved; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"ratio review / floor: {r / f:.2f}x (target <= {TARGET}x) -> {'met' if r / f <= TARGET else 'NOT met'}")
    bare.close()
    store.close(backup=False)
    return 0


if __name__ == "__main__":
    from _common import run

    run(main)
