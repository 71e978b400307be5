"""The curve model of the PPO tab (studyapp.lab.runs), without Qt: TensorBoard's debiased EMA checked
by hand, NaN gaps, the shipped JSONL series, CSV export read back, and the tab's PPO defaults."""
import csv
import json
import math

import numpy as np
import pytest

from studyapp.lab import runs as R

from .conftest import write_series


def test_debiased_ema_matches_hand_computed_values():
    # w = 0.5: m1 = 0.5, m2 = 1.25, m3 = 2.125; divided by 1 - 0.5^n = 0.5, 0.75, 0.875.
    assert R.ema_debiased([1.0, 2.0, 3.0], 0.5) == pytest.approx([1.0, 1.25 / 0.75, 2.125 / 0.875])
    # w = 0.9: m1 = 0.1 * 10 = 1, so s1 = 1 / 0.1 = 10, the first value itself (no pull toward 0);
    # m2 = 0.9 * 1 + 0.1 * 0 = 0.9, so s2 = 0.9 / (1 - 0.81).
    y = R.ema_debiased([10.0, 0.0], 0.9)
    assert y[0] == pytest.approx(10.0)
    assert y[1] == pytest.approx(0.9 / 0.19)


def test_ema_leaves_gaps_for_nan_and_keeps_constants():
    y = R.ema_debiased([1.0, math.nan, 3.0, math.inf], 0.5)
    assert y[0] == pytest.approx(1.0) and math.isnan(y[1]) and math.isinf(y[3])
    assert y[2] == pytest.approx((0.25 + 1.5) / 0.75)   # the NaN did not count as a point
    assert list(R.ema_debiased([2.0, 2.0, 2.0], 0.9)) == [2.0, 2.0, 2.0]
    assert list(R.ema_debiased([1.0, 5.0], 0.0)) == [1.0, 5.0]
    assert R.ema_debiased([], 0.6).size == 0
    with pytest.raises(ValueError):
        R.ema_debiased([1.0], 1.0)


def test_run_series_by_step_and_by_time_and_missing_keys_are_gaps():
    run = R.Run("r")
    run.append({"step": 1, "objective/kl": 0.5, "seconds_per_step": 2.0}, [{"prompt": "p", "response": "a"}])
    run.append({"step": 2, "objective/kl": None, "rater/score": -1, "seconds_per_step": 3.0})
    run.append({"step": 3, "objective/kl": "oops", "seconds_per_step": 1.0})
    x, y = run.series("objective/kl")
    assert list(x) == [1, 2, 3] and x.dtype == np.float64
    assert y[0] == 0.5 and math.isnan(y[1]) and math.isnan(y[2])
    assert list(run.series("objective/kl", x_axis="time")[0]) == [2.0, 5.0, 6.0]
    _x, rater = run.series("rater/score")   # first seen at step 2: step 1 is a gap, not a shift
    assert math.isnan(rater[0]) and rater[1] == -1 and math.isnan(rater[2])
    assert run.series("not/there")[0].size == 0
    assert run.samples_at(1)[0]["response"] == "a" and run.sample_steps() == [1]
    assert run.version == 3


def test_shipped_series_loads_with_nan_and_a_damaged_line(tmp_path):
    path = tmp_path / "runs" / "ppo_beta0.jsonl"
    write_series(path, 6, kl_growth=2.0, nan_at=3)
    with open(path, "a") as handle:
        handle.write('{"objective/kl": 1, "ste\n')                       # a run killed mid-write
        handle.write(json.dumps({"stage": "ppo", "done": True, "kl_end": 9}) + "\n")
    run = R.load_jsonl(path)
    assert run.name == R.SHIPPED_NAMES["ppo_beta0"] and run.status == "shipped"
    assert len(run) == 6 and run.config["skipped_lines"] == 1
    assert math.isnan(run.values["objective/kl"][2]) and run.values["objective/kl"][3] == 8.0
    write_series(tmp_path / "runs" / "ppo.jsonl", 2, kl_growth=1.0)
    (tmp_path / "runs" / "ppo_empty.jsonl").write_text("")
    assert [r.name for r in R.shipped_runs(tmp_path)] == [R.SHIPPED_NAMES["ppo"], R.SHIPPED_NAMES["ppo_beta0"]]
    assert R.shipped_runs(tmp_path / "nowhere") == []


