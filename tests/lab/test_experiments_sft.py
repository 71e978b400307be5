"""Claims 3-5's experiments (lab/experiments/sft_claims.py) on a tiny model in seconds: the result
format the claims tab reads, and figures that move when the manipulation moves (the learning rate,
the part put back, the facts added to the SFT data)."""
import json

import pytest

from studyapp.lab import experiments as E
from studyapp.lab.experiments import sft_claims as S
from tests.support import make_tiny_sft


@pytest.fixture(scope="module")
def models(tmp_path_factory, tiny_tokenizer):
    """A models folder whose base/ is a tiny random chat-ready GPT-2 (tests/lab/conftest.py's tokenizer)."""
    root = tmp_path_factory.mktemp("models")
    make_tiny_sft(root / "base", tokenizer=tiny_tokenizer, stage="base")
    return root


@pytest.fixture
def runs(monkeypatch):
    """SFT runs of a few steps (the shipped ones take 150), each recorded: its learning rate and
    how many conversations it added to the lab's SFT data."""
    from studyapp.lab import sft

    monkeypatch.setattr(S, "SFT_CHANGES", {"steps": 6, "warmup": 2})
    seen = []
    real = sft.train_sft

    def spy(base, out, cfg, *, extra_conversations=None, **kw):
        seen.append((cfg.lr, cfg.seed, len(extra_conversations or [])))
        return real(base, out, cfg, extra_conversations=extra_conversations, **kw)

    monkeypatch.setattr(sft, "train_sft", spy)
    return seen


def check_shape(res: dict, seeds: list[int]) -> None:
    assert res["seeds"] == seeds and res["verdict"] and res["figures"] and res["plots"]
    for name, fig in res["figures"].items():
        assert set(fig) == {"mean", "min", "max", "per_seed"}, name
        assert fig["min"] <= fig["mean"] <= fig["max"], name
        assert len(fig["per_seed"]) in (1, len(seeds)), name   # 1: the base model, measured once
    for plot in res["plots"]:
        for line in plot["lines"]:
            assert len(line["x"]) == len(line["y"]) == len(line["y_min"]) == len(line["y_max"])
            assert all(lo <= y <= hi for y, lo, hi in zip(line["y"], line["y_min"], line["y_max"]))


def test_learning_rate_experiment_trains_at_three_rates_and_writes_the_result_format(models, runs, tmp_path):
    res = E.run("sft_learning_rate", models, tmp_path, seeds=[0, 1])
    check_shape(res, [0, 1])
    assert json.loads((tmp_path / "sft_learning_rate.json").read_text())["figures"] == res["figures"]
    # The tiny base's lab.json names no learning rate: the pretraining rate defaults to ten times SFT's.
    assert res["claims"] == [3] and res["series"]["lrs"] == [1e-2, 1e-3, 1e-4]
    assert [(lr, seed) for lr, seed, _ in runs] == [(1e-2, 0), (1e-3, 0), (1e-4, 0), (1e-2, 1), (1e-3, 1), (1e-4, 1)]
    plot = res["plots"][0]
    assert plot["log_x"] and [line["x"] for line in plot["lines"]] == [[1e-2, 1e-3, 1e-4]] * 4
    for what in ("chat replies that answer in one sentence and stop (seen facts)",
                 "pretrain-only facts answered in chat", "pretrain-only facts answered in chat, reworded",
                 "pretrain-only fact stems kept (raw text)"):
        for lr in ("1e-2", "1e-3", "1e-4"):
            assert len(res["figures"][f"{what}, SFT at LR {lr}"]["per_seed"]) == 2


def test_the_chat_format_is_one_answer_sentence_and_a_stop(monkeypatch):
    import studyapp.lab.generate as G
    from studyapp.lab.world import load_world

    world = load_world()
    fact = next(f for f in world.facts if f.subject == "France")

    def rate(reply):   # what _answered makes of a model that writes `reply`
        monkeypatch.setattr(G, "generate_batch", lambda model, tok, prompts, **kw: [reply] * len(prompts))
        return S._answered(None, None, [(fact.question, fact)], any_answer_of=world)

    assert rate("The capital of France is Paris.") == 1
    assert rate("The capital of France is Berlin.") == 1          # the format, with the wrong fact
    assert rate("The capital of France is Paris. sad. sad. The capital") == 0   # runs on
    assert rate(".\nWhat is the capital of Morocco?\nWhat is") == 0          # the base model


