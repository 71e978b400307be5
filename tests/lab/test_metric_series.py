"""The metric series a PPO or GRPO run writes: complete files only, never a half-written one."""
import json

import pytest

from studyapp.lab.common import MetricSeries


def test_a_finished_run_writes_every_step_with_its_samples(tmp_path):
    path = tmp_path / "runs" / "ppo.jsonl"
    with MetricSeries(path) as log:
        for step in (1, 2):
            log.add({"step": step, "objective/kl": 0.1 * step}, [{"prompt": "p", "response": f"r{step}"}])
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2] and lines[1]["samples"][0]["response"] == "r2"
    assert log.rows == [{"step": 1, "objective/kl": 0.1}, {"step": 2, "objective/kl": 0.2}]
    assert log.last_samples == [{"prompt": "p", "response": "r2"}]
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_cancelled_run_keeps_the_previous_file_and_leaves_no_scratch(tmp_path):
    path = tmp_path / "ppo.jsonl"
    path.write_text('{"step": 1}\n')
    with pytest.raises(KeyboardInterrupt):
        with MetricSeries(path) as log:
            log.add({"step": 1}, [])
            raise KeyboardInterrupt
    assert path.read_text() == '{"step": 1}\n'
    assert not list(tmp_path.glob("*.tmp"))
