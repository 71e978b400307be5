"""`studyapp cards ...`: flashcards from the terminal.

    studyapp cards import FILE.csv [--deck my-cards]
    studyapp cards export --format csv|apkg --out FILE [--deck DECK]
    studyapp cards stats

The profile folder comes from studyapp.config (STUDYAPP_HOME, set by `studyapp --data-dir`).
Shipped decks are brought in first, as the app does on start, so an export holds them too.
What opening the profile did (restored from a backup, set a damaged file aside, a read-only
file) is printed on stderr, as the app shows it in a dialog. Long imports and exports show a
progress bar (tqdm) on a terminal.
Exit status: 0 done, 1 nothing imported (bad rows are listed on stderr), 2 unusable input or a
profile that cannot be opened or written (a full disk, a read-only file: one line, no traceback).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studyapp cards", description="Flashcards: import and export.")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="add cards from a CSV file (front,back[,deck,lesson,section])")
    imp.add_argument("file", type=Path)
    imp.add_argument("--deck", default="my-cards", help="deck for rows without one (default my-cards)")
    exp = sub.add_parser("export", help="write cards to CSV or an Anki package")
    exp.add_argument("--format", choices=["csv", "apkg"], required=True)
    exp.add_argument("--out", type=Path, required=True)
    exp.add_argument("--deck", help="only this deck (default: all)")
    sub.add_parser("stats", help="print card counts and retention")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from studyapp import config as cfg
    from studyapp.store import StorageError, StoreError, open_profile

    try:
        config = cfg.load_config({})
        opened = open_profile(config.data_path)
    except (cfg.ConfigError, StoreError) as exc:
        print(f"studyapp cards: {exc}", file=sys.stderr)
        return 2
    for message in opened.messages:
        print(f"studyapp cards: {message}", file=sys.stderr)
    store = opened.store
    try:
        return _run(args, config, store)
    except StorageError as exc:   # a full disk, a read-only file, another program's lock
        print(f"studyapp cards: could not save to {exc.path}: {exc.cause}. Nothing was changed "
              "(the whole command is one transaction); fix that and run it again.", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"studyapp cards: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:      # the output file: a full disk, no permission
        print(f"studyapp cards: cannot write {exc.filename or args.out}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    finally:
        try:
            store.close()
        except StoreError as exc:
            print(f"studyapp cards: {exc}", file=sys.stderr)


def _progress_bar(total: int, what: str):
    """A tqdm bar on stderr (silent when stderr is not a terminal); use .update(n), .close()."""
    from tqdm import tqdm
    return tqdm(total=total, desc=what, unit=" cards", file=sys.stderr, disable=None,
                mininterval=0.5, leave=False)


def _run(args, config, store) -> int:
    from studyapp.content.decks import load_decks
    from studyapp.content.lessons import load_lessons

    from .cards import Cards

    lessons, _ = load_lessons(*config.content_folders("lessons"))
    known = {l.slug: {s.id for s in l.sections} for l in lessons}
    decks, deck_errors = load_decks(*config.content_folders("decks"), known=known)
    for error in deck_errors:
        print(f"studyapp cards: deck {error}", file=sys.stderr)
    cards = Cards(store)
    cards.sync_decks(decks)
    if args.command == "import":
        from .csvio import import_csv
        lines = _count_lines(args.file)
        bar = _progress_bar(lines, "import")
        try:
            report = import_csv(cards, args.file, known, default_deck=args.deck, progress=bar.update)
        finally:
            bar.close()
        print(report.text(limit=1000), file=sys.stdout if report.ok else sys.stderr)
        return 0 if report.ok else 1
    if args.command == "export":
        bar = _progress_bar(cards.count() if not args.deck else None, "export")
        try:
            if args.format == "csv":
                from .csvio import export_csv
                count = export_csv(cards, args.out, args.deck, progress=bar.update)
            else:
                from .apkg import export_apkg
                count = export_apkg(cards, args.out, args.deck, progress=bar.update)
        finally:
            bar.close()
        print(f"Exported {count} card(s) to {args.out}")
        return 0
    from .scheduling import Options
    from .stats import compute_stats
    stats = compute_stats(store.path, Options.load(store), store.now())
    print(" ".join(f"{k}={v}" for k, v in stats.counts.items()),
          f"reviews={stats.reviews_total} today={stats.reviews_today}",
          f"retention={stats.measured_retention if stats.measured_retention is None else round(stats.measured_retention, 3)}")
    return 0


def _count_lines(path: Path) -> int | None:
    # The bar's total: a record per line is close enough (multi-line cells make it an estimate).
    try:
        with open(path, "rb") as handle:
            return max(sum(1 for _ in handle) - 1, 0)
    except OSError:
        return None
