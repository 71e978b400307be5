"""The curves of PPO runs as data: one Run per training run, a series per metric, no Qt.

    run = load_jsonl(models / "runs" / "ppo_beta0.jsonl")      # a shipped run
    run = Run("my run", source="profile"); run.append(metrics)  # a live one, step by step
    x, y = run.series("objective/kl", x_axis="time", smoothing=0.6)
    write_csv(path, [run_a, run_b])

The PPO tab keeps its runs here and only draws them; the same code serves tests and the CSV export.
Smoothing is TensorBoard's debiased exponential moving average: non-finite points are passed
through as gaps and do not poison the average, and the first points are not dragged toward zero.
`run_ppo` is the entry point the tab starts on a worker thread; it imports torch only when called.
"""
from __future__ import annotations

import csv
import json
import math
import multiprocessing
import queue
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from .common import Cancelled
from .ppo_config import PPOConfig


@dataclass(frozen=True)
class Metric:
    key: str          # TRL's name, as train_ppo reports it
    title: str
    caption: str      # what a learner should look for in the chart


# The charts of the PPO tab, in order. The rater's score shares a chart with the reward model's:
# the gap between the two lines is the reward hacking the course talks about.
METRICS: tuple[Metric, ...] = (
    Metric("objective/scores", "Reward-model score",
           "What PPO maximises. It should rise; if the rater's score (dashed) falls meanwhile, "
           "the policy is fooling the reward model."),
    Metric("objective/kl", "KL to the SFT model",
           "How far the policy has drifted from SFT. With beta > 0 it stays small; with beta = 0 "
           "nothing holds it back."),
    Metric("objective/rlhf_reward", "Total reward (score - beta * KL)",
           "The quantity PPO really optimises: the score minus the KL penalty."),
    Metric("policy/clipfrac_avg", "Clip fraction",
           "Share of tokens whose probability ratio left [1 - clip, 1 + clip]: clipping at work."),
    Metric("val/ratio", "Probability ratio new/old",
           "Stays near 1: clipping stops one update from moving the policy far."),
    Metric("objective/entropy", "Entropy of the replies",
           "Summed over each reply's tokens (TRL's objective/entropy): longer replies raise it, "
           "a collapse into one fixed phrase pulls it down."),
    Metric("response/length", "Reply length (tokens)",
           "Replies that grow to the limit or shrink to nothing are a warning sign."),
    Metric("response/refusal_rate_harmful", "Refusals of harmful requests",
           "Refusing is learned from the preferences: nothing in the code hard-codes it."),
)
RATER_KEY = "rater/score"   # drawn dashed in the reward-model chart
SERIES_KEYS: tuple[str, ...] = tuple(m.key for m in METRICS) + (RATER_KEY,)

# The PPO tab's controls start at the lab's own PPOConfig defaults, so the tab's "default" preset
# is the run the lab measured and shipped; ppo_config.py holds PPOConfig without torch, so the tab
# shows them before any model loads.
PPO_DEFAULTS = {key: getattr(PPOConfig(), key) for key in ("beta", "cliprange", "lr", "steps", "batch_size")}
# Limits for the controls: wide enough to explore, narrow enough to finish on a laptop CPU.
PPO_LIMITS = {"beta": (0.0, 2.0), "cliprange": (0.01, 1.0), "lr": (1e-6, 1e-2), "steps": (1, 500),
              "batch_size": (2, 128)}
PRESETS = {
    "default": {**PPO_DEFAULTS},
    "beta0": {**PPO_DEFAULTS, "beta": 0.0},
}
SHIPPED_NAMES = {"ppo": "Shipped run: default beta", "ppo_beta0": "Shipped run: beta = 0"}


