"""The comparison runner's time on the CPU, phase by phase, against a PPO step measured in the same
process (issue 11: every method on the same axes; the runner should take about 3 minutes).

    python bench/methods_speed.py [--models models --ppo-steps 4 --out /tmp/methods-bench]

Runs studyapp.lab.methods.run_methods on <models>/sft and <models>/reward (best-of-n for n up to 64,
DPO at its betas, one GRPO run, and the PPO folders <models>/rlhf and rlhf_beta0 when present),
writing into --out (a temporary folder by default, never models/). Then train_ppo for --ppo-steps
steps at PPOConfig's defaults on the same models; its median step time (after the first) is the
yardstick: each phase is printed as seconds and as "PPO steps". Both use the lab's thread setting.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    ap.add_argument("--ppo-steps", type=int, default=4)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from studyapp.lab.methods import run_methods
    from studyapp.lab.ppo import PPOConfig, train_ppo

    sft, reward = args.models / "sft", args.models / "reward"
    ppo_dirs = [d for d in (args.models / "rlhf", args.models / "rlhf_beta0") if (d / "config.json").is_file()]
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "methods"
        start = time.perf_counter()
        result = run_methods(sft, reward, out, ppo_dirs=ppo_dirs)
        total = time.perf_counter() - start

        step_times: list[float] = []
        cfg = PPOConfig(steps=args.ppo_steps + 1, series_path=str(Path(tmp) / "ppo.jsonl"))
        train_ppo(sft, reward, Path(tmp) / "ppo", cfg,
                  progress=lambda m: step_times.append(m["seconds_per_step"]) if "seconds_per_step" in m
                  and not m.get("done") else None)
    ppo_step = statistics.median(step_times[1:] or step_times)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"run_methods: {len(result['points'])} points on {result['eval']['prompts']} held-out prompts "
          f"in {total:.1f} s (load average {load:.1f} at the end)")
    for phase, seconds in result["seconds"].items():
        print(f"  {phase:<18} {seconds:7.1f} s = {seconds / ppo_step:6.0f} PPO steps")
    print(f"PPO: median step {ppo_step:.3f} s ({cfg.batch_size} prompts x {cfg.max_new_tokens} tokens)")
    print(f"whole run = {total / ppo_step:.0f} PPO steps; target about 3 minutes -> "
          f"{'met' if total < 180 else 'NOT met'}")


if __name__ == "__main__":
    main()
