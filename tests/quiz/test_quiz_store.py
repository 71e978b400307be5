"""Quiz attempts in the profile: answers committed as given, history, best scores, cards."""
import sqlite3

from studyapp.srs.cards import Cards
from studyapp.store.quiz import QuizHistory, find_quiz_card


def test_attempts_answers_and_scores(store):
    history = QuizHistory(store)
    first = history.start("small", "base-models", "test", ["1", "2", "3"])
    assert history.record_answer(first, "1", {"choices": [1]}, True) == 1
    assert history.record_answer(first, "2", {"choices": [0]}, False) == 1
    assert history.record_answer(first, "3", {"text": "x"}, True) == 1
    assert history.finish(first) == 2 / 3
    practice = history.start("small", "base-models", "practice", ["1", "2", "3"])
    history.record_answer(practice, "1", {"choices": [0]}, False)
    assert history.record_answer(practice, "1", {"choices": [1]}, True) == 2   # a second try
    history.record_answer(practice, "2", {"choices": [0, 1]}, True)
    history.record_answer(practice, "3", {"revealed": True}, False)
    assert history.finish(practice) == 1 / 3        # first tries only
    unfinished = history.start("small", "base-models", "test", ["1", "2", "3"])
    history.record_answer(unfinished, "1", {"choices": [1]}, True)

    attempts = history.attempts("small")
    assert [a.id for a in attempts] == [unfinished, practice, first]   # newest first
    assert not attempts[0].finished and attempts[2].fraction == 2 / 3
    full = history.attempt(practice)
    assert [(a.question_id, a.try_no, a.correct) for a in full.tries("1")] == [("1", 1, False), ("1", 2, True)]
    assert full.question_ids == ["1", "2", "3"] and full.mode == "practice"
    # The unfinished attempt never counts, and the best of the others does.
    assert history.best_scores() == {"base-models": 2 / 3}
    assert history.best_by_bank() == {"small": 2 / 3}
    assert history.best_scores(mode="practice") == {"base-models": 1 / 3}
    assert history.attempts("other") == [] and history.attempt(9999) is None


def test_each_answer_is_committed_at_once(store):
    history = QuizHistory(store)
    attempt = history.start("small", "base-models", "test", ["1"])
    history.record_answer(attempt, "1", {"choices": [1]}, True)
    # Another connection (another process after a crash) sees it without any further commit.
    other = sqlite3.connect(store.path)
    assert other.execute("SELECT count(*) FROM quiz_answer").fetchone()[0] == 1
    other.close()


def test_a_card_row_from_a_missed_question(store):
    assert find_quiz_card(store, "Q?") is None
    card_id = Cards(store).add("Q?", "A.", lesson_id="base-models", section_id="summary", origin="quiz")
    assert find_quiz_card(store, "Q?") == card_id
    row = store.db.execute("SELECT origin, lesson_id, section_id FROM card WHERE id = ?",
                           [card_id]).fetchone()
    assert row == ("quiz", "base-models", "summary")
