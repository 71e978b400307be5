"""The grader on the calibration explanations: it ranks good > partial > off-topic, off-topic
covers nothing, misconceptions are flagged only where they are stated, and the result says
which sentence covered each point and where to read about the missing ones."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from studyapp.tutor import grader
from tests.tutor.explanations import MISCONCEPTIONS


def coverages(graded, label):
    return [r.coverage for r in graded[label].values()]


def test_classes_rank_good_over_partial_over_off_topic(graded):
    good, partial, off = (coverages(graded, k) for k in ("good", "partial", "off"))
    # Every good explanation beats every partial one, which beats every off-topic one.
    assert min(good) > max(partial) > max(off)
    # With room to spare, so a small change of model or rubric wording does not flip them.
    assert min(good) - max(partial) >= 0.3
    # The grader credits a point only on clear evidence for the right version (see test_truth.py):
    # it gives up some credit for good explanations (0.74 on average on 2026-11-30) to credit no
    # false statement.
    assert np.mean(good) >= 0.7 and 0.1 <= np.mean(partial) <= 0.5


def test_off_topic_covers_nothing_and_stays_below_the_partial_threshold(graded):
    for name, result in graded["off"].items():
        assert result.coverage == 0.0, name
        assert max(p.score for p in result.points) < grader.PARTLY - 0.03, name
        assert result.misconceptions == [] and result.band == "Needs another pass"


def test_good_explanations_cover_the_core_and_raise_no_false_misconception(graded):
    for name, result in graded["good"].items():
        core = [p for p in result.points if p.core]
        assert sum(p.status == "covered" for p in core) >= 5, name
        assert result.misconceptions == [], name
        assert not any(p.lost for p in result.points), name


def test_covered_points_name_the_learners_sentence_and_missing_ones_link_to_lessons(graded):
    result = graded["partial"]["partial-pretraining-only"]
    first = result.points[0]
    assert first.status == "covered"
    assert "predict the next word" in first.matched   # the learner's own sentence
    kl = next(p for p in result.points if p.id == "the-kl-penalty")
    assert kl.status == "missing" and kl.matched == ""
    assert kl.links == ["studyapp://lessons?lesson=ppo-and-kl#the-kl-penalty-stay-near-the-sft-model",
                        "studyapp://lessons?lesson=ppo-and-kl#reward-hacking"]
    assert kl.lessons == ["ppo-and-kl"]


@pytest.mark.parametrize("misconception", sorted(MISCONCEPTIONS))
def test_each_misconception_is_flagged_and_earns_no_point(embedder, rubric, misconception):
    result = grader.grade(rubric, MISCONCEPTIONS[misconception], embedder)
    assert [hit.id for hit in result.misconceptions] == [misconception]
    assert result.misconceptions[0].feedback
    # "Fine-tuning teaches new facts" embeds close to the point it contradicts; no credit for it.
    assert result.coverage == 0.0


def test_the_correct_statement_is_not_flagged(embedder, rubric):
    # (The point is capped only when the learner contradicts it.)
    result = grader.grade(rubric, "Fine-tuning does not teach the model new facts.", embedder)
    assert result.misconceptions == []
    point = rubric.points[3]
    assert next(p for p in result.points if p.id == point.id).status == "covered"


def test_empty_and_tiny_answers(embedder, rubric):
    for text in ("", "   ", "Yes. No. Ok."):
        result = grader.grade(rubric, text, embedder)
        assert result.coverage == 0.0 and result.sentences == 0
        assert all(p.status == "missing" for p in result.points)


def test_result_round_trips_through_json(graded):
    import json
    result = graded["good"]["good-compact"]
    again = grader.GradeResult.from_json(json.loads(json.dumps(result.to_json())))
    assert again == result


def test_sentences_bullets_and_clauses():
    text = ("First idea here. Second idea, with a comma!\n\n- a bullet item here\n- another one here\n"
            "  wrapped onto a second line\n\nOk.")
    assert grader.split_sentences(text) == [
        "First idea here.", "Second idea, with a comma!", "a bullet item here",
        "another one here wrapped onto a second line"]
    long = ("The model generates answers and the reward model scores them; PPO then updates the "
            "model, while a KL penalty keeps it close to the SFT model.")
    texts = [p.text for p in grader.pieces_of(long)]
    assert texts[0] == long and len(texts) >= 3
    assert all(p.sentence == long for p in grader.pieces_of(long))


def test_importing_the_tutor_does_not_import_torch():
    code = ("import sys, studyapp.tutor.grader, studyapp.content.rubric, studyapp.tutor.embedder; "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
