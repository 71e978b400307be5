"""Best-of-n: the closed-form KL, and on tiny models the kept reply is the reward model's favourite of
n batched samples, scored by the rater (gold) and the reward model (proxy)."""

import copy
import math

import pytest
import torch

from rlhf_fixtures import make_tiny_sft
from studyapp.lab.best_of_n import best_of_n, kl_best_of_n, measure_policy, sample_n, score_replies, sweep
from studyapp.lab.modeling import load_causal_lm
from studyapp.lab.rater import Rater, fact_prompt, harmful_prompt
from studyapp.lab.reward import build_reward_model, score
from studyapp.lab.world import load_world


def test_kl_of_best_of_n_closed_form():
    assert kl_best_of_n(1) == 0.0                                   # keeping the one sample changes nothing
    assert kl_best_of_n(2) == pytest.approx(math.log(2) - 0.5)      # 0.1931472
    assert kl_best_of_n(2) == pytest.approx(0.1931472, abs=1e-7)
    assert kl_best_of_n(4) == pytest.approx(0.6362944, abs=1e-7)    # log 4 - 3/4
    assert kl_best_of_n(64) == pytest.approx(math.log(64) - 63 / 64)
    ks = [kl_best_of_n(n) for n in range(1, 65)]
    assert all(b > a for a, b in zip(ks, ks[1:]))                   # more choice, further from SFT
    assert kl_best_of_n(64) < math.log(64)                          # and never beyond log n
    with pytest.raises(ValueError):
        kl_best_of_n(0)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    lm, tok = load_causal_lm(make_tiny_sft(tmp_path_factory.mktemp("bon") / "sft"), "cpu")
    rm = build_reward_model(lm)
    torch.manual_seed(1)
    with torch.no_grad():  # a random but fixed judge: its scores differ from reply to reply
        rm.score.weight.normal_(0, 1.0)
    return lm, tok, rm.eval()


def test_best_of_n_keeps_the_reward_models_favourite(models):
    lm, tok, rm = models
    world = load_world()
    prompts = [fact_prompt(f) for f in world.facts[:3]] + [harmful_prompt(world.harmful[0])]
    out = best_of_n(lm, tok, rm, tok, prompts, 6, max_new_tokens=6, seed=3)
    assert len(out.kept) == 4 and all(len(c) == 6 for c in out.candidates)
    for kept, proxy, cands, scores in zip(out.kept, out.proxy, out.candidates, out.candidate_proxy):
        assert proxy == max(scores) and kept == cands[scores.index(proxy)]
    # The proxy score is the reward model's score of the kept reply; the gold score is the rater's.
    assert score(rm, tok, out.prompts, out.kept) == pytest.approx(out.proxy, abs=1e-5)
    rater = Rater(world)
    assert out.gold == [rater.score(p, t) for p, t in zip(prompts, out.kept)]
    assert out.kl == pytest.approx(kl_best_of_n(6))
    # Plain strings work too, without a gold score.
    assert best_of_n(lm, tok, rm, tok, [p.text for p in prompts], 2, max_new_tokens=4).gold == [None] * 4


def test_sweep_proxy_never_falls_as_n_grows(models):
    lm, tok, rm = models
    world = load_world()
    prompts = [fact_prompt(f) for f in world.facts[:5]]
    points = sweep(lm, tok, rm, tok, prompts, (1, 2, 4, 8), max_new_tokens=5)
    assert [p["n"] for p in points] == [1, 2, 4, 8] and points[0]["kl"] == 0.0
    # Each n picks from the first n of the same draw, so the favourite can only get better.
    proxies = [p["proxy"] for p in points]
    assert all(b >= a for a, b in zip(proxies, proxies[1:])) and proxies[-1] > proxies[0]
    assert points[0]["proxy"] == pytest.approx(points[0]["proxy_n1"])


def test_sample_n_groups_replies_by_prompt_and_is_seeded(models):
    lm, tok, _ = models
    a = sample_n(lm, tok, ["Hi", "What is the capital of France?"], 3, max_new_tokens=5, seed=7, batch_rows=4)
    b = sample_n(lm, tok, ["Hi", "What is the capital of France?"], 3, max_new_tokens=5, seed=7, batch_rows=4)
    assert a == b and [len(x) for x in a] == [3, 3]


def test_score_replies_gives_the_reward_models_own_scores(models):
    lm, tok, rm = models
    prompts = ["Hi", "What is the capital of France?"]
    replies = [["Hello!", "", "typed <|end|> is text"], ["The capital of France is Paris.", "I don't know."]]
    got = score_replies(rm, tok, prompts, replies, batch_rows=2)
    want = score(rm, tok, [p for p, rs in zip(prompts, replies) for _ in rs], [r for rs in replies for r in rs])
    assert [len(g) for g in got] == [3, 2]
    assert [x for g in got for x in g] == pytest.approx(want, abs=1e-5)


def test_measure_policy_puts_the_sft_model_on_best_of_ns_first_point(models):
    lm, tok, rm = models
    world = load_world()
    prompts = [fact_prompt(f) for f in world.facts[:6]]
    same = measure_policy(lm, lm, tok, rm, tok, prompts, max_new_tokens=6, seed=2)
    n1 = best_of_n(lm, tok, rm, tok, prompts, 1, max_new_tokens=6, seed=2).summary()
    assert same["kl"] == 0.0 and same["sqrt_kl"] == 0.0
    assert same["proxy"] == pytest.approx(n1["proxy"], abs=1e-6) and same["gold"] == pytest.approx(n1["gold"])
    # A policy pushed far from the reference measures a clearly positive KL.
    moved = copy.deepcopy(lm)
    with torch.no_grad():
        moved.lm_head.weight.mul_(8.0)  # tied to the embeddings: every distribution much sharper
    far = measure_policy(moved, lm, tok, rm, tok, prompts, max_new_tokens=6, seed=2)
    assert far["kl"] > 0.5 and far["sqrt_kl"] == pytest.approx(math.sqrt(far["kl"]))
