"""`studyapp lab ...`: train the lab's models, talk to one, print the report. No GUI.

    studyapp lab train [--stages pretrain,sft,reward,ppo] [--quick] [--seed N] [--out DIR]
    studyapp lab seeds RUN_DIR... [--out DIR]                  (one table over several seeds)
    studyapp lab methods [--models DIR] [--out DIR] [--seed N]   (best-of-n, DPO, GRPO beside PPO)
    studyapp lab experiments [NAME...] [--models DIR] [--seeds 0 1 2]  (the claims' experiments)
    studyapp lab generate [--model sft] [--base-format] [--greedy] [--max-new-tokens N] "prompt"
    studyapp lab report [--json] [--models DIR] [--measure]

The top-level `studyapp` command calls `main(argv)` with the arguments after "lab";
`python -m studyapp.lab.cli ...` works too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .common import MODELS_DIR, Cancelled, LabError


class ProgressBar:
    """A carriage-return progress bar on stderr, one line per stage; the progress callback."""

    def __init__(self, stream=sys.stderr, width: int = 28) -> None:
        self.stream, self.width = stream, width
        self.stage = None
        self.t0 = time.perf_counter()
        self.tty = stream.isatty()
        self.last_draw = 0.0

    def __call__(self, ev: dict) -> None:
        stage, step, total = ev.get("stage"), ev.get("step", 0), max(1, ev.get("total", 1) or 1)
        if stage != self.stage:
            if self.stage is not None:
                self.stream.write("\n")
            self.stage, self.t0 = stage, time.perf_counter()
        now = time.perf_counter()
        # Redraw at most ~10 times a second (and always at the end) so logs to a file stay short.
        if now - self.last_draw < 0.1 and step < total and not ev.get("done"):
            return
        self.last_draw = now
        filled = int(self.width * min(step, total) / total)
        bits = [f"{k.split('/')[-1]}={v:.3g}" for k, v in ev.items()
                if k in ("loss", "objective/kl", "objective/scores", "accuracy") and isinstance(v, (int, float))]
        line = (f"{stage:>9} [{'#' * filled}{'.' * (self.width - filled)}] {step}/{total} "
                f"{now - self.t0:6.1f}s {' '.join(bits)}")
        self.stream.write(("\r" if self.tty else "\n") + line.ljust(90))
        self.stream.flush()

    def close(self) -> None:
        if self.stage is not None:
            self.stream.write("\n")
            self.stream.flush()


def _train(args) -> int:
    from .pipeline import parse_stages, run_pipeline

    bar = ProgressBar()
    try:
        res = run_pipeline(parse_stages(args.stages), out_dir=args.out or default_out(), seed=args.seed,
                           quick=args.quick,
                           progress=bar, report=not args.no_report,
                           log=lambda msg: (bar.close(), print(msg, file=sys.stderr)))
    finally:
        bar.close()
    secs = res["seconds"]
    print(json.dumps({"seconds": secs}, indent=2))
    return 0


def default_out() -> Path:
    """Where `lab train` writes without --out: the shipped models/ in a writable source checkout
    (that is how they are made), else the learner's data folder, so that an installed app never
    writes inside its install folder."""
    import os

    from .common import REPO_ROOT

    if (not getattr(sys, "frozen", False) and (REPO_ROOT / "pyproject.toml").is_file()
            and os.access(MODELS_DIR, os.W_OK)):
        return MODELS_DIR
    from studyapp.config import load_config
    return load_config().data_path / "models"


def _generate(args) -> int:
    from .generate import load_for_command, stream

    model, tokenizer = load_for_command(args.model)   # a lab folder: no transformers import
    chat = not args.base_format and args.model != "base"
    for ev in stream(model, tokenizer, args.prompt, max_new_tokens=args.max_new_tokens,
                     temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, seed=args.seed,
                     greedy=args.greedy, chat=chat):
        sys.stdout.write(ev["text"])
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def _report(args) -> int:
    from .report import build_report, load_report, render_markdown, write_report

    folder = Path(args.models or MODELS_DIR)
    rep = None if args.measure else load_report(folder)
    if rep is None:
        rep = build_report(folder)
        write_report(rep, folder)
    print(json.dumps(rep, indent=2, default=str) if args.json else render_markdown(rep))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="studyapp lab", description="The tiny-model lab: train, generate, report.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="run the pipeline (pretrain, sft, reward, ppo) and write the report")
    t.add_argument("--stages", default=None, help="comma-separated subset of pretrain,sft,reward,ppo")
    t.add_argument("--quick", action="store_true", help="tiny settings that finish in seconds (tests)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", default=None, help=f"models folder (default {MODELS_DIR} in a source "
                   "checkout, else models/ in your data folder)")
    t.add_argument("--no-report", action="store_true", help="skip the report at the end")
    t.set_defaults(func=_train)

    g = sub.add_parser("generate", help="stream a reply from a model")
    g.add_argument("prompt")
    g.add_argument("--model", default="sft", help="base, sft, rlhf or a model folder")
    g.add_argument("--base-format", action="store_true", help="send the bare text, no chat format")
    g.add_argument("--greedy", action="store_true")
    g.add_argument("--temperature", type=float, default=0.7)
    g.add_argument("--top-k", type=int, default=0)
    g.add_argument("--top-p", type=float, default=1.0)
    g.add_argument("--max-new-tokens", type=int, default=40)
    g.add_argument("--seed", type=int, default=None)
    g.set_defaults(func=_generate)

    r = sub.add_parser("report", help="print the report card (measured on the models)")
    r.add_argument("--json", action="store_true")
    r.add_argument("--models", default=None, help=f"models folder (default {MODELS_DIR})")
    r.add_argument("--measure", action="store_true", help="re-measure even if report.json exists")
    r.set_defaults(func=_report)
    s = sub.add_parser("seeds", help="one table of the report's figures over several seeds' runs")
    s.add_argument("runs", nargs="+", help="folders `lab train --out` wrote, one per seed")
    s.add_argument("--out", default=None, help=f"where seeds.json and seeds.md go (default {MODELS_DIR})")
    s.set_defaults(func=_seeds)

    sub.add_parser("methods", add_help=False,
                help="best-of-n, DPO and GRPO beside PPO on the same axes (writes models/methods)")
    sub.add_parser("experiments", add_help=False,
                help="the claims' experiments over several seeds (writes models/experiments)")
    # Listed for --help only: main() hands `methods ...` and `experiments ...` to their runners
    # before parsing.
    return p


def _seeds(args) -> int:
    from .seeds import render_markdown, summarise, write

    summary = summarise(args.runs)
    write(summary, args.out or MODELS_DIR)
    print(render_markdown(summary))
    return 0


def _methods(argv: list[str]) -> int:
    from .methods import main as methods_main

    methods_main(argv)
    return 0


def _experiments(argv: list[str]) -> int:
    from .experiments import main as experiments_main

    experiments_main(argv)
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["methods"]:
        # The runner parses its own options (its module is also run as a script).
        run = lambda: _methods(argv[1:])  # noqa: E731
    elif argv[:1] == ["experiments"]:
        run = lambda: _experiments(argv[1:])  # noqa: E731
    else:
        args = build_parser().parse_args(argv)
        run = lambda: args.func(args)  # noqa: E731
    try:
        return run()
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (Cancelled, KeyboardInterrupt):
        print("\ncancelled; the previous checkpoints are untouched", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
