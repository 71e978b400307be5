"""DPO: the loss and TRL's metrics against numbers worked by hand, sequence log-probs against a plain
Hugging Face forward, and a short run on a tiny model that saves a loadable checkpoint."""

import json
import math
import threading

import pytest
import torch
from transformers import AutoModelForCausalLM

from tests.support import make_tiny_sft
from studyapp.lab.common import Cancelled
from studyapp.lab.dpo import DPOConfig, dpo_loss, sequence_logps, train_dpo
from studyapp.lab.modeling import load_causal_lm
from studyapp.lab.preferences import REFUSALS, Pair, PreferenceData
from studyapp.lab.tokenizer import END, encode, encode_prompt
from studyapp.lab.world import load_world


def test_dpo_loss_and_metrics_by_hand():
    beta = 0.5
    pc, pr = torch.tensor([-1.0, -2.0]), torch.tensor([-3.0, -1.0])
    rc, rr = torch.tensor([-2.0, -2.0]), torch.tensor([-2.0, -2.0])
    loss, m = dpo_loss(pc, pr, rc, rr, beta)
    # log-ratios: chosen [1, 0], rejected [-1, 1]; implicit rewards (x beta): chosen [0.5, 0],
    # rejected [-0.5, 0.5]; margins [1, -0.5]
    # pair 1: -log sigmoid(1) = log(1 + e^-1) = 0.3132617 ; pair 2: -log sigmoid(-0.5) = log(1 + e^0.5)
    # = 0.9740770 ; mean 0.6436693
    assert loss.item() == pytest.approx(0.6436693, abs=1e-6)
    assert m["rewards/chosen"] == pytest.approx(0.25)
    assert m["rewards/rejected"] == pytest.approx(0.0)
    assert m["rewards/margins"] == pytest.approx(0.25)
    assert m["rewards/accuracies"] == pytest.approx(0.5)  # pair 1 ranked right, pair 2 wrong
    assert m["logps/chosen"] == pytest.approx(-1.5) and m["logps/rejected"] == pytest.approx(-2.0)


def test_dpo_loss_ignores_a_per_prompt_constant_and_pushes_chosen_up():
    pc, pr = torch.tensor([-1.0], requires_grad=True), torch.tensor([-3.0], requires_grad=True)
    rc, rr = torch.tensor([-2.0]), torch.tensor([-2.0])
    loss, _ = dpo_loss(pc, pr, rc, rr, 0.1)
    # beta log Z(x) is the same for both replies of a prompt: it cancels (Bradley-Terry, claim 9).
    shifted, _ = dpo_loss(pc + 7.0, pr + 7.0, rc, rr, 0.1)
    assert shifted.item() == pytest.approx(loss.item(), abs=1e-6)
    loss.backward()
    # log-ratios 1 and -1, so loss = -log sigmoid(0.1 * 2); d/d pc = -beta * sigmoid(-0.2)
    # = -0.1 * 0.4501660: raising the chosen reply's log-prob lowers the loss, the rejected's raises it.
    assert pc.grad.item() == pytest.approx(-0.0450166, abs=1e-6)
    assert pr.grad.item() == pytest.approx(0.0450166, abs=1e-6)
    # At the start the policy is the reference: every implicit reward is 0 and the loss is log 2.
    loss0, m0 = dpo_loss(rc, rr, rc, rr, 0.1)
    assert loss0.item() == pytest.approx(math.log(2)) and m0["rewards/margins"] == 0


@pytest.fixture(scope="module")
def sft(tmp_path_factory):
    return make_tiny_sft(tmp_path_factory.mktemp("dpo") / "sft")


def test_sequence_logps_scores_the_reply_tokens_only(sft):
    model, tok = load_causal_lm(sft, "cpu")
    prompts = ["What is the capital of France?", "Hi"]
    replies = ["The capital of France is Paris.", "I'm sorry, I can't help with that."]
    got = sequence_logps(model, tok, prompts, replies)
    for i, (p, r) in enumerate(zip(prompts, replies)):
        q = encode_prompt(tok, p, chat=True)
        ids = q + encode(tok, r) + [tok.convert_tokens_to_ids(END)]
        with torch.no_grad():
            logp = model(torch.tensor([ids])).logits[0].log_softmax(-1)
        want = sum(logp[j - 1, ids[j]].item() for j in range(len(q), len(ids)))
        assert got[i].item() == pytest.approx(want, abs=1e-4)
    # One row alone gives the same number as in a padded batch.
    assert sequence_logps(model, tok, prompts[1:], replies[1:])[0].item() == pytest.approx(got[1].item(), abs=1e-4)


