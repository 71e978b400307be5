"""run_ppo, the entry point the PPO tab starts: training in a spawned process relays every step and
the result, a failure inside that process arrives with its own traceback, cancel stops it, and the
in-process path (for frozen builds) gives the same result."""
import threading

import pytest

from studyapp.lab import runs as R
from studyapp.lab.common import Cancelled

SETTINGS = {"steps": 2, "batch_size": 4}


def test_a_spawned_run_relays_steps_and_result(tiny_models, tmp_path):
    seen = []
    result = R.run_ppo(tiny_models / "sft", tiny_models / "reward", tmp_path / "out", SETTINGS,
                       tmp_path / "s.jsonl", progress=seen.append)
    steps = [m for m in seen if "objective/kl" in m and not m.get("done")]
    assert [m["step"] for m in steps] == [1, 2] and steps[0]["samples"]
    assert result["steps"] == 2 and "kl_end" in result
    assert (tmp_path / "s.jsonl").exists() and not (tiny_models / "runs" / "ppo_beta0.jsonl").exists()


def test_a_failure_in_the_training_process_keeps_its_traceback(tiny_models, tmp_path):
    broken = tmp_path / "broken-sft"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    with pytest.raises(RuntimeError) as caught:
        R.run_ppo(broken, tiny_models / "reward", tmp_path / "out", SETTINGS, tmp_path / "s.jsonl")
    assert isinstance(caught.value.__cause__, R.TrainingProcessError)
    assert "Traceback" in str(caught.value.__cause__)


def test_cancel_stops_the_training_process(tiny_models, tmp_path):
    cancel = threading.Event()
    seen = []

    def progress(metrics):
        seen.append(metrics)
        cancel.set()          # cancel as soon as the first step arrives

    with pytest.raises(Cancelled):
        R.run_ppo(tiny_models / "sft", tiny_models / "reward", tmp_path / "out", {"steps": 200, "batch_size": 4},
                  tmp_path / "s.jsonl", progress=progress, cancel=cancel)
    assert 1 <= len(seen) <= 3 and not (tmp_path / "out").exists()


def test_in_process_training_gives_the_same_result(tiny_models, tmp_path):
    a = R.run_ppo(tiny_models / "sft", tiny_models / "reward", tmp_path / "a", SETTINGS, tmp_path / "a.jsonl")
    b = R.run_ppo(tiny_models / "sft", tiny_models / "reward", tmp_path / "b", SETTINGS, tmp_path / "b.jsonl",
                  in_process=True)
    assert a["kl_end"] == pytest.approx(b["kl_end"], abs=1e-6)
