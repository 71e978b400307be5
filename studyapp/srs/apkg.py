"""Export cards to an Anki package (.apkg) with genanki.

The note type and deck ids are fixed numbers (derived from names, never random) so that
importing a newer export into Anki updates the same notes instead of duplicating them; each
note's guid is the card's own stored guid (random per card, derived from the deck key for a
shipped card; see studyapp/store/cards.py), so two learners' cards never share one.
Card text is Markdown in studyapp; Anki gets HTML, cleaned by nh3 (the Ammonia sanitizer): an
allow-list of tags, links only to http, https and mailto, no attributes that run code or style,
and no remote resources (an <img> keeps a src only when it names a local media file), so an
imported text cannot put a tracking pixel or a javascript: link into a learner's Anki.
Scheduling is not exported: Anki starts the cards as new. No Qt here.
"""
from __future__ import annotations

import html
import zlib
from collections.abc import Callable
from functools import lru_cache
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


ALLOWED_TAGS = {"p", "br", "hr", "strong", "em", "b", "i", "u", "s", "sub", "sup", "code", "pre",
                "kbd", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
                "table", "thead", "tbody", "tr", "th", "td", "a", "img", "span", "div"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"},
                      "ol": {"start"}, "th": {"align"}, "td": {"align"}}
LINK_SCHEMES = {"http", "https", "mailto"}


def _local_media_only(tag: str, attribute: str, value: str) -> str | None:
    # An <img src> that names a scheme or a host is a remote fetch (a tracking pixel); a plain
    # file name is Anki's local media folder.
    if tag == "img" and attribute == "src":
        plain = value.strip()
        if ":" in plain or plain.startswith(("/", "\\")):
            return None
    return value


@lru_cache(maxsize=1)
def _cleaner():
    import nh3
    return nh3.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=LINK_SCHEMES,
                       attribute_filter=_local_media_only, link_rel="noopener noreferrer")


def sanitize_html(markup: str) -> str:
    """Card HTML with only allow-listed tags, attributes and link schemes, nothing remote."""
    return _cleaner().clean(markup)


def to_html(text: str) -> str:
    return sanitize_html(card_html(text))


def export_apkg(cards: Cards, path: Path, deck_id: str | None = None,
                progress: Callable[[int], None] | None = None) -> int:
    """Write the cards of one deck (or all) to `path`; returns how many notes.
    `progress(n)` is told every 1000 notes prepared (writing the file itself is one step)."""
    titles = {d.id: d.title for d in cards.decks()}
    decks: dict[str, genanki.Deck] = {}
    rows = list(reversed(cards.search("", deck_id=deck_id, limit=10_000_000)))
    for index, row in enumerate(rows, start=1):
        deck = decks.get(row["deck_id"])
        if deck is None:
            deck = decks[row["deck_id"]] = genanki.Deck(
                deck_number(row["deck_id"]), f"studyapp::{titles.get(row['deck_id'], row['deck_id'])}")
        lesson = row["lesson_id"] or ""
        if lesson and row["section_id"]:
            lesson += f" › {row['section_id']}"
        tags = [row["lesson_id"]] if row["lesson_id"] else []
        deck.add_note(genanki.Note(model=MODEL, fields=[to_html(row["front"]), to_html(row["back"]),
                                                        html.escape(lesson)],
                                   guid=row["guid"], tags=tags))
        if progress and index % 1000 == 0:
            progress(1000)
    if progress:
        progress(len(rows) % 1000)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(list(decks.values()) or [genanki.Deck(deck_number("empty"), "studyapp")]
                    ).write_to_file(str(path))
    return len(rows)
