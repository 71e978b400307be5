"""Best-of-n's time on the CPU, against a PPO step measured in the same process (issue 11:
"best-of-n with n = 16 on the evaluation prompts in under 30 s").

    python bench/best_of_n_speed.py [--sft models/sft --reward models/reward --n 16 --ppo-steps 4]

Best-of-n runs studyapp.lab.best_of_n.best_of_n on every prompt of the held-out evaluation set
(resources/eval, as preferences.heldout_set_prompts builds it): n sampled replies per prompt (20
tokens, batched), each scored by the reward model, the favourite kept and judged by the rater. The
models are loaded before the clock starts. PPO runs studyapp.lab.ppo.train_ppo for --ppo-steps steps
at PPOConfig's defaults on the same models; its median step time (after the first) is the yardstick.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sft", type=Path, default=ROOT / "models" / "sft")
    ap.add_argument("--reward", type=Path, default=ROOT / "models" / "reward")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--ppo-steps", type=int, default=4)
    args = ap.parse_args()

    from studyapp.lab.best_of_n import best_of_n
    from studyapp.lab.common import limit_threads
    from studyapp.lab.modeling import load_causal_lm
    from studyapp.lab.ppo import PPOConfig, train_ppo
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
    start = time.perf_counter()
    out = best_of_n(lm, tok, rm, rm_tok, prompts, args.n, rater=rater)
    bon_seconds = time.perf_counter() - start
    s = out.summary()

    step_times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = PPOConfig(steps=args.ppo_steps + 1, series_path=str(Path(tmp) / "ppo.jsonl"))
        train_ppo(args.sft, args.reward, Path(tmp) / "ppo", cfg,
                  progress=lambda m: step_times.append(m["seconds_per_step"]) if "seconds_per_step" in m
                  and not m.get("done") else None)
    ppo_step = statistics.median(step_times[1:] or step_times)

    rows = len(prompts) * args.n
    print(f"best-of-{args.n}: {len(prompts)} evaluation prompts, {rows} replies sampled and scored in "
          f"{bon_seconds:.1f} s ({rows / bon_seconds:.0f} replies/s)")
    print(f"  KL {s['kl']:.3f} (sqrt {s['sqrt_kl']:.3f}); proxy {s['proxy']:.3f} (n = 1: {s['proxy_n1']:.3f}); "
          f"gold {s['gold']:.3f}")
    print(f"PPO: median step {ppo_step:.3f} s ({cfg.batch_size} prompts x {cfg.max_new_tokens} tokens)")
    print(f"best-of-{args.n} = {bon_seconds / ppo_step:.0f} PPO steps; target: under 30 s -> "
          f"{'met' if bon_seconds < 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
