"""Reading one settings file: TOML, with every problem located by file, line, column and key.

    data, text, problems = read_toml(path, salvage=True)   # the site file: a broken line is dropped
    locate(text, "locked")                                  # (line, column) of `locked = ...`

Nothing here stops the app: a missing, unreadable, huge, non-UTF-8 or broken file gives {} (or
what could be salvaged) and a `Problem`. How the layers of files combine is config.py's job.
No Qt here.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_CONFIG_BYTES = 256 * 1024   # a settings file is a few hundred bytes; anything huge is a mistake
MAX_SALVAGE = 20                # lines of a broken site file dropped before giving up on it


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a layer: FILE:LINE:COL: setting 'key': message."""
    where: str
    message: str
    key: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        place = self.where + (f":{self.line}" if self.line else "") + (f":{self.column}" if self.column else "")
        return f"{place}: " + (f"setting {self.key!r}: " if self.key else "") + self.message


_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_KEY_AT_LINE = re.compile(r'^\s*("?)([A-Za-z0-9_.\-]+)\1\s*=')
_TABLE = re.compile(r'^\s*\[\s*("?)([^\]"]+)\1\s*\]')


def locate(text: str, key: str, table: str | None = None) -> tuple[int | None, int | None]:
    """(line, column) where `key = ...` stands in the file's text (in [table] when given), 1-based."""
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        header = _TABLE.match(line)
        if header:
            current = header.group(2).strip()
            if table is None and current == key:
                return number, line.index(key) + 1
            continue
        found = _KEY_AT_LINE.match(line)
        if found and found.group(2) == key and current == table:
            return number, found.start(2) + 1
    return None, None


def read_toml(path: Path, *, salvage: bool = False) -> tuple[dict[str, Any], str, list[Problem]]:
    """(data, text, problems) of one file; a missing file is empty and no problem.

    A file that is not valid TOML gives {} and a problem naming line, column and key. With
    `salvage` (the site file) the broken line is dropped and the rest read again, up to MAX_SALVAGE
    times, so the administrator's other lines (the locks among them) still hold.
    """
    where = str(path)
    try:
        if not path.is_file():
            return {}, "", ([Problem(where, "is not a file; it is ignored")] if path.exists() else [])
        raw = path.read_bytes()
    except OSError as exc:
        return {}, "", [Problem(where, f"cannot be read ({exc.strerror or exc}); it is ignored")]
    if len(raw) > MAX_CONFIG_BYTES:
        return {}, "", [Problem(where, f"is {len(raw) // 1024} KB, more than a settings file can be "
                                       f"({MAX_CONFIG_BYTES // 1024} KB); it is ignored")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return {}, "", [Problem(where, "is not UTF-8 text; it is ignored (save it as UTF-8)", line=line)]
    problems: list[Problem] = []
    lines = text.splitlines()
    for _ in range(MAX_SALVAGE + 1):
        try:
            return tomllib.loads("\n".join(lines)), text, problems
        except tomllib.TOMLDecodeError as exc:
            at = _AT.search(str(exc))
            line, col = (int(at.group(1)), int(at.group(2))) if at else _statement_start(lines)
            reason = _AT.sub("", str(exc)).replace("(at end of document)", "").strip()
            key_match = _KEY_AT_LINE.match(lines[line - 1]) if line and line <= len(lines) else None
            key = key_match.group(2) if key_match else None
            if not salvage or not line or line > len(lines):
                problems.append(Problem(where, f"TOML syntax error: {reason}; this file is skipped, "
                                               "the settings below it are used", key, line, col))
                return {}, text, problems
            problems.append(Problem(where, f"TOML syntax error: {reason}; this line is ignored, "
                                           "the rest of the file applies", key, line, col))
            lines[line - 1] = ""
        except RecursionError:
            problems.append(Problem(where, "values are nested too deeply to read; this file is skipped"))
            return {}, text, problems
    problems.append(Problem(where, f"more than {MAX_SALVAGE} broken lines; this file is skipped"))
    return {}, text, problems


def _statement_start(lines: list[str]) -> tuple[int | None, int | None]:
    """Where the statement that runs to the end of the file (an unclosed string or array) starts:
    the line after the longest prefix of the file that is valid TOML on its own."""
    if len(lines) > 300 or sum(map(len, lines)) > 32 * 1024:   # at most 300 small parses
        return None, None
    good = 0
    for k in range(1, len(lines) + 1):
        try:
            tomllib.loads("\n".join(lines[:k]))
            good = k
        except (tomllib.TOMLDecodeError, RecursionError):
            pass
    while good < len(lines) and not lines[good].strip():
        good += 1
    if good >= len(lines):
        return None, None
    return good + 1, len(lines[good]) - len(lines[good].lstrip()) + 1
