"""Closing the window at any moment ends the process with exit code 0 and nothing on stderr that
says otherwise: during start-up, while models load, while a model generates, while the reward
model trains, while a PPO run is cancelling, while a task is slow to stop; and the timing hook that
quits after the first full frame. Each case runs the real app in its own process
(tests/app/close_driver.py), because an abort at exit (SIGABRT from a QThread destroyed while it
runs, issue 12 item 5) can only be seen from outside."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("close_driver.py")
# What an unclean exit leaves on stderr (Qt's abort, an exception in a slot, a closed profile).
BAD = ("QThread: Destroyed", "Traceback", "AttributeError", "Aborted", "Fatal Python error")


def run(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), **(env_extra or {}))
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=600)


def assert_clean(out: subprocess.CompletedProcess) -> None:
    assert out.returncode == 0, f"exit code {out.returncode}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    for bad in BAD:
        assert bad not in out.stderr, out.stderr[-3000:]


@pytest.mark.parametrize("moment", ["first-event", "compare-loading", "compare-answering", "reward-training",
                                    "stubborn-worker"])
def test_closing_at_any_moment_exits_0(moment, tmp_path):
    out = run(str(DRIVER), moment, str(tmp_path / "profile"))
    assert_clean(out)
    assert "event: closing" in out.stdout and "event: run_gui returned 0" in out.stdout
    if moment == "stubborn-worker":   # the window waited for the task, and its last signal arrived
        assert "stubborn task returned" in out.stdout and "event: stubborn cancelled" in out.stdout


def test_closing_while_a_ppo_run_cancels_keeps_the_run_as_cancelled(tmp_path):
    from tests.support import make_tiny_models
    models = make_tiny_models(tmp_path / "models")   # the same models on every machine, shipped ones or not
    out = run(str(DRIVER), "ppo-cancelling", str(tmp_path / "profile"), str(models))
    assert_clean(out)
    assert "event: ppo started: True" in out.stdout and "event: closing while a PPO run is cancelling" in out.stdout
    from studyapp.store import open_profile
    from studyapp.store.labruns import LabRuns
    store = open_profile(tmp_path / "profile", backup_on_start=False).store
    try:
        [row] = LabRuns(store).list("ppo")
        assert row["status"] == "cancelled" and row["steps"] >= 1
    finally:
        store.close(backup=False)


def test_the_timing_hook_quits_cleanly_after_the_first_full_frame(tmp_path):
    out = run("-m", "studyapp", "--data-dir", str(tmp_path / "profile"),
              env_extra={"STUDYAPP_QUIT_AFTER_FIRST_PAINT": "1"})
    assert_clean(out)
    assert "first full frame:" in out.stdout and "peak memory:" in out.stdout
