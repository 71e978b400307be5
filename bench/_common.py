"""What every bench script shares: `run(main)` exits with main()'s status, and any exception
fails the bench loudly (traceback, a "bench FAILED" line, exit 1), so a crash never reads as a
result. Scripts run as `python bench/NAME.py`, which puts this folder on sys.path."""

from __future__ import annotations

import sys
import traceback
from typing import Callable


def run(main: Callable[[], int]) -> None:
    try:
        sys.exit(main())
    except Exception as exc:  # any crash fails the bench
        traceback.print_exc()
        print(f"bench FAILED: {exc!r}")
        sys.exit(1)


def ppo_step_times(sft, reward, tmp, steps: int) -> list[float]:
    """Seconds of each of `steps` PPO steps of the shipped recipe from sft + reward, written under
    tmp: the baseline the method benches divide by, measured in the same run as what they time.
    One extra step is run and its first (warm-up) step dropped."""
    from pathlib import Path

    from studyapp.lab.ppo import train_ppo
    from studyapp.lab.ppo_config import PPOConfig

    times: list[float] = []
    cfg = PPOConfig(steps=steps + 1, series_path=str(Path(tmp) / "ppo.jsonl"))
    train_ppo(sft, reward, Path(tmp) / "ppo", cfg,
              progress=lambda m: times.append(m["seconds_per_step"]) if "seconds_per_step" in m
              and not m.get("done") else None)
    return times[1:] or times
