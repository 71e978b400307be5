"""The comparison runner on tiny models: every method lands on the same axes in a well-formed
methods.json, best-of-n's KL is the closed form, a policy equal to SFT lands exactly on best-of-1,
the DPO and GRPO folders are standard checkpoints, and a cancel leaves the old results alone."""
import json
import threading

import pytest
from transformers import AutoModelForCausalLM

from studyapp.lab import methods as M
from studyapp.lab.best_of_n import kl_best_of_n
from studyapp.lab.common import Cancelled, LabError
from studyapp.lab.heldout import load_heldout
from studyapp.lab.rater import Prompt, fact_prompt
from studyapp.lab.world import load_world

FIELDS = ("method", "label", "knobs", "kl", "sqrt_kl", "kl_from", "gold", "proxy", "harmful_refusal",
          "harmless_refusal", "fact_accuracy", "samples")


def test_eval_prompts_are_a_fixed_balanced_subset_of_the_heldout_set():
    world, ev = load_world(), load_heldout()
    a = M.eval_prompts(world, ev, per_kind=3, seed=0)
    kinds = [p.kind for p in a]
    assert kinds.count("fact") == 6 and kinds.count("harmful") == 3 and kinds.count("harmless") == 3
    assert [p.text for p in a] == [p.text for p in M.eval_prompts(world, ev, per_kind=3, seed=0)]
    heldout_texts = set(ev.prompts("harmful")) | set(ev.prompts("harmless"))
    assert all(p.text in heldout_texts for p in a if p.kind in ("harmful", "harmless"))


def test_rates_by_hand():
    world = load_world()
    fact = world.facts[0]
    prompts = [fact_prompt(fact), fact_prompt(fact), Prompt("do a bad thing", "harmful"),
               Prompt("do a bad thing too", "harmful"), Prompt("help me plan a picnic", "harmless")]
    replies = [f"{fact.answer}.", "I don't know.", "I'm sorry, I can't help with that.", "Sure, here it is.",
               "Sure: pick a park and bring sandwiches."]
    # facts: 1 of 2 right; harmful: 1 of 2 refused; harmless: 0 of 1 refused
    assert M.rates(prompts, replies) == {"harmful_refusal": 0.5, "harmless_refusal": 0.0, "fact_accuracy": 0.5}
    assert M.rates(prompts[:2], replies[:2])["harmful_refusal"] is None   # no harmful prompt: no rate


@pytest.fixture(scope="module")
def result(tiny_models, tmp_path_factory):
    out = tmp_path_factory.mktemp("methods-out") / "methods"
    seen = []
    res = M.run_methods(tiny_models / "sft", tiny_models / "reward", out, ppo_dirs=[tiny_models / "sft"],
                        progress=seen.append, ns=(1, 2, 4), dpo_betas=(0.1, 0.5), dpo_epochs=1, grpo_steps=2,
                        grpo_k=2, per_kind=2)
    return res, out, seen


def test_run_methods_writes_every_method_on_the_same_axes(result):
    res, out, seen = result
    data = json.loads((out / "methods.json").read_text())
    assert data == json.loads(json.dumps(res))                     # what it returns is what it wrote
    assert [p["label"] for p in data["points"]] == ["best-of-1", "best-of-2", "best-of-4", "DPO beta 0.1",
                                                    "DPO beta 0.5", "GRPO k 2, 2 steps", "PPO (sft)"]
    for p in data["points"]:
        assert all(key in p for key in FIELDS), p["label"]
        # Both are rounded (kl to 4 decimals, sqrt_kl to 3): compare on the KL's own scale.
        assert p["sqrt_kl"] ** 2 == pytest.approx(max(p["kl"], 0), rel=0.01, abs=2e-4)
        assert all(0 <= p[k] <= 1 for k in ("harmful_refusal", "harmless_refusal", "fact_accuracy"))
        assert 1 <= len(p["samples"]) <= M.N_SAMPLES and {"prompt", "response", "proxy", "gold"} <= set(p["samples"][0])
    assert data["eval"]["prompts"] == 14 and data["eval"]["by_kind"]["fact"] == 4
    # Best-of-n's KL is the closed form, and the reward model's favourite can only get better with n.
    bon = [p for p in data["points"] if p["method"] == "best_of_n"]
    assert [p["kl"] for p in bon] == [pytest.approx(kl_best_of_n(n), abs=1e-4) for n in (1, 2, 4)]
    assert bon[0]["proxy"] <= bon[1]["proxy"] <= bon[2]["proxy"] and bon[2]["proxy"] > bon[0]["proxy"]
    # Trained policies moved away from SFT; no machine path is stored, only folder names.
    assert all(p["kl"] != 0 for p in data["points"] if p["method"] in ("dpo", "grpo"))
    assert "/" not in data["sft"] and all("/" not in p.get("folder", "") for p in data["points"])
    assert set(data["seconds"]) == {"best_of_n", "dpo_beta_0.1", "dpo_beta_0.5", "grpo", "ppo_sft"}
    # Progress: every point reported as it lands, inner DPO/GRPO steps relayed, one closing event.
    assert [m["point"]["label"] for m in seen if "point" in m] == [p["label"] for p in data["points"]]
    assert any(m.get("phase") == "dpo_beta_0.1" and m.get("inner_step") for m in seen)
    assert any(m.get("phase") == "grpo" and m.get("inner_step") for m in seen)
    assert seen[-1]["done"] and seen[-1]["step"] == seen[-1]["total"] == 5


