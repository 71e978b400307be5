"""The teach-it-back rubric of lesson 6 (resources/rubrics/beyond-ppo.md) credits true statements
about best-of-n, DPO and GRPO and flags false ones, sentence by sentence, through the tutor's own
grader. Each false sentence is a mistake a learner makes (both directions of DPO swapped, no
reference model, GRPO's baseline taken over the batch, GRPO's KL put in the reward), and each true
one a wording the lesson uses that the rubric once missed (a normaliser that cancels, "its KL is
log n minus ...", "more likely", "nearer")."""
from __future__ import annotations

import pytest

from studyapp.config import RESOURCES_DIR
from studyapp.content.rubric import parse_rubric
from studyapp.tutor import grader

B = "best-of-n-picks-the-favourite-of-n-samples"
F = "best-of-n-s-distance-from-sft-is-a-formula"
D = "dpo-learns-from-the-pairs-directly"
W = "why-dpo-needs-no-reward-model"
G = "grpo-compares-replies-within-a-group"
K = "grpo-puts-the-kl-in-the-loss-and-often-uses-a-checkable-reward"

CASES = [ ("Best-of-n samples several replies from the SFT model and keeps the one the reward model scores highest.", "covered", B),
 ("Its KL is log n minus (n-1)/n.", "covered", F),
 ("The KL of best-of-n is log n minus (n-1)/n.", "covered", F),
 ("Best-of-n cannot over-optimise the reward model because it never changes the weights.", "flag", B),
 ("DPO trains the policy directly on the preference pairs, with no reward model.", "covered", D),
 ("DPO makes the chosen reply more likely than the rejected one, relative to the reference.", "covered", D),
 ("DPO raises the probability of the preferred reply and lowers the rejected one.", "covered", D),
 ("DPO raises the chosen reply's probability and lowers the rejected one's.", "covered", D),
 ("DPO lowers the probability of the preferred reply and raises the rejected one.", "flag", D),
 ("DPO raises the probability of the rejected reply and lowers the preferred one.", "flag", D),
 ("DPO lowers the probability of the preferred reply.", "flag", D),
 ("DPO makes the rejected reply more likely.", "flag", D),
 ("DPO first trains a reward model and then uses it.", "flag", D),
 ("DPO samples replies from the policy during training.", "flag", D),
 ("DPO never samples replies; it only scores the fixed pairs.", "none", None),
 ("Unlike PPO, DPO does not sample replies during training.", "none", None),
 ("DPO needs a value head.", "flag", D),
 ("DPO has no value head.", "none", None),
 ("DPO is derived from PPO's objective, reward minus beta times KL.", "covered", W),
 ("DPO comes from solving the KL-regularised objective in closed form.", "covered", W),
 ("The partition function cancels in the Bradley-Terry difference.", "covered", W),
 ("The per-prompt normaliser cancels because Bradley-Terry only uses the difference of two rewards.", "covered", W),
 ("The log Z term is the same for both replies so it cancels.", "covered", W),
 ("The per-prompt constant does not cancel.", "flag", W),
 ("Larger beta keeps the DPO policy nearer the SFT model.", "covered", W),
 ("Larger beta lets the DPO policy drift further from the SFT model.", "flag", W),
 ("DPO has no KL penalty, so nothing keeps it near the SFT model.", "flag", W),
 ("DPO does not need a reference model.", "flag", W),
 ("The reference model cancels out of the DPO loss.", "flag", W),
 ("DPO does not need a reward model.", "covered", D),
 ("GRPO compares each reply's reward with the group mean.", "covered", G),
 ("GRPO normalises each reward by the group's mean and standard deviation.", "covered", G),
 ("In GRPO each reply's reward is compared with its siblings in the group.", "covered", G),
 ("GRPO needs no value head because the group mean is the baseline.", "covered", G),
 ("GRPO trains a value head to predict each reply's reward.", "flag", G),
 ("GRPO's advantage is the reward minus the mean reward of all prompts in the batch.", "flag", G),
 ("The advantage is the reward minus the mean of its group.", "covered", G),
 ("GRPO uses the k3 estimate of KL in the loss instead of putting it in the reward.", "covered", K),
 ("GRPO puts the KL penalty in the loss rather than in the reward.", "covered", K),
 ("GRPO puts the KL penalty in the reward, like PPO.", "flag", K),
 ("GRPO subtracts the KL from the reward like PPO does.", "flag", K),
 ("GRPO is often trained with a verifiable reward, a rule that checks the answer.", "covered", K),
]


@pytest.fixture(scope="module")
def rubric():
    return parse_rubric(RESOURCES_DIR / "rubrics" / "beyond-ppo.md")


def test_every_key_point_id_is_the_rubrics(rubric):
    assert {p.id for p in rubric.points} == {B, F, D, W, G, K}


@pytest.mark.parametrize("text, want, point", CASES, ids=[c[0][:60] for c in CASES])
def test_the_rubric_credits_true_and_flags_false_sentences(rubric, text, want, point):
    result = grader.grade(rubric, text)
    status = {p.id: p.status for p in result.points}
    flagged = {pid for m in result.misconceptions for pid in m.contradicts}
    if want == "covered":
        assert status[point] == "covered" and result.misconceptions == [], (status, result.misconceptions)
    elif want == "flag":
        assert point in flagged and status[point] != "covered", (status, result.misconceptions)
    else:
        assert result.misconceptions == [], result.misconceptions


def test_a_whole_true_explanation_covers_every_point_and_a_false_one_is_flagged(rubric):
    true = ("Best-of-n samples n replies from the SFT model and keeps the one the reward model scores "
            "highest, without training anything. Its KL is log n minus (n - 1)/n. "
            "DPO trains the policy directly on the ranked pairs, with no reward model. "
            "DPO is derived from PPO's objective, reward minus beta times KL: the per-prompt constant "
            "cancels in Bradley-Terry. GRPO compares each reply's reward with the group mean, so it "
            "needs no value head. GRPO adds a k3 KL estimate to the loss.")
    result = grader.grade(rubric, true)
    assert result.coverage == 1.0 and result.misconceptions == []
    false = ("DPO lowers the probability of the preferred reply and raises the rejected one. "
             "GRPO subtracts the KL from the reward like PPO does.")
    result = grader.grade(rubric, false)
    assert result.coverage == 0.0
    assert {pid for m in result.misconceptions for pid in m.contradicts} >= {D, K}
