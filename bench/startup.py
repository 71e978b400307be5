"""Start-up time: process start to the first painted main window, against a torch-first start.

    .venv/bin/python bench/startup.py [--runs 5]

Each run is a fresh process, offscreen, on a fresh profile. The baseline is the same process
with `import torch, transformers` before the window is built: the cost the app avoids by loading
models behind the window. Prints the medians and the ratio (target: < 1.5 s and < 0.2x).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROBE = r"""
import os, sys, time
t0 = float(os.environ["BENCH_T0"])
if os.environ.get("BENCH_TORCH_FIRST"):
    import torch, transformers  # noqa: F401
from PySide6.QtCore import QEvent, QObject
from studyapp import config as cfg
from studyapp.app import _make_app, build_context, create_window
app = _make_app(sys.argv[:1])
conf = cfg.load_config({"data_dir": os.environ["BENCH_DATA"]})
window = create_window(build_context(conf))

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Paint:
            print(f"{time.time() - t0:.4f}", flush=True)
            os._exit(0)
        return False

probe = FirstPaint()
window.installEventFilter(probe)
window.show()
app.exec()
"""


def one_run(torch_first: bool) -> float:
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BENCH_DATA=data, BENCH_T0=repr(time.time()))
        if torch_first:
            env["BENCH_TORCH_FIRST"] = "1"
        out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    one_run(False)  # warm the file cache so neither side pays for the first read from disk
    ours, baseline = [], []
    for _ in range(args.runs):   # interleaved, so machine noise hits both alike
        ours.append(one_run(False))
        baseline.append(one_run(True))
    a, b = statistics.median(ours), statistics.median(baseline)
    print(f"first window, studyapp:     {a:.3f} s (median of {args.runs}; min {min(ours):.3f})")
    print(f"first window, torch first:  {b:.3f} s (median of {args.runs}; min {min(baseline):.3f})")
    print(f"ratio: {a / b:.2f}x   (targets: < 1.5 s, < 0.2x)")


if __name__ == "__main__":
    main()
