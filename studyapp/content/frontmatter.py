"""What every content file shares: the `---` front-matter block and the error that names a line.

Lessons, quiz banks, decks and rubrics all open with

    ---
    title: ...
    key: value
    list_key:
      - item
    ---

and all report a problem as a ContentError(path, line, message), which the app lists next to the
content that did load and `studyapp content check` prints as FILE:LINE: message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

KEY_VALUE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")
LIST_ITEM = re.compile(r"^\s+-\s+(.*)$")


@dataclass(frozen=True)
class ContentError:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path.name}, line {self.line}: {self.message}"


class Invalid(Exception):
    """Raised inside a parser; the loader turns it into a ContentError for the file."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def read_front_matter(lines: list[str]) -> tuple[dict[str, str | list[str]], int]:
    """(the block's keys, lower-cased, with their values; index of the first line after it).

    A key with nothing after its colon starts a list of `  - item` lines. `#` lines are comments.
    """
    if not lines or lines[0].strip() != "---":
        raise Invalid(1, "the file must start with a front-matter block opened by '---'")
    meta: dict[str, str | list[str]] = {}
    current: list[str] | None = None
    for index in range(1, len(lines)):
        line = lines[index]
        if line.strip() == "---":
            return meta, index + 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = LIST_ITEM.match(line)
        if item:
            if current is None:
                raise Invalid(index + 1, "a list item must follow a key such as 'objectives:'")
            current.append(item.group(1).strip())
            continue
        pair = KEY_VALUE.match(line.strip())
        if not pair:
            raise Invalid(index + 1, f"expected 'key: value' in the front matter, got {line.strip()!r}")
        key, value = pair.group(1).lower(), pair.group(2).strip()
        if value:
            meta[key], current = value, None
        else:
            meta[key] = current = []
    raise Invalid(1, "the front-matter block is never closed with '---'")


def load_files(folders, parse: Callable[[Path], Any], key: Callable[[Any], str]) -> tuple[list, list[ContentError]]:
    """Parse every *.md file of the folders (README.md aside), in order; a later folder's item with
    the same key replaces an earlier one, so a content pack can override a built-in file.

    `parse(path)` returns the item, or (item, non-fatal errors), or raises Invalid for a file that
    cannot be used at all; an item of None is skipped. One broken file never stops the others.
    Two files of one folder with the same key (01-intro.md and 02-intro.md are both "intro") are
    an error: the first is kept and the second skipped, with an error naming both.
    """
    by_key: dict[str, Any] = {}
    errors: list[ContentError] = []
    for folder in folders:
        if not folder or not Path(folder).is_dir():
            continue
        seen: dict[str, Path] = {}
        for path in sorted(Path(folder).glob("*.md")):
            if path.name.lower() == "readme.md":
                continue
            try:
                out = parse(path)
            except Invalid as exc:
                errors.append(ContentError(path, exc.line, str(exc)))
                continue
            except UnicodeDecodeError as exc:
                line = exc.object[:exc.start].count(b"\n") + 1
                errors.append(ContentError(path, line, "the file is not valid UTF-8 text (save it as UTF-8)"))
                continue
            except OSError as exc:
                errors.append(ContentError(path, 1, f"cannot read the file ({exc.strerror or exc})"))
                continue
            item, found = out if isinstance(out, tuple) else (out, [])
            errors.extend(found)
            if item is None:
                continue
            name = key(item)
            if name in seen:
                errors.append(ContentError(path, 1, f"{name!r} is also the name of {seen[name].name} in this "
                                                    f"folder; this file is skipped (rename one of them)"))
                continue
            seen[name] = path
            by_key[name] = item
    return list(by_key.values()), errors
