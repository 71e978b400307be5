"""PPO step time: the lab's loop (studyapp/lab/ppo.py) against TRL 1.12.0's PPOTrainer
(trl.experimental.ppo, the last TRL release with PPO), same models, same batch, same thread count.

TRL pulls in datasets/accelerate and a transformers range that fights the app's pins, so it lives in
its own virtualenv that *reuses* the app's torch and transformers:

    python3.11 -m venv /work/bench-venv
    echo "$PWD/.venv/lib/python3.11/site-packages" > /work/bench-venv/lib/python3.11/site-packages/app.pth
    /work/bench-venv/bin/pip install "trl==1.12.0" "transformers==$(.venv/bin/python -c 'import transformers; print(transformers.__version__)')"
    /work/bench-venv/bin/python bench/ppo_vs_trl.py [--sft models/sft --reward models/reward --steps 8]

(Never `pip uninstall` inside that venv: through the .pth it can see, and remove, the app's packages.)
Both loops run in this one process, one after the other, on 1 thread (the setting our stages use).
A step is one rollout of `batch` prompts x `response_length` tokens, scoring, GAE, and
ppo_epochs x num_minibatches optimiser steps. The median step time after one warm-up step is
compared; target: ours <= 0.5x TRL's.

Measured 2026-11-27 on the 2-core box (1 thread, shared), lab-size models (policy 2x128, 0.54M;
reward model 1 layer, 0.34M), batch 32 x 20 tokens: ours 0.300 s/step, TRL 0.993 s/step, 0.30x.
Most of the gain is the lean GPT-2 forward with a KV cache in studyapp/lab/rollout.py (Hugging
Face's per-call mask and cache machinery costs more than the arithmetic at this size).

Differences that favour neither side's formulas but are worth knowing: TRL keeps a separate value
model (here a copy of the reward model, as TRL's examples do); ours puts a value head on the
policy's trunk. Both generate with top_k=0, top_p=1, temperature 1, and stop at <|end|>.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")


def ours(sft: Path, reward: Path, steps: int, batch: int, length: int) -> list[float]:
    from studyapp.lab.ppo import PPOConfig, train_ppo

    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = PPOConfig(steps=steps + 1, batch_size=batch, max_new_tokens=length, ppo_epochs=2, num_minibatches=2,
                        series_path=str(Path(tmp) / "series.jsonl"))
        train_ppo(sft, reward, Path(tmp) / "out", cfg,
                  progress=lambda m: times.append(m["seconds_per_step"]) if "seconds_per_step" in m else None)
    return times[1:steps + 1]


def trl(sft: Path, reward: Path, steps: int, batch: int, length: int) -> list[float]:
    import torch
    from datasets import Dataset
    from transformers import (AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer,
                              TrainerCallback)
    from trl.experimental.ppo import PPOConfig, PPOTrainer

    from studyapp.lab.preferences import rlhf_prompts
    from studyapp.lab.tokenizer import END, encode_prompt
    from studyapp.lab.world import load_world

    tok = AutoTokenizer.from_pretrained(sft)
    tok.padding_side = "left"
    prompts = [p.text for p in rlhf_prompts(load_world())]
    ids = [encode_prompt(tok, t, chat=True) for t in prompts]
    data = Dataset.from_dict({"input_ids": (ids * (batch * (steps + 2) // len(ids) + 1))[: batch * (steps + 2)]})
    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            stamps.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as tmp:
        cfg = PPOConfig(
            # TRL: local batch = per_device x grad_accum; each minibatch (batch / num_mini_batches) is one
            # optimiser step, as in ours.
            output_dir=tmp, per_device_train_batch_size=batch, gradient_accumulation_steps=1,
            num_mini_batches=2, num_ppo_epochs=2, total_episodes=batch * (steps + 1), response_length=length,
            stop_token_id=tok.convert_tokens_to_ids(END), temperature=1.0, kl_coef=0.1, kl_estimator="k1",
            learning_rate=3e-4, missing_eos_penalty=1.0, local_rollout_forward_batch_size=batch,
            num_sample_generations=0, report_to=[], save_strategy="no", logging_steps=1000, seed=0,
            use_cpu=True, bf16=False, fp16=False, dataloader_num_workers=0)
        trainer = PPOTrainer(
            args=cfg, processing_class=tok,
            model=AutoModelForCausalLM.from_pretrained(sft), ref_model=AutoModelForCausalLM.from_pretrained(sft),
            reward_model=AutoModelForSequenceClassification.from_pretrained(reward),
            value_model=AutoModelForSequenceClassification.from_pretrained(reward),
            train_dataset=data, eval_dataset=data.select(range(batch)), callbacks=[Clock()])
        start = time.perf_counter()
        trainer.train()
    edges = [start] + stamps
    times = [b - a for a, b in zip(edges, edges[1:])]
    return times[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sft", type=Path, default=ROOT / "models" / "sft")
    ap.add_argument("--reward", type=Path, default=ROOT / "models" / "reward")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--length", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    import torch

    torch.set_num_threads(a.threads)
    os.environ["STUDYAPP_THREADS"] = str(a.threads)
    t_ours = ours(a.sft, a.reward, a.steps, a.batch, a.length)
    t_trl = trl(a.sft, a.reward, a.steps, a.batch, a.length)
    m_ours, m_trl = statistics.median(t_ours), statistics.median(t_trl)
    result = {"ours_s_per_step": round(m_ours, 4), "trl_s_per_step": round(m_trl, 4),
              "ratio": round(m_ours / m_trl, 3), "target": 0.5, "steps": a.steps, "batch": a.batch,
              "response_length": a.length, "threads": a.threads, "torch": torch.__version__,
              "ours_all": [round(t, 3) for t in t_ours], "trl_all": [round(t, 3) for t in t_trl]}
    if a.json:
        print(json.dumps(result))
    else:
        print(f"ours {m_ours:.3f} s/step   TRL 1.12.0 {m_trl:.3f} s/step   ratio {m_ours / m_trl:.2f}x (target <= 0.5x)")
        print(json.dumps(result))


if __name__ == "__main__":
    main()
