"""PPO on tiny models: the fast forward matches Hugging Face, sampling stops and pads, a run reports
TRL's metrics, writes its series and a loadable policy, is reproducible, and can be cancelled."""

import json
import threading

import pytest
import torch
from transformers import AutoModelForCausalLM

from studyapp.lab.common import Cancelled
from studyapp.lab.ppo import PolicyWithValue, PPOConfig, hacking_summary, train_ppo
from studyapp.lab.reward import RewardConfig, train_reward
from studyapp.lab.rollout import hidden_states, sample
from tests.support import make_tiny_sft, tiny_gpt2

TRL_NAMES = ("objective/kl", "objective/scores", "objective/rlhf_reward", "objective/non_score_reward",
             "objective/entropy", "policy/clipfrac_avg", "policy/approxkl_avg", "loss/policy_avg",
             "loss/value_avg", "val/ratio", "val/clipfrac_avg")


def test_fast_forward_matches_hugging_face_with_left_padding_and_cache():
    m = tiny_gpt2()
    ids = torch.randint(0, 49, (2, 8))
    att = torch.ones_like(ids)
    att[0, :3] = 0
    pos = (att.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        ref = m.transformer(input_ids=ids, attention_mask=att, position_ids=pos).last_hidden_state
        mine = hidden_states(m.transformer, ids, att)
        cache = []
        h1 = hidden_states(m.transformer, ids[:, :5], att[:, :5], cache=cache)
        h2 = hidden_states(m.transformer, ids[:, 5:], att, pos=pos[:, 5:], cache=cache)
    real = att.bool()
    assert torch.allclose(ref[real], mine[real], atol=1e-5)
    assert torch.allclose(torch.cat([h1, h2], 1)[real], mine[real], atol=1e-5)
    logits, values = PolicyWithValue(m)(ids, att, context_length=5)
    assert torch.allclose(logits, m(input_ids=ids, attention_mask=att, position_ids=pos).logits[:, 4:-1], atol=1e-4)
    assert values.shape == (2, 3) and torch.all(values == 0)  # the value head starts at zero


def test_sampling_pads_after_the_stop_token():
    m = tiny_gpt2()
    ids = torch.randint(0, 49, (16, 4))
    # Make token 7 very likely so every row stops early.
    with torch.no_grad():
        m.lm_head.weight[7] += 3 * m.transformer.wte.weight.abs().mean()
    out = sample(m, ids, torch.ones_like(ids), max_new_tokens=12, stop=[7], pad_id=49,
                 generator=torch.Generator().manual_seed(0))
    for row in out.tolist():
        if 7 in row:
            assert all(t == 49 for t in row[row.index(7) + 1:])
    greedy = sample(m, ids, torch.ones_like(ids), max_new_tokens=5, stop=[7], pad_id=49, greedy=True)
    assert torch.equal(greedy, sample(m, ids, torch.ones_like(ids), max_new_tokens=5, stop=[7], pad_id=49, greedy=True))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("ppo")
    sft = make_tiny_sft(d / "sft")
    train_reward(sft, d / "reward", RewardConfig.quick())
    return d


def quick(d, **kw):
    return PPOConfig(**{**PPOConfig.quick().__dict__, "series_path": str(d / "s.jsonl"), **kw})


def test_ppo_run_reports_trl_metrics_and_saves(models):
    d = models
    seen = []
    result = train_ppo(d / "sft", d / "reward", d / "rlhf", quick(d), progress=seen.append)
    steps = [m for m in seen if "objective/kl" in m]
    assert len(steps) == 2 and all(name in steps[0] for name in TRL_NAMES)
    assert steps[0]["samples"] and "rater/score" in steps[0] and "response/length" in steps[0]
    # The first minibatch sees the rollout policy itself: the ratio starts at 1.
    assert abs(steps[0]["val/ratio"] - 1) < 0.05
    lines = (d / "s.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["step"] == 2 and json.loads(lines[1])["samples"]
    assert AutoModelForCausalLM.from_pretrained(d / "rlhf") is not None
    for key in ("refusal_heldout_harmful", "accuracy_facts", "kl_end", "scores_end", "score_end", "seconds_per_step"):
        assert key in result
    # beta = 0 pays no KL penalty at all.
    r0 = train_ppo(d / "sft", d / "reward", d / "rlhf0", quick(d, beta=0.0, series_path=str(d / "s0.jsonl")))
    assert all(json.loads(x)["objective/non_score_reward"] == 0 for x in (d / "s0.jsonl").read_text().splitlines())
    assert set(hacking_summary(result, r0)) >= {"kl_ratio", "hacked"}


def test_ppo_is_reproducible(models):
    d = models
    a = train_ppo(d / "sft", d / "reward", d / "ra", quick(d, steps=1, series_path=str(d / "a.jsonl")))
    b = train_ppo(d / "sft", d / "reward", d / "rb", quick(d, steps=1, series_path=str(d / "b.jsonl")))
    ja, jb = (json.loads((d / n).read_text()) for n in ("a.jsonl", "b.jsonl"))
    for k in TRL_NAMES:
        assert ja[k] == pytest.approx(jb[k], abs=1e-6)
    assert a["kl_end"] == pytest.approx(b["kl_end"], abs=1e-6)


def test_default_series_goes_beside_the_output_folder(models, tmp_path):
    d = models
    train_ppo(d / "sft", d / "reward", tmp_path / "mine" / "rlhf", quick(d, steps=1, beta=0.0, series_path=None))
    assert (tmp_path / "mine" / "runs" / "ppo_beta0.jsonl").exists()


def test_nan_loss_stops_ppo_and_keeps_the_old_policy(models, monkeypatch):
    from studyapp.lab import ppo
    from studyapp.lab.common import LabError

    d = models
    out = d / "kept_nan"
    out.mkdir()
    (out / "marker").write_text("old")
    real = ppo.L.policy_loss
    monkeypatch.setattr(ppo.L, "policy_loss", lambda *a, **k: (real(*a, **k)[0] * float("nan"), real(*a, **k)[1]))
    with pytest.raises(LabError, match="ppo"):
        train_ppo(d / "sft", d / "reward", out, quick(d))
    assert (out / "marker").read_text() == "old"


def test_ppo_cancel_keeps_the_old_policy(models):
    d = models
    out = d / "kept"
    out.mkdir()
    (out / "marker").write_text("old")
    ev = threading.Event()
    ev.set()
    with pytest.raises(Cancelled):
        train_ppo(d / "sft", d / "reward", out, quick(d), cancel=ev)
    assert (out / "marker").read_text() == "old"


def test_a_prompt_too_long_for_the_context_is_left_out_of_the_rollouts(models):
    # A rollout is prompt + reply + the <|end|> the reward model reads; one token over the context
    # ran past the position table (IndexError) in a full run with the generated world's long prompts.
    from studyapp.lab.modeling import load_tokenizer
    from studyapp.lab.ppo import fitting_prompts
    from studyapp.lab.rater import Prompt
    from studyapp.lab.tokenizer import encode_prompt

    tok = load_tokenizer(models / "sft")
    short, long = Prompt("Hello there.", "smalltalk"), Prompt("Hello there, " * 30, "smalltalk")
    limit = len(encode_prompt(tok, short.text, chat=True))
    assert fitting_prompts([short, long], tok, limit) == [short]
    with pytest.raises(Exception, match="no prompt fits"):
        fitting_prompts([long], tok, limit)
