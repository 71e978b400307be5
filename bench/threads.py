"""Benchmark: the lab's thread policy. Steps per second of each stage's inner loop at 1 and 2 torch
threads, on an idle machine and with two busy processes, as ratios against 1 thread idle.

    python bench/threads.py [--steps 20]

The stages: a pretraining step (batch 64 x 64 tokens), an SFT step (batch 8), a reward-model step
(64 pairs), a PPO rollout (32 prompts x 20 tokens, sampled with the KV cache) and greedy chat
generation (32 prompts). All on a freshly built model of the shipped shape, so the bench needs no
trained folder. The lab's default (lab/common.py: DEFAULT_TORCH_THREADS) is chosen from this table.
"""

import argparse
import multiprocessing as mp
import time

import torch

from studyapp.lab.modeling import ModelConfig, build_model
from studyapp.lab.rollout import sample
from studyapp.lab.tokenizer import encode_prompt, pad_batch, stop_ids, train_tokenizer
from studyapp.lab.world import load_world


def spin(stop):
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def stages(steps: int):
    world = load_world()
    tok = train_tokenizer([f.question + " " + f.statement for f in world.facts] * 5, vocab_size=1024)
    model = build_model(ModelConfig(), tok, seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
    data = torch.randint(0, len(tok), (64, 64))
    prompts = [f.question for f in world.facts[:32]]
    ids, att = pad_batch([encode_prompt(tok, p, True) for p in prompts], tok.pad_token_id, "left")
    stop = stop_ids(tok)

    def train(batch):
        def step():
            loss = model(input_ids=data[:batch], labels=data[:batch]).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step

    def rollout(greedy):
        def step():
            with torch.no_grad():
                sample(model, ids, att, max_new_tokens=20, stop=stop, pad_id=tok.pad_token_id, greedy=greedy)
        return step

    return {"pretrain step": train(64), "sft step": train(8), "reward step (128 rows)": train(64),
            "ppo rollout": rollout(False), "greedy generation": rollout(True)}


def rate(fn, steps: int) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    fns = stages(a.steps)
    table = {}
    for load in (False, True):
        stop = mp.Event()
        procs = [mp.Process(target=spin, args=(stop,), daemon=True) for _ in range(2 if load else 0)]
        for p in procs:
            p.start()
        try:
            for threads in (1, 2):
                torch.set_num_threads(threads)
                for name, fn in fns.items():
                    table[(name, threads, load)] = rate(fn, a.steps)
        finally:
            stop.set()
            for p in procs:
                p.join()
    print(f"{'stage':<26}" + "".join(f"{h:>14}" for h in ("1t idle", "2t idle", "1t busy", "2t busy")))
    for name in fns:
        base = table[(name, 1, False)]
        cells = [table[(name, t, load)] / base for load in (False, True) for t in (1, 2)]
        print(f"{name:<26}" + "".join(f"{c:>13.2f}x" for c in cells))
    print("(steps per second relative to 1 thread on an idle machine; higher is faster)")


if __name__ == "__main__":
    main()
