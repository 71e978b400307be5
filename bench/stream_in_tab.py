"""Streaming speed in the compare tab against the lab's own stream() loop, in one process.

    .venv/bin/python bench/stream_in_tab.py [--models models] [--rounds 15] [--tokens 48]

Baselines: studyapp.lab.generate.stream() called directly (with the per-token distributions, as
the tab asks for), on plain threads: (a) the three models one after another, (b) the three at once,
one thread each, which is the tab's own shape without Qt. Tab: the same prompt and settings sent
with the tab's Generate, three columns streaming through the worker helper and drawn by the tab's
timer, timed from the click until every token is on screen. Greedy decoding in raw mode, so all
make the very same tokens (checked). Rounds alternate the three so that a busy machine slows all
alike. Prints the medians and the ratios (target: tab >= 0.9x).

The baselines run on threads, not on the main thread, on purpose: with torch's default OpenMP
threads, the main thread measured 20-40x slower than any other thread on a busy 2-core machine
(the OpenMP team spins while its cores run other processes), which would flatter the tab.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPT = "The capital of France is Paris. The capital of"   # raw text: the base model keeps going


def _answer(info, settings: dict) -> list[int]:
    from studyapp.lab.generate import stream

    return [e["id"] for e in stream(info.model, info.tokenizer, PROMPT, return_dist=True, **settings)]


def direct_round(loaded: list, settings: dict, together: bool) -> tuple[int, float, list[list[int]]]:
    """The models' answers straight from stream(): one thread after another, or all at once."""
    ids: list = [None] * len(loaded)

    def run(i: int) -> None:
        ids[i] = _answer(loaded[i], settings)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(loaded))]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
        if not together:
            t.join()
    for t in threads:
        t.join()
    return sum(map(len, ids)), time.perf_counter() - t0, ids


def tab_round(app, tab) -> tuple[int, float, list[list[int]]]:
    """Click Generate and run the event loop (blocked in Qt, as in the app) until all columns end."""
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    t0 = time.perf_counter()
    tab.generate()
    tasks = [s.task for s in tab.slots]
    ended: list[float] = []

    def one_ended() -> None:
        # A task's finished signal comes after its result, whose handler drew the last tokens.
        ended.append(time.perf_counter())
        if len(ended) == len(tasks):
            loop.quit()

    for task in tasks:
        task.finished.connect(one_ended)
    loop.exec()
    elapsed = ended[-1] - t0
    ids = [[t["id"] for t in c.tokens] for c in tab.columns]
    return sum(map(len, ids)), elapsed, ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=Path, default=None, help="folder with base/sft/rlhf (default: models/)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tokens", type=int, default=48, help="max new tokens per answer")
    args = parser.parse_args()

    from studyapp import config as cfg
    from studyapp.app import _make_app, build_context, create_window
    from studyapp.ui import worker

    data = tempfile.mkdtemp(prefix="bench-stream-")
    conf = cfg.load_config({"data_dir": data, "models_dir": args.models}, env={})
    app = _make_app(sys.argv[:1])
    ctx = build_context(conf)
    window = create_window(ctx)
    window.resize(1280, 820)
    window.show_tab("compare")
    window.show()
    tab = window.tab_widgets["compare"]
    while worker._live:                      # models load, the first-open answer runs
        app.processEvents()
        time.sleep(0.01)
    if any(s.loaded is None for s in tab.slots):
        print("bench: a model did not load:", [s.column.message for s in tab.slots], file=sys.stderr)
        return 2
    tab.prompt.setPlainText(PROMPT)
    tab.format.raw_radio.setChecked(True)
    tab.controls.greedy.setChecked(True)
    tab.controls.max_new.setValue(args.tokens)
    settings = {k: v for k, v in tab.settings().items()}
    loaded = [s.loaded for s in tab.slots]
    tab_round(app, tab)                      # warm-up of every path
    direct_round(loaded, settings, together=False)

    names = ("one after another", "three threads at once", "tab")
    speeds: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.rounds):
        rounds = {"one after another": direct_round(loaded, settings, together=False),
                  "three threads at once": direct_round(loaded, settings, together=True),
                  "tab": tab_round(app, tab)}
        for name, (n, seconds, ids) in rounds.items():
            speeds[name].append(n / seconds)
            if ids != rounds["one after another"][2]:
                print(f"bench: '{name}' made other tokens than the direct loop", file=sys.stderr)
                return 1
    import torch

    print(f"{n} tokens per round (3 models x up to {args.tokens}), {args.rounds} rounds, "
          f"torch threads {torch.get_num_threads()}, cores {os.cpu_count()}")
    for name, label in zip(names, ("stream() directly, models one after another",
                                   "stream() directly, three threads at once", "compare tab, three columns")):
        v = speeds[name]
        print(f"{label:46s} median {statistics.median(v):7.1f} tokens/s  (min {min(v):.1f}, max {max(v):.1f})")
    # Ratios of rounds run back to back: a busy machine changes speed over seconds, and a ratio of
    # neighbours cancels most of that, where a ratio of two medians would not.
    for base in names[:2]:
        pairs = [t / d for t, d in zip(speeds["tab"], speeds[base])]
        print(f"ratio tab / {base + ':':24s} median of rounds {statistics.median(pairs):.2f}x, "
              f"of medians {statistics.median(speeds['tab']) / statistics.median(speeds[base]):.2f}x"
              + ("  (target >= 0.9x)" if base == names[1] else ""))
    worker.cancel_all()
    window.close()
    ctx.store.close(backup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
