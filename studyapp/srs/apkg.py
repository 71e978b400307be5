"""Export cards to an Anki package (.apkg) with genanki.

The note type and deck ids are fixed numbers (derived from names, never random) so that
importing a newer export into Anki updates the same notes instead of duplicating them; each
note's guid comes from the card's shipped key, or from its profile id for the learner's own.
Card text is Markdown in studyapp; Anki gets HTML. Scheduling is not exported: Anki starts the
cards as new. No Qt here.
"""
from __future__ import annotations

import html
import zlib
from pathlib import Path

import genanki

from studyapp.content.decks import card_html

from .cards import Cards

MODEL_ID = 1_690_417_551          # fixed forever: "studyapp basic" note type
MODEL = genanki.Model(
    MODEL_ID, "studyapp basic",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Lesson"}],
    templates=[{
        "name": "Card 1",
        "qfmt": "<div class=front>{{Front}}</div>",
        "afmt": "{{FrontSide}}<hr id=answer><div class=back>{{Back}}</div>"
                "{{#Lesson}}<div class=lesson>{{Lesson}}</div>{{/Lesson}}",
    }],
    css=".card { font-family: sans-serif; font-size: 20px; text-align: left; max-width: 40em; "
        "margin: auto; } .lesson { margin-top: 1em; font-size: 14px; color: #777; } "
        "code { background: #f0f0f0; padding: 0 3px; }")


def deck_number(deck_id: str) -> int:
    """A stable Anki deck id for our deck name, in genanki's recommended range."""
    return (1 << 30) + zlib.crc32(f"studyapp:{deck_id}".encode()) % (1 << 30)


def to_html(text: str) -> str:
    return card_html(text)


def export_apkg(cards: Cards, path: Path, deck_id: str | None = None) -> int:
    """Write the cards of one deck (or all) to `path`; returns how many notes."""
    titles = {d.id: d.title for d in cards.decks()}
    decks: dict[str, genanki.Deck] = {}
    rows = list(reversed(cards.search("", deck_id=deck_id, limit=10_000_000)))
    keys = {r[0]: r[1] for r in cards.store.db.execute(
        "SELECT id, source_key FROM card WHERE source_key IS NOT NULL")}
    for row in rows:
        deck = decks.get(row["deck_id"])
        if deck is None:
            deck = decks[row["deck_id"]] = genanki.Deck(
                deck_number(row["deck_id"]), f"studyapp::{titles.get(row['deck_id'], row['deck_id'])}")
        lesson = row["lesson_id"] or ""
        if lesson and row["section_id"]:
            lesson += f" › {row['section_id']}"
        guid = genanki.guid_for("studyapp", keys.get(row["id"]) or f"card-{row['id']}")
        tags = [row["lesson_id"]] if row["lesson_id"] else []
        deck.add_note(genanki.Note(model=MODEL, fields=[to_html(row["front"]), to_html(row["back"]),
                                                        html.escape(lesson)],
                                   guid=guid, tags=tags))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(list(decks.values()) or [genanki.Deck(deck_number("empty"), "studyapp")]
                    ).write_to_file(str(path))
    return len(rows)