def test_csv_export_reads_back(tmp_path):
    a, b = R.Run("default", status="done"), R.Run("beta 0, clip 0.2", status="cancelled")
    for step in (1, 2, 3):
        a.append({"step": step, "objective/kl": step / 10, "objective/scores": -1.0 + step, "seconds_per_step": 1})
    b.append({"step": 1, "objective/kl": math.nan, "seconds_per_step": 1})
    path = tmp_path / "out.csv"
    assert R.write_csv(path, [a, b], smoothing=0.5) == 4
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["run"] for r in rows] == ["default"] * 3 + ["beta 0, clip 0.2"]
    assert [float(r["objective/kl"]) for r in rows[:3]] == [0.1, 0.2, 0.3]
    assert rows[3]["objective/kl"] == "" and rows[3]["objective/scores"] == "" and rows[3]["status"] == "cancelled"
    assert float(rows[1]["objective/kl (smoothed 0.5)"]) == pytest.approx((0.05 * 0.5 + 0.1) / 0.75)
    assert float(rows[2]["time_s"]) == 3.0


def test_stored_run_round_trip_shape():
    data = {"run": {"id": 7, "name": "n", "status": "cancelled", "config": {"beta": 0.0}},
            "metrics": [(1, 0.5, {"objective/kl": 1.0}), (2, 1.0, {"objective/kl": math.nan})],
            "samples": [{"step": 2, "prompt": "p", "response": "r", "score": 1.0, "rater": None}]}
    run = R.run_from_stored(data)
    assert run.run_id == 7 and run.status == "cancelled" and run.times == [0.5, 1.0]
    assert math.isnan(run.values["objective/kl"][1]) and run.samples_at()[0]["prompt"] == "p"


def test_settings_are_clamped_and_defaults_follow_the_lab():
    out = R.clamp_settings({"beta": -1, "cliprange": 5, "lr": 1.0, "steps": 0, "batch_size": 10_000})
    assert out == {"beta": 0.0, "cliprange": 1.0, "lr": 1e-2, "steps": 1, "batch_size": 128}
    from studyapp.lab.ppo import PPOConfig   # torch: only in this one test
    cfg = PPOConfig()
    assert {k: getattr(cfg, k) for k in R.PPO_DEFAULTS} == R.PPO_DEFAULTS


def test_model_folder_check_says_what_is_wrong(tmp_path):
    assert "does not exist" in R.check_model_folder(tmp_path / "nope", "reward model")
    assert "no config.json" in R.check_model_folder(tmp_path, "reward model")
    (tmp_path / "config.json").write_text("{}")
    assert R.check_model_folder(tmp_path, "reward model") is None


def test_a_shipped_run_gets_its_policys_config_and_final_replies(tmp_path):
    write_series(tmp_path / "runs" / "ppo_beta0.jsonl", 4, kl_growth=1.0)
    policy = tmp_path / "rlhf_beta0"
    policy.mkdir()
    (policy / "lab.json").write_text(json.dumps({"stage": "ppo", "config": {"beta": 0.0, "cliprange": 0.2},
                                                 "result": {"examples_facts": [{"prompt": "Capital of France?",
                                                                                "response": "Paris."}]}}))
    [run] = R.shipped_runs(tmp_path)
    assert run.config["beta"] == 0.0 and run.config["cliprange"] == 0.2
    assert run.samples_at() == [{"step": 4, "prompt": "Capital of France?", "response": "Paris.", "final": True}]
    (policy / "lab.json").write_text("{broken")
    assert R.shipped_runs(tmp_path)[0].samples == []


def test_a_series_with_its_own_samples_keeps_them(tmp_path):
    path = tmp_path / "runs" / "ppo.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps({"step": 1, "objective/kl": 0.1, "samples": [{"prompt": "p", "response": "r",
                                                                              "score": 1.2, "rater": -1.0}]}) + "\n")
    (tmp_path / "rlhf").mkdir()
    (tmp_path / "rlhf" / "lab.json").write_text(json.dumps({"config": {"beta": 0.1}, "result": {
        "examples_facts": [{"prompt": "q", "response": "a"}]}}))
    [run] = R.shipped_runs(tmp_path)
    assert run.samples == [{"step": 1, "prompt": "p", "response": "r", "score": 1.2, "rater": -1.0}]
    assert run.config["beta"] == 0.1
