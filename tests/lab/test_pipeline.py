"""The whole pipeline in its --quick configuration, from scratch, through the CLI, plus the report."""

import json

from studyapp.lab.cli import main
from studyapp.lab.generate import load_model
from studyapp.lab.pipeline import parse_stages


def test_quick_pipeline_end_to_end(tmp_path, capsys):
    assert main(["train", "--quick", "--seed", "1", "--out", str(tmp_path)]) == 0
    for folder in ("base", "sft", "reward", "rlhf", "rlhf_beta0"):
        assert (tmp_path / folder / "model.safetensors").exists(), folder
        assert (tmp_path / folder / "README.md").exists()
    assert (tmp_path / "runs" / "pretrain.jsonl").exists() and (tmp_path / "runs" / "sft.jsonl").exists()
    rep = json.loads((tmp_path / "report.json").read_text())
    assert 0.0 <= rep["base"]["bare_questions"]["rate"] <= 1.0
    assert rep["sft"]["lr_ratio"] == 10.0
    assert set(rep["sft"]["layer_change"]) >= {"embeddings", "block 1", "block 2"}
    assert (tmp_path / "report.md").read_text().startswith("# studyapp lab: report card")
    # the quick models load as plain model folders and the chat template survives the stages
    model, tok = load_model(tmp_path / "sft", "cpu")
    assert tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False,
                                   add_generation_prompt=True) == "<|user|>Hi<|end|><|assistant|>"
    # every behaviour is measured on the templates and on the held-out set, greedy and sampled
    beh = rep["rlhf"]["behaviour"]
    # and on the blind held-out set, greedy
    assert set(beh["harmful"]) == {"template", "unseen", "heldout", "blind"}
    assert set(beh["homework"]["heldout"]) == {"greedy", "sampled"} and set(beh["homework"]["blind"]) == {"greedy"}
    assert "held-out greedy" in (tmp_path / "report.md").read_text()
    assert "blind greedy" in (tmp_path / "report.md").read_text()
    capsys.readouterr()
    assert main(["report", "--json", "--models", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["sft"]["conversations"] > 0


def test_same_seed_same_base_loss(tmp_path):
    from studyapp.lab.pretrain import PretrainConfig, train_base

    a = train_base(PretrainConfig.quick(seed=5), tmp_path / "a" / "base")
    b = train_base(PretrainConfig.quick(seed=5), tmp_path / "b" / "base")
    assert a["final_loss"] == b["final_loss"]


def test_stage_parsing():
    assert parse_stages("sft,pretrain") == ["pretrain", "sft"]
    assert parse_stages(None) == ["pretrain", "sft", "reward", "ppo"]
    import pytest

    from studyapp.lab import LabError

    with pytest.raises(LabError, match="unknown stage"):
        parse_stages("pretrain,dpo")