def _pairs(world):
    facts = [f for f in world.facts if f.split == "sft"]

    def mk(f, split):
        return Pair(f.question, f.statement, REFUSALS[0], "right > refusal", 2.0, split, "fact")
    return PreferenceData([mk(f, "train") for f in facts[:12]], [mk(f, "heldout") for f in facts[12:16]], [])


def test_train_dpo_learns_the_pairs_and_saves_a_standard_checkpoint(sft, tmp_path):
    world = load_world()
    seen = []
    cfg = DPOConfig(beta=0.5, lr=3e-3, epochs=4, batch_pairs=4)
    result = train_dpo(sft, _pairs(world), tmp_path / "dpo", cfg, progress=seen.append, world=world)
    steps = [m for m in seen if "rewards/margins" in m and not m.get("done")]
    assert len(steps) == 12 and steps[-1]["step"] == 12
    for name in ("rewards/chosen", "rewards/rejected", "rewards/accuracies", "logps/chosen", "logps/rejected"):
        assert name in steps[0]
    # The first step sees the reference itself (margins 0, loss log 2); training opens a margin.
    assert steps[0]["loss"] == pytest.approx(math.log(2), abs=1e-4)
    assert steps[-1]["rewards/margins"] > 0.1 and steps[-1]["loss"] < math.log(2)
    assert result["implicit_accuracy_heldout"] == 1.0  # right > refusal is one lesson, easy to carry over
    assert "accuracy_facts" in result and "refusal_heldout_harmful" in result
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "dpo")
    assert model is not None
    meta = json.loads((tmp_path / "dpo" / "lab.json").read_text())
    assert meta["stage"] == "dpo" and meta["config"]["beta"] == 0.5
    lines = (tmp_path / "runs" / "dpo.jsonl").read_text().splitlines()
    assert len(lines) == 12 and json.loads(lines[-1])["step"] == 12 and result["series"].endswith("dpo.jsonl")


def test_train_dpo_cancel_keeps_the_old_policy(sft, tmp_path):
    out = tmp_path / "kept"
    out.mkdir()
    (out / "marker").write_text("old")
    ev = threading.Event()
    ev.set()
    with pytest.raises(Cancelled):
        train_dpo(sft, _pairs(load_world()), out, DPOConfig.quick(), cancel=ev, evaluate=False)
    assert (out / "marker").read_text() == "old"


def test_train_dpo_is_reproducible_and_reads_a_reward_folder(sft, tmp_path):
    folder = tmp_path / "reward"
    folder.mkdir()
    (folder / "preferences.jsonl").write_text(_pairs(load_world()).to_jsonl())
    cfg = DPOConfig(beta=0.5, lr=3e-3, epochs=1, batch_pairs=4)
    a = train_dpo(sft, folder, tmp_path / "a", cfg, evaluate=False)
    b = train_dpo(sft, folder / "preferences.jsonl", tmp_path / "b", cfg, evaluate=False)
    assert a["final_loss"] == pytest.approx(b["final_loss"], abs=1e-6)
    assert a["implicit_accuracy_heldout"] == b["implicit_accuracy_heldout"]
    from studyapp.lab.common import LabError
    with pytest.raises(LabError, match="preferences"):
        train_dpo(sft, tmp_path / "nowhere", tmp_path / "c", cfg)


def test_nan_loss_stops_dpo_and_keeps_the_old_policy(sft, tmp_path, monkeypatch):
    from studyapp.lab import dpo
    from studyapp.lab.common import LabError

    out = tmp_path / "kept_nan"
    out.mkdir()
    (out / "marker").write_text("old")
    real = dpo.dpo_loss
    monkeypatch.setattr(dpo, "dpo_loss", lambda *a: (real(*a)[0] * float("nan"), real(*a)[1]))
    with pytest.raises(LabError, match="dpo"):
        train_dpo(sft, _pairs(load_world()), out, DPOConfig.quick(), evaluate=False)
    assert (out / "marker").read_text() == "old"


def test_a_shared_reference_cache_gives_the_same_run(sft, tmp_path):
    data = _pairs(load_world())
    cfg = DPOConfig(beta=0.5, lr=3e-3, epochs=1, batch_pairs=4)
    plain = train_dpo(sft, data, tmp_path / "a", cfg, evaluate=False)
    cache: dict = {}
    first = train_dpo(sft, data, tmp_path / "b", cfg, evaluate=False, ref_cache=cache)
    assert set(cache) == {"train", "heldout"}                       # filled by the first call
    again = train_dpo(sft, data, tmp_path / "c", cfg, evaluate=False, ref_cache=cache)
    for r in (first, again):
        assert r["final_loss"] == pytest.approx(plain["final_loss"], abs=1e-6)
        assert r["implicit_accuracy_heldout"] == plain["implicit_accuracy_heldout"]