def to_float(value) -> float:
    """A metric value as a float; anything missing or unreadable becomes NaN (a gap in the chart)."""
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def ema_debiased(values: Sequence[float], weight: float) -> np.ndarray:
    """TensorBoard's smoothing: s_t = m_t / (1 - w^n), m_t = w * m_(t-1) + (1 - w) * y_t.

    n counts the finite points seen so far; NaN and inf stay where they are (a gap), and a constant
    series is returned unchanged (no rounding wobble). weight 0 returns the values themselves.
    """
    y = np.asarray(values, dtype=np.float64)
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    if weight == 0.0 or y.size == 0:
        return y.copy()
    finite = np.isfinite(y)
    if finite.all() and np.all(y == y[0]):
        return y.copy()
    out = y.copy()
    last, n = 0.0, 0
    for i in np.flatnonzero(finite):
        last = last * weight + (1.0 - weight) * y[i]
        n += 1
        out[i] = last / (1.0 - weight ** n)
    return out


@dataclass
class Run:
    """One run's metric series (one row per PPO step) and its sampled replies."""
    name: str
    source: str = "live"                 # "shipped", "profile" (stored) or "live"
    status: str = "running"              # running, done, cancelled, failed, shipped
    config: dict = field(default_factory=dict)
    run_id: int | None = None            # the profile's lab_run id, when stored
    steps: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)   # training seconds since the start
    values: dict[str, list[float]] = field(default_factory=dict)
    samples: list[dict] = field(default_factory=list)  # {step, prompt, response, score, rater}
    version: int = 0                     # bumped on every change: the view redraws only when it moves
    _t0: float | None = None

    def append(self, metrics: dict, samples: Iterable[dict] = (), t: float | None = None) -> None:
        """Add one step. t defaults to the summed `seconds_per_step` (training time, pauses excluded),
        else to wall time since the first step."""
        step = int(metrics.get("step", len(self.steps) + 1))
        if t is None:
            per_step = to_float(metrics.get("seconds_per_step"))
            if math.isfinite(per_step):
                t = (self.times[-1] if self.times else 0.0) + per_step
            else:
                now = time.monotonic()
                self._t0 = now if self._t0 is None else self._t0
                t = now - self._t0
        n = len(self.steps)
        self.steps.append(step)
        self.times.append(float(t))
        for key, value in metrics.items():
            if key in ("step", "total", "stage", "samples") or isinstance(value, (list, dict, str)):
                continue
            column = self.values.setdefault(key, [math.nan] * n)
            column.append(to_float(value))
        for column in self.values.values():   # a key missing this step is a gap, not a shift
            if len(column) < n + 1:
                column.append(math.nan)
        self.samples.extend({**s, "step": s.get("step", step)} for s in samples)
        self.version += 1

    def __len__(self) -> int:
        return len(self.steps)

    def has(self, key: str) -> bool:
        return key in self.values and any(math.isfinite(v) for v in self.values[key])

    def series(self, key: str, x_axis: str = "step", smoothing: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """x (steps or seconds, float64 for fast clipping) and y, smoothed; empty when absent."""
        if key not in self.values:
            return np.zeros(0), np.zeros(0)
        x = np.asarray(self.times if x_axis == "time" else self.steps, dtype=np.float64)
        return x, ema_debiased(self.values[key], smoothing)

    def samples_at(self, step: int | None = None) -> list[dict]:
        """The sampled replies of one step (the latest step that has any when step is None)."""
        if not self.samples:
            return []
        if step is None:
            step = self.samples[-1]["step"]
        return [s for s in self.samples if s["step"] == step]

    def sample_steps(self) -> list[int]:
        return sorted({s["step"] for s in self.samples})


# ----------------------------------------------------------------------------- shipped runs


def load_jsonl(path: Path, name: str | None = None) -> Run:
    """A metric series written by train_ppo (one JSON object per line). Unreadable lines are skipped
    and counted in run.config["skipped_lines"], so a truncated file still shows what it has."""
    path = Path(path)
    run = Run(name or SHIPPED_NAMES.get(path.stem, path.stem), source="shipped", status="shipped",
              config={"file": str(path)})
    skipped = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                skipped += 1
                continue
            if not isinstance(row, dict):
                skipped += 1
                continue
            if row.get("done"):   # the closing summary, not a step
                continue
            run.append(row, row.get("samples") or ())
    if skipped:
        run.config["skipped_lines"] = skipped
    return run


# The policy folder each shipped series trained: its lab.json holds the run's config and the final
# policy's greedy replies, which the series itself does not keep.
POLICY_OF_SERIES = {"ppo": "rlhf", "ppo_beta0": "rlhf_beta0"}


def attach_policy(run: Run, folder: Path) -> None:
    """Add the trained policy's settings to a shipped run and, when its series kept no samples, the
    policy's greedy replies (at the last step, marked final). A missing or unreadable lab.json
    leaves the run as it was."""
    try:
        meta = json.loads((Path(folder) / "lab.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    result = meta.get("result") if isinstance(meta.get("result"), dict) else {}
    for key in PPO_DEFAULTS:
        if key in config:
            run.config[key] = config[key]
    if run.samples:   # the series kept its own per-step samples: those say more
        run.version += 1
        return
    step = run.steps[-1] if run.steps else 0
    for key in ("examples_heldout_harmful", "examples_facts"):
        for example in result.get(key) or []:
            if isinstance(example, dict) and "prompt" in example:
                run.samples.append({"step": step, "prompt": str(example["prompt"]),
                                    "response": str(example.get("response", "")), "final": True})
    run.version += 1


def shipped_runs(models_dir: Path) -> list[Run]:
    """Every models_dir/runs/*.jsonl, the default run first; an unreadable file is left out."""
    folder = Path(models_dir) / "runs"
    files = sorted(folder.glob("ppo*.jsonl"), key=lambda p: (p.stem != "ppo", p.stem)) if folder.is_dir() else []
    runs = []
    for path in files:
        try:
            run = load_jsonl(path)
        except OSError:
            continue
        if len(run):
            if path.stem in POLICY_OF_SERIES:
                attach_policy(run, Path(models_dir) / POLICY_OF_SERIES[path.stem])
            runs.append(run)
    return runs


def run_from_stored(data: dict) -> Run:
    """A Run from LabRuns.load(): the profile's copy of a run, to overlay or export again."""
    row = data["run"]
    run = Run(row["name"], source="profile", status=row["status"], config=dict(row.get("config") or {}),
              run_id=row["id"])
    for step, t, values in data["metrics"]:
        run.append({**values, "step": step}, t=t)
    for sample in data["samples"]:
        run.samples.append(dict(sample))
    run.version += 1
    return run


# ----------------------------------------------------------------------------- CSV export


def write_csv(path: Path, runs: Sequence[Run], smoothing: float = 0.0) -> int:
    """One row per (run, step): run, status, step, time_s, then every metric (raw, and smoothed
    when smoothing > 0). NaN is written as an empty cell. Returns the number of data rows."""
    keys = sorted({k for run in runs for k in run.values})
    header = ["run", "status", "step", "time_s"] + keys
    if smoothing > 0:
        header += [f"{k} (smoothed {smoothing:g})" for k in keys]
    cell = lambda v: "" if not math.isfinite(v) else repr(float(v))  # noqa: E731 - repr keeps every digit
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        for run in runs:
            smoothed = {k: ema_debiased(run.values[k], smoothing) for k in keys if k in run.values} if smoothing > 0 else {}
            nan_column = [math.nan] * len(run)
            for i, step in enumerate(run.steps):
                row = [run.name, run.status, step, f"{run.times[i]:.3f}"]
                row += [cell(run.values.get(k, nan_column)[i]) for k in keys]
                if smoothing > 0:
                    row += [cell(smoothed[k][i]) if k in smoothed else "" for k in keys]
                out.writerow(row)
                rows += 1
    return rows


# ----------------------------------------------------------------------------- starting a run


def clamp_settings(settings: dict) -> dict:
    """The tab's settings within PPO_LIMITS, ints where PPOConfig wants ints."""
    out = {**PPO_DEFAULTS, **{k: v for k, v in settings.items() if k in PPO_DEFAULTS}}
    for key, (low, high) in PPO_LIMITS.items():
        out[key] = min(max(float(out[key]), low), high)
    out["steps"], out["batch_size"] = int(out["steps"]), int(out["batch_size"])
    return out


def check_model_folder(folder: Path, what: str) -> str | None:
    """None when folder looks like a checkpoint; otherwise a message a learner can act on."""
    folder = Path(folder)
    if not folder.is_dir():
        return f"The {what} folder {folder} does not exist. Train it first (studyapp lab train) or pick another."
    if not (folder / "config.json").is_file():
        return f"{folder} is not a model folder (it has no config.json), so it cannot be the {what}."
    return None


def _train(sft_dir, reward_dir, out_dir, settings: dict, series_path, *, progress=None, cancel=None) -> dict:
    from .ppo import PPOConfig, train_ppo   # torch + transformers: seconds, so only when needed

    cfg = PPOConfig(**clamp_settings(settings), series_path=str(series_path))
    return train_ppo(sft_dir, reward_dir, out_dir, cfg, progress=progress, cancel=cancel)


def _child(fn, args: tuple, events, stop) -> None:
    """A training process: fn(*args), sending ("progress", dict) per step, then one closing message."""
    try:
        result = fn(*args, progress=lambda metrics: events.put(("progress", metrics)), cancel=stop)
        events.put(("result", result))
    except Cancelled:
        events.put(("cancelled", None))
    except Exception as exc:  # noqa: BLE001 - every outcome must reach the app
        events.put(("error", (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                              traceback.format_exc())))


class TrainingProcessError(RuntimeError):
    """Carries the training process's own traceback into the app's error details."""


def run_ppo(sft_dir, reward_dir, out_dir, settings: dict, series_path, *,
            progress: Callable[[dict], None] | None = None, cancel=None, in_process: bool | None = None) -> dict:
    """Train PPO with the tab's settings; called on a worker thread, returns train_ppo's summary.

    The training runs in a separate process (spawned, so no Qt state is copied), and this thread
    only relays its progress: torch's import and the training loop then never hold the app's GIL,
    and the charts stay smooth (measured: GUI stalls of 0.3-0.7 s with the loop in a thread).
    The queue holds one step, so a caller that blocks in `progress` (a paused task) holds the
    training after at most one more step. series_path is always given, so a run from the app never
    overwrites the shipped series. A frozen build trains in-process unless it has set up
    multiprocessing (freeze_support), which is the caller's to decide via in_process.
    """
    args = (str(sft_dir), str(reward_dir), str(out_dir), dict(settings), str(series_path))
    if in_process is None:
        in_process = bool(getattr(sys, "frozen", False))
    if in_process:
        return _train(*args, progress=progress, cancel=cancel)
    return run_in_process(_train, args, name="studyapp-ppo", progress=progress, cancel=cancel)


def run_in_process(fn, args: tuple, *, name: str, progress: Callable[[dict], None] | None = None,
                   cancel=None):
    """fn(*args, progress=..., cancel=...) in a spawned process; its progress relayed here, its
    return value returned. fn must be a module-level function (it is pickled by name).

    Raises Cancelled when the run stopped on `cancel`, and RuntimeError (caused by a
    TrainingProcessError holding the child's traceback) when it failed or died without a word.
    """
    report = progress or (lambda _metrics: None)
    ctx = multiprocessing.get_context("spawn")
    events, stop = ctx.Queue(maxsize=1), ctx.Event()
    proc = ctx.Process(target=_child, args=(fn, args, events, stop), daemon=True, name=name)
    proc.start()
    try:
        while True:
            if cancel is not None and cancel.is_set():
                stop.set()
            try:
                kind, payload = events.get(timeout=0.2)
            except queue.Empty:
                if not proc.is_alive():
                    raise RuntimeError(f"The training process ended without a word (exit code {proc.exitcode}); "
                                       "the shipped models are untouched.") from None
                continue
            if kind == "progress":
                report(payload)
            elif kind == "result":
                return payload
            elif kind == "cancelled":
                raise Cancelled("cancelled by the user")
            else:
                message, details = payload
                raise RuntimeError(message) from TrainingProcessError(details)
    finally:
        stop.set()
        deadline = time.monotonic() + 15
        while proc.is_alive() and time.monotonic() < deadline:
            try:   # keep the queue drained so a child blocked on put() can see `stop`
                events.get(timeout=0.1)
            except queue.Empty:
                pass
        if proc.is_alive():
            proc.terminate()   # checkpoints are written atomically: nothing half-written survives
        proc.join(5)
        events.close()
