"""DPO's training time on the CPU, against a PPO step measured in the same process (issue 11: "DPO
trains on the shipped pairs in under 60 s on this 2-core machine").

    python bench/dpo_speed.py [--sft models/sft --reward models/reward --pairs 0 --epochs 3 --ppo-steps 4]

DPO runs studyapp.lab.dpo.train_dpo on the first N training pairs of <reward>/preferences.jsonl
(0 = all of them) with DPOConfig's defaults but --epochs, evaluation off; it prints the whole call's
seconds (loading, the reference's log-probs of every pair, the loop, saving) and the loop's pairs
per second. PPO runs studyapp.lab.ppo.train_ppo for --ppo-steps steps at PPOConfig's defaults (32
prompts x 20 tokens) on the same models; its median step time (after the first) is the yardstick:
"one DPO run costs as much as K PPO steps". Both on the lab's thread setting (1 thread by default).
Nothing is written outside a temporary folder.
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
    ap.add_argument("--pairs", type=int, default=0, help="training pairs used (0 = all)")
    ap.add_argument("--epochs", type=int, default=None, help="DPO epochs (default: DPOConfig's)")
    ap.add_argument("--beta", type=float, default=None)
    ap.add_argument("--ppo-steps", type=int, default=4)
    args = ap.parse_args()

    from studyapp.lab.dpo import DPOConfig, load_pairs, train_dpo
    from studyapp.lab.ppo import PPOConfig, train_ppo
    from studyapp.lab.preferences import PreferenceData

    data = load_pairs(args.reward)
    train = data.train[: args.pairs] if args.pairs else data.train
    subset = PreferenceData(train, data.heldout, [], data.unseen, data.heldout_set)
    cfg = DPOConfig()
    if args.epochs is not None:
        cfg.epochs = args.epochs
    if args.beta is not None:
        cfg.beta = args.beta

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = train_dpo(args.sft, subset, Path(tmp) / "dpo", cfg, evaluate=False)
        dpo_seconds = time.perf_counter() - start

        step_times: list[float] = []
        ppo_cfg = PPOConfig(steps=args.ppo_steps + 1, series_path=str(Path(tmp) / "ppo.jsonl"))
        train_ppo(args.sft, args.reward, Path(tmp) / "ppo", ppo_cfg,
                  progress=lambda m: step_times.append(m["seconds_per_step"]) if "seconds_per_step" in m
                  and not m.get("done") else None)
    ppo_step = statistics.median(step_times[1:] or step_times)

    print(f"DPO: {len(train)} pairs x {cfg.epochs} epochs (beta {cfg.beta}, lr {cfg.lr}, {cfg.batch_pairs} pairs/step)")
    print(f"  whole call {dpo_seconds:.1f} s; loop {result['train_seconds']:.1f} s, "
          f"{result['pairs_per_second']:.0f} pairs/s; held-out implicit-reward accuracy "
          f"{result['implicit_accuracy_heldout']}")
    print(f"PPO: median step {ppo_step:.3f} s over {len(step_times[1:]) or len(step_times)} steps "
          f"({ppo_cfg.batch_size} prompts x {ppo_cfg.max_new_tokens} tokens)")
    print(f"one DPO run = {dpo_seconds / ppo_step:.0f} PPO steps (the shipped PPO run has {PPOConfig().steps}); "
          f"target: under 60 s -> {'met' if dpo_seconds < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
