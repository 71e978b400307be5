"""The tutor checks truth, not vocabulary: a false explanation earns nothing for the points it
gets wrong, and on the held-out part of the labelled sentences (tests/tutor/labelled.py) the
grader stays at least as good as measured when its constants were chosen.

Measured on 2026-11-30 (`python -m tests.tutor.calibrate`), held-out part, 51 sentences:
covered precision 0.55, recall 0.55; misconception precision 0.875, recall 0.30. The issue's
targets (covered precision >= 0.95, misconception recall >= 0.8) are NOT met by a sentence
embedding with misconception prototypes and negation handling: it barely sees "not", word order
and antonyms ("more"/"less" data) in sentences it has not seen. The floors below keep what was
reached from slipping; raising them needs an entailment model (none ships in a well-kept package).
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
    for part in ("train", "test"):
        kinds = {e.kind for e in split(part)}
        assert kinds == {"right", "partly", "wrong", "negation", "swap"}, part


@pytest.fixture(scope="module")
def held_out(embedder, rubric):
    return evaluate(rubric, split("test"), Memo(embedder))


def test_held_out_numbers_do_not_slip_below_those_measured(held_out):
    assert held_out["covered_precision"] >= 0.50
    assert held_out["misconception_precision"] >= 0.80
    assert held_out["misconception_recall"] >= 0.25
