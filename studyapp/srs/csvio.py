"""Cards to and from CSV: validated import (all rows or none) and an export that imports back.

The columns, with a header row: front, back[, deck, lesson, section, guid]. Extra columns are an
error (a typo in a header would otherwise drop data silently). Every problem is reported as
"line N: ..." with N the file's line where the record starts, and nothing is imported unless
every row is good. No Qt here.

Importing twice adds nothing twice (Anki: "already present"). A row with the guid of a card in
the profile updates that card (its text, deck and link; its schedule and history stay) or is
skipped when nothing differs; a deleted card comes back. A row without a guid is skipped when a
card with the same deck, front and back exists. The report counts added, updated and skipped.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a formula:
"=HYPERLINK(...)" from an imported deck would reach a teacher's spreadsheet live. The export
writes such a cell with a leading ' (OWASP's advice; Excel, LibreOffice and Google Sheets show
the text and hide the quote), and the import takes the quote off again, so a round trip is exact.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studyapp.wording import count

from .cards import MAX_TEXT, MY_DECK, Cards

COLUMNS = ("front", "back", "deck", "lesson", "section", "guid")
REQUIRED = ("front", "back")
MAX_ROWS = 100_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Progress = Callable[[int], None]   # called with the number of cards done since the last call


@dataclass
class ImportReport:
    added: list[int] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)   # (line, message)
    updated: list[int] = field(default_factory=list)
    skipped: int = 0                # already in the profile, unchanged (or twice in the file)

    @property
    def ok(self) -> bool:
        return not self.errors

    def text(self, limit: int = 50) -> str:
        if self.ok:
            text = f"Imported {count(len(self.added), 'card')}."
            if self.updated:
                text += f" Updated {count(len(self.updated), 'card')} already in your profile."
            if self.skipped:
                text += f" Skipped {count(self.skipped, 'card')} already present."
            return text
        lines = [f"Nothing was imported: {count(len(self.errors), 'problem')}."]
        lines += [f"line {line}: {message}" for line, message in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"... and {len(self.errors) - limit} more")
        return "\n".join(lines)


def parse_csv(text: str, known: dict[str, set[str]] | None = None,
              default_deck: str = MY_DECK) -> tuple[list[dict], list[tuple[int, str]]]:
    """Rows ready for Cards.add_many and the (line, message) of every bad row.
    `known`: lesson slug -> section ids, to check links (None: links are not checked)."""
    errors: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], [(1, "the file is empty; the first line must name the columns (front,back,...)")]
    except csv.Error as exc:
        return [], [(1, f"the header cannot be read: {exc}")]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [h for h in REQUIRED if h not in header]
    if unknown or missing or len(set(header)) != len(header):
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(repr(u) for u in unknown)}")
        if len(set(header)) != len(header):
            problems.append("a column is named twice")
        return [], [(1, "; ".join(problems) + f" (allowed: {', '.join(COLUMNS)})")]
    rows: list[dict] = []
    line = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append((line, f"cannot be read as CSV ({exc})"))
            break   # the reader cannot resynchronise after a broken quote
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue   # blank lines are allowed
        if len(record) != len(header):
            errors.append((start, f"has {count(len(record), 'field')}, the header has {len(header)}"))
            continue
        values = dict(zip(header, (unescape_cell(cell.strip()) for cell in record)))
        problem = _check(values, known)
        if problem:
            errors.append((start, problem))
            continue
        rows.append({"front": values["front"], "back": values["back"],
                     "deck_id": values.get("deck") or default_deck,
                     "lesson_id": values.get("lesson") or None,
                     "section_id": values.get("section") or None,
                     "guid": values.get("guid") or None})
        if len(rows) > MAX_ROWS:
            errors.append((start, f"more than {MAX_ROWS} cards in one file"))
            break
    return rows, errors


def _check(values: dict, known: dict[str, set[str]] | None) -> str | None:
    for side in REQUIRED:
        if not values.get(side):
            return f"the {side} is empty"
        if len(values[side]) > MAX_TEXT:
            return f"the {side} is longer than {MAX_TEXT} characters"
    if len(values.get("deck", "")) > 100:
        return "the deck name is longer than 100 characters"
    if len(values.get("guid", "")) > 64:
        return "the guid is longer than 64 characters"
    lesson, section = values.get("lesson"), values.get("section")
    if section and not lesson:
        return "a section needs its lesson"
    if known is not None and lesson:
        if lesson not in known:
            return f"unknown lesson {lesson!r}"
        if section and section not in known[lesson]:
            return f"lesson {lesson!r} has no section {section!r}"
    return None


def import_csv(cards: Cards, path: Path, known: dict[str, set[str]] | None = None,
               default_deck: str = MY_DECK, progress: Progress | None = None) -> ImportReport:
    """Validate the whole file, then add or update every row in one transaction, or none."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return ImportReport(errors=[(0, f"cannot read {path}: {exc.strerror}")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ImportReport(errors=[(raw[:exc.start].count(b"\n") + 1,
                                     "not valid UTF-8 text (save the file as CSV UTF-8)")])
    rows, errors = parse_csv(text, known, default_deck)
    if errors:
        return ImportReport(errors=errors)
    if not rows:
        return ImportReport(errors=[(2, "the file has a header but no cards")])
    result = cards.merge_many(rows, origin="import", progress=progress)
    return ImportReport(added=result.added, updated=result.updated, skipped=result.skipped)


def escape_cell(text: str) -> str:
    """The cell as a spreadsheet shows it as text: a leading ' before a formula start, and one
    more before a text that already starts with ' and a formula start (so unescape is exact)."""
    if text.startswith(FORMULA_START) or (text.startswith("'") and
                                          text.lstrip("'").startswith(FORMULA_START)):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START):
        return text[1:]
    return text


def export_csv(cards: Cards, path: Path, deck_id: str | None = None,
               progress: Progress | None = None) -> int:
    """Write the cards (oldest first) with a header; returns how many. Re-imports as is."""
    rows = list(reversed(cards.search("", deck_id=deck_id, limit=10_000_000)))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for index, row in enumerate(rows, start=1):
            writer.writerow([escape_cell(cell) for cell in (
                row["front"], row["back"], row["deck_id"], row["lesson_id"] or "",
                row["section_id"] or "", row["guid"] or "")])
            if progress and index % 1000 == 0:
                progress(1000)
        if progress:
            progress(len(rows) % 1000)
    return len(rows)
