"""The statistics numbers: reviews per study day, the due forecast, measured retention."""
from __future__ import annotations

from datetime import timedelta

from fsrs import Rating

from studyapp.srs.review import Reviewer
from studyapp.srs.scheduling import Options
from studyapp.srs.stats import compute_stats


def test_reviews_forecast_and_retention(cards, store, clock, shipped):
    options = Options(learning_steps=(), enable_fuzzing=False)
    start = clock.now
    clock.now = start - timedelta(days=10)
    reviewer = Reviewer(store, options=options)
    first = [reviewer.next_card() for _ in range(1)][0]
    learned = []
    for _ in range(4):                                  # day -10: four new cards, all Good
        card = reviewer.next_card()
        reviewer.answer(card.id, Rating.Good)
        learned.append(card.id)
    clock.now = start - timedelta(days=3)               # day -3: each is due again; 3 pass, 1 fails
    reviewer = Reviewer(store, options=options)
    ratings = iter([Rating.Good, Rating.Good, Rating.Again, Rating.Easy])
    for _ in range(4):
        card = reviewer.next_card()
        assert card.schedule.state == 2
        reviewer.answer(card.id, next(ratings))
    clock.now = start

    stats = compute_stats(store.path, options, clock.now)
    assert first.id == learned[0]
    assert stats.learned[-11] == 4 and stats.reviewed[-4] == 4 and sum(stats.relearned) == 0
    assert stats.reviews_today == 0 and stats.reviews_total == 8
    assert stats.measured_retention == 0.75 and stats.measured_count == 4
    counts = stats.counts
    assert (counts["new"], counts["learning"], counts["young"] + counts["mature"], counts["total"]) == (shipped - 4, 1, 3, shipped)
    assert stats.forecast[0] == 1 and sum(stats.forecast) <= 4   # the relearning card: overdue, so today
    assert stats.desired_retention == options.desired_retention
