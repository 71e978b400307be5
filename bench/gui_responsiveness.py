"""How long the Qt event loop stalls while the compare tab streams and while PPO trains, against idle.

    .venv/bin/python bench/gui_responsiveness.py [--models models] [--seconds 4] [--no-ppo]

A probe QTimer asks to fire every 5 ms and records how late each firing is: a stall is the time
past its due moment, i.e. how long a click or a repaint would have waited. Phases, in one run and
one window (offscreen), each for --seconds:
  idle         the compare tab shown, nothing running (the baseline: the machine's own noise)
  stream       three columns streaming, a new run started whenever the last one ends
  ppo          studyapp.lab.ppo.train_ppo on a worker with a small config (when models/ holds
               sft and reward checkpoints), its progress delivered to the GUI thread each step
  ppo+stream   both at once
Prints the max, p99 and median stall per phase and the max against idle (target: max <= 50 ms).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROBE_MS = 5


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


class Probe:
    """A precise timer that records how late it fires, in ms."""

    def __init__(self):
        from PySide6.QtCore import QTimer, Qt

        self.timer = QTimer(timerType=Qt.PreciseTimer, interval=PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.stalls: list[float] = []
        self.last = 0.0

    def start(self) -> None:
        self.stalls.clear()
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return list(self.stalls)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.stalls.append(max(0.0, (now - self.last) * 1000 - PROBE_MS))
        self.last = now


def run_for(app, seconds: float, tick=None) -> None:
    """Run the event loop for `seconds`, as the app does (blocked in Qt between events)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    if tick is not None:
        keeper = QTimer(interval=20, timeout=tick)
        keeper.start()
    loop.exec()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=Path, default=None, help="folder with base/sft/rlhf/reward (default: models/)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each phase")
    parser.add_argument("--no-ppo", action="store_true", help="skip the PPO phases")
    args = parser.parse_args()

    from studyapp import config as cfg
    from studyapp.app import _make_app, build_context, create_window
    from studyapp.ui import worker

    data = tempfile.mkdtemp(prefix="bench-gui-")
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
    loaded = [s.column.spec.key for s in tab.slots if s.loaded is not None]
    tab.controls.max_new.setValue(64)
    tab.format.raw_radio.setChecked(True)           # raw text: the base model writes long continuations
    tab.prompt.setPlainText("Q: What is the capital of France?\nA:")
    while worker._live:
        app.processEvents()
        time.sleep(0.01)

    runs = {"n": 0, "tokens": 0}

    def keep_streaming() -> None:
        if not tab.busy() and not worker.running("bench-ppo-only"):
            runs["tokens"] += sum(len(c.tokens) for c in tab.columns)
            runs["n"] += 1
            tab.controls.seed.setValue(runs["n"])     # a new sample each run
            tab.generate()

    probe = Probe()
    results: dict[str, list[float]] = {}

    def phase(name: str, tick=None) -> None:
        probe.start()
        run_for(app, args.seconds, tick)
        results[name] = probe.stop()

    phase("idle")
    phase("stream", keep_streaming)
    tab.stop()
    while worker._live:
        app.processEvents()
        time.sleep(0.01)
    streamed = (runs["n"], runs["tokens"])

    models = Path(conf.models_path)
    ppo_note = ""
    if args.no_ppo:
        ppo_note = "PPO phases skipped (--no-ppo)"
    elif not ((models / "sft" / "config.json").exists() and (models / "reward" / "config.json").exists()):
        ppo_note = f"PPO phases skipped: {models} has no sft and reward checkpoints"
    else:
        from studyapp.lab.ppo import PPOConfig, train_ppo

        steps = {"n": 0}
        out = Path(tempfile.mkdtemp(prefix="bench-ppo-"))
        for name, tick in (("ppo", None), ("ppo+stream", keep_streaming)):
            config = PPOConfig(steps=10_000, batch_size=16, max_new_tokens=16, seed=0,
                               series_path=str(out / f"{name}.jsonl"))
            task = worker.run_in_background(
                train_ppo, str(models / "sft"), str(models / "reward"), str(out / name), config,
                on_progress=lambda info: steps.__setitem__("n", steps["n"] + 1),   # as a tab would
                on_error=lambda msg, tb: print(f"bench: PPO failed: {msg}\n{tb}", file=sys.stderr),
                label="bench PPO")
            run_for(app, 3.0)                # past loading the three models: measure the steps
            phase(name, tick)
            task.cancel()
            tab.stop()
            while worker._live:
                app.processEvents()
                time.sleep(0.01)
        ppo_note = f"PPO: {steps['n']} progress reports (batch 16 x 16 new tokens)"

    print(f"models: {models} (loaded: {', '.join(loaded)}); probe every {PROBE_MS} ms, "
          f"{args.seconds:g} s per phase; cores {os.cpu_count()}")
    print(f"streamed {streamed[1]} tokens in {streamed[0]} runs of three columns during 'stream'")
    if ppo_note:
        print(ppo_note)
    idle_max = max(results["idle"], default=0.0)
    print(f"{'phase':12s} {'max':>8s} {'p99':>8s} {'median':>8s} {'firings':>8s}  max vs idle")
    for name, stalls in results.items():
        worst = max(stalls, default=0.0)
        print(f"{name:12s} {worst:7.1f}ms {percentile(stalls, 0.99):7.1f}ms {statistics.median(stalls or [0]):7.2f}ms "
              f"{len(stalls):8d}  {worst - idle_max:+.1f} ms" + ("" if worst <= 50 else "  over the 50 ms target"))
    worker.cancel_all()
    window.close()
    ctx.store.close(backup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
