"""Lessons: markdown files with a small front-matter block, parsed, rendered and searched.

A lesson file looks like this:

    ---
    title: Why a base model continues your text
    order: 1
    objectives:
      - Explain why ...
    summary: One line for the lesson list.
    ---
    Markdown body; every `## ` heading starts a section (progress is kept per section).

A file that cannot be used becomes a `LessonError` naming the file and the line, and the other
lessons load as usual. No Qt here: the UI shows what this module returns.

Loading reads only the front matter and the headings (for sections, search and progress); the
Markdown is rendered when the lesson is first shown (`Lesson.html`). A lesson beyond the render
budget (BUDGET: size, headings, links, nesting) is shown as plain text with a note saying why, so a
pathological file cannot stall the app; a file over MAX_LESSON_BYTES is not loaded at all.
"""
from __future__ import annotations

import html as htmllib
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from studyapp.content.frontmatter import ContentError, Invalid, load_files, read_front_matter

HEADING = re.compile(r"^#{1,6}\s")

# Render budget. Python-Markdown's time grows with the square of some inputs (6 KB of '[' took 6 s,
# 20,000 headings 42 s, measured on this app's renderer) and deep nesting exhausts the recursion
# limit. Within these bounds the slowest input measured took 0.5 s (999 '[' in one paragraph), or
# 3.3 s for 250 KB of dense inline markup, which the Lessons tab lays out on a worker thread. The
# built-in lessons use a twentieth of each (12 KB, 8 headings, 14 links; 0.01 s each).
MAX_LESSON_BYTES = 1024 * 1024        # larger files are not loaded (an error entry names them)
BUDGET = {"bytes": 256 * 1024, "headings": 300, "links": 1000, "depth": 16}
RENDER_SECONDS = 0.5                  # `content check` reports a lesson slower than this to render
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING2 = re.compile(r"^##\s+(.+?)\s*#*\s*$")
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*([^)\s]+)")
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"<svg", b"<?xml")


@dataclass
class Section:
    id: str
    title: str
    text: str  # plain-ish markdown of the section, for search


@dataclass(eq=False)
class Lesson:
    slug: str
    path: Path
    title: str
    order: int
    objectives: list[str]
    summary: str
    body: str
    sections: list[Section] = field(default_factory=list)
    note: str = ""                  # why the lesson is shown as plain text, when it is
    render_seconds: float | None = None
    stat: tuple[int, int] | None = field(default=None, repr=False)   # (size, mtime_ns) when read
    _html: str | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def rendered(self) -> bool:
        return self._html is not None

    @property
    def html(self) -> str:
        """The rendered body, made on first use (the lesson list never needs it)."""
        with self._lock:
            if self._html is None:
                self._html = self._render()
            return self._html

    def _render(self) -> str:
        if not self.note:
            start = time.perf_counter()
            try:
                html, _ = render(self.body)
                return html
            except RecursionError:
                self.note = "it is nested too deeply to lay out"
            except Exception as exc:  # noqa: BLE001 - a learner still gets the text, with the reason
                self.note = f"it could not be rendered ({type(exc).__name__}: {exc})"
            finally:
                self.render_seconds = time.perf_counter() - start
        return (f"<p><b>Shown as plain text:</b> {htmllib.escape(self.path.name, quote=False)}: "
                f"{htmllib.escape(self.note, quote=False)}.</p><pre>{htmllib.escape(self.body, quote=False)}</pre>")


LessonError = ContentError


def slug_of(path: Path) -> str:
    """01-base-models.md -> base-models; glossary.md -> glossary."""
    return re.sub(r"^\d+-", "", path.stem)


# ---------------------------------------------------------------------------------------------
# Front matter

def split_front_matter(text: str) -> tuple[dict, str, int]:
    """Return (meta, body, line number where the body starts)."""
    lines = text.splitlines()
    meta, start = read_front_matter(lines)
    return meta, "\n".join(lines[start:]), start + 1


