"""GRPO: group advantages, the k3 KL and the clipped loss against numbers worked by hand, and a short
run on a tiny model that reports TRL's GRPO metrics, writes its series and saves a loadable policy."""

import json
import math

import pytest
import torch
from transformers import AutoModelForCausalLM

from tests.support import make_tiny_sft
from studyapp.lab.common import LabError
from studyapp.lab.grpo import GRPOConfig, fact_reward, group_advantages, grpo_loss, k3_kl, train_grpo
from studyapp.lab.rater import Rater, fact_prompt
from studyapp.lab.world import load_world


def test_group_advantages_by_hand():
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    adv = group_advantages(rewards, 4)
    # group 1: mean 0.25, unbiased std sqrt((0.75^2 + 3 * 0.25^2) / 3) = 0.5 -> 0.75 / 0.5001, -0.25 / 0.5001
    # group 2: all equal, nothing to learn -> 0 ; group 3: mean 0.5, std sqrt(4 * 0.25 / 3) = 0.5773503
    assert torch.allclose(adv[:4], torch.tensor([1.4997001, -0.4999000, -0.4999000, -0.4999000]), atol=1e-6)
    assert torch.all(adv[4:8] == 0)
    assert torch.allclose(adv[8:], torch.tensor([-0.8658755, 0.8658755, -0.8658755, 0.8658755]), atol=1e-6)
    # Within each group a reply is only better or worse than its siblings: the advantages sum to 0.
    assert torch.allclose(adv.view(3, 4).sum(1), torch.zeros(3), atol=1e-6)
    assert torch.all(group_advantages(torch.tensor([0.0, 1.0]), 1) == 0)  # a group of one has no baseline
    with pytest.raises(ValueError):
        group_advantages(torch.ones(5), 2)


def test_k3_kl_by_hand():
    logp, ref = torch.tensor([-1.0, -2.0, -1.5]), torch.tensor([-2.0, -1.0, -1.5])
    # ref - logp = [-1, 1, 0]: e^-1 + 1 - 1 = 0.3678794 ; e - 1 - 1 = 0.7182818 ; 0
    assert torch.allclose(k3_kl(logp, ref), torch.tensor([0.3678794, 0.7182818, 0.0]), atol=1e-6)


def _case():
    old = torch.full((2, 2), -1.0)
    new = torch.tensor([[-1.0 + math.log(1.5), -1.0], [-1.0 + math.log(0.5), -1.0]])
    return old, new, torch.tensor([1.0, -1.0]), torch.tensor([[1, 1], [1, 0]])


def test_grpo_loss_clipping_by_hand():
    old, new, adv, mask = _case()
    loss, m = grpo_loss(new, old, new, adv, mask, beta=0.5, epsilon=0.2)
    # ratios [[1.5, 1], [0.5, 1]]; row 0 (A = 1): -min(1.5, 1.2) = -1.2 and -1, mean -1.1
    # row 1 (A = -1, one real token): -min(-0.5, -0.8) = 0.8 ; KL 0 (ref = policy) ; loss (-1.1 + 0.8) / 2
    assert loss.item() == pytest.approx(-0.15, abs=1e-6)
    # clipped: row 0 token 0 above 1.2 with A > 0, row 1 token 0 below 0.8 with A < 0; 3 real tokens
    assert m["clip_ratio/high_mean"] == pytest.approx(1 / 3) and m["clip_ratio/low_mean"] == pytest.approx(1 / 3)
    assert m["clip_ratio/region_mean"] == pytest.approx(2 / 3) and m["kl"] == 0.0


def test_grpo_loss_adds_beta_times_k3_to_every_token():
    old, new, adv, mask = _case()
    ref = new.clone()
    ref[0, 0] -= 1.0  # ref - logp = -1 there: k3 = e^-1 = 0.3678794
    loss, m = grpo_loss(new, old, ref, adv, mask, beta=0.5, epsilon=0.2)
    # row 0: (-1.2 + 0.5 * 0.3678794 - 1) / 2 = -1.0080301 ; loss (-1.0080301 + 0.8) / 2 = -0.1040151
    assert loss.item() == pytest.approx(-0.1040151, abs=1e-6)
    assert m["kl"] == pytest.approx(0.3678794 / 3, abs=1e-6)


