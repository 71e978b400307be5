"""Benchmark: our streaming generator against plain transformers `generate` with the KV cache.

    python bench/generate_speed.py [--models base sft rlhf] [--tokens 40] [--repeats 7]

For each shipped model and each prompt format (the chat format and the raw text), both sides decode
greedily, batch 1, from the same prompt on the same loaded model, interleaved: transformers
`generate(max_new_tokens=N, eos_token_id=None)` and `engine.stream(..., ignore_stop=True)`, so
both make exactly N tokens (a stop token does not end either; N = --tokens, or fewer where the
context is shorter). The bench fails (exit status 1) if the two ever make a different number of
tokens, on any exception, and reports whether they made the same tokens (they may part after a
near-tie through float rounding). Prints, per model and format, the median tokens/s of each, their
ratio (target >= 1.0x) and our median time to the first token (target <= 5 ms, on the wall clock;
the CPU time the process spent until then is printed beside it: on this shared box the wall clock
of a few milliseconds mostly measures the other sessions), on the lab's torch_threads setting.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from studyapp.lab.common import MODELS_DIR, limit_threads  # noqa: E402
from studyapp.lab.generate import load_model, stream  # noqa: E402
from studyapp.lab.tokenizer import encode_prompt  # noqa: E402

TARGET_RATIO, TARGET_FIRST_MS = 1.0, 5.0


def bench(model, tok, prompt: str, chat: bool, tokens: int, repeats: int) -> dict:
    ids = torch.tensor([encode_prompt(tok, prompt, chat)])
    n = min(tokens, model.config.n_positions - ids.shape[1])
    if n < 1:
        raise RuntimeError(f"the prompt leaves no room to generate ({ids.shape[1]} tokens)")

    def run_hf():
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, do_sample=False,
                                 eos_token_id=None, pad_token_id=tok.pad_token_id, use_cache=True)
        return out[0, ids.shape[1]:].tolist(), time.perf_counter() - t0

    def run_ours():
        t0, c0 = time.perf_counter(), time.process_time()
        first, first_cpu, got = None, None, []
        for ev in stream(model, tok, prompt, max_new_tokens=n, greedy=True, chat=chat, ignore_stop=True):
            got.append(ev["id"])
            if first is None:
                first, first_cpu = time.perf_counter() - t0, time.process_time() - c0
        return got, time.perf_counter() - t0, first, first_cpu

    run_hf(), run_ours()  # warm-up
    hf, ours, firsts, first_cpus, same = [], [], [], [], True
    for _ in range(repeats):  # interleaved, so machine load hits both alike
        want, dt = run_hf()
        hf.append(len(want) / dt)
        got, dt, first, first_cpu = run_ours()
        if len(got) != len(want):
            raise RuntimeError(f"stream made {len(got)} tokens, generate {len(want)}: not the same work")
        same &= got == want
        ours.append(len(got) / dt)
        firsts.append(first)
        first_cpus.append(first_cpu)
    return {"n": n, "hf": statistics.median(hf), "ours": statistics.median(ours),
            "first_ms": statistics.median(firsts) * 1000, "first_cpu_ms": statistics.median(first_cpus) * 1000,
            "same": same}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["base", "sft", "rlhf"])
    ap.add_argument("--prompt", default="What is the capital of France?")
    ap.add_argument("--tokens", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    limit_threads()
    met = True
    for name in args.models:
        folder = MODELS_DIR / name if (MODELS_DIR / name).is_dir() else Path(name)
        model, tok = load_model(folder, "cpu")
        for chat in (True, False):
            r = bench(model, tok, args.prompt, chat, args.tokens, args.repeats)
            ratio = r["ours"] / r["hf"]
            ok = ratio >= TARGET_RATIO and r["first_ms"] <= TARGET_FIRST_MS
            met &= ok
            print(f"{name:>5} {'chat' if chat else 'raw ':4}: {r['n']} tokens, batch 1, greedy, {torch.get_num_threads()} "
                  f"thread(s): generate {r['hf']:7.1f} tok/s, stream {r['ours']:7.1f} tok/s, ratio {ratio:.2f}x; "
                  f"first token {r['first_ms']:.2f} ms ({r['first_cpu_ms']:.2f} ms CPU); same tokens: {'yes' if r['same'] else 'no'} "
                  f"-> {'met' if ok else 'NOT met'}", flush=True)
    print(f"targets: stream >= {TARGET_RATIO:.1f}x generate and first token <= {TARGET_FIRST_MS:.0f} ms "
          f"(medians of {args.repeats}) -> {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    from _common import run

    run(main)
