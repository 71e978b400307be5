"""A data folder whose name holds '#', '?' or '%41' works like any other (issue 12, item 6).

A hand-built "file:{path}?mode=ro" URI cut such a path at '#' or '?', so statistics failed and
SQLite created stray files in a parent folder; every read-only connection now goes through
studyapp.store.connect_readonly (Path.as_uri() quotes them).
"""
from __future__ import annotations

from fsrs import Rating

from studyapp.srs.cards import Cards
from studyapp.srs.optimize import load_review_logs
from studyapp.srs.review import Reviewer
from studyapp.srs.scheduling import Options
from studyapp.srs.stats import compute_stats
from studyapp.store import open_profile


def test_statistics_and_review_logs_read_a_profile_under_an_odd_folder_name(tmp_path, clock):
    parent = tmp_path / "home"
    parent.mkdir()
    data_dir = parent / "my #1 profile?x=%41 (copy)"
    store = open_profile(data_dir, clock=clock).store
    cards = Cards(store)
    cards.add_many([{"front": f"Q{i}", "back": f"A{i}"} for i in range(3)])
    reviewer = Reviewer(store, options=Options(learning_steps=()))
    reviewer.answer(reviewer.next_card().id, Rating.Good)

    stats = compute_stats(store.path, Options.load(store), clock.now)
    assert stats.counts["total"] == 3 and stats.reviews_total == 1
    assert len(load_review_logs(store.path)) == 1
    store.close()
    assert [p.name for p in parent.iterdir()] == [data_dir.name]   # no stray files beside it
