"""Flashcard decks as text files a teacher writes by hand (resources/decks/*.md).

    ---
    title: From base model to assistant
    ---
    ### What goes wrong when you ask a base model a question?
    It treats the question as the start of a document and continues it.
    Lesson: base-models#where-a-question-usually-lives-on-the-web
    Key: base-question

Each `### ` heading is a card's front; the lines up to the next heading are its back, except the
optional `Lesson: SLUG[#SECTION]` line (the lesson and `##` section that teach it) and the
`Key:` line. The key names the card for good: the learner's review history follows the key, so a
teacher may reword a card freely, but a changed key is a new card. The file name (without
`.md`) is the deck's id. Bad cards are reported with file and line; the rest of the deck loads.
No Qt here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from studyapp.content.frontmatter import ContentError, Invalid, load_files
from studyapp.content.lessons import split_front_matter

CARD_HEADING = re.compile(r"^###\s+(.+?)\s*$")
LESSON_LINE = re.compile(r"^Lesson:\s*([a-z0-9][a-z0-9-]*)\s*(?:#\s*([a-z0-9][a-z0-9-]*))?\s*$", re.I)
KEY_LINE = re.compile(r"^Key:\s*(\S+)\s*$", re.I)
KEY_CHARS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_TEXT = 4000


@dataclass(frozen=True)
class DeckCard:
    key: str
    front: str
    back: str
    lesson_id: str | None = None
    section_id: str | None = None
    line: int = 0


@dataclass
class Deck:
    id: str
    title: str
    path: Path
    cards: list[DeckCard] = field(default_factory=list)


DeckError = ContentError


def deck_id_of(path: Path) -> str:
    return path.stem


def _card(lines: list[tuple[int, str]], front: str, line: int,
          known: dict[str, set[str]] | None) -> DeckCard:
    key = lesson = section = None
    back: list[str] = []
    for number, text in lines:
        if match := KEY_LINE.match(text):
            if key is not None:
                raise Invalid(number, "a card has two 'Key:' lines")
            key = match.group(1)
            if not KEY_CHARS.match(key):
                raise Invalid(number, f"key {key!r}: use letters, digits, '-', '_' or '.'")
        elif match := LESSON_LINE.match(text):
            lesson, section = match.group(1), match.group(2)
            if known is not None:
                if lesson not in known:
                    raise Invalid(number, f"unknown lesson {lesson!r}")
                if section and section not in known[lesson]:
                    raise Invalid(number, f"lesson {lesson!r} has no section {section!r}")
        elif text.lower().startswith("lesson:"):
            raise Invalid(number, "write 'Lesson: lesson-slug' or 'Lesson: lesson-slug#section-id'")
        else:
            back.append(text)
    back_text = "\n".join(back).strip()
    if key is None:
        raise Invalid(line, f"card {front[:40]!r} has no 'Key:' line (a stable name for it)")
    if not back_text:
        raise Invalid(line, f"card {front[:40]!r} has no answer")
    if len(front) > MAX_TEXT or len(back_text) > MAX_TEXT:
        raise Invalid(line, f"card {front[:40]!r} is longer than {MAX_TEXT} characters")
    return DeckCard(key, front, back_text, lesson, section, line)


def parse_deck(path: Path, known: dict[str, set[str]] | None = None) -> tuple[Deck | None, list[DeckError]]:
    """One deck file. `known`: lesson slug -> its section ids, to check links (None: no check)."""
    errors: list[DeckError] = []
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [DeckError(path, 1, "the file is not valid UTF-8 text (save it as UTF-8)")]
    except OSError as exc:
        return None, [DeckError(path, 1, f"cannot read the file ({exc.strerror})")]
    try:
        meta, body, body_line = split_front_matter(text)
    except Invalid as exc:
        return None, [DeckError(path, exc.line, str(exc))]
    title = meta.get("title") if isinstance(meta.get("title"), str) else deck_id_of(path)
    deck = Deck(deck_id_of(path), title, path)
    # Split the body into (front, heading line, body lines) blocks.
    blocks: list[tuple[str, int, list[tuple[int, str]]]] = []
    for offset, line in enumerate(body.splitlines()):
        number = body_line + offset
        if heading := CARD_HEADING.match(line):
            blocks.append((heading.group(1), number, []))
        elif blocks:
            blocks[-1][2].append((number, line))
        elif line.strip() and not line.startswith("#"):
            errors.append(DeckError(path, number, "text before the first '### ' card heading is ignored"))
    seen: dict[str, int] = {}
    for front, number, lines in blocks:
        try:
            card = _card(lines, front, number, known)
        except Invalid as exc:
            errors.append(DeckError(path, exc.line, str(exc)))
            continue
        if card.key in seen:
            errors.append(DeckError(path, number, f"key {card.key!r} is already used on line {seen[card.key]}"))
            continue
        seen[card.key] = number
        deck.cards.append(card)
    return deck, errors


def load_decks(*folders: Path, known: dict[str, set[str]] | None = None) -> tuple[list[Deck], list[DeckError]]:
    """Every deck of the folders (see frontmatter.load_files); `known` checks lesson links."""
    return load_files(folders, lambda path: parse_deck(path, known), key=lambda deck: deck.id)


def card_html(text: str) -> str:
    """A card side (Markdown: `code`, **bold**, lists) as HTML, for the app and for Anki.

    Raw HTML in the text is shown as typed, not interpreted: a card saying "p < 0.05" or
    "<|endoftext|>" must read exactly so. One paragraph comes back without its <p> wrapper.
    """
    import markdown
    md = markdown.Markdown(extensions=["sane_lists"])
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    out = md.convert(text)
    if out.count("<p>") == 1 and out.startswith("<p>") and out.endswith("</p>"):
        out = out[3:-4]
    return out
