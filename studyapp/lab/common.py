"""Small things every lab stage shares: errors, progress, cancellation, seeding, devices, saving.

A stage function looks like `train_x(..., progress=None, cancel=None) -> dict`. It reports with
`progress({"stage": name, "step": i, "total": n, **metrics})`, calls `check_cancel(cancel)` once a
step, guards its loss with `check_finite(loss, ...)`, and writes its checkpoint inside
`with atomic_save_dir(out_dir) as tmp:` so the previous checkpoint survives any failure.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

ProgressFn = Callable[[dict], None]

# resources/ and models/ are found in one place for the whole app (a checkout or a frozen build).
from studyapp.config import MODELS_DIR, RESOURCES_DIR  # noqa: E402, F401 (re-exported)
from studyapp.config import ROOT as REPO_ROOT  # noqa: E402, F401


class LabError(Exception):
    """A problem the learner can act on (bad data file, bad model folder, diverged training)."""


class Cancelled(Exception):
    """Raised inside a stage when its cancel event is set; the old checkpoint stays untouched."""


def no_progress(_event: dict) -> None:
    """The null progress callback: a stage always has somewhere to report to."""


def as_progress(progress: ProgressFn | None) -> ProgressFn:
    return progress if progress is not None else no_progress


def check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled by the user")


def check_finite(loss, stage: str, step: int) -> float:
    """Return the loss as a float, or stop the stage with a clear message if it is NaN or inf.

    Raising here (before the checkpoint is written) is what keeps the last good checkpoint.
    """
    value = float(loss.detach()) if hasattr(loss, "detach") else float(loss)
    if not math.isfinite(value):
        raise LabError(
            f"{stage}: the loss became {value} at step {step}; training stopped and the previous "
            "checkpoint was left untouched (try a lower learning rate or another seed)"
        )
    return value


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def pick_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


DEFAULT_TORCH_THREADS = 1


def torch_threads() -> int:
    """The CPU threads every lab stage and every generation uses: the `torch_threads` setting
    (config file, STUDYAPP_TORCH_THREADS, --flag), 0 meaning the default of 1.

    Why 1: these models have 0.5M parameters, so a second OpenMP thread mostly waits for the first
    when the cores are shared. bench/threads.py, 2-core machine with two busy processes: one thread
    beat two in every stage (pretrain, SFT, reward, PPO rollout, generation: 1.1-2.7x); idle, two
    threads were 1.1-1.9x faster. Classroom machines are rarely idle; set 2 on a dedicated one.
    """
    try:
        from studyapp.config import load_config

        n = int(getattr(load_config(), "torch_threads", 0) or 0)
    except Exception:  # a broken config must not stop training; the GUI reports config problems
        n = int(os.environ.get("STUDYAPP_TORCH_THREADS", "0") or 0)
    return n if n > 0 else DEFAULT_TORCH_THREADS


def limit_threads(n: int | None = None) -> None:
    """Use n CPU threads (default: torch_threads()); tiny models gain nothing from more."""
    import torch

    n = n or torch_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def adamw(params, **kw):
    """torch's AdamW, fused where this torch build has a fused kernel for the device (CPU since
    torch 2.4: a fraction of the time of the default for-loop implementation), else the default."""
    import torch

    params = list(params)
    try:
        return torch.optim.AdamW(params, fused=True, **kw)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(params, **kw)


@contextlib.contextmanager
def atomic_save_dir(final_dir: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces final_dir in (almost) one step.

    If the body raises, the temporary folder is deleted and final_dir is left exactly as it was.
    The swap renames the old folder aside first, so a crash between the two renames leaves both
    folders on disk rather than none.
    """
    final = Path(final_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}-{int(time.time() * 1000)}"
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class Timer:
    """Wall-clock seconds since creation; `with Timer() as t: ...; t.seconds`."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.seconds = 0.0

    def __enter__(self) -> "Timer":
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def write_run_log(out_dir, stage: str, rows: list[dict]) -> Path:
    """Metric series as JSONL in <out_dir>/../runs/<stage>.jsonl, next to the model folders."""
    runs = Path(out_dir).parent / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    path = runs / f"{stage}.jsonl"
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(r, default=str) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)
    return path


def begin_stage(progress: ProgressFn | None, seed: int) -> tuple[ProgressFn, "Timer", str]:
    """What every training stage does first: the progress callback (a no-op when None), the lab's
    thread setting, every random generator seeded with `seed`, a running Timer, and the device
    ("cuda" when there is one, else "cpu"). Returns (report, timer, device)."""
    report = as_progress(progress)
    limit_threads()
    seed_everything(seed)
    timer = Timer()
    return report, timer, pick_device()


class MetricSeries:
    """A training loop's per-step metrics, written as JSONL while it runs (PPO, GRPO):

        with MetricSeries(path) as log:
            for step ...: log.add(metrics, samples)   # one line: metrics + samples
        log.rows, log.last_samples                     # the metrics (without samples), the last samples

    The lines go to <path>.tmp, which replaces `path` only when the loop ends without an error, so a
    cancelled or failed run leaves the previous complete file (and no .tmp) behind."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_suffix(".jsonl.tmp")
        self.rows: list[dict] = []
        self.last_samples: list = []

    def __enter__(self) -> "MetricSeries":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.tmp, "w", encoding="utf-8")
        return self

    def add(self, metrics: dict, samples: list) -> None:
        self._file.write(json.dumps({**metrics, "samples": samples}) + "\n")
        self.rows.append(metrics)
        self.last_samples = samples

    def __exit__(self, exc_type, *exc) -> None:
        self._file.close()
        if exc_type is None:
            self.tmp.replace(self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def under(root, path) -> Path:
    """path itself when absolute, else root / path: the lab's metric series are named relative to
    the models folder, so that a folder copied to another machine carries no build machine's path."""
    path = Path(path)
    return path if path.is_absolute() else Path(root) / path


def portable(path, root) -> str:
    """path relative to root (POSIX separators) when it lies inside root, else path as given:
    the form written into model folders' metadata and the report."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


def tsv_rows(path: Path, missing: str = "file is missing") -> Iterator[tuple[int, str, list[str]]]:
    """(line number, line, stripped tab-separated fields) for each row of a TSV file of the lab
    (world tables, the request generator's lexicon, the held-out set) that is neither blank nor a
    `#` comment. Raises LabError "<path>: <missing>" when the file does not exist; each caller
    checks its own columns and names the line in its errors."""
    path = Path(path)
    if not path.exists():
        raise LabError(f"{path}: {missing}")
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if line.strip() and not line.lstrip().startswith("#"):
                yield lineno, line, [c.strip() for c in line.split("\t")]
