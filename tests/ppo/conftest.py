"""Fixtures for the PPO tab tests: a profile, a models folder with shipped runs, a stand-in window,
and (once per session) a tiny SFT and reward model that train PPO in seconds."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from studyapp.store import open_profile
from tests.support import FakeWindow, make_config, make_tiny_models


def write_series(path: Path, steps: int, *, kl_growth: float, nan_at: int | None = None) -> None:
    """A small metric series in train_ppo's JSONL format (keys as the lab writes them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for step in range(1, steps + 1):
            row = {"objective/kl": kl_growth * step, "objective/scores": -1 + 0.05 * step,
                   "objective/rlhf_reward": -1 + 0.04 * step, "objective/entropy": 50 - step,
                   "policy/clipfrac_avg": 0.02, "val/ratio": 1.0, "rater/score": -0.9 - 0.01 * step,
                   "response/length": 12.0, "response/refusal_rate_harmful": 0.0,
                   "stage": "ppo", "step": step, "total": steps, "seconds_per_step": 0.5}
            if step == nan_at:
                row["objective/kl"] = math.nan   # json.dumps writes NaN, as Python's json does
            handle.write(json.dumps(row) + "\n")


@pytest.fixture
def models_dir(tmp_path) -> Path:
    models = tmp_path / "models"
    write_series(models / "runs" / "ppo.jsonl", 10, kl_growth=0.2)
    write_series(models / "runs" / "ppo_beta0.jsonl", 10, kl_growth=2.0, nan_at=4)
    return models


@pytest.fixture
def make_window(tmp_path, models_dir):
    windows = []

    def _make(models: Path | None = None, data: Path | None = None):
        data = data or tmp_path / "profile"
        store = open_profile(data, backup_on_start=False).store
        windows.append(FakeWindow.of(store, make_config(tmp_path, data_dir=data, models_dir=models or models_dir)))
        return windows[-1]

    yield _make
    for window in windows:   # as the app quits: runs stop and say so before their profile closes
        window.close()


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """models/sft and models/reward made tiny (seconds), with the shipped series beside them."""
    models = make_tiny_models(tmp_path_factory.mktemp("tiny-models"))
    write_series(models / "runs" / "ppo.jsonl", 5, kl_growth=0.2)
    return models
