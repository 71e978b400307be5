"""`studyapp lab generate` from launch to exit, against a bare `python -c "import torch"` launched
the same way, interleaved (issue 16: "`studyapp lab generate` returns in under 3 s on an idle machine").

    python bench/cli_generate.py [--runs 7] [--model sft] [--prompt "What is the capital of France?"]

Each run starts a fresh interpreter: A is `python -c "import torch"` (the least any command that runs
a torch model pays), B is `python -m studyapp.cli lab generate --greedy PROMPT` (40 tokens at most,
the command's default). A and B alternate, so both see the same load. Each is timed in wall
seconds and in the CPU seconds the child used (user + system, from getrusage): on this shared
2-core box the wall clock mostly measures the other sessions, CPU seconds are close to what an
idle machine's wall clock shows. Prints medians and B/A ratios; the verdict on "under 3 s" uses the
median CPU seconds and, separately, the median wall seconds. A run that fails, or a reply that is
empty or differs between runs (greedy), fails the bench.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 3.0


def timed(cmd: list[str], env: dict) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise SystemExit(f"bench FAILED: {' '.join(cmd)} exited {res.returncode}:\n{res.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, res.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--model", default="sft")
    ap.add_argument("--prompt", default="What is the capital of France?")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-c", "import torch"]
    gen = [sys.executable, "-m", "studyapp.cli", "lab", "generate", "--model", args.model, "--greedy", args.prompt]
    a_wall, a_cpu, b_wall, b_cpu, replies = [], [], [], [], set()
    for i in range(args.runs):
        w, c, _ = timed(base, env)
        a_wall.append(w)
        a_cpu.append(c)
        w, c, out = timed(gen, env)
        b_wall.append(w)
        b_cpu.append(c)
        replies.add(out.strip())
        print(f"run {i + 1}: import torch {a_wall[-1]:.2f} s ({a_cpu[-1]:.2f} s CPU); lab generate "
              f"{b_wall[-1]:.2f} s ({b_cpu[-1]:.2f} s CPU); load {os.getloadavg()[0]:.1f}", flush=True)
    if len(replies) != 1 or not next(iter(replies)):
        raise SystemExit(f"bench FAILED: greedy replies differ or are empty: {sorted(replies)}")
    med = statistics.median
    print(f"reply: {next(iter(replies))!r}")
    print(f"median of {args.runs}: import torch {med(a_wall):.2f} s wall, {med(a_cpu):.2f} s CPU; "
          f"lab generate {med(b_wall):.2f} s wall, {med(b_cpu):.2f} s CPU")
    print(f"ratio lab generate / import torch: wall {med(b_wall) / med(a_wall):.2f}x, CPU {med(b_cpu) / med(a_cpu):.2f}x")
    print(f"target under {TARGET_S:.0f} s: CPU {med(b_cpu):.2f} s -> {'met' if med(b_cpu) < TARGET_S else 'NOT met'}; "
          f"wall {med(b_wall):.2f} s -> {'met' if med(b_wall) < TARGET_S else 'NOT met'} "
          f"(load {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
