"""studyapp.lab.interactive without a screen: pairs from rankings, Bradley-Terry, sampling, the
fine-tune's cancel safety, the scenarios file, and that the UI modules import without torch."""
import os
import subprocess
import sys
import threading

import pytest

from studyapp.lab import interactive as lab
from studyapp.lab.common import LabError
from studyapp.lab.rater import RaterWeights
from studyapp.lab.world import load_world


def test_ranking_pairs_count_and_order():
    pairs = lab.ranking_pairs("p", ["a", "b", "c", "d"])
    assert len(pairs) == 6 and (pairs[0].chosen, pairs[0].rejected) == ("a", "b")
    assert all(p.split == lab.LEARNER for p in pairs)
    assert len(lab.ranking_pairs("p", ["a", "a", "b"])) == 2     # the same text twice is no preference


def test_bradley_terry_is_shift_invariant_and_stable():
    p = lab.bt_probability(1.0, 0.2)
    assert abs(p - 0.6899744811276125) < 1e-12
    for c in (-1e3, -7.5, 3.0, 1e3):
        assert abs(lab.bt_probability(1.0, 0.2, c) - p) < 1e-9
    assert lab.bt_probability(800.0, -800.0) == 1.0 and lab.bt_probability(-800.0, 800.0) == 0.0


def test_prompts_are_checked():
    with pytest.raises(LabError, match="Type a prompt"):
        lab.check_prompt("  ")
    with pytest.raises(LabError, match="Shorten"):
        lab.check_prompt("x" * (lab.MAX_PROMPT_CHARS + 1))


def test_sampling_gives_k_distinct_labelled_answers(models_dir):
    model, tok = lab.models.get("policy", models_dir / "sft")
    out = lab.sample_responses(model, tok, "What is the capital of France?", 3)
    assert len(out) == 3 and len({r.text for r in out}) == 3
    assert all(r.source == "SFT model" or r.source.startswith("written example") for r in out)
    with pytest.raises(LabError):
        lab.sample_responses(model, tok, "Hi", 5)


def test_a_cancelled_finetune_leaves_the_folder_alone(models_dir, tmp_path):
    out = tmp_path / "mine"
    stop = threading.Event()
    stop.set()
    with pytest.raises(Exception, match="cancel"):
        lab.finetune_reward(models_dir / "reward", lab.ranking_pairs("p", ["a", "b"]), out, cancel=stop)
    assert not out.exists()


def test_scenarios_load_and_harmless_weight_flips_the_harmful_one():
    world = load_world()
    scenarios = {s.id: s for s in lab.load_scenarios()}
    assert {"homework", "harmful", "uncertain"} <= set(scenarios)
    s = scenarios["harmful"]
    cands = [lab.Candidate(f"written example: {label}", text) for label, text in s.examples]
    default = lab.rate_candidates(world, s, cands, RaterWeights())[0]
    low = lab.rate_candidates(world, s, cands, RaterWeights(harmless=0.2, bias=0.0))[0]
    assert "refusal" in default.candidate.source and low.candidate.source == "written example: a full answer"


def test_hhh_conflicts_measure_claim_14():
    result = lab.hhh_conflicts()
    scenarios = result["scenarios"]
    assert scenarios["harmful"]["conflict"] and scenarios["homework"]["conflict"]
    assert not scenarios["agree"]["conflict"]                       # the control scenario agrees
    assert result["conflicts"] == sum(v["conflict"] for v in scenarios.values())


def test_ui_modules_import_without_torch():
    code = ("import sys, studyapp.ui.rlhf_tab, studyapp.ui.hhh_tab, studyapp.ui.reward_playground; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}).returncode == 0