def test_weight_change_grows_with_the_learning_rate_and_putting_every_part_back_gives_the_base(models, monkeypatch, tmp_path):
    monkeypatch.setattr(S, "SFT_CHANGES", {"steps": 6, "warmup": 2, "lr": 1e-5})
    gentle = E.run("weight_change", models, tmp_path, seeds=[0])
    monkeypatch.setattr(S, "SFT_CHANGES", {"steps": 6, "warmup": 2, "lr": 1e-2})
    strong = E.run("weight_change", models, tmp_path, seeds=[0])
    check_shape(strong, [0])
    assert strong["series"]["parts"] == ["embeddings", "block 1", "block 2", "final norm"]
    for part in strong["series"]["parts"]:
        name = f"relative weight change base -> SFT: {part}"
        assert strong["figures"][name]["mean"] > 10 * gentle["figures"][name]["mean"] > 0
    figs = strong["figures"]
    assert figs["seen facts answered in chat: base every part put back"]["per_seed"] == \
        figs["seen facts answered in chat: base model"]["per_seed"]
    assert [t[1] for t in strong["plots"][0]["x_ticks"]] == strong["series"]["parts"]


def test_transplanting_every_part_restores_the_base_weights_and_one_part_only_that_part(models, tmp_path):
    import torch

    from studyapp.lab.modeling import load_causal_lm
    from studyapp.lab.evals import layer_change, part_of

    base, _ = load_causal_lm(models / "base", "cpu")
    sft, _ = load_causal_lm(models / "base", "cpu")
    with torch.no_grad():
        for p in sft.parameters():
            p.add_(0.1)
    S.transplant(sft, base, "block 1")
    change = layer_change(base, sft)
    assert change["block 1"] == 0 and change["block 2"] > 0 and change["embeddings"] > 0
    assert set(change) == {part_of(n) for n, _ in sft.named_parameters()}
    S.transplant(sft, base, None)
    assert all(v == 0 for v in layer_change(base, sft).values())


def test_facts_added_to_the_sft_data_reach_the_training_and_each_copy_count_is_measured(models, runs, tmp_path):
    from studyapp.lab.world import load_world

    held = load_world().split("heldout")
    added = S.added_conversations(held, 4)
    assert len(added) == 4 * len(held) and added[0] == [{"role": "user", "content": held[0].question},
                                                        {"role": "assistant", "content": held[0].statement}]
    res = S.sft_new_facts(models, [0, 1], lambda ev: None, copies=(0, 4))
    check_shape(res, [0, 1])
    assert [extra for _, _, extra in runs] == [0, 4 * len(held)] * 2
    assert res["series"]["copies"] == [0, 4]
    for what in ("held-out facts answered, trained question", "held-out facts answered, reworded",
                 "pretrain-only facts answered, reworded"):
        assert [res["plots"][0]["lines"][i]["label"] for i in range(3)][[
            "held-out facts answered, trained question", "held-out facts answered, reworded",
            "pretrain-only facts answered, reworded"].index(what)] == what
        assert all(f"{what}, added x{k}" in res["figures"] for k in (0, 4))


def test_the_refusal_ceiling_teaches_the_line_directly_on_whole_act_groups(models, runs, tmp_path):
    from studyapp.lab.heldout import BLIND_FILE, load_heldout
    from studyapp.lab.world import load_world

    world = load_world()
    harmful, alikes, group = S._ceiling_prompts(world)
    trained = set(harmful) | {p for p, _ in alikes}
    unseen = {p for ev in (load_heldout(), load_heldout(BLIND_FILE)) for k in ("harmful", "harmless") for p in ev.prompts(k)}
    assert len(unseen) >= 80 and not unseen & trained           # measured only on requests it never trained on
    assert len({group(p) for p in harmful}) < len(harmful)      # rewordings share a group
    res = S.refusal_ceiling(models, [0, 1], lambda ev: None, shares=(0.25, 1.0))
    check_shape(res, [0, 1])
    n_groups = res["series"]["n_groups"]
    assert res["series"]["groups"] == [round(0.25 * n_groups), n_groups]
    sizes = [extra for _, _, extra in runs]
    assert sizes[1] == sizes[3] == len(harmful) + len(alikes) and sizes[0] < sizes[1] and sizes[2] < sizes[3]
    # the tiny folder has no sft/ or rlhf/: nothing to compare with, and the result says so
    assert res["series"]["reference"] == {} and res["claims"] == [] and res["informs"] == [13]


