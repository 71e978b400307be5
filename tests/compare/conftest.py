"""Fixtures for the compare tab: three tiny random GPT-2 folders (seconds to build) and a window on them."""
from pathlib import Path

import pytest

from studyapp import config as cfg
from studyapp.app import build_context, create_window
from studyapp.ui import worker


def make_tiny_model(folder: Path, seed: int) -> Path:
    """A 2-layer, 32-wide GPT-2 with a BPE tokenizer trained on the world's questions: untrained,
    so it writes nonsense, but it streams, has distributions and loads like a shipped model."""
    from studyapp.lab.modeling import ModelConfig, build_model, save_checkpoint
    from studyapp.lab.tokenizer import train_tokenizer
    from studyapp.lab.world import load_world

    world = load_world()
    texts = [f.question + " " + f.statement for f in world.facts] + [h.request for h in world.harmful]
    tok = train_tokenizer(texts * 3, vocab_size=400)
    model = build_model(ModelConfig(n_layer=2, n_embd=32, n_head=2, n_positions=64, vocab_size=len(tok)),
                        tok, seed=seed)
    save_checkpoint(model, tok, folder, card="# tiny test model\n", meta={"stage": "test"})
    return folder


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    for seed, name in enumerate(("base", "sft", "rlhf")):
        make_tiny_model(root / name, seed)
    return root


def make_config(tmp_path: Path, **flags) -> cfg.Config:
    flags.setdefault("data_dir", tmp_path / "profile")
    return cfg.load_config(flags, env={}, site_file=tmp_path / "no-site.toml", user_file=tmp_path / "no-user.toml")


@pytest.fixture
def open_compare(qtbot, tmp_path):
    """open_compare(models_dir=..., **flags) -> (window, tab), with the compare tab shown."""
    opened = []

    def _open(**flags):
        ctx = build_context(make_config(tmp_path, **flags))
        window = create_window(ctx)
        qtbot.addWidget(window)
        window.resize(1280, 820)
        window.show()
        qtbot.waitExposed(window)
        opened.append((window, ctx))
        tab = window.show_tab("compare")
        return window, tab

    yield _open
    for window, ctx in opened:
        window.tab_widgets["compare"].shutdown()
        worker.cancel_all()
        window.close()
        ctx.store.close(backup=False)


def wait_idle(qtbot, tab, timeout=20_000) -> None:
    """Until no model is loading or answering and every queued token is drawn."""
    # worker._live empties only after each task's result handler ran (a loaded model starts its
    # answer from there), so it cannot read idle in the gap between loading and answering.
    def idle():
        assert not worker._live and not any(s.pending for s in tab.slots)
    qtbot.waitUntil(idle, timeout=timeout)
