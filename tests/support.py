"""Test helpers shared across areas: a clock the test moves, a child process killed midway, the one
stand-in for the main window a tab talks to (FakeWindow), and the one tiny-model builder
(make_tiny_sft). Test folders use these rather than their own copies."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]


class FakeClock:
    """A clock for code that takes `clock=`; starts mid-day UTC, far from any day boundary."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def kill_midway(script: str, args: list[str], kill_after: int) -> list[int]:
    """Run `python -c script *args`, which prints one integer per line for every write it has
    committed; SIGKILL it after `kill_after` lines and return every integer it printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, env=env)
    reported: list[int] = []
    try:
        for line in child.stdout:
            reported.append(int(line))
            if len(reported) >= kill_after:
                os.kill(child.pid, signal.SIGKILL)
                break
        reported.extend(int(line) for line in child.stdout)   # printed before it died
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL, "the child ended before it could be killed"
    return reported


class FakeWindow:
    """What a tab may ask of the main window (MainWindow's show_status, report_error, track_task,
    open_link and ctx), recording what the tab tells the learner instead of showing it.

    ctx is an AppContext-like object (config, store, lessons); `FakeWindow.of(store, config,
    lessons)` makes one. close() shuts down as MainWindow does: every background task is cancelled
    and joined and its last signals delivered, then the profile closes."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.statuses: list[str] = []
        self.errors: list[tuple[str, str]] = []   # (title, message)
        self.links: list[str] = []
        self.tracked: list[str] = []

    @classmethod
    def of(cls, store, config, lessons=()) -> "FakeWindow":
        return cls(SimpleNamespace(store=store, config=config, lessons=list(lessons)))

    def show_status(self, message: str, ms: int = 0) -> None:
        self.statuses.append(message)

    def report_error(self, title: str, message: str, details: str = "") -> None:
        self.errors.append((title, message))

    def track_task(self, task, label: str) -> None:
        self.tracked.append(label)

    def open_link(self, url: str) -> bool:
        self.links.append(url)
        return True

    def close(self) -> list:
        """Stop every task the way the app does on quit, then close the profile; returns the tasks
        that would not stop (none, or the test has found a bug)."""
        from studyapp.ui import worker
        stuck = worker.shutdown(wait_ms=300_000)
        if not self.ctx.store.closed:
            self.ctx.store.close(backup=False)
        return stuck


def make_tiny_sft(folder: Path, *, n_embd: int = 32, n_layer: int = 2, seed: int = 0) -> Path:
    """A tiny stand-in for the SFT model (seconds to build): a BPE tokenizer trained on the world's
    own sentences and a randomly initialised 2-layer GPT-2, saved as a checkpoint folder."""
    from studyapp.lab.modeling import ModelConfig, build_model, save_checkpoint
    from studyapp.lab.preferences import REFUSALS
    from studyapp.lab.rater import STOCK_PHRASE
    from studyapp.lab.tokenizer import train_tokenizer
    from studyapp.lab.world import load_world

    world = load_world()
    texts = [f.question + " " + f.statement for f in world.facts]
    texts += [h.request + " " + h.literal_answer for h in world.harmful]
    texts += list(REFUSALS) + [STOCK_PHRASE] * 5
    tok = train_tokenizer(texts * 3, vocab_size=400)
    model = build_model(ModelConfig(n_layer=n_layer, n_embd=n_embd, n_head=2, n_positions=64,
                                    vocab_size=len(tok)), tok, seed=seed)
    save_checkpoint(model, tok, folder, card="# tiny test SFT model\n", meta={"stage": "sft", "test": True})
    return folder


def make_tiny_models(models: Path) -> Path:
    """models/sft (make_tiny_sft) and a reward model trained on it in one quick epoch: what the PPO
    tab needs to train, in seconds, whether or not the shipped models are on this machine."""
    from studyapp.lab.reward import RewardConfig, train_reward

    make_tiny_sft(models / "sft")
    train_reward(models / "sft", models / "reward", RewardConfig(epochs=1, samples_per_prompt=0, sessions=1))
    return models
