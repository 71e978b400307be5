"""Lesson progress, settings and transactions: what the UI relies on every day."""

from __future__ import annotations

import pytest

from studyapp.store import LessonProgress, Progress, Settings, open_profile


def test_progress_persists_across_close_and_reopen(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    assert LessonProgress(store).mark_section_read("sft-basics", "why-sft") is True
    assert LessonProgress(store).mark_section_read("sft-basics", "why-sft") is False
    LessonProgress(store).mark_section_read("sft-basics", "data")
    LessonProgress(store).set_position("sft-basics", "data", 0.4)
    LessonProgress(store).set_completed("rlhf")
    store.close()

    store = open_profile(data_dir, clock=clock).store
    assert LessonProgress(store).sections_read("sft-basics") == {"why-sft", "data"}
    progress = LessonProgress(store).lesson_progress()
    assert set(progress) == {"sft-basics", "rlhf"}
    assert progress["rlhf"].completed and progress["rlhf"].completed_at == clock.now
    assert not progress["sft-basics"].completed
    assert (progress["sft-basics"].last_section, progress["sft-basics"].last_scroll) == ("data", 0.4)
    store.close()


def test_completion_keeps_first_time_and_can_be_undone(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    LessonProgress(store).set_completed("ppo")
    first = clock.now
    clock.advance(days=1)
    LessonProgress(store).set_completed("ppo")
    assert LessonProgress(store).get("ppo").completed_at == first
    LessonProgress(store).set_completed("ppo", done=False)
    assert not LessonProgress(store).get("ppo").completed
    store.close()


def test_unknown_lesson_has_empty_progress_and_forget_clears(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    assert LessonProgress(store).get("nope") == Progress("nope")
    assert LessonProgress(store).sections_read("nope") == set()
    LessonProgress(store).mark_section_read("kl", "a")
    LessonProgress(store).forget("kl")
    assert LessonProgress(store).sections_read("kl") == set()
    assert LessonProgress(store).lesson_progress() == {}
    store.close()


def test_settings_round_trip_json_values(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    geometry = {"geometry": "AdnQywADAAAAAAB", "maximized": False, "splitter": [220, 900]}
    Settings(store).set("window", geometry)
    Settings(store).set_setting("last_tab", "lessons")
    Settings(store).set("zoom", 1.25)
    store.close()

    store = open_profile(data_dir, clock=clock).store
    assert Settings(store).get("window") == geometry
    assert Settings(store).get_setting("last_tab") == "lessons"
    assert Settings(store).get("zoom") == 1.25
    assert Settings(store).get("theme", "light") == "light"
    with pytest.raises(TypeError):
        Settings(store).set("bad", object())
    Settings(store).delete("zoom")
    assert Settings(store).all() == {"window": geometry, "last_tab": "lessons"}
    store.close()


def test_transaction_rolls_back_on_exception(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    with pytest.raises(RuntimeError):
        with store.transaction():
            LessonProgress(store).mark_section_read("a", "one")
            Settings(store).set("k", 1)
            raise RuntimeError("boom")
    assert LessonProgress(store).sections_read("a") == set()
    assert Settings(store).get("k") is None
    assert not store.conn.in_transaction
    store.close()


def test_nested_transaction_failure_undoes_only_the_inner_part(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    with store.transaction():
        LessonProgress(store).mark_section_read("a", "kept")
        with pytest.raises(ValueError):
            with store.transaction():
                LessonProgress(store).mark_section_read("a", "undone")
                raise ValueError
    assert LessonProgress(store).sections_read("a") == {"kept"}
    store.close()


def test_connection_settings(data_dir, clock):
    store = open_profile(data_dir, clock=clock).store
    pragma = lambda name: store.db.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("synchronous") == 2  # FULL
    assert pragma("busy_timeout") >= 1000
    store.close()
