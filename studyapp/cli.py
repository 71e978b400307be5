"""The `studyapp` command: the GUI by default, sub-commands for headless work.

    studyapp                                   the app, on the profile in the user data folder
    studyapp --data-dir PATH                   ... on another profile (or STUDYAPP_HOME=PATH)
    studyapp screenshot --tab lessons --out lessons.png [--size 1000x700]
    studyapp lab train|generate|report ...     the model lab (see `studyapp lab --help`)
    studyapp cards import|export ...           flashcards from the terminal
    studyapp content check PATH                validate a content pack, every problem with file and line
    studyapp config check [FILE]               validate the site configuration (for an administrator)
    studyapp class report FOLDER               merge a class's exported results into tables and plots
    studyapp self-test                         prove this installation works (offscreen, offline)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studyapp import config as cfg


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1000x700, got {text!r}")
    if not (200 <= width <= 8000 and 200 <= height <= 8000):
        raise argparse.ArgumentTypeError("width and height must be between 200 and 8000 pixels")
    return width, height


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studyapp", description="From base model to assistant: an offline course with a real tiny model.")
    parser.add_argument("--data-dir", type=Path, help="profile folder (default: the user data folder; env STUDYAPP_HOME)")
    parser.add_argument("--profile", help="profile name inside the user data folder (default: default)")
    parser.add_argument("--theme", choices=["light", "dark", "system"], help="colour theme")
    parser.add_argument("--models-dir", type=Path, help="folder with base/sft/reward/rlhf models")
    parser.add_argument("--content-dir", type=Path, help="extra content pack folder")
    sub = parser.add_subparsers(dest="command")
    shot = sub.add_parser("screenshot", help="render the main window with a tab open into a PNG")
    shot.add_argument("--tab", required=True, help="short tab name, e.g. lessons")
    shot.add_argument("--out", required=True, type=Path, help="PNG file to write")
    shot.add_argument("--size", type=_size, default=None,
                      help="window size WxH (default: the size the app first opens at, 1280x680)")
    for name, (_module, text) in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


# Sub-commands with parsers of their own, in packages that load heavy libraries only when run.
DELEGATED = {
    "lab": ("studyapp.lab.cli", "the model lab: train, generate, report"),
    "cards": ("studyapp.srs.cli", "flashcards: import and export (CSV, Anki .apkg)"),
    "content": ("studyapp.content.check", "content packs: `studyapp content check PATH`"),
    "config": ("studyapp.config", "settings: `studyapp config check [FILE]` validates the site file"),
    "self-test": ("studyapp.selftest", "check this installation offscreen, with no network"),
    "class": ("studyapp.classreport", "a class's results: `studyapp class report FOLDER`"),
}


GLOBAL_WITH_VALUE = {"--data-dir", "--profile", "--theme", "--models-dir", "--content-dir"}


def _command_index(argv: list[str]) -> int | None:
    """Where the sub-command stands: the first word that is not a global option or its value."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in GLOBAL_WITH_VALUE:
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            return i
    return None


FLAG_KEYS = ("data_dir", "profile", "theme", "models_dir", "content_dir")


def lab_policy(argv: list[str], config: cfg.Config) -> str | None:
    """Why `studyapp lab ARGV` is refused on this machine, or None. With allow_own_models off, the
    lab's command line may only load the course models: `generate --model FOLDER`,
    `report --models DIR` and `train --out DIR --stages sft,...` would load any folder (the GUI hides
    the same thing)."""
    if config.allow_own_models:
        return None
    from studyapp.lab.cli import build_parser as lab_parser
    from studyapp.lab.generate import MODEL_NAMES

    try:
        args, _ = lab_parser().parse_known_args(argv)
    except SystemExit:
        return None   # the lab's own parser reports the mistake when it runs
    course = {config.models_path.resolve(), cfg.MODELS_DIR.resolve()}
    why = (f"loading your own model folders is turned off on this machine (allow_own_models = false, "
           f"from {config.source('allow_own_models')} configuration"
           + (f" {next(iter(config.site_files[-1:]), '')}" if config.source("allow_own_models") == "site" else "")
           + ")")
    if args.command == "generate" and args.model not in MODEL_NAMES:
        folder = Path(args.model).expanduser().resolve()
        if folder.parent not in course:
            return f"studyapp lab generate --model {args.model}: {why}; use --model base, sft or rlhf"
    if args.command == "train" and args.out and args.stages and "pretrain" not in args.stages.split(","):
        # Later stages start from the checkpoints already in --out, which may be anyone's.
        if Path(args.out).expanduser().resolve() not in course:
            return (f"studyapp lab train --out {args.out} --stages {args.stages}: {why}; these stages would "
                    "start from the models in that folder: include pretrain, or leave out --out")
    if args.command == "report" and args.models:
        if Path(args.models).expanduser().resolve() not in course:
            return f"studyapp lab report --models {args.models}: {why}; leave out --models"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    index = _command_index(argv)
    head = build_parser().parse_args(argv[:index] if index is not None and argv[index] in DELEGATED else argv)
    config = cfg.load_config({key: getattr(head, key) for key in FLAG_KEYS})
    command = argv[index] if index is not None else None
    for problem in config.problems:   # the GUI shows them in a dialog too
        if command != "config" or problem.where == "command line":   # `config` reports the rest itself
            print(f"studyapp: warning: {problem}", file=sys.stderr)
    if index is not None and argv[index] in DELEGATED:
        import importlib
        import os
        # Delegates read settings through config.load_config(); global flags reach them as the
        # environment layer, except a flag that a lock refuses.
        for key in FLAG_KEYS:
            if getattr(head, key) is not None and key not in config.locked:
                os.environ[cfg.KEYS[key].env] = str(getattr(head, key))
        if argv[index] == "lab":
            refused = lab_policy(argv[index + 1:], config)
            if refused:
                print(refused, file=sys.stderr)
                return 2
        return importlib.import_module(DELEGATED[argv[index]][0]).main(argv[index + 1:])
    args = head
    if args.command == "screenshot":
        from studyapp.app import screenshot
        return screenshot(config, args.tab, args.out, args.size)
    from studyapp.display_check import check as check_display
    if (problem := check_display()) is not None:   # before Qt can abort with a core dump
        return print(problem, file=sys.stderr) or 3
    from studyapp.app import run_gui
    return run_gui(config)


if __name__ == "__main__":
    sys.exit(main())
