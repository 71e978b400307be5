"""Models and a stand-in main window for the RLHF and HHH tab tests.

A tiny set is built once per session, whatever models are on disk, so the tests run the same
everywhere: a BPE tokenizer on the world's sentences, a 2-layer 32-wide GPT-2 as base, SFT and
RLHF, a 1-layer reward model with the lab's preference pairs; a few seconds.
"""
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _build_tiny(folder: Path) -> Path:
    import random

    from studyapp.lab.modeling import ModelConfig, build_model, save_checkpoint
    from studyapp.lab.preferences import REFUSALS, build_preferences, rlhf_prompts
    from studyapp.lab.rater import STOCK_PHRASE, Rater
    from studyapp.lab.reward import build_reward_model
    from studyapp.lab.tokenizer import train_tokenizer
    from studyapp.lab.world import load_world

    world = load_world()
    texts = [f.question + " " + f.statement for f in world.facts]
    texts += [h.request + " " + h.literal_answer for h in world.harmful]
    texts += [c.prompt + " " + c.response for c in world.chat] + list(REFUSALS) + [STOCK_PHRASE] * 5
    tok = train_tokenizer(texts * 3, vocab_size=400)
    sft = build_model(ModelConfig(n_layer=2, n_embd=32, n_head=2, n_positions=64, vocab_size=len(tok)), tok, seed=0)
    for name in ("base", "sft", "rlhf"):
        save_checkpoint(sft, tok, folder / name, card="# tiny test model\n", meta={"stage": name, "test": True})
    prompts = rlhf_prompts(world)
    random.Random(0).shuffle(prompts)
    data = build_preferences(world, Rater(world), prompts[:60], sessions=2, seed=0)
    save_checkpoint(build_reward_model(sft), tok, folder / "reward", card="# tiny reward model\n",
                    meta={"stage": "reward", "test": True}, extra_files={"preferences.jsonl": data.to_jsonl()})
    return folder


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """Tiny models, built here whatever is on disk: the same models on every machine."""
    return _build_tiny(tmp_path_factory.mktemp("tiny-models"))


class FakeWindow:
    """What a tab asks of the main window: the config, links, the status bar, task tracking."""

    def __init__(self, models: Path, data: Path):
        self.ctx = SimpleNamespace(config=SimpleNamespace(models_path=models, data_path=data))
        self.links: list[str] = []
        self.statuses: list[str] = []
        self.tracked: list[str] = []

    def open_link(self, url: str) -> bool:
        self.links.append(url)
        return True

    def show_status(self, message: str, ms: int = 0) -> None:
        self.statuses.append(message)

    def track_task(self, task, label: str) -> None:
        self.tracked.append(label)


@pytest.fixture
def open_tab(qtbot, tmp_path, models_dir):
    """open_tab(module, models=None) -> (tab, fake window), shown, with its first background work done."""
    from studyapp.ui import worker

    def _open(module, models: Path | None = None):
        window = FakeWindow(models or models_dir, tmp_path / "profile")
        tab = module.create_tab(window)
        qtbot.addWidget(tab)
        tab.resize(1200, 800)
        tab.show()
        qtbot.waitUntil(lambda: not worker._live, timeout=30_000)
        return tab, window

    yield _open
    worker.cancel_all()
