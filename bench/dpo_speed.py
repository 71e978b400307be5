"""DPO's training time on the CPU, against PPO steps measured in the same process, interleaved
(issue 11: "DPO trains on the shipped pairs in under 60 s on this 2-core machine").

    python bench/dpo_speed.py [--sft models/sft --reward models/reward --pairs 0 --repeats 3 --ppo-steps 3]

One DPO run is what a learner pays for a new beta: studyapp.lab.dpo.train_dpo on every training
pair of <reward>/preferences.jsonl (--pairs N: the first N) with DPOConfig's defaults, from loading
the SFT model to the saved checkpoint, the reference's log-probs of every pair included (no cache),
greedy evaluation off (lab.methods measures the policy on its own). PPO is the yardstick: --ppo-steps
steps of studyapp.lab.ppo.train_ppo at PPOConfig's defaults on the same models, its median step
time (the first step excluded). The two alternate, --repeats times, so both see the same load.

Each run is timed in wall seconds and in the process's CPU seconds: with the lab's one torch thread
CPU seconds are about what the wall clock shows on an idle machine, while the wall clock on this
shared box depends on what else runs. The verdict uses the median over repeats of both. Any
exception fails the bench (exit status 1). Nothing is written outside a temporary folder.
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

TARGET_S = 60.0


def _clock():
    return time.perf_counter(), time.process_time()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sft", type=Path, default=ROOT / "models" / "sft")
    ap.add_argument("--reward", type=Path, default=ROOT / "models" / "reward")
    ap.add_argument("--pairs", type=int, default=0, help="training pairs used (0 = all)")
    ap.add_argument("--epochs", type=int, default=None, help="DPO epochs (default: DPOConfig's)")
    ap.add_argument("--beta", type=float, default=None)
    ap.add_argument("--repeats", type=int, default=3, help="DPO runs, each followed by a PPO run")
    ap.add_argument("--ppo-steps", type=int, default=3)
    args = ap.parse_args()

    from studyapp.lab.dpo import DPOConfig, load_pairs, train_dpo
    from _common import ppo_step_times
    from studyapp.lab.ppo import PPOConfig
    from studyapp.lab.preferences import PreferenceData

    data = load_pairs(args.reward)
    train = data.train[: args.pairs] if args.pairs else data.train
    subset = PreferenceData(train, data.heldout, [], data.unseen, data.heldout_set)
    cfg = DPOConfig()
    if args.epochs is not None:
        cfg.epochs = args.epochs
    if args.beta is not None:
        cfg.beta = args.beta

    wall, cpu, ppo_steps, results = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            w0, c0 = _clock()
            result = train_dpo(args.sft, subset, Path(tmp) / f"dpo{r}", cfg, evaluate=False)
            w1, c1 = _clock()
            wall.append(w1 - w0)
            cpu.append(c1 - c0)
            results.append(result)
            times = ppo_step_times(args.sft, args.reward, tmp, args.ppo_steps)
            ppo_steps += times
            print(f"run {r + 1}: DPO {wall[-1]:.1f} s wall, {cpu[-1]:.1f} s CPU (reference "
                  f"{result['ref_seconds']:.1f} s, loop {result['train_seconds']:.1f} s, held-out "
                  f"{result['eval_seconds']:.1f} s); PPO steps {', '.join(f'{t:.2f}' for t in times)} s; "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)

    ppo_step = statistics.median(ppo_steps)
    w, c = statistics.median(wall), statistics.median(cpu)
    last = results[-1]
    print(f"DPO: {len(train)} pairs x {cfg.epochs} epochs (beta {cfg.beta}, lr {cfg.lr}, {cfg.batch_pairs} pairs/step), "
          f"reference and held-out passes over {2 * (len(train) + len(data.heldout) + len(data.unseen) + len(data.heldout_set))} rows")
    print(f"  median of {args.repeats}: {w:.1f} s wall, {c:.1f} s CPU; loop {last['pairs_per_second']:.0f} pairs/s; "
          f"held-out implicit-reward accuracy {last['implicit_accuracy_heldout']}")
    print(f"PPO: median step {ppo_step:.3f} s over {len(ppo_steps)} steps ({PPOConfig().batch_size} prompts x "
          f"{PPOConfig().max_new_tokens} tokens)")
    print(f"ratio: one DPO run = {w / ppo_step:.1f} PPO steps (the shipped PPO run has {PPOConfig().steps})")
    print(f"target under {TARGET_S:.0f} s: CPU {c:.1f} s -> {'met' if c < TARGET_S else 'NOT met'}; "
          f"wall {w:.1f} s -> {'met' if w < TARGET_S else 'NOT met'} (load {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    from _common import run

    run(main)
