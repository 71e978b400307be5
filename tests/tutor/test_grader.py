"""The grader on the calibration explanations: it ranks good > partial > off-topic, off-topic
covers nothing, misconceptions are flagged only where they are stated, and the result says
which sentence (and which of its words) earned each point and where to read about the missing
ones. Also the second shipped rubric (PPO and beyond), whose claims have no labelled set."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from studyapp.config import RESOURCES_DIR
from studyapp.content.rubric import parse_rubric
from studyapp.tutor import grader
from tests.tutor.explanations import MISCONCEPTIONS


def coverages(graded, label):
    return [r.coverage for r in graded[label].values()]


def test_classes_rank_good_over_partial_over_off_topic(graded):
    good, partial, off = (coverages(graded, k) for k in ("good", "partial", "off"))
    assert min(good) > max(partial) > max(off)
    assert min(good) - max(partial) >= 0.4
    # Strict but not stingy: 0.88 on average for the good ones on 2026-11-30.
    assert np.mean(good) >= 0.8 and 0.05 <= np.mean(partial) <= 0.3


def test_off_topic_covers_nothing_and_raises_no_flag(graded):
    for name, result in graded["off"].items():
        assert result.coverage == 0.0, name
        assert result.misconceptions == [] and result.band == "Needs another pass"


def test_good_explanations_cover_the_core_and_raise_no_false_misconception(graded):
    for name, result in graded["good"].items():
        core = [p for p in result.points if p.core]
        assert sum(p.status == "covered" for p in core) >= 6, name
        assert result.misconceptions == [], name
        assert not any(p.lost for p in result.points), name


def test_covered_points_name_the_sentence_and_its_words_missing_ones_link_to_lessons(graded):
    result = graded["partial"]["partial-pretraining-only"]
    first = result.points[0]
    assert first.status == "covered"
    assert "predict the next word" in first.matched   # the learner's own sentence
    assert "next word" in first.evidence              # and the words that counted
    kl = next(p for p in result.points if p.id == "the-kl-penalty")
    assert kl.status == "missing" and kl.matched == "" and kl.reference
    assert kl.links == ["studyapp://lessons?lesson=ppo-and-kl#the-kl-penalty-stay-near-the-sft-model",
                        "studyapp://lessons?lesson=ppo-and-kl#reward-hacking"]
    assert kl.lessons == ["ppo-and-kl"]


@pytest.mark.parametrize("misconception", sorted(MISCONCEPTIONS))
def test_each_misconception_is_flagged_and_earns_no_point(rubric, misconception):
    result = grader.grade(rubric, MISCONCEPTIONS[misconception])
    assert [hit.id for hit in result.misconceptions] == [misconception]
    assert result.misconceptions[0].feedback and result.misconceptions[0].evidence
    assert result.coverage == 0.0


def test_a_flagged_sentence_earns_nothing_and_caps_a_point_earned_elsewhere(rubric):
    # The second sentence is right about SFT's objective, but says the KL penalty pushes away:
    # it earns nothing. The first sentence earns the KL point, which the second contradicts.
    text = ("The KL penalty keeps the model close to the SFT model. SFT keeps the next-token "
            "objective, and the KL penalty pushes the model away from the SFT model.")
    result = grader.grade(rubric, text)
    by_id = {p.id: p for p in result.points}
    assert by_id["the-kl-penalty"].status == "partly" and by_id["the-kl-penalty"].lost
    assert by_id["sft-trains-on-instruction-response-pairs-with-the-same-objective"].status == "missing"


def test_the_correct_statement_is_not_flagged(rubric):
    result = grader.grade(rubric, "Fine-tuning does not teach the model new facts.")
    assert result.misconceptions == []
    point = rubric.points[3]
    assert next(p for p in result.points if p.id == point.id).status == "covered"


def test_empty_and_tiny_answers(rubric):
    for text in ("", "   ", "Yes. No. Ok."):
        result = grader.grade(rubric, text)
        assert result.coverage == 0.0 and result.sentences == 0
        assert all(p.status == "missing" for p in result.points)


def test_result_round_trips_through_json_and_old_results_still_load(graded):
    import json
    result = graded["good"]["good-compact"]
    again = grader.GradeResult.from_json(json.loads(json.dumps(result.to_json())))
    assert again == result
    old = {"rubric_id": "r", "coverage": 0.5, "grader": "minilm-l6-v2/2",
           "points": [{"id": "a", "title": "A", "status": "covered", "score": 0.7, "gone": 1}]}
    assert grader.GradeResult.from_json(old).points[0].evidence == ""


def test_sentences_and_bullets():
    text = ("First idea here. Second idea, with a comma!\n\n- a bullet item here\n- another one here\n"
            "  wrapped onto a second line\n\nOk.")
    assert grader.split_sentences(text) == [
        "First idea here.", "Second idea, with a comma!", "a bullet item here",
        "another one here wrapped onto a second line"]


@pytest.mark.parametrize("text, point, flagged", [
    ("Best-of-n samples several replies from the SFT model and keeps the one the reward model "
     "scores highest.", "best-of-n-picks-the-favourite-of-n-samples", False),
    ("DPO trains the policy directly on the preference pairs, with no reward model.",
     "dpo-learns-from-the-pairs-directly", False),
    ("GRPO compares each reply's reward with the group mean.", "grpo-compares-replies-within-a-group", False),
    ("DPO first trains a reward model and then uses it.", "dpo-learns-from-the-pairs-directly", True),
    ("GRPO trains a value head to predict each reply's reward.", "grpo-compares-replies-within-a-group", True),
    ("DPO lowers the probability of the preferred reply.", "dpo-learns-from-the-pairs-directly", True),
])
def test_the_beyond_ppo_rubric_credits_and_flags(text, point, flagged):
    rubric = parse_rubric(RESOURCES_DIR / "rubrics" / "beyond-ppo.md")
    result = grader.grade(rubric, text)
    status = {p.id: p.status for p in result.points}[point]
    if flagged:
        assert status == "missing" and any(point in m.contradicts for m in result.misconceptions)
    else:
        assert status == "covered" and result.misconceptions == []


def test_importing_the_tutor_does_not_import_torch():
    code = ("import sys, studyapp.tutor.grader, studyapp.content.rubric; "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
