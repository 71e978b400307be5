"""The study day follows the learner's local calendar through daylight-saving changes.

New York springs forward on 2026-03-08 at 02:00 (EST -5 -> EDT -4) and falls back on
2026-11-01 at 02:00. With the day starting at 04:00, the study day "March 7" runs from
2026-03-07 04:00 EST (09:00 UTC) to 2026-03-08 04:00 EDT (08:00 UTC): 23 hours.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from fsrs import Rating

from studyapp.srs.cards import Cards
from studyapp.srs.review import Reviewer
from studyapp.srs.scheduling import Options, study_day_end, study_day_start
from studyapp.srs.stats import compute_stats

NY = ZoneInfo("America/New_York")
UTC = timezone.utc


@pytest.fixture
def new_york(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("now, start, end", [
    # 03:30 EDT on the change day is still study day March 7 (it started at 04:00 EST).
    (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), datetime(2026, 3, 7, 9, tzinfo=UTC),
     datetime(2026, 3, 8, 8, tzinfo=UTC)),
    # 10:00 EDT: March 8 began at 04:00 EDT = 08:00 UTC.
    (datetime(2026, 3, 8, 14, tzinfo=UTC), datetime(2026, 3, 8, 8, tzinfo=UTC),
     datetime(2026, 3, 9, 8, tzinfo=UTC)),
    # Fall back: 03:30 EST on Nov 1 is still Oct 31's study day (04:00 EDT = 08:00 UTC), a
    # 25-hour day that ends at 04:00 EST = 09:00 UTC.
    (datetime(2026, 11, 1, 8, 30, tzinfo=UTC), datetime(2026, 10, 31, 8, tzinfo=UTC),
     datetime(2026, 11, 1, 9, tzinfo=UTC)),
])
def test_study_day_bounds_across_dst(now, start, end):
    assert study_day_start(now, 4, zone=NY) == start
    assert study_day_end(now, 4, zone=NY) == end


def test_system_zone_is_used_by_default(new_york):
    now = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert study_day_start(now, 4) == datetime(2026, 3, 7, 9, tzinfo=UTC)


def test_new_cards_after_the_spring_change(new_york, store, clock):
    cards = Cards(store)
    cards.add_many([{"front": f"Q{i}", "back": f"A{i}"} for i in range(60)])
    options = Options(new_per_day=20, learning_steps=(), enable_fuzzing=False)
    # 03:30 EST on March 7: still study day March 6. The learner does all 20 new cards.
    clock.now = datetime(2026, 3, 7, 8, 30, tzinfo=UTC)
    reviewer = Reviewer(store, options=options)
    for _ in range(20):
        reviewer.answer(reviewer.next_card().id, Rating.Good)
    assert reviewer.done_today() == (20, 0)
    # 03:30 EDT on March 8 (the change day): study day March 7, which has seen no new card.
    clock.now = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    reviewer = Reviewer(store, options=options)
    assert reviewer.done_today() == (0, 0)
    assert reviewer.next_card() is not None and reviewer.next_card().schedule.state == 0
    stats = compute_stats(store.path, options, clock.now)
    assert stats.reviews_today == 0 and stats.learned[-2] == 20   # yesterday's bar holds them
