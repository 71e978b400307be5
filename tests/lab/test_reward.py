"""The reward model: smaller than the policy, scored on the last real token, loadable from its folder
alone, Bradley-Terry training that learns, claim 9's invariance, NaN and cancel safety."""

import threading
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from tests.support import make_tiny_sft
from studyapp.lab.common import Cancelled, LabError
from studyapp.lab.modeling import count_params, load_causal_lm
from studyapp.lab.reward import RewardConfig, build_reward_model, evaluate, score, score_ids, train_reward
from studyapp.lab.tokenizer import pad_batch

QUICK = RewardConfig(epochs=2, samples_per_prompt=1, max_new_tokens=8, sessions=2, lr=3e-3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("rm")
    sft = make_tiny_sft(d / "sft")
    result = train_reward(sft, d / "reward", QUICK)
    return d, result


def test_reward_model_is_smaller_and_starts_from_sft(tmp_path):
    sft, _ = load_causal_lm(make_tiny_sft(tmp_path / "sft"), "cpu")
    rm = build_reward_model(sft)
    assert rm.config.n_layer == 1 and count_params(rm) < count_params(sft)
    assert torch.equal(rm.transformer.h[0].mlp.c_fc.weight, sft.transformer.h[0].mlp.c_fc.weight)
    assert torch.equal(rm.transformer.wte.weight, sft.transformer.wte.weight)


def test_training_learns_and_folder_loads_alone(trained):
    d, result = trained
    assert result["params_reward"] < result["params_policy"]
    # Bradley-Terry on a random tiny model still beats chance on training pairs.
    assert result["train_accuracy"] > 0.6
    rm = AutoModelForSequenceClassification.from_pretrained(d / "reward")
    tok = AutoTokenizer.from_pretrained(d / "reward")
    assert rm.config.num_labels == 1 and (d / "reward" / "preferences.jsonl").exists()
    # Our score (last real token) equals the Hugging Face head's own pooling on right padding.
    seqs = [tok.encode("<|user|>Hi<|end|><|assistant|>Hello<|end|>"), tok.encode("<|user|>Hi<|end|>")]
    ids, att = pad_batch(seqs, tok.pad_token_id, "right")
    with torch.no_grad():
        assert torch.allclose(score_ids(rm, ids, att), rm(input_ids=ids, attention_mask=att).logits[:, 0], atol=1e-5)
    assert len(score(rm, tok, ["Hi", "Hello"], ["Hello!", "Hi!"])) == 2


def test_evaluate_reports_bt_and_constant_invariance(trained):
    d, _ = trained
    ev = evaluate(d / "reward", d / "sft")
    assert ev["max_prob_change_after_constant"] < 1e-5
    assert abs(ev["loss"] - ev["loss_after_constant"]) < 1e-5
    assert ev["reward_smaller"] and ev["n_heldout"] > 0 and 0 <= ev["heldout_accuracy"] <= 1
    ex = ev["bt_examples"][0]
    p = 1 / (1 + torch.exp(torch.tensor(ex["r_rejected"] - ex["r_chosen"]))).item()
    assert abs(p - ex["p_chosen"]) < 2e-3


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(trained, tmp_path, monkeypatch):
    d, _ = trained
    from studyapp.lab import reward
    monkeypatch.setattr(reward.L, "bradley_terry_loss", lambda rc, rr: (rc - rr).mean() * float("nan"))
    out = tmp_path / "reward"
    out.mkdir()
    (out / "marker").write_text("last good")
    with pytest.raises(LabError, match="reward"):
        train_reward(d / "sft", out, RewardConfig(epochs=1, samples_per_prompt=0))
    assert (out / "marker").read_text() == "last good"


def test_cancel_leaves_no_folder(trained, tmp_path):
    d, _ = trained
    ev = threading.Event()
    ev.set()
    with pytest.raises(Cancelled):
        train_reward(d / "sft", tmp_path / "r2", RewardConfig(epochs=1, samples_per_prompt=0), cancel=ev)
    assert not Path(tmp_path / "r2").exists()