def _validate_meta(meta: dict) -> tuple[str, int, list[str], str]:
    title = meta.get("title")
    if not isinstance(title, str) or not title:
        raise Invalid(1, "front matter: 'title' is missing")
    if "order" not in meta:
        raise Invalid(1, "front matter: 'order' is missing (a whole number: where the lesson goes in the list)")
    try:
        order = int(meta["order"])
    except (TypeError, ValueError):
        raise Invalid(1, f"front matter: 'order' must be a whole number, got {meta.get('order')!r}")
    objectives = meta.get("objectives", [])
    if not isinstance(objectives, list):
        objectives = [objectives]
    summary = meta.get("summary", "")
    return title, order, objectives, summary if isinstance(summary, str) else ""


# ---------------------------------------------------------------------------------------------
# Rendering for QTextBrowser (a subset of HTML 4 and CSS 2)

def render(body: str) -> tuple[str, list[dict]]:
    """Markdown -> (HTML, table-of-contents tokens). Python-Markdown loads on first use
    (studyapp.content.markdown_render): a window that opens on cached lessons never needs it."""
    from studyapp.content.markdown_render import render_markdown
    return render_markdown(body)


def over_budget(body: str, first_line: int = 1) -> str | None:
    """Why `body` is beyond the render budget (said to the learner and the teacher), or None.
    `first_line` is the body's first line in its file, so that a line named is the file's."""
    size = len(body.encode("utf-8"))
    if size > BUDGET["bytes"]:
        return f"it is {size // 1024} KB, more than the {BUDGET['bytes'] // 1024} KB a lesson may have"
    headings = sum(1 for line in _outside_fences(body) if HEADING.match(line))
    if headings > BUDGET["headings"]:
        return f"it has {headings} headings, more than the {BUDGET['headings']} a lesson may have"
    links = body.count("[") + body.count("<")
    if links > BUDGET["links"]:
        return f"it has {links} '[' and '<' characters, more than the {BUDGET['links']} a lesson may have"
    for number, line in enumerate(body.splitlines(), first_line):
        stripped = line.lstrip(" \t>")
        indent = line[:len(line) - len(stripped)]
        depth = indent.count(">") + (len(indent.replace("\t", "    ")) - indent.count(">")) // 2
        if depth > BUDGET["depth"]:
            return (f"line {number} is nested {depth} levels deep (indents or '>'), more than the "
                    f"{BUDGET['depth']} a lesson may have")
    return None


def _outside_fences(body: str):
    in_fence = False
    for line in body.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            yield line


def _heading_toc(body: str) -> list[dict]:
    """The table of contents of `body` from its heading lines alone: the same ids as a full render
    (the same toc extension gives them), at a fraction of the cost."""
    headings = [line for line in _outside_fences(body) if HEADING.match(line)]
    if not headings:
        return []
    _, toc = render("\n\n".join(headings))
    return toc


def _flatten(tokens: list[dict]) -> list[dict]:
    out = []
    for token in tokens:
        out.append(token)
        out.extend(_flatten(token.get("children", [])))
    return out


def _sections(body: str, toc: list[dict]) -> list[Section]:
    """Split the source at its `## ` headings (outside code fences); ids come from the toc."""
    h2_ids = [t["id"] for t in _flatten(toc) if t["level"] == 2]
    chunks: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in body.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else HEADING2.match(line)
        if heading:
            chunks.append((heading.group(1), []))
        elif chunks:
            chunks[-1][1].append(line)
    return [Section(id=h2_ids[i] if i < len(h2_ids) else f"section-{i + 1}", title=title,
                    text="\n".join(lines).strip())
            for i, (title, lines) in enumerate(chunks)]


def _check_images(body: str, body_line: int, folder: Path) -> None:
    for offset, line in enumerate(body.splitlines()):
        for target in IMAGE.findall(line):
            if re.match(r"^[a-z]+://", target):
                raise Invalid(body_line + offset, f"image {target!r}: only local images are allowed")
            image = folder / target
            try:
                head = image.read_bytes()[:16].lstrip()
            except OSError:
                raise Invalid(body_line + offset, f"image {target!r} cannot be read")
            if not head.startswith(IMAGE_MAGIC):
                raise Invalid(body_line + offset, f"image {target!r} is not a PNG, JPEG, GIF or SVG")


