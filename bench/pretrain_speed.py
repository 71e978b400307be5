"""Benchmark: pretraining tokens/s against the machine's matmul FLOP rate at the same shapes.

    python bench/pretrain_speed.py [--steps 15] [--batch 64]

Measures, in one run: (1) training tokens/s of the lab's GPT-2 (eager attention and sdpa), (2) the
FLOP rate of the very matmuls one training step does (forward and both backward products of every
linear layer, plus the attention products), timed alone. The ratio says how close the training
loop runs to what the matmuls alone would allow.
"""

import argparse
import time

import torch

from studyapp.lab.common import limit_threads
from studyapp.lab.modeling import ModelConfig, build_model, count_params
from studyapp.lab.tokenizer import train_tokenizer
from studyapp.lab.world import load_world


def step_matmuls(cfg: ModelConfig, batch: int, vocab: int):
    """(shape_a, shape_b) of every matmul in one forward pass; backward does two more of each."""
    n, d, t, h = batch * cfg.n_positions, cfg.n_embd, cfg.n_positions, cfg.n_head
    per_layer = [((n, d), (d, 3 * d)), ((n, d), (d, d)), ((n, d), (d, 4 * d)), ((n, 4 * d), (4 * d, d))]
    attn = [((batch * h, t, d // h), (batch * h, d // h, t)), ((batch * h, t, t), (batch * h, t, d // h))]
    return per_layer * cfg.n_layer, attn * cfg.n_layer, [((n, d), (d, vocab))]


def flops(a, b) -> int:
    batch = a[0] if len(a) == 3 else 1
    return 2 * batch * a[-2] * a[-1] * b[-1]


def matmul_rate(shapes, repeats: int = 5) -> tuple[float, int]:
    """FLOP/s of forward + two backward products per matmul, the way training runs them."""
    mats = []
    for a, b in shapes:
        x, w = torch.randn(*a), torch.randn(*b)
        y = x @ w
        mats.append((x, w, y))
    total = sum(3 * flops(a, b) for a, b in shapes)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for x, w, y in mats:
            x @ w  # forward
            y @ w.transpose(-1, -2)  # grad wrt input
            x.transpose(-1, -2) @ y  # grad wrt weight
        best = min(best, time.perf_counter() - t0)
    return total / best, total


def train_rate(cfg, tok, batch, steps, attn):
    model = build_model(cfg, tok, seed=0)
    model.config._attn_implementation = attn
    for layer in model.transformer.h:
        layer.attn.config._attn_implementation = attn
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    data = torch.randint(0, len(tok), (batch, cfg.n_positions))
    for i in range(steps + 3):
        if i == 3:
            t0 = time.perf_counter()
        loss = model(input_ids=data, labels=data).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    return steps * batch * cfg.n_positions / dt, count_params(model)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    limit_threads()
    world = load_world()
    tok = train_tokenizer([f.statement for f in world.facts] * 20, vocab_size=1024)
    cfg = ModelConfig(vocab_size=1024)
    vocab = max(cfg.vocab_size, len(tok))
    lin, attn, head = step_matmuls(cfg, args.batch, vocab)
    rate, step_flops = matmul_rate(lin + attn + head)
    eager, params = train_rate(cfg, tok, args.batch, args.steps, "eager")
    sdpa, _ = train_rate(cfg, tok, args.batch, args.steps, "sdpa")
    tokens = args.batch * cfg.n_positions
    bound = rate / (step_flops / tokens)
    print(f"GPT-2 {cfg.n_layer} layers x {cfg.n_embd} dims, {params:,} params, batch {args.batch} x {cfg.n_positions}, "
          f"{torch.get_num_threads()} threads")
    print(f"matmul FLOP rate at these shapes: {rate / 1e9:6.1f} GFLOP/s -> bound {bound:,.0f} tokens/s")
    print(f"training, eager attention: {eager:10,.0f} tokens/s  ({eager / bound:.2f}x the matmul bound)")
    print(f"training, sdpa attention:  {sdpa:10,.0f} tokens/s  ({sdpa / bound:.2f}x the matmul bound)")
    print(f"eager / sdpa: {eager / sdpa:.2f}x")


if __name__ == "__main__":
    main()
