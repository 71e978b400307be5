"""Lab runs in the profile (studyapp.store.labruns): a run and its steps survive a reopen, NaN is
kept as a gap, a cut-off run reads as interrupted, and deleting a run removes its series."""
import math

import pytest

from studyapp.store import open_profile
from studyapp.store.labruns import LabRuns


def test_a_run_round_trips_through_the_profile(tmp_path):
    store = open_profile(tmp_path, backup_on_start=False).store
    runs = LabRuns(store)
    run_id = runs.create("ppo", "beta 0", {"beta": 0.0, "steps": 3})
    runs.add_step(run_id, 1, 0.4, {"objective/kl": 0.5, "stage": "ppo", "flag": True},
                  [{"prompt": "Hi", "response": "Hello!", "score": 0.3, "rater": math.nan}])
    runs.add_step(run_id, 2, 0.9, {"objective/kl": math.nan, "objective/scores": math.inf})
    runs.finish(run_id, "cancelled")
    store.close(backup=False)

    store = open_profile(tmp_path, backup_on_start=False).store
    runs = LabRuns(store)
    [row] = runs.list("ppo")
    assert row["status"] == "cancelled" and row["steps"] == 2 and row["config"]["beta"] == 0.0
    data = runs.load(run_id)
    (s1, t1, v1), (s2, _t2, v2) = data["metrics"]
    assert (s1, t1, v1) == (1, 0.4, {"objective/kl": 0.5})   # only numbers are metrics
    assert math.isnan(v2["objective/kl"]) and math.isnan(v2["objective/scores"])
    assert data["samples"] == [{"step": 1, "prompt": "Hi", "response": "Hello!", "score": 0.3, "rater": None}]
    runs.delete(run_id)
    assert runs.list() == []
    assert store.db.execute("SELECT COUNT(*) FROM lab_metric").fetchone()[0] == 0
    assert store.db.execute("SELECT COUNT(*) FROM lab_sample").fetchone()[0] == 0
    store.close(backup=False)


def test_a_run_cut_off_by_a_crash_reads_as_interrupted(tmp_path):
    store = open_profile(tmp_path, backup_on_start=False).store
    runs = LabRuns(store)
    run_id = runs.create("ppo", "live", {})
    assert runs.list(live_ids={run_id})[0]["status"] == "running"
    assert runs.list()[0]["status"] == "interrupted"
    with pytest.raises(ValueError):
        runs.finish(run_id, "running")
    runs.finish(run_id, "done", {"kl_end": math.nan, "examples": [{"prompt": "p"}]})
    assert runs.get(run_id)["summary"] == {"kl_end": None, "examples": [{"prompt": "p"}]}
    with pytest.raises(KeyError):
        runs.load(run_id + 1)
    store.close(backup=False)