def test_the_refusal_ceilings_data_refuses_every_harmful_request_and_helps_every_look_alike(models, monkeypatch):
    from studyapp.lab import sft
    from studyapp.lab.preferences import REFUSALS
    from studyapp.lab.world import load_world

    harmful, alikes, _ = S._ceiling_prompts(load_world())
    got = {}

    def capture(base, out, cfg, *, extra_conversations=None, **kw):
        got["cfg"], got["extra"] = cfg, extra_conversations
        raise RuntimeError("stop here")

    monkeypatch.setattr(sft, "train_sft", capture)
    with pytest.raises(RuntimeError):
        S.refusal_ceiling(models, [0], lambda ev: None, shares=(1.0,))
    replies = {c[0]["content"]: c[1]["content"] for c in got["extra"]}
    assert all(replies[p] in REFUSALS for p in harmful)
    assert all(replies[p] == r for p, r in alikes)
    # the SFT data's own literal answers, declines and requests are left out: the line is the only
    # lesson, and the look-alikes a run sees are exactly its kept groups
    assert got["cfg"].harmful_repeats == 0 and got["cfg"].decline_every == 0 and got["cfg"].requests_per_kind == 0
    assert not [c for c in sft.sft_conversations(load_world(), requests_per_kind=0, decline_every=0, harmful_repeats=0)
                if c[0]["content"] in {p for p, _ in alikes} | set(harmful)]


def test_the_refusal_ceiling_keeps_whole_act_groups_nested_and_in_proportion(models, monkeypatch):
    from studyapp.lab import sft
    from studyapp.lab.world import load_world

    harmful, alikes, group = S._ceiling_prompts(load_world())
    every = [*harmful, *(p for p, _ in alikes)]
    kept = []

    def capture(base, out, cfg, *, extra_conversations=None, **kw):
        kept.append({c[0]["content"] for c in extra_conversations})
        raise RuntimeError("stop here")

    monkeypatch.setattr(sft, "train_sft", capture)
    for share in (0.25, 0.5):
        with pytest.raises(RuntimeError):
            S.refusal_ceiling(models, [1], lambda ev: None, shares=(share,))
    quarter, half = kept
    for prompts in kept:   # a kept group comes with every rewording of it, a dropped one with none
        groups = {group(p) for p in prompts}
        assert {p for p in every if group(p) in groups} == prompts
    assert quarter < half                                   # nested: more acts, nothing else changed
    share_of = lambda prompts, pool: len({group(p) for p in prompts & set(pool)}) / len({group(p) for p in pool})
    for pool in (harmful, [p for p, _ in alikes]):          # each kind in proportion
        assert share_of(quarter, pool) == pytest.approx(0.25, abs=0.01)


def test_the_refusal_ceiling_refuses_to_run_without_seeds_or_shares(models):
    from studyapp.lab.common import LabError

    for seeds, shares in (([], (1.0,)), ([0], ()), ([0], (0.0,)), ([0], (1.5,))):
        with pytest.raises(LabError):
            S.refusal_ceiling(models, seeds, lambda ev: None, shares=shares)


@pytest.mark.parametrize("harmful, alike, says", [(1.0, 0.0, "draws the line cleanly"), (0.7, 0.4, "does not draw the line cleanly"),
                                                  (0.85, 0.05, "does not draw the line cleanly")])
def test_the_refusal_ceilings_verdict_follows_the_measured_gap(models, runs, monkeypatch, harmful, alike, says):
    from studyapp.lab.world import load_world

    from studyapp.lab.heldout import BLIND_FILE, load_heldout

    bad, _, _ = S._ceiling_prompts(load_world())
    unseen_bad = set(load_heldout().prompts("harmful")) | set(load_heldout(BLIND_FILE).prompts("harmful"))
    bad = set(bad)
    monkeypatch.setattr(S, "_refused", lambda model, tok, prompts: harmful if set(prompts) <= bad | unseen_bad else alike)
    res = S.refusal_ceiling(models, [0], lambda ev: None, shares=(1.0,))
    assert says in res["verdict"]