# ---------------------------------------------------------------------------------------------
# Loading

def parse_lesson(path: Path) -> Lesson:
    """Parse one file; raises Invalid (made a LessonError by the loader) when it is unusable."""
    info = path.stat()
    size = info.st_size
    if size > MAX_LESSON_BYTES:
        raise Invalid(1, f"the file is {size // 1024} KB, more than the {MAX_LESSON_BYTES // 1024} KB "
                         "a lesson may have; it is skipped")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise Invalid(line, "the file is not valid UTF-8 text (save it as UTF-8)") from None
    meta, body, body_line = split_front_matter(text)
    title, order, objectives, summary = _validate_meta(meta)
    _check_images(body, body_line, path.parent)
    note = over_budget(body, body_line)
    sections = [] if note else _sections(body, _heading_toc(body))
    return Lesson(slug=slug_of(path), path=path, title=title, order=order, objectives=objectives,
                  summary=summary, body=body, sections=sections, note=note or "",
                  stat=(info.st_size, info.st_mtime_ns))


def load_lessons(*folders: Path, cache: Path | None = None) -> tuple[list[Lesson], list[LessonError]]:
    """Every lesson of the folders, sorted by order then title (see frontmatter.load_files).

    cache: a file written by save_cache(); a lesson file whose size and modification time are as
    cached is taken from it (with its rendered HTML) instead of being parsed. Markdown is then not
    needed at all, which keeps it out of the window's first frame (issue 16). Failing that, a
    folder's own SHIPPED_CACHE (write_shipped_cache) serves a file whose content hash it holds:
    the lessons that ship with the app open without Markdown on a first start too."""
    cached = _read_cache(cache) if cache is not None else {}
    shipped: dict[Path, dict] = {}   # a folder's shipped cache, read on its first miss of `cached`

    def parse(path: Path) -> Lesson:
        entry = cached.get(str(path))
        if entry is not None:
            try:
                info = path.stat()
                if entry["stat"] == [info.st_size, info.st_mtime_ns]:
                    return _from_entry(path, entry)
            except (OSError, KeyError, TypeError, ValueError):
                pass   # changed, gone or a damaged entry: parse the file as usual
        if path.parent not in shipped:
            shipped[path.parent] = _read_cache(path.parent / SHIPPED_CACHE)
        entry = shipped[path.parent].get(path.name)
        if entry is not None:
            try:
                if entry["sha256"] == _sha256(path):
                    info = path.stat()
                    return _from_entry(path, {**entry, "stat": [info.st_size, info.st_mtime_ns]})
            except (OSError, KeyError, TypeError, ValueError):
                pass   # edited since it shipped, or a damaged entry: parse the file as usual
        return parse_lesson(path)

    lessons, errors = load_files(folders, parse, key=lambda lesson: lesson.slug)
    return sorted(lessons, key=lambda l: (l.order, l.title)), errors


# ---------------------------------------------------------------------------------------------
# The lesson cache: what loading and rendering found, kept between starts

CACHE_FORMAT = 1   # raise when parsing or rendering changes what a lesson holds
# A folder's own cache, shipped with its lessons: keyed by file name, valid for a file whose content
# has the recorded SHA-256 (modification times do not survive a copy or an installer).
SHIPPED_CACHE = "rendered-cache.json"


def _sha256(path: Path) -> str:
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_cache(cache: Path) -> dict[str, dict]:
    import json
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("format") != CACHE_FORMAT or not isinstance(data.get("lessons"), dict):
            return {}
        return data["lessons"]
    except (OSError, ValueError, AttributeError):
        return {}   # no cache yet, or an unreadable one: every lesson is parsed


def _from_entry(path: Path, entry: dict) -> Lesson:
    return Lesson(slug=entry["slug"], path=path, title=entry["title"], order=int(entry["order"]),
                  objectives=list(entry["objectives"]), summary=entry["summary"], body=entry["body"],
                  sections=[Section(*s) for s in entry["sections"]], note=entry["note"],
                  stat=tuple(entry["stat"]), _html=entry["html"])


