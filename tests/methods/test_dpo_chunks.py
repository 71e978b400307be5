"""DPO's fast log-probs: rows sorted by length and run in small chunks, the LM head only at reply
positions, give the numbers and the gradients of one plain padded batch with full logits, in the
caller's order; the methods runner records CPU seconds beside wall seconds."""
import json

import pytest
import torch

from studyapp.lab import methods as M
from studyapp.lab.dpo import encode_rows, rows_logps
from studyapp.lab.modeling import load_causal_lm
from studyapp.lab.rollout import hidden_states
from studyapp.lab.tokenizer import pad_batch

PROMPTS = ["Hi", "What is the capital of France?", "Tell me a long story about a cat who sails", "Why?"]
REPLIES = ["Hello there!", "The capital of France is Paris.", "", "Because the sky scatters blue light more."]


def _plain(model, rows, pad_id):
    """One right-padded batch, logits at every position, masked sum: the textbook computation."""
    ids, att, mask = pad_batch([r[0] for r in rows], pad_id, "right", value_mask=[r[1] for r in rows])
    logp = model.lm_head(hidden_states(model.transformer, ids, att)[:, :-1]).float().log_softmax(-1)
    per_token = torch.gather(logp, -1, ids[:, 1:, None]).squeeze(-1)
    return (per_token * mask[:, 1:]).sum(-1)


def _grads(model):
    out = [p.grad.clone() for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    return out


def test_chunked_reply_only_logps_equal_one_plain_batch_with_their_gradients(tiny_models):
    model, tok = load_causal_lm(tiny_models / "sft", "cpu")
    model.train()
    rows = encode_rows(tok, PROMPTS * 2, REPLIES + REPLIES[::-1], model.config.n_positions)
    assert len({len(r[0]) for r in rows}) > 2          # rows of several lengths: sorting matters
    want = _plain(model, rows, tok.pad_token_id)
    (want * torch.linspace(-1, 1, len(rows))).sum().backward()
    want_grads = _grads(model)
    got = rows_logps(model, rows, tok.pad_token_id, grad=True, chunk_rows=3)
    (got * torch.linspace(-1, 1, len(rows))).sum().backward()
    got_grads = _grads(model)
    assert got.tolist() == pytest.approx(want.tolist(), abs=1e-4)       # same order, same numbers
    for g, w in zip(got_grads, want_grads):
        assert torch.allclose(g, w, atol=1e-5, rtol=1e-4)
    # Without a graph (the reference pass): the same numbers, and no graph kept.
    frozen = rows_logps(model, rows, tok.pad_token_id)
    assert not frozen.requires_grad and frozen.tolist() == pytest.approx(want.tolist(), abs=1e-4)
    # An empty reply still scores its <|end|>: every row has at least one scored token.
    assert all(sum(m) >= 1 for _, m in rows) and all(v < 0 for v in frozen.tolist())


def test_the_runner_records_cpu_seconds_and_load_beside_wall_seconds(tiny_models, tmp_path):
    res = M.run_methods(tiny_models / "sft", tiny_models / "reward", tmp_path / "m", ns=(1, 2), dpo_betas=(0.5,),
                        dpo_epochs=1, grpo_steps=1, grpo_k=2, per_kind=2)
    data = json.loads((tmp_path / "m" / "methods.json").read_text())
    assert set(data["cpu_seconds"]) == set(data["seconds"]) == {"best_of_n", "dpo_beta_0.5", "grpo"}
    assert all(v >= 0 for v in data["cpu_seconds"].values())
    assert len(data["load_average"]) == 2 and data == json.loads(json.dumps(res))
