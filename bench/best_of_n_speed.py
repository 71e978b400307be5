"""Best-of-n's time on the CPU, against PPO steps measured in the same process, interleaved (issue 11:
"best-of-n with n = 16 on the evaluation prompts in under 30 s").

    python bench/best_of_n_speed.py [--sft models/sft --reward models/reward --n 16 --repeats 3 --ppo-steps 3]

Best-of-n runs studyapp.lab.best_of_n.best_of_n on every prompt of the held-out evaluation set
(resources/eval, as preferences.heldout_set_prompts builds it): n sampled replies per prompt (20
tokens, batched), each scored by the reward model, the favourite kept and judged by the rater. The
models are loaded before the clock starts (the app holds them already). PPO is the yardstick:
--ppo-steps steps of studyapp.lab.ppo.train_ppo at PPOConfig's defaults on the same models, its
median step time (the first step excluded). Best-of-n and PPO alternate, --repeats times.

Each best-of-n run is timed in wall seconds and in the process's CPU seconds (with the lab's one
torch thread, about the wall clock of an idle machine; the wall clock on this shared box depends
on the other sessions). The same seed gives the same replies every run: a run that keeps other
replies, or any exception, fails the bench (exit status 1).
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

TARGET_S = 30.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sft", type=Path, default=ROOT / "models" / "sft")
    ap.add_argument("--reward", type=Path, default=ROOT / "models" / "reward")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ppo-steps", type=int, default=3)
    args = ap.parse_args()

    from studyapp.lab.best_of_n import best_of_n
    from studyapp.lab.common import limit_threads
    from studyapp.lab.modeling import load_causal_lm
    from _common import ppo_step_times
    from studyapp.lab.ppo import PPOConfig
    from studyapp.lab.preferences import heldout_set_prompts
    from studyapp.lab.rater import Rater
    from studyapp.lab.reward import load_reward_model
    from studyapp.lab.world import load_world

    limit_threads()
    world = load_world()
    prompts = heldout_set_prompts(world)
    lm, tok = load_causal_lm(args.sft, "cpu")
    rm, rm_tok = load_reward_model(args.reward, "cpu")
    rater = Rater(world)
    wall, cpu, ppo_steps, kept = [], [], [], None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            out = best_of_n(lm, tok, rm, rm_tok, prompts, args.n, rater=rater)
            wall.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
            if kept is not None and out.kept != kept:
                raise RuntimeError("the same seed kept other replies in another run")
            kept = out.kept
            times = ppo_step_times(args.sft, args.reward, tmp, args.ppo_steps)
            ppo_steps += times
            print(f"run {r + 1}: best-of-{args.n} {wall[-1]:.1f} s wall, {cpu[-1]:.1f} s CPU; PPO steps "
                  f"{', '.join(f'{t:.2f}' for t in times)} s; load {os.getloadavg()[0]:.1f}", flush=True)

    s = out.summary()
    w, c, ppo_step = statistics.median(wall), statistics.median(cpu), statistics.median(ppo_steps)
    rows = len(prompts) * args.n
    print(f"best-of-{args.n}: {len(prompts)} evaluation prompts, {rows} replies sampled and scored; median of "
          f"{args.repeats}: {w:.1f} s wall, {c:.1f} s CPU ({rows / c:.0f} replies per CPU second)")
    print(f"  KL {s['kl']:.3f} (sqrt {s['sqrt_kl']:.3f}); proxy {s['proxy']:.3f} (n = 1: {s['proxy_n1']:.3f}); "
          f"gold {s['gold']:.3f}")
    print(f"PPO: median step {ppo_step:.3f} s over {len(ppo_steps)} steps ({PPOConfig().batch_size} prompts x "
          f"{PPOConfig().max_new_tokens} tokens)")
    print(f"ratio: best-of-{args.n} = {w / ppo_step:.1f} PPO steps (the shipped PPO run has {PPOConfig().steps})")
    print(f"target under {TARGET_S:.0f} s: CPU {c:.1f} s -> {'met' if c < TARGET_S else 'NOT met'}; wall {w:.1f} s "
          f"-> {'met' if w < TARGET_S else 'NOT met'} (load {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    from _common import run

    run(main)