def _entry(lesson: Lesson) -> dict:
    html = lesson.html   # renders now if it was not shown yet
    return {"stat": list(lesson.stat), "slug": lesson.slug, "title": lesson.title, "order": lesson.order,
            "objectives": list(lesson.objectives), "summary": lesson.summary, "body": lesson.body,
            "sections": [[s.id, s.title, s.text] for s in lesson.sections], "note": lesson.note,
            "html": html}


def save_cache(lessons: list[Lesson], cache: Path) -> bool:
    """Render every lesson (off the GUI thread: this may take a moment) and keep what loading and
    rendering found in `cache` for the next start. Writes only when something changed, atomically;
    a cache that cannot be written is no error (the next start parses the files). True if written."""
    entries = {str(lesson.path): _entry(lesson) for lesson in lessons if lesson.stat is not None}
    if _read_cache(cache) == entries:
        return False
    return _write_cache(entries, cache)


def shipped_cache_entries(folder: Path) -> dict[str, dict]:
    """What write_shipped_cache() writes for `folder`: every lesson parsed and rendered afresh, keyed
    by file name, with its content hash and without its (machine-specific) size and time."""
    lessons, _ = load_files([Path(folder)], parse_lesson, key=lambda lesson: lesson.slug)   # no cache
    return {lesson.path.name: {**{k: v for k, v in _entry(lesson).items() if k != "stat"},
                               "sha256": _sha256(lesson.path)}
            for lesson in lessons if lesson.stat is not None}


def write_shipped_cache(folder: Path) -> bool:
    """Write `folder`/SHIPPED_CACHE, so that these lessons open without Markdown on a first start.

    Run after editing a shipped lesson (`python -m studyapp.content.lessons`);
    tests/content checks the shipped one is current. A stale entry is harmless: its hash no longer
    matches, and the file is parsed as usual. True if written."""
    entries = shipped_cache_entries(folder)
    if _read_cache(Path(folder) / SHIPPED_CACHE) == entries:
        return False
    return _write_cache(entries, Path(folder) / SHIPPED_CACHE, sort_keys=True)


def _write_cache(entries: dict, cache: Path, sort_keys: bool = False) -> bool:
    import json
    import os

    text = json.dumps({"format": CACHE_FORMAT, "lessons": entries}, ensure_ascii=False,
                      sort_keys=sort_keys, indent=1 if sort_keys else None)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(cache.name + ".tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, cache)
    except OSError:
        return False
    return True


@dataclass
class Hit:
    slug: str
    lesson_title: str
    section_id: str
    section_title: str
    snippet: str
    score: int


def _plain(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)      # links keep their words
    text = re.sub(r'^\s*!!!\s*[\w-]+\s*(?:"([^"]*)")?.*$', r"\1", text, flags=re.M)  # keep titles
    text = re.sub(r"[*_`#>|]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def search(lessons: list[Lesson], query: str, limit: int = 50) -> list[Hit]:
    """Sections that contain every word of the query (case-insensitive), best first."""
    words = [w for w in re.findall(r"\w[\w'-]*", query.lower()) if w]
    if not words:
        return []
    hits = []
    for lesson in lessons:
        for section in lesson.sections:
            plain = _plain(section.title + ". " + section.text)
            low = plain.lower()
            if not all(w in low for w in words):
                continue
            score = sum(low.count(w) for w in words) + 5 * sum(w in section.title.lower() for w in words)
            at = low.find(words[0])
            start = max(0, at - 60)
            snippet = ("…" if start else "") + plain[start:at + 100].strip() + "…"
            hits.append(Hit(lesson.slug, lesson.title, section.id, section.title, snippet, score))
    hits.sort(key=lambda h: -h.score)
    return hits[:limit]


if __name__ == "__main__":
    import sys

    from studyapp.config import RESOURCES_DIR

    for folder in [Path(a) for a in sys.argv[1:]] or [RESOURCES_DIR / "lessons"]:
        print(f"{folder}: {'written' if write_shipped_cache(folder) else 'unchanged'}")
