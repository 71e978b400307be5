"""Start-up: process start to the first full frame of the main window, against two baselines.

    .venv/bin/python bench/startup.py [--runs 7] [--profile fresh|used|both] [--no-torch-first]

Three kinds of start, each a fresh process, offscreen, timed by the same probe
(studyapp.ui.first_frame: the end of the last paint before the window settles, not the first
Paint event; process start read from /proc, so interpreter start-up and imports count):
  minimal      a minimal PySide6 program: QApplication, a QMainWindow with a label, shown
  studyapp     `python -m studyapp --data-dir D` with STUDYAPP_QUIT_AFTER_FIRST_PAINT=1, the
               hook the app itself has (the real command, its argument parsing and profile included)
  torch-first  the same command after `import torch, transformers` (what loading models before
               the window would cost)
The kinds run interleaved (one of each per round, the order rotated every round) so machine noise
hits them alike; medians of --runs rounds (at least 5) after one warm-up round that is not counted.
A start that crashes or exits non-zero fails the whole bench. Peak resident memory is read at the
first full frame. --profile used opens a profile that was made by an earlier start (the common
case: its lesson cache is there, so neither Markdown nor sqlite_utils loads before the first
frame); fresh makes a new one each time (the first start ever: the schema is created, on the
plain connection, and the lessons parsed, so Markdown loads first, on a thread). --profile both times the two side by side in the same rounds
(kinds "studyapp" and "studyapp-fresh"), so that their ratios to the minimal window compare
directly; --no-torch-first leaves out the slowest kind when only those ratios are wanted.

Run it from the repository root (or the snapshot being measured): `python -m studyapp` finds the
package in the current directory before PYTHONPATH.

Targets (issue 16): first window <= 3x the minimal window, under 1 s on an idle machine, peak
memory under 200 MiB. The load average is printed: on a busy machine read the ratios, not the
seconds.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import run

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = r"""
import sys
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
from studyapp.ui.first_frame import FirstFrame
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QLabel("Hello"))
window.resize(1280, 680)

def settled(seconds, peak_mib):
    print(f"first full frame: {seconds:.3f} s, peak memory: {peak_mib:.0f} MiB", flush=True)
    app.quit()

probe = FirstFrame(window, settled)
window.show()
sys.exit(app.exec())
"""

TORCH_FIRST = r"""
import sys
import torch, transformers  # noqa: F401
from studyapp.cli import main
sys.exit(main(sys.argv[1:]))
"""

LINE = re.compile(r"first full frame: ([0-9.]+) s, peak memory: ([0-9.]+) MiB")
KINDS = ("minimal", "studyapp", "studyapp-fresh", "torch-first")


class BenchFailure(RuntimeError):
    pass


def command(kind: str, data: str) -> list[str]:
    app = ["--data-dir", data]
    if kind == "minimal":
        return [sys.executable, "-c", MINIMAL]
    if kind == "torch-first":
        return [sys.executable, "-c", TORCH_FIRST, *app]
    return [sys.executable, "-m", "studyapp", *app]   # studyapp, studyapp-fresh


def one_run(kind: str, data: str) -> tuple[float, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDYAPP_QUIT_AFTER_FIRST_PAINT="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    try:
        out = subprocess.run(command(kind, data), env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as exc:
        raise BenchFailure(f"{kind}: no first frame within {exc.timeout} s") from None
    match = LINE.search(out.stdout)
    if out.returncode != 0 or match is None:
        raise BenchFailure(f"{kind}: exit code {out.returncode}, no timing line\n"
                           f"stdout: {out.stdout[-2000:]}\nstderr: {out.stderr[-2000:]}")
    return float(match.group(1)), float(match.group(2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", choices=["fresh", "used", "both"], default="used")
    parser.add_argument("--no-torch-first", action="store_true", help="leave out the torch-first kind")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5 (the targets are medians of at least 5)")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    kinds = tuple(k for k in KINDS if not (k == "torch-first" and args.no_torch_first)
                  and not (k == "studyapp-fresh" and args.profile != "both"))
    # With --profile fresh the kind "studyapp" is itself the first start (and torch-first too).
    fresh_kinds = {"studyapp-fresh"} if args.profile == "both" else \
        set(kinds) - {"minimal"} if args.profile == "fresh" else set()
    times: dict[str, list[float]] = {k: [] for k in kinds}
    peaks: dict[str, list[float]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="studyapp-startup-") as tmp:
        used = str(Path(tmp) / "used")
        try:
            for round_ in range(args.runs + 1):   # round 0 warms the file cache and makes the profile
                shift = round_ % len(kinds)
                order = kinds[shift:] + kinds[:shift]
                for kind in order:
                    # A first start gets a new, empty data folder every time: no profile, no cache.
                    data = tempfile.mkdtemp(dir=tmp) if kind in fresh_kinds else used
                    seconds, peak = one_run(kind, data)
                    if round_:
                        times[kind].append(seconds)
                        peaks[kind].append(peak)
        except BenchFailure as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
    med = {k: statistics.median(v) for k, v in times.items()}
    for kind in kinds:
        print(f"first full frame, {kind:<14} {med[kind]:.3f} s  (median of {args.runs}; "
              f"min {min(times[kind]):.3f}, max {max(times[kind]):.3f}); "
              f"peak memory {statistics.median(peaks[kind]):.0f} MiB")
    for kind in (k for k in kinds if k.startswith("studyapp")):
        # Each round's own ratio too: its range says how much of the spread is the machine's.
        ratios = [t / m for t, m in zip(times[kind], times["minimal"])]
        what = f"{kind} ({'first start, no profile' if kind in fresh_kinds else 'existing profile'})"
        print(f"{what} / minimal PySide6 window: {med[kind] / med['minimal']:.2f}x   (target <= 3x; "
              f"per round {min(ratios):.2f}-{max(ratios):.2f}x)")
        if "torch-first" in med:
            print(f"{what} / torch-first start:      {med[kind] / med['torch-first']:.2f}x")
        print(f"{what} first full frame:         {med[kind]:.3f} s   (target < 1 s on an idle machine)")
        print(f"{what} peak memory at first frame: {max(peaks[kind]):.0f} MiB "
              "(largest of the runs; target < 200 MiB)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    run(main)