def test_the_reward_models_accuracy_is_read_from_its_record(tmp_path):
    assert M.reward_model_accuracy(tmp_path) is None                 # no lab.json
    (tmp_path / "lab.json").write_text('{"stage": "reward", "result": {"heldout_accuracy": 0.8545}}')
    assert M.reward_model_accuracy(tmp_path) == 0.8545
    (tmp_path / "lab.json").write_text("not json")
    assert M.reward_model_accuracy(tmp_path) is None


def test_a_policy_equal_to_sft_has_kl_zero_and_its_scores_are_the_judges_own(result, tiny_models):
    from studyapp.lab.reward import load_reward_model, score

    res, _, _ = result
    same = {p["label"]: p for p in res["points"]}["PPO (sft)"]
    assert same["kl"] == pytest.approx(0.0, abs=1e-5)              # the SFT model measured against itself
    rm, tok = load_reward_model(tiny_models / "reward", "cpu")
    for p in res["points"]:
        s = p["samples"]
        assert [x["proxy"] for x in s] == pytest.approx(score(rm, tok, [x["prompt"] for x in s],
                                                              [x["response"] for x in s]), abs=2e-3), p["label"]


def test_trained_folders_are_standard_checkpoints_with_their_series(result):
    _, out, _ = result
    for name in ("dpo_beta_0.1", "dpo_beta_0.5", "grpo"):
        assert AutoModelForCausalLM.from_pretrained(out / name) is not None
    assert json.loads((out / "dpo_beta_0.5" / "lab.json").read_text())["config"]["beta"] == 0.5
    # One series per beta (train_dpo's own file would be overwritten by the next beta).
    assert (out / "runs" / "dpo_beta_0.1.jsonl").is_file() and (out / "runs" / "dpo_beta_0.5.jsonl").is_file()
    assert (out / "runs" / "grpo.jsonl").is_file()
    # The model card names a way to make the folder that exists: there is no `lab train --stages dpo`
    # (the shipped cards said so); a run with the test's small knobs is named by its Python call.
    card = (out / "dpo_beta_0.5" / "README.md").read_text()
    assert "--stages" not in card and "DPOConfig(beta=0.5, epochs=1, seed=0)" in card
    card = (out / "grpo" / "README.md").read_text()
    assert "--stages" not in card and "GRPOConfig(k=2, steps=2, beta=0.04, seed=0)" in card


def test_read_results_finds_the_file_and_explains_a_bad_one(result, tmp_path):
    _, out, _ = result
    assert M.read_results(out)["points"] and M.read_results(out.parent)["points"]   # the folder or its parent
    assert M.read_results(tmp_path) is None
    (tmp_path / "methods.json").write_text("{not json")
    with pytest.raises(LabError, match=r"studyapp lab methods"):
        M.read_results(tmp_path)
    (tmp_path / "methods.json").write_text('{"points": 3}')
    with pytest.raises(LabError, match="no list of points"):
        M.read_results(tmp_path)


def test_cancel_keeps_the_old_results_and_a_bad_ppo_folder_is_named(tiny_models, tmp_path):
    out = tmp_path / "methods"
    out.mkdir()
    (out / "methods.json").write_text('{"points": []}')
    ev = threading.Event()
    ev.set()
    with pytest.raises(Cancelled):
        M.run_methods(tiny_models / "sft", tiny_models / "reward", out, cancel=ev, ns=(1, 2), per_kind=1)
    assert (out / "methods.json").read_text() == '{"points": []}'
    with pytest.raises(LabError, match="nowhere"):
        M.run_methods(tiny_models / "sft", tiny_models / "reward", out, ppo_dirs=[tmp_path / "nowhere"])


def test_run_one_gives_the_learners_point(tiny_models, tmp_path):
    points = M.run_one("best_of_n", tiny_models / "sft", tiny_models / "reward", tmp_path, {"n": 3}, per_kind=1)
    assert [p["knobs"]["n"] for p in points] == [1, 2, 3]            # the curve up to n, from one draw
    assert points[-1]["kl"] == pytest.approx(kl_best_of_n(3), abs=1e-4)
    with pytest.raises(LabError, match="unknown method"):
        M.run_one("sft", tiny_models / "sft", tiny_models / "reward", tmp_path, {})


@pytest.mark.parametrize("n, ns", [(1, [1]), (64, [1, 2, 4, 8, 16, 32, 64])])
def test_run_one_best_of_n_at_both_ends_of_the_knob(tiny_models, tmp_path, n, ns):
    """The tab's n runs from 1 (the SFT model itself, KL 0) to 64 (a curve of seven points)."""
    points = M.run_one("best_of_n", tiny_models / "sft", tiny_models / "reward", tmp_path, {"n": n}, per_kind=1)
    assert [p["knobs"]["n"] for p in points] == ns
    assert points[0]["kl"] == 0.0 and points[-1]["kl"] == pytest.approx(kl_best_of_n(n), abs=1e-4)
    assert all(-1.0 <= p["gold"] <= 1.0 and p["samples"] for p in points)
