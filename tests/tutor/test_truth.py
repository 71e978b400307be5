"""The tutor checks truth, not vocabulary: a false explanation earns nothing for the points it
gets wrong, and on the held-out part of the labelled sentences (tests/tutor/labelled.py) the
grader stays at least as good as measured when its constants were chosen.

Measured on 2026-11-30 with `python -m tests.tutor.calibrate` (covered P/R, misconception P/R):
    train  46 sentences   0.87 / 0.81   0.94 / 0.77   (the constants were chosen here)
    dev    51 sentences   0.58 / 0.55   0.91 / 0.44   (first held out: 0.55 / 0.55, 0.875 / 0.30;
                                                       then its errors were looked at)
    test   39 sentences   0.64 / 0.50   1.00 / 0.47   (written after the grader was frozen)
The issue's targets (covered precision >= 0.95, misconception recall >= 0.8 on held-out
sentences) are NOT met by a sentence embedding with misconception prototypes and word-level
contradiction cues: on sentences it has not seen it still misses "not", swapped roles and
antonyms, and credits on-topic false statements. The grader before this work scored 0.36 / 0.65
and 0.50 / 0.04 on the dev part. The floors below keep what was reached from slipping; reaching
the targets needs an entailment model (no well-kept package ships one offline).
"""
from __future__ import annotations

import pytest

from studyapp.tutor import grader
from tests.tutor.calibrate import Memo, evaluate
from tests.tutor.labelled import EXAMPLES, FALSE_EXPLANATION, FALSE_POINTS, P, split


def test_the_false_explanation_earns_nothing_for_what_it_gets_wrong(embedder, rubric):
    result = grader.grade(rubric, FALSE_EXPLANATION, embedder)
    by_id = {p.id: p for p in result.points}
    for key in FALSE_POINTS:
        point = by_id[P[key]]
        assert point.status == "missing", (key, point.matched)
        assert point.lost, key       # the checklist names the sentence that lost it
    assert result.coverage == 0.0
    flagged = {m.sentence for m in result.misconceptions}
    assert "The KL penalty pushes the model away from the SFT model." in flagged
    assert "The reward model is trained on random numbers." in flagged


def test_a_true_sentence_in_other_words_earns_its_point_and_its_negation_does_not(embedder, rubric):
    right = grader.grade(rubric, "The KL penalty keeps the model close to the frozen SFT model.", embedder)
    wrong = grader.grade(rubric, "The KL penalty does not keep the model close to the SFT model.", embedder)
    assert next(p for p in right.points if p.id == P["kl"]).status == "covered"
    assert right.misconceptions == []
    point = next(p for p in wrong.points if p.id == P["kl"])
    assert point.status == "missing" and wrong.misconceptions
    assert P["kl"] in wrong.misconceptions[0].contradicts


def test_the_labelled_set_is_big_enough_and_has_every_kind():
    assert len(EXAMPLES) >= 60
    for part in ("train", "dev", "test"):
        kinds = {e.kind for e in split(part)}
        assert kinds == {"right", "partly", "wrong", "negation", "swap"}, part


@pytest.fixture(scope="module")
def held_out(embedder, rubric):
    return evaluate(rubric, split("test"), Memo(embedder))


def test_held_out_numbers_do_not_slip_below_those_measured(held_out):
    assert held_out["n"] >= 39
    assert held_out["covered_precision"] >= 0.60
    assert held_out["misconception_precision"] >= 0.90
    assert held_out["misconception_recall"] >= 0.45
