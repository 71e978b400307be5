"""`studyapp cards ...`: flashcards from the terminal.

    studyapp cards import FILE.csv [--deck my-cards]
    studyapp cards export --format csv|apkg --out FILE [--deck DECK]
    studyapp cards stats

The profile folder comes from studyapp.config (STUDYAPP_HOME, set by `studyapp --data-dir`).
Shipped decks are brought in first, as the app does on start, so an export holds them too.
Exit status: 0 done, 1 nothing imported (bad rows are listed on stderr), 2 unusable input.
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
    from studyapp.content.decks import load_decks
    from studyapp.content.lessons import load_lessons
    from studyapp.store import StoreError, open_profile

    from .cards import Cards


    try:
        config = cfg.load_config({})
        store = open_profile(config.data_path).store
    except (cfg.ConfigError, StoreError) as exc:
        print(f"studyapp cards: {exc}", file=sys.stderr)
        return 2
    try:
        lessons, _ = load_lessons(*config.content_folders("lessons"))
        known = {l.slug: {s.id for s in l.sections} for l in lessons}
        decks, deck_errors = load_decks(*config.content_folders("decks"), known=known)
        for error in deck_errors:
            print(f"studyapp cards: deck {error}", file=sys.stderr)
        cards = Cards(store)
        cards.sync_decks(decks)
        if args.command == "import":
            from .csvio import import_csv
            report = import_csv(cards, args.file, known, default_deck=args.deck)
            print(report.text(limit=1000), file=sys.stdout if report.ok else sys.stderr)
            return 0 if report.ok else 1
        if args.command == "export":
            if args.format == "csv":
                from .csvio import export_csv
                count = export_csv(cards, args.out, args.deck)
            else:
                from .apkg import export_apkg
                count = export_apkg(cards, args.out, args.deck)
            print(f"Exported {count} card(s) to {args.out}")
            return 0
        from .scheduling import Options
        from .stats import compute_stats
        stats = compute_stats(store.path, Options.load(store), store.now())
        print(" ".join(f"{k}={v}" for k, v in stats.counts.items()),
              f"reviews={stats.reviews_total} today={stats.reviews_today}",
              f"retention={stats.measured_retention if stats.measured_retention is None else round(stats.measured_retention, 3)}")
        return 0
    finally:
        store.close()
