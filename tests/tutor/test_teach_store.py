"""Teach-it-back attempts and drafts in the profile: stored in one transaction, read back newest
first, kept across a reopen, and summarised for the Progress tab."""
from __future__ import annotations

import pytest

from studyapp.store import open_profile
from studyapp.store.teach import TeachAttempts


def result(coverage, statuses):
    return {"rubric_id": "r", "coverage": coverage, "grader": "test/1",
            "points": [{"id": pid, "status": st, "lessons": [lesson]}
                       for pid, (st, lesson) in statuses.items()]}


@pytest.fixture
def store(tmp_path):
    opened = open_profile(tmp_path / "p", backup_on_start=False)
    yield opened.store
    opened.store.close(backup=False)


def test_attempts_round_trip_and_summaries(store, tmp_path):
    attempts = TeachAttempts(store)
    first = attempts.add("r", "first try", result(0.25, {"a": ("covered", "base-models"),
                                                          "b": ("missing", "hhh")}))
    second = attempts.add("r", "second try", result(0.5, {"a": ("missing", "base-models"),
                                                           "b": ("covered", "hhh")}))
    attempts.add("other", "x", result(0.1, {}))
    assert [a.id for a in attempts.history("r")] == [second, first]
    got = attempts.get(first)
    assert (got.text, got.coverage, got.grader) == ("first try", 0.25, "test/1")
    assert got.result["points"][0]["status"] == "covered"
    assert attempts.best_coverage() == {"r": 0.5, "other": 0.1}
    latest = attempts.latest_by_point()
    assert latest["r/a"]["status"] == "missing" and latest["r/b"]["status"] == "covered"
    attempts.delete(first)
    assert attempts.get(first) is None


def test_draft_survives_a_reopen(tmp_path):
    opened = open_profile(tmp_path / "p", backup_on_start=False)
    TeachAttempts(opened.store).save_draft("r", "half an explanation")
    opened.store.close(backup=False)
    again = open_profile(tmp_path / "p", backup_on_start=False).store
    try:
        assert TeachAttempts(again).draft("r") == "half an explanation"
        assert TeachAttempts(again).draft("never-written") == ""
    finally:
        again.close(backup=False)


def test_coverage_outside_0_1_is_clamped(store):
    attempts = TeachAttempts(store)
    attempt = attempts.get(attempts.add("r", "t", {"coverage": 1.2, "grader": "g"}))
    assert attempt.coverage == 1.0
