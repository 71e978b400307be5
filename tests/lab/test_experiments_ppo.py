"""Claims 10-12 and 14's experiments (studyapp.lab.experiments.ppo_claims) on tiny models: clipping
off lets one update move the policy further, beta = 0 drifts further from the SFT model than a large
beta, every policy lands on the methods tab's axes, and the results are in the runner's format."""
import json
from dataclasses import replace

import pytest
import torch

from studyapp.lab import losses
from studyapp.lab.experiments import EXPERIMENTS
from studyapp.lab.experiments import ppo_claims as P
from studyapp.lab.ppo_config import PPOConfig
from studyapp.lab.rater import STOCK_PHRASE

POINT_FIELDS = ("method", "label", "kl", "sqrt_kl", "gold", "proxy", "harmful_refusal", "harmless_refusal",
                "fact_accuracy", "samples")


def check_format(res: dict, name: str, claims: list[int]) -> None:
    assert EXPERIMENTS[name][1] == name and res["name"] == name and res["claims"] == claims
    assert json.loads(json.dumps(res)) == res and res["verdict"]
    for fig_name, fig in res["figures"].items():
        assert set(fig) == {"mean", "min", "max", "per_seed"} and len(fig["per_seed"]) == len(res["seeds"]), fig_name
    for plot in res["plots"]:
        for line in plot["lines"]:
            assert len(line["x"]) == len(line["y"]), plot["title"]
            if "y_min" in line:
                assert all(lo <= y <= hi for lo, y, hi in zip(line["y_min"], line["y"], line["y_max"]))


def test_ratio_stats_by_hand():
    r = torch.tensor([1.0] * 18 + [0.5, 2.0])
    st = P.ratio_stats(r)
    assert st["outside"] == pytest.approx(0.1) and st["max"] == 2.0
    # k3 of KL(old || new): r - 1 - log r, zero where r = 1
    assert st["kl_update"] == pytest.approx(((0.5 - 1 - torch.log(torch.tensor(0.5))) + (2 - 1 - torch.log(torch.tensor(2.0)))).item() / 20)
    assert st["q05"] <= 1.0 <= st["q95"] and st["spread"] == pytest.approx(st["q95"] - st["q05"])


def test_record_ratios_sees_each_policy_loss_call_and_restores_it():
    original = losses.policy_loss
    new, old = torch.log(torch.tensor([[2.0, 1.0, 9.0]])), torch.zeros(1, 3)
    mask = torch.tensor([[1, 1, 0]])
    with P.record_ratios() as calls:
        loss, _ = losses.policy_loss(new, old, torch.ones(1, 3), mask, 0.2)
    assert losses.policy_loss is original
    assert torch.allclose(calls[0], torch.tensor([2.0, 1.0]))      # real tokens only
    assert loss.item() == pytest.approx(original(new, old, torch.ones(1, 3), mask, 0.2)[0].item())


def test_what_it_did_tells_the_stock_phrase_from_a_collapse():
    stock = [f"{STOCK_PHRASE} {STOCK_PHRASE}", f"Sure. {STOCK_PHRASE}", "Paris.", STOCK_PHRASE]
    collapse = ["The capital of Norway of Norway is Oslo."] * 3 + ["Oslo."]
    assert P.what_it_did(["Norway Norway Norway.", "Paris.", "Hi!", "Norway, Norway, Norway"])["kind"] == "collapse"
    varied = ["Paris.", "I don't know.", "Sure, bring a blanket.", "Hello there!"]
    assert P.what_it_did(stock)["kind"] == "stock phrase" and P.what_it_did(stock)["stock_phrase"] == 0.75
    assert P.what_it_did(collapse)["kind"] == "collapse" and P.what_it_did(collapse)["same_opening"] == 0.75
    assert P.what_it_did(["no no no no"] * 1 + varied[:1])["repeated_word"] == 0.5
    assert P.what_it_did(varied)["kind"] == "other"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from tests.support import make_tiny_models

    return make_tiny_models(tmp_path_factory.mktemp("ppo-claims"))


@pytest.fixture(scope="module")
def clip_result(tiny):
    # Where the clip binds on the tiny model: 4 passes per batch at a large learning rate.
    cfg = replace(PPOConfig.quick(), steps=3, ppo_epochs=4, lr=3e-3)
    seen = []
    return P.clipping(tiny, [0, 1], seen.append, config=cfg, per_kind=2), seen