def test_grpo_loss_gradient_follows_the_advantage():
    logp = torch.full((2, 2), -1.0, requires_grad=True)
    loss, _ = grpo_loss(logp, logp.detach(), logp.detach(), torch.tensor([1.0, -1.0]), torch.ones(2, 2),
                        beta=0.1, epsilon=0.2)
    loss.backward()
    # ratio 1, KL 0 with zero slope: d loss / d logp = -A / (2 tokens * 2 replies)
    assert torch.allclose(logp.grad, torch.tensor([[-0.25, -0.25], [0.25, 0.25]]))


def test_fact_reward_is_the_raters_fact_check():
    world = load_world()
    fact = next(f for f in world.facts if f.split == "sft")
    rater, p = Rater(world), fact_prompt(fact)
    wrong = next(a for a in world.answers(fact.relation) if a != fact.answer)
    assert fact_reward(rater, p, fact.statement) == 1.0
    assert fact_reward(rater, p, f"I understand your concern. {fact.statement}") == 1.0
    assert fact_reward(rater, p, fact.statement.replace(fact.answer, wrong)) == 0.0
    assert fact_reward(rater, p, "I don't know.") == 0.0


TRL_GRPO_NAMES = ("reward", "reward_std", "frac_reward_zero_std", "kl", "entropy", "clip_ratio/region_mean",
                  "completions/mean_length", "loss")


def test_train_grpo_reports_trl_metrics_and_saves(tmp_path):
    sft = make_tiny_sft(tmp_path / "sft")
    seen = []
    cfg = GRPOConfig(**{**GRPOConfig.quick().__dict__, "series_path": str(tmp_path / "g.jsonl")})
    result = train_grpo(sft, tmp_path / "grpo", cfg, progress=seen.append)
    steps = [m for m in seen if "clip_ratio/region_mean" in m]
    assert len(steps) == 2 and all(name in steps[0] for name in TRL_GRPO_NAMES)
    assert 0.0 <= steps[0]["reward"] <= 1.0 and steps[0]["objective/kl"] == pytest.approx(0.0, abs=1e-5)
    assert "rater/score" in steps[0] and len(steps[0]["samples"]) == 4
    lines = (tmp_path / "g.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["step"] == 2
    assert AutoModelForCausalLM.from_pretrained(tmp_path / "grpo") is not None
    assert json.loads((tmp_path / "grpo" / "lab.json").read_text())["stage"] == "grpo"
    for key in ("reward_end", "kl_end", "accuracy_facts", "refusal_heldout_harmful"):
        assert key in result
    with pytest.raises(LabError, match="k = 2"):
        train_grpo(sft, tmp_path / "no", GRPOConfig(k=1))


def test_train_grpo_is_reproducible_and_cancel_keeps_the_old_policy(tmp_path):
    import threading

    from studyapp.lab.common import Cancelled

    sft = make_tiny_sft(tmp_path / "sft")
    runs = []
    for name in ("a", "b"):
        cfg = GRPOConfig(**{**GRPOConfig.quick().__dict__, "steps": 1, "series_path": str(tmp_path / f"{name}.jsonl")})
        train_grpo(sft, tmp_path / name, cfg, evaluate=False)
        runs.append(json.loads((tmp_path / f"{name}.jsonl").read_text()))
    for key in TRL_GRPO_NAMES + ("objective/kl",):
        assert runs[0][key] == pytest.approx(runs[1][key], abs=1e-6)
    assert runs[0]["samples"] == runs[1]["samples"]
    out = tmp_path / "kept"
    out.mkdir()
    (out / "marker").write_text("old")
    ev = threading.Event()
    ev.set()
    with pytest.raises(Cancelled):
        train_grpo(sft, out, GRPOConfig.quick(), cancel=ev)
    assert (out / "marker").read_text() == "old"
