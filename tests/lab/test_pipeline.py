"""The whole pipeline in its --quick configuration, from scratch, through the CLI, plus the report."""

import json
import shutil

import pytest

from studyapp.lab.cli import main
from studyapp.lab.generate import load_model
from studyapp.lab.pipeline import parse_stages, run_pipeline, side_by_side


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """`studyapp lab train --quick` from scratch, once for this file's tests (it takes minutes on a busy
    machine). Its output printed is returned; the folder is the fixture's own."""
    out = tmp_path_factory.mktemp("quick-run")
    assert main(["train", "--quick", "--seed", "1", "--out", str(out)]) == 0
    return out


def test_quick_pipeline_end_to_end(quick_run, capsys):
    tmp_path = quick_run
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
    # fact accuracy per held-out wording comes from those same greedy replies
    assert set(rep["sft"]["facts_by_wording"]) == {"heldout", "blind"}
    assert sum(n for n, _ in beh["facts"]["blind"]["greedy"]["by_wording"].values()) > 0
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


def test_the_beta0_run_beside_the_default_run_trains_the_same_models(quick_run, tmp_path):
    """The beta = 0 run in its own process, beside the default run, writes the very weights and
    summary that running the two one after the other does: only the wall time changes. The PPO stage
    is rerun in the other mode than the pipeline used (side by side on two or more cores)."""
    again = tmp_path / "again"
    shutil.copytree(quick_run, again)
    first = json.loads((quick_run / "runs" / "pipeline.json").read_text())
    rerun = run_pipeline(["ppo"], out_dir=again, quick=True, seed=1, report=False, parallel=not side_by_side(),
                         log=lambda *_a, **_k: None)
    for name in ("rlhf", "rlhf_beta0"):
        assert (again / name / "model.safetensors").read_bytes() == (quick_run / name / "model.safetensors").read_bytes(), name
    same = lambda d: {k: v for k, v in d.items() if isinstance(v, (int, float)) and "second" not in k}  # noqa: E731
    assert same(rerun["stages"]["ppo_beta0"]) == same(first["stages"]["ppo_beta0"]) != {}