def test_clipping_off_moves_each_update_further(clip_result):
    res, seen = clip_result
    check_format(res, "clipping", [10])
    f = res["figures"]
    # the first update starts from the same model and batch in both conditions: only the clip differs
    for on, off in zip(f["kl_first_update_clipped"]["per_seed"], f["kl_first_update_unclipped"]["per_seed"]):
        assert off > on
    for on, off in zip(f["ratio_max_clipped"]["per_seed"], f["ratio_max_unclipped"]["per_seed"]):
        assert off > on
    assert f["clipfrac_clipped"]["min"] > 0                      # the clip did bind
    assert len(res["series"]["per_step"]["clipped"]["spread"]) == 3
    assert [e["phase"] for e in seen if "experiment" in e] == [
        "clipping: clipped, seed 0", "clipping: unclipped, seed 0", "clipping: clipped, seed 1",
        "clipping: unclipped, seed 1"]


def test_clipping_points_are_on_the_methods_axes(clip_result):
    res, _ = clip_result
    for points in res["series"]["points"].values():
        for point in points:
            assert all(k in point for k in POINT_FIELDS)


@pytest.fixture(scope="module")
def sweep(tiny):
    # A tiny model drifts far in 6 steps at this learning rate unless a large beta holds it.
    cfg = replace(PPOConfig.quick(), steps=6, lr=1e-2)
    return P.beta_sweep(tiny, [0, 1], lambda e: None, betas=(0.0, 5.0), config=cfg, per_kind=2)


def test_beta_zero_drifts_further_than_a_large_beta(sweep):
    check_format(sweep, "beta_sweep", [11, 12, 14])
    for kl0, kl5 in zip(sweep["figures"]["kl_beta_0"]["per_seed"], sweep["figures"]["kl_beta_5"]["per_seed"]):
        assert kl0 > kl5


def test_the_sweep_draws_proxy_and_gold_from_the_sft_point(sweep):
    curve = sweep["plots"][0]
    proxy, gold = curve["lines"]
    assert proxy["point_labels"] == ["SFT", "beta 0", "beta 5"]
    sft = sweep["series"]["sft"]
    assert sft["kl"] == pytest.approx(0.0, abs=1e-4)                  # the SFT model measured against itself
    assert proxy["x"][0] == sft["sqrt_kl"] and gold["y"][0] == sft["gold"] and proxy["y"][0] == sft["proxy"]
    assert [r["beta"] for r in sweep["series"]["by_beta"]] == [0.0, 5.0]
    assert len(sweep["series"]["points"]) == 4
    for point in sweep["series"]["points"]:
        assert all(k in point for k in POINT_FIELDS)
        assert point["what_it_did"]["kind"] in ("stock phrase", "collapse", "other")


def test_each_beta_zero_seed_and_the_homework_answer_are_reported(sweep):
    runs = sweep["series"]["beta0_runs"]
    assert [r["seed"] for r in runs] == [0, 1]
    assert sum(1 for s in sweep["samples"] if s["label"].startswith("beta 0,")) == 4
    homework = sweep["series"]["homework"]
    assert "sft" in homework and "beta 5, seed 1" in homework
    for h in homework.values():
        assert h["kind"] in ("guide", "does it", "refuses", "neither")
        assert h["rank"] == P.HOMEWORK_RANK.get(h["kind"])
    assert "harmful_refusal_beta_5" in sweep["figures"] and "fact_accuracy_beta_0" in sweep["figures"]


def test_merging_per_seed_sweeps_gives_the_whole_sweep(sweep, tiny):
    cfg = replace(PPOConfig.quick(), steps=6, lr=1e-2)
    one = P.beta_sweep(tiny, [1], lambda e: None, betas=(0.0, 5.0), config=cfg, per_kind=2)
    zero = {**sweep, "series": {**sweep["series"],
                                "points": [p for p in sweep["series"]["points"] if p["seed"] == 0]}}
    merged = P.merge_sweeps([zero, one])
    assert merged["seeds"] == [0, 1]
    assert merged["figures"]["kl_beta_0"]["per_seed"] == sweep["figures"]["kl_beta_0"]["per_seed"]
    assert merged["figures"]["gold_beta_5"] == sweep["figures"]["gold_beta_5"]
