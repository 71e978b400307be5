"""Test helpers shared across areas: a clock the test moves, a child process killed midway, a config
that reads no file of this machine (make_config), the real main window opened and closed as the
app does (MainWindows, only_tabs), the one stand-in for the main window a tab talks to
(FakeWindow), and the one tiny-model builder (make_tiny_models, on its parts tiny_tokenizer,
make_tiny_sft and make_tiny_reward; tiny_gpt2 for a network without a folder). Test folders use
these rather than their own copies."""
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


def make_config(tmp_path: Path, **flags):
    """The app's config from these flags only: no environment, no site or user config file of the
    machine running the tests (their paths under tmp_path do not exist). data_dir defaults to
    tmp_path/profile."""
    from studyapp import config as cfg

    flags.setdefault("data_dir", tmp_path / "profile")
    return cfg.load_config(flags, env={}, site_file=tmp_path / "no-site.toml", user_file=tmp_path / "no-user.toml")


class FakeWindow:
    """What a tab may ask of the main window (MainWindow's show_status, report_error, track_task,
    open_link and ctx), recording what the tab tells the learner instead of showing it.

    ctx is an AppContext-like object (config, store, lessons); `FakeWindow.of(store, config,
    lessons)` makes one. close() shuts down as MainWindow does: every background task is cancelled
    and joined and its last signals delivered, then the profile closes."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.statuses: list[str] = []
        self.errors: list[tuple[str, str, str]] = []   # (title, message, details)
        self.links: list[str] = []
        self.tracked: list[str] = []

    @classmethod
    def of(cls, store, config, lessons=()) -> "FakeWindow":
        return cls(SimpleNamespace(store=store, config=config, lessons=list(lessons)))

    @classmethod
    def on_models(cls, models: Path, data: Path) -> "FakeWindow":
        """A window for the tabs that only read the models and profile folders from the config
        (RLHF, HHH, Beyond PPO): no profile is opened, ctx.store is None."""
        return cls.of(None, make_config(Path(data).parent, data_dir=data, models_dir=models))

    def show_status(self, message: str, ms: int = 0) -> None:
        self.statuses.append(message)

    def report_error(self, title: str, message: str, details: str = "") -> None:
        self.errors.append((title, message, details))

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
        if self.ctx.store is not None and not self.ctx.store.closed:
            self.ctx.store.close(backup=False)
        return stuck


def only_tabs(monkeypatch, names) -> None:
    """Main windows opened during this test build only the tabs in `names` (those available):
    faster, and another tab's work in progress (a model loading at start, say) cannot interfere
    with what the test is about."""
    from studyapp.ui import main_window, tabs

    monkeypatch.setattr(main_window, "available_tabs",
                        lambda: [spec for spec in tabs.REGISTRY if spec.name in names and spec.available()])


class MainWindows:
    """The real main window, as many as a test opens, each on a config from make_config(tmp, ...)
    (build_context and create_window, as the app starts); close() closes them as the app quits.
    A test takes the `main_windows` fixture (tests/conftest.py), which closes them after it; a
    module-scoped fixture makes its own:

        windows = MainWindows(tmp_path, qtbot)
        window, ctx = windows.open(models_dir=...)      # shown
        ...
        windows.close()"""

    def __init__(self, tmp: Path, qtbot=None) -> None:
        self.tmp, self.qtbot = Path(tmp), qtbot
        self.opened: list = []

    def open(self, *, size: tuple[int, int] | None = None, show: bool = True, exposed: bool = False, **flags):
        """(window, ctx), shown unless show=False (at `size`; exposed=True: waits until it is on screen)."""
        from studyapp.app import build_context, create_window

        ctx = build_context(make_config(self.tmp, **flags))
        window = create_window(ctx)
        if self.qtbot is not None:
            self.qtbot.addWidget(window)
        if size is not None:
            window.resize(*size)
        if show:
            window.show()
        self.opened.append((window, ctx))
        if exposed:
            self.qtbot.waitExposed(window)
        return window, ctx

    def close(self) -> None:
        """Close every window whose profile is still open (a test may have closed one itself)."""
        for window, ctx in self.opened:
            if not ctx.store.closed:
                window.close()
                ctx.store.close(backup=False)
        self.opened.clear()


def tiny_tokenizer(*, chat: bool = False):
    """A 400-token byte-level BPE trained on the world's own sentences: facts, harmful requests with
    their literal answers, the refusals and the stock phrase; chat=True adds the chat exchanges."""
    from studyapp.lab.preferences import REFUSALS
    from studyapp.lab.rater import STOCK_PHRASE
    from studyapp.lab.tokenizer import train_tokenizer
    from studyapp.lab.world import load_world

    world = load_world()
    texts = [f.question + " " + f.statement for f in world.facts]
    texts += [h.request + " " + h.literal_answer for h in world.harmful]
    if chat:
        texts += [c.prompt + " " + c.response for c in world.chat]
    texts += list(REFUSALS) + [STOCK_PHRASE] * 5
    return train_tokenizer(texts * 3, vocab_size=400)


def make_tiny_sft(folder: Path, *, n_embd: int = 32, n_layer: int = 2, seed: int = 0, tokenizer=None,
                  stage: str = "sft") -> Path:
    """A tiny stand-in for the SFT model (seconds to build): a randomly initialised 2-layer GPT-2
    (64 positions) with `tokenizer` (default: a fresh tiny_tokenizer()), saved as a checkpoint
    folder whose lab.json names `stage`. The same seed and tokenizer give the same weights, so
    base, SFT and RLHF stand-ins can be one model under three names."""
    from studyapp.lab.modeling import ModelConfig, build_model, save_checkpoint

    tok = tokenizer if tokenizer is not None else tiny_tokenizer()
    model = build_model(ModelConfig(n_layer=n_layer, n_embd=n_embd, n_head=2, n_positions=64,
                                    vocab_size=len(tok)), tok, seed=seed)
    save_checkpoint(model, tok, folder, card=f"# tiny test {stage} model\n", meta={"stage": stage, "test": True})
    return folder


def make_tiny_reward(folder: Path, sft: Path, *, score_seed: int | None = None) -> Path:
    """An untrained reward model on the tiny SFT folder `sft` (its embeddings and first layer),
    saved as the lab saves one, with the lab's preference pairs for 60 prompts (2 sessions) beside
    it as preferences.jsonl. The score head is as built; with score_seed it is drawn from N(0, 1)
    so replies get clearly different scores (best-of-n has a favourite)."""
    import random

    import torch

    from studyapp.lab.modeling import load_causal_lm
    from studyapp.lab.preferences import build_preferences, rlhf_prompts
    from studyapp.lab.rater import Rater
    from studyapp.lab.reward import build_reward_model, save_reward_model
    from studyapp.lab.world import load_world

    world = load_world()
    model, tok = load_causal_lm(sft, "cpu")
    prompts = rlhf_prompts(world)
    random.Random(0).shuffle(prompts)
    data = build_preferences(world, Rater(world), prompts[:60], sessions=2, seed=0)
    rm = build_reward_model(model)
    if score_seed is not None:
        torch.manual_seed(score_seed)
        with torch.no_grad():
            rm.score.weight.normal_(0, 1.0)
    save_reward_model(rm, tok, folder, card="# tiny reward model\n", meta={"stage": "reward", "test": True},
                      extra_files={"preferences.jsonl": data.to_jsonl()})
    return folder


COURSE = ("base", "sft", "rlhf")   # the policies the compare, RLHF and HHH tabs open


def make_tiny_models(models: Path, *, policies=("sft",), reward: str | None = "trained", chat: bool = False,
                     distinct: bool = False, score_seed: int | None = None) -> Path:
    """The one builder of a tiny models folder, in seconds, whatever is on disk: every test area
    that needs model folders gets them here.

    policies: folder names, each a make_tiny_sft model sharing one tiny_tokenizer(chat=chat); the
    same weights under every name, or (distinct=True) seeds 0, 1, 2, ... so that each writes its
    own nonsense. reward: "trained" (train_reward on models/sft, one quick epoch: what PPO trains
    against), "untrained" (make_tiny_reward, with score_seed as there) or None (no reward model)."""
    tok = tiny_tokenizer(chat=chat)
    for seed, name in enumerate(policies):
        make_tiny_sft(models / name, tokenizer=tok, stage=name, seed=seed if distinct else 0)
    if reward == "trained":
        from studyapp.lab.reward import RewardConfig, train_reward

        train_reward(models / "sft", models / "reward", RewardConfig(epochs=1, samples_per_prompt=0, sessions=1))
    elif reward == "untrained":
        make_tiny_reward(models / "reward", models / "sft", score_seed=score_seed)
    elif reward is not None:
        raise ValueError(f"reward must be 'trained', 'untrained' or None, not {reward!r}")
    return models


def make_tiny_course_models(models: Path) -> Path:
    """make_tiny_models for the compare, RLHF and HHH tabs: base, sft and rlhf (one 2-layer 32-wide
    GPT-2 under three names, its tokenizer trained with the chat exchanges too) and an untrained
    reward model with the lab's preference pairs: every folder those tabs open."""
    return make_tiny_models(models, policies=COURSE, reward="untrained", chat=True)


def tiny_gpt2():
    """An in-memory 2-layer, 16-wide GPT-2 with a 50-token vocabulary and no tokenizer, seeded, for
    tests that feed token ids straight to the network."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(vocab_size=50, n_positions=32, n_embd=16, n_layer=2, n_head=2)
    cfg._attn_implementation = "eager"
    torch.manual_seed(0)
    return GPT2LMHeadModel(cfg).eval()
