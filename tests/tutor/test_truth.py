"""The tutor checks truth, not vocabulary: on the held-out part of the labelled set it credits no
false statement and flags the misconceptions (issue 15's targets), the false explanation of the
issue earns nothing for the points it gets wrong, and plain true sentences still count.

The held-out part (tests/tutor/heldout2.py) was written before it was run and was never tuned
on (see its header). Measured on 2026-11-30 with `python -m tests.tutor.calibrate --heldout`:
    part                  examples   covered P        covered R        misconception P  R
    calibration           252        0.990 (96/97)    0.990 (96/97)    1.000            1.000
    held-out (heldout2)    87        1.000 (37/37)    0.881 (37/42)    0.971 (33/34)    0.805 (33/41)
The first held-out part (heldout.py), run once before it joined the calibration side, gave
covered P 0.935 (29/31), R 0.935; misconception P 0.977, R 0.977 (42/43).
"""
from __future__ import annotations

import pytest

from studyapp.tutor import grader
from tests.tutor.calibrate import CALIBRATION, evaluate
from tests.tutor.heldout2 import HELDOUT2
from tests.tutor.labelled import FALSE_EXPLANATION, FALSE_POINTS, P

KINDS = {"right", "partly", "wrong", "negation", "swap"}


def statuses(rubric, text):
    return {p.id: p.status for p in grader.grade(rubric, text).points}


def test_the_false_explanation_earns_nothing_for_what_it_gets_wrong(rubric):
    result = grader.grade(rubric, FALSE_EXPLANATION)
    by_id = {p.id: p for p in result.points}
    for key in FALSE_POINTS:
        point = by_id[P[key]]
        assert point.status == "missing", (key, point.matched)
    for key in ("cont", "rm", "kl"):
        assert by_id[P[key]].lost, key           # the checklist names the sentence that lost it
    assert result.coverage == 0.0
    flagged = {m.sentence: m for m in result.misconceptions}
    assert "The KL penalty pushes the model away from the SFT model." in flagged
    assert "The reward model is trained on random numbers." in flagged
    assert "A freshly pretrained model is already a perfect assistant." in flagged
    assert flagged["The KL penalty pushes the model away from the SFT model."].evidence


def test_plain_true_sentences_count_and_their_negations_are_flagged(rubric):
    # The example: it must count for collecting preferences (and for the reward model).
    true = statuses(rubric, "People rank answers, a reward model is trained on those rankings.")
    assert true[P["rank"]] == "covered" and true[P["rm"]] == "covered"
    right = grader.grade(rubric, "The KL penalty keeps the model close to the frozen SFT model.")
    assert {p.id for p in right.covered} == {P["kl"]} and right.misconceptions == []
    for wrong in ("The KL penalty does not keep the model close to the SFT model.",
                  "The KL penalty keeps the model far from the SFT model."):
        result = grader.grade(rubric, wrong)
        assert result.coverage == 0.0 and P["kl"] in result.misconceptions[0].contradicts, wrong


def test_never_continues_the_document_does_not_count_for_continuation(rubric):
    result = grader.grade(rubric, "A base model never continues the document you give it.")
    assert statuses(rubric, "A base model continues the document you give it.")[P["cont"]] == "covered"
    assert {p.id: p.status for p in result.points}[P["cont"]] == "missing"
    assert P["cont"] in result.misconceptions[0].contradicts


@pytest.mark.parametrize("text, key", [
    ("The model ranks the answers that people write.", "rank"),                          # roles
    ("The early layers change the most during fine-tuning.", "wts"),                    # opposite
    ("Pretraining uses a smaller learning rate than fine-tuning.", "small"),            # comparison
    ("PPO trains the reward model.", "rm"),                                              # roles
    ("Human raters grade every single answer during PPO.", "rank"),                     # quantifier
])
def test_swapped_roles_and_quantifiers_are_flagged_never_credited(rubric, text, key):
    result = grader.grade(rubric, text)
    assert result.coverage == 0.0 and any(P[key] in m.contradicts for m in result.misconceptions)


def test_the_labelled_set_is_big_enough_and_has_every_kind():
    assert len(CALIBRATION) + len(HELDOUT2) >= 60 and len(HELDOUT2) >= 60
    assert {e.kind for e in HELDOUT2} >= KINDS
    assert {e.kind for e in CALIBRATION} >= KINDS
    assert not {e.text for e in HELDOUT2} & {e.text for e in CALIBRATION}


@pytest.fixture(scope="module")
def held_out(rubric):
    return evaluate(rubric, HELDOUT2)


def test_held_out_precision_of_covered_and_recall_of_misconceptions_meet_the_targets(held_out):
    # Issue 15: "credits no false statement (precision of covered at least 0.95) and flags at
    # least 0.8 of misconceptions".
    assert held_out["covered_precision"] >= 0.95
    assert held_out["misconception_recall"] >= 0.8
    # No target, but held where measured: a strict grader must still credit plain true sentences
    # and must not flag right ones.
    assert held_out["covered_recall"] >= 0.85
    assert held_out["misconception_precision"] >= 0.95


def test_calibration_numbers_hold(rubric):
    measured = evaluate(rubric, CALIBRATION)
    assert measured["covered_precision"] >= 0.98 and measured["covered_recall"] >= 0.98
    assert measured["misconception_precision"] >= 0.98 and measured["misconception_recall"] >= 0.98
