"""Scheduling with fsrs: previews, the queue and its daily limits, committing and undo."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from fsrs import Card, Rating, Scheduler, State

from studyapp.srs.review import Reviewer
from studyapp.srs.scheduling import Options, format_interval, parse_steps
from studyapp.store import Settings


def test_previews_are_what_fsrs_schedules_without_fuzzing(cards, clock):
    options = Options(desired_retention=0.85, learning_steps=("2m", "15m"))
    reviewer = Reviewer(cards.store, options=options)
    reference = Scheduler(desired_retention=0.85, learning_steps=[timedelta(minutes=2), timedelta(minutes=15)],
                          enable_fuzzing=False)
    card = reviewer.next_card()
    assert card.schedule.state == 0
    expected = [reference.review_card(Card(card_id=card.id), r, review_datetime=clock.now)[0].due - clock.now
                for r in Rating]
    assert [p.interval for p in reviewer.previews(card)] == expected
    assert [p.label for p in reviewer.previews(card)] == ["2m", "8m", "15m", format_interval(expected[3])]

    # Graduate the card to Review and compare again a few days later, on a stored (not fresh) card.
    reviewer.answer(card.id, Rating.Easy)
    clock.advance(days=5)
    stored = cards.get(card.id)
    assert stored.schedule.state == State.Review
    fsrs_card = Card(card_id=card.id, state=State.Review, stability=stored.schedule.stability,
                     difficulty=stored.schedule.difficulty, due=clock.now, step=None,
                     last_review=clock.now - timedelta(days=5))
    expected = [reference.review_card(fsrs_card, r, review_datetime=clock.now)[0].due - clock.now for r in Rating]
    assert [p.interval for p in reviewer.previews(stored)] == expected


def test_daily_limits_for_new_and_review_cards(cards, clock):
    options = Options(new_per_day=3, reviews_per_day=2, learning_steps=())   # Good graduates at once
    reviewer = Reviewer(cards.store, options=options)
    assert reviewer.counts().new == 3
    seen = []
    while (card := reviewer.next_card()) is not None:
        seen.append(card.id)
        reviewer.answer(card.id, Rating.Good)
    assert len(seen) == 3 and reviewer.counts().total == 0

    clock.advance(days=40)            # a new study day; the three are due for review again
    reviewer = Reviewer(cards.store, options=options)
    assert reviewer.counts().review == 2 and reviewer.counts().new == 3
    kinds = []
    while (card := reviewer.next_card()) is not None:
        kinds.append(card.schedule.state)
        reviewer.answer(card.id, Rating.Good)
    assert kinds == [2, 2, 0, 0, 0]   # reviews first, each queue stops at its limit


def test_each_answer_is_committed_before_answer_returns(cards, store):
    reviewer = Reviewer(store)
    card = reviewer.next_card()
    reviewer.answer(card.id, Rating.Again, duration_ms=4200)
    other = sqlite3.connect(store.path)   # another connection sees only committed data
    try:
        assert other.execute("SELECT card_id, rating, duration_ms, state_before FROM review_log").fetchall() \
            == [(card.id, 1, 4200, 0)]
        assert other.execute("SELECT state, step, reps FROM card WHERE id = ?", [card.id]).fetchone() == (1, 0, 1)
    finally:
        other.close()


def test_undo_restores_the_card_and_removes_the_log_row(cards, store, clock):
    reviewer = Reviewer(store)
    first = reviewer.next_card()
    reviewer.answer(first.id, Rating.Good)
    clock.advance(seconds=30)
    second = reviewer.next_card()
    before = cards.get(second.id).schedule
    reviewer.answer(second.id, Rating.Easy)
    assert cards.get(second.id).schedule != before
    assert reviewer.undo() == second.id
    assert cards.get(second.id).schedule == before
    assert reviewer.undo() == first.id
    assert reviewer.undo() is None
    assert store.db.execute("SELECT count(*) FROM review_log").fetchone()[0] == 0
    assert reviewer.next_card().id == first.id


def test_learning_steps_and_relearning(cards, clock):
    reviewer = Reviewer(cards.store, options=Options(learning_steps=("1m", "10m"), relearning_steps=("10m",),
                                                     enable_fuzzing=False))
    card = reviewer.next_card()
    reviewer.answer(card.id, Rating.Good)                  # step 1: due in 10 minutes
    assert cards.get(card.id).schedule.state == State.Learning
    clock.advance(minutes=10)
    assert reviewer.next_card().id == card.id
    reviewer.answer(card.id, Rating.Good)                  # graduates
    row = cards.get(card.id).schedule
    assert row.state == State.Review and row.interval_days >= 1
    clock.advance(days=row.interval_days)
    reviewer.answer(card.id, Rating.Again)                 # a lapse: relearning
    row = cards.get(card.id).schedule
    assert (row.state, row.lapses) == (State.Relearning, 1)


def test_options_are_checked_and_kept_in_the_profile(store):
    with pytest.raises(ValueError):
        Options(desired_retention=0.5).validated()
    with pytest.raises(ValueError):
        parse_steps("1m ten")
    Options().with_(desired_retention=0.93, new_per_day=7).save(store)
    assert Options.load(store).desired_retention == 0.93 and Options.load(store).new_per_day == 7
    Settings(store).set("cards.options", {"desired_retention": "high"})   # a hand-edited value
    assert Options.load(store) == Options()


def test_lesson_counts_for_the_progress_tab(cards, clock):
    reviewer = Reviewer(cards.store, options=Options(learning_steps=()))
    card = reviewer.next_card()
    reviewer.answer(card.id, Rating.Easy)
    counts = cards.lesson_counts()
    lesson = cards.get(card.id).lesson_id
    assert counts[lesson].total == 5 and counts[lesson].new == 4 and counts[lesson].mature == 0
    before = cards.lesson_counts()["hhh"].total
    quiz_card = cards.add("Q from a quiz", "A", lesson_id="hhh", section_id="where-refusals-come-from", origin="quiz")
    assert cards.get(quiz_card).origin == "quiz" and cards.lesson_counts()["hhh"].total == before + 1
