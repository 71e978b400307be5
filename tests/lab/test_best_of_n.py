"""Best-of-n: the closed-form KL, and on tiny models the kept reply is the reward model's favourite of
n batched samples, scored by the rater (gold) and the reward model (proxy)."""

import copy
import math

import pytest
import torch

from tests.support import make_tiny_sft
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


def test_sample_compact_matches_rollout_sampling(models):
    """The faster sampler of best-of-n (each prompt run once, stopped rows dropped, inverse-CDF
    draws) writes what rollout.sample writes: near-greedy it picks the same tokens, rows that stop
    early get pad after their stop token, and sampled tokens follow the model's distribution."""
    from studyapp.lab.best_of_n import sample_compact
    from studyapp.lab.rollout import encode_prompts, hidden_states, sample

    lm, tok, _ = models
    lm = copy.deepcopy(lm)
    torch.manual_seed(0)
    with torch.no_grad():   # the untrained model writes one token forever; this one varies
        for p in lm.parameters():
            p.normal_(0, 0.3)
    ids, att = encode_prompts(tok, ["Hi", "What is the capital of France?", "Name an animal."], "cpu")
    pad = tok.pad_token_id
    greedy = sample(lm, ids, att, max_new_tokens=8, stop=[], pad_id=pad, greedy=True)
    # A stop token only prompt 0 writes: its rows end early and leave the batch, the others go on.
    only0 = [t for t in greedy[0].tolist() if t not in greedy[1:].tolist()]
    assert only0, greedy
    stop, at = [only0[0]], greedy[0].tolist().index(only0[0])
    want = sample(lm, ids, att, max_new_tokens=8, stop=stop, pad_id=pad, greedy=True)
    got = sample_compact(lm, ids, att, max_new_tokens=8, stop=stop, pad_id=pad, temperature=1e-4, expand=2)
    assert torch.equal(got, want.repeat_interleave(2, 0))          # replies of prompt i in rows 2i, 2i+1
    assert got.shape[1] == 8 and (got[:2, at + 1:] == pad).all() and (got[2:, at + 1:] != pad).all()
    # Sampled at temperature 1, the mean surprisal of the first token is the distribution's entropy.
    gen = torch.Generator().manual_seed(0)
    first = sample_compact(lm, ids[:1], att[:1], max_new_tokens=1, stop=[], pad_id=pad, expand=4000, generator=gen)[:, 0]
    with torch.no_grad():
        logp = lm.lm_head(hidden_states(lm.transformer, ids[:1], att[:1]))[0, -1].log_softmax(-1)
    surprisal = -logp[first]
    entropy = -(logp.exp() * logp).sum()
    assert abs(surprisal.mean() - entropy) < 4 * surprisal.std() / math.sqrt(4000)
