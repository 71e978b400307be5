"""Benchmark: our streaming generator against plain transformers `generate` with the KV cache.

    python bench/generate_speed.py [--model models/base] [--tokens 40] [--repeats 7]

Both decode greedily, batch 1, from the same prompt on the same model in the same run; we report
tokens/s of each, their ratio (target >= 0.9x) and our time to the first token (target <= 20 ms).
"""

import argparse
import statistics
import time

import torch

from studyapp.lab.common import MODELS_DIR, limit_threads
from studyapp.lab.generate import load_model, stream
from studyapp.lab.tokenizer import encode_prompt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(MODELS_DIR / "base"))
    ap.add_argument("--prompt", default="What is the capital of France?")
    ap.add_argument("--tokens", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--chat", action="store_true")
    args = ap.parse_args()
    limit_threads()
    model, tok = load_model(args.model, "cpu")
    ids = torch.tensor([encode_prompt(tok, args.prompt, args.chat)])
    n = min(args.tokens, model.config.n_positions - ids.shape[1])

    def run_hf():
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n,
                                 do_sample=False, pad_token_id=tok.pad_token_id, use_cache=True)
        return out.shape[1] - ids.shape[1], time.perf_counter() - t0

    def run_ours():
        t0 = time.perf_counter()
        first, count = None, 0
        for _ in stream(model, tok, args.prompt, max_new_tokens=n, greedy=True, chat=args.chat):
            count += 1
            if first is None:
                first = time.perf_counter() - t0
        return count, time.perf_counter() - t0, first

    run_hf(), run_ours()  # warm-up
    hf, ours, firsts = [], [], []
    for _ in range(args.repeats):  # interleaved, so machine load hits both alike
        k, dt = run_hf()
        hf.append(k / dt)
        k, dt, first = run_ours()
        ours.append(k / dt)
        firsts.append(first)
    hf_tps, our_tps, first_ms = statistics.median(hf), statistics.median(ours), statistics.median(firsts) * 1000
    print(f"model {args.model}: {n} new tokens, batch 1, greedy, {torch.get_num_threads()} threads")
    print(f"transformers generate (KV cache): {hf_tps:8.1f} tokens/s")
    print(f"studyapp stream      (KV cache): {our_tps:8.1f} tokens/s")
    print(f"ratio stream / generate: {our_tps / hf_tps:.2f}x (target >= 0.9x)")
    print(f"first token: {first_ms:.1f} ms (target <= 20 ms)")


if __name__ == "__main__":
    main()
