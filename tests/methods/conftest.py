"""Fixtures for the comparison of methods: a tiny SFT model, a tiny reward model with a random but
fixed score head (so best-of-n has a favourite) and the preference pairs DPO learns from, all built
in seconds; and a stand-in window for the tab."""
from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import pytest


def build_tiny_models(folder: Path) -> Path:
    import torch

    from studyapp.lab.modeling import load_causal_lm
    from studyapp.lab.preferences import build_preferences, rlhf_prompts
    from studyapp.lab.rater import Rater
    from studyapp.lab.reward import build_reward_model, save_reward_model
    from studyapp.lab.world import load_world
    from tests.lab.rlhf_fixtures import make_tiny_sft

    world = load_world()
    make_tiny_sft(folder / "sft")
    sft, tok = load_causal_lm(folder / "sft", "cpu")
    prompts = rlhf_prompts(world)
    random.Random(0).shuffle(prompts)
    data = build_preferences(world, Rater(world), prompts[:60], sessions=2, seed=0)
    rm = build_reward_model(sft)
    torch.manual_seed(1)
    with torch.no_grad():
        rm.score.weight.normal_(0, 1.0)
    save_reward_model(rm, tok, folder / "reward", card="# tiny reward model\n",
                      meta={"stage": "reward", "test": True}, extra_files={"preferences.jsonl": data.to_jsonl()})
    return folder


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    return build_tiny_models(tmp_path_factory.mktemp("methods-models"))


class FakeWindow:
    """What the tab needs of the main window, recording what it tells the learner."""

    def __init__(self, models: Path, data: Path):
        self.ctx = SimpleNamespace(config=SimpleNamespace(models_path=models, data_path=data))
        self.statuses, self.errors, self.tracked = [], [], []

    def show_status(self, message, ms=0):
        self.statuses.append(message)

    def report_error(self, title, message, details=""):
        self.errors.append((title, message, details))

    def track_task(self, task, label):
        self.tracked.append(label)
