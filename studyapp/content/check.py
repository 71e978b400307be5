"""`studyapp content check PATH`: validate a content pack and report every problem, for teachers.

A content pack is a folder with any of lessons/, quizzes/, decks/ and rubrics/. Each file is
parsed by the same code the app uses, and cross-references (a quiz question's lesson section, a
card's lesson, a rubric point's section) are checked against the built-in lessons plus the
pack's own. Every problem is printed as FILE:LINE: message; the exit code is 1 if there were any.

Besides each file's own problems it reports what the app would silently do otherwise: two files
with the same name in one folder (one is skipped), a lesson beyond the render budget (shown as
plain text) or slow to render, files and folders the app never reads, and built-in quizzes, cards
and rubrics whose links break because a pack lesson replaces the built-in one.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studyapp.config import RESOURCES_DIR
from studyapp.content.frontmatter import ContentError
from studyapp.content.lessons import RENDER_SECONDS, SHIPPED_CACHE, load_lessons

KINDS = ("lessons", "quizzes", "decks", "rubrics")


def _links(folder: Path, lessons: list, sections: dict[str, set[str]]) -> list:
    """The link problems of the quizzes, decks and rubrics in `folder` against these lessons."""
    from studyapp.content.decks import load_decks
    from studyapp.content.quiz import check_sections, load_banks
    from studyapp.content.rubric import check_links, load_rubrics

    banks, _ = load_banks(folder / "quizzes")
    _, deck_errors = load_decks(folder / "decks", known=sections)
    rubrics, _ = load_rubrics(folder / "rubrics")
    found = check_sections(banks, sections) + deck_errors
    for rubric in rubrics:
        found += check_links(rubric, lessons)
    return found


def _skipped(pack: Path, builtin: Path) -> list[ContentError]:
    """Files and folders of the pack that the app never reads."""
    problems = []
    # resources/ itself holds the lab's tables and styles beside the content kinds.
    for entry in sorted(pack.iterdir()) if pack.resolve() != builtin.resolve() else []:
        if entry.is_dir() and entry.name not in KINDS and not entry.name.startswith("."):
            problems.append(ContentError(entry, 0, f"the app reads only {', '.join(k + '/' for k in KINDS)} "
                                                   "of a pack; this folder is skipped"))
    for kind in KINDS:
        folder = pack / kind
        for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                problems.append(ContentError(entry, 0, f"folders inside {kind}/ are not read; it is skipped"))
            elif entry.suffix != ".md" and not (kind == "lessons" and (entry.suffix.lower() in IMAGE_SUFFIXES
                                                                       or entry.name == SHIPPED_CACHE)):
                problems.append(ContentError(entry, 0, "only .md files are read; this file is skipped"))
    return problems


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg"}


def check_pack(pack: Path, builtin: Path = RESOURCES_DIR) -> tuple[list, dict[str, int]]:
    """(problems, counts of the files that loaded per kind) for one content pack folder."""
    from studyapp.content.decks import load_decks
    from studyapp.content.quiz import check_sections, load_banks
    from studyapp.content.rubric import check_links, load_rubrics

    problems: list = _skipped(pack, builtin)
    pack_lessons, errors = load_lessons(pack / "lessons")
    problems += errors
    for lesson in pack_lessons:
        if not lesson.note:
            lesson.html   # render it now, as the app would when it is first shown, and time it
        if lesson.note:
            problems.append(ContentError(lesson.path, 1, f"the app shows this lesson as plain text: {lesson.note}"))
        elif lesson.render_seconds and lesson.render_seconds > RENDER_SECONDS:
            problems.append(ContentError(lesson.path, 1, f"takes {lesson.render_seconds:.1f} s to render (the "
                                                         f"budget is {RENDER_SECONDS} s); split or simplify it"))
    builtin_lessons, _ = load_lessons(builtin / "lessons")
    by_slug = {l.slug: l for l in builtin_lessons} | {l.slug: l for l in pack_lessons}
    sections = {slug: {s.id for s in lesson.sections} for slug, lesson in by_slug.items()}

    banks, errors = load_banks(pack / "quizzes")
    problems += errors + check_sections(banks, sections)
    decks, errors = load_decks(pack / "decks", known=sections)
    problems += errors
    rubrics, errors = load_rubrics(pack / "rubrics")
    problems += errors
    for rubric in rubrics:
        problems += check_links(rubric, list(by_slug.values()))

    # A pack lesson that replaces a built-in one must keep the sections built-in content links to.
    replaced = sorted({l.slug for l in builtin_lessons} & {l.slug for l in pack_lessons})
    if replaced:
        builtin_sections = {l.slug: {s.id for s in l.sections} for l in builtin_lessons}
        before = {(str(p.path), p.line, p.message) for p in _links(builtin, builtin_lessons, builtin_sections)}
        by_name = {l.slug: l.path for l in pack_lessons}
        for p in _links(builtin, list(by_slug.values()), sections):
            if (str(p.path), p.line, p.message) not in before:
                culprit = next((s for s in replaced if repr(s) in p.message or f"'{s}'" in p.message), None)
                because = (f"{by_name[culprit]} replaces the built-in lesson {culprit!r}" if culprit else
                           f"the pack replaces the built-in lesson(s) {', '.join(replaced)}")
                problems.append(ContentError(p.path, p.line, f"{p.message} (built-in content: {because} "
                                                             "without this section)"))
    counts = {"lessons": len(pack_lessons), "quizzes": len(banks), "decks": len(decks), "rubrics": len(rubrics)}
    return problems, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="studyapp content", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="validate a content pack folder")
    check.add_argument("path", type=Path, help="the pack folder (holding lessons/, quizzes/, decks/, rubrics/)")
    args = parser.parse_args(argv)
    pack = args.path
    if not pack.is_dir():
        print(f"{pack}: not a folder", file=sys.stderr)
        return 2
    if not any((pack / kind).is_dir() for kind in KINDS):
        print(f"{pack}: holds none of {', '.join(k + '/' for k in KINDS)}; nothing to check", file=sys.stderr)
        return 2
    problems, counts = check_pack(pack)
    for problem in sorted(problems, key=lambda p: (str(p.path), p.line)):
        print(f"{problem.path}:{problem.line}: {problem.message}" if problem.line else f"{problem.path}: {problem.message}")
    loaded = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    print(f"{len(problems)} problem(s); loaded {loaded}")
    return 1 if problems else 0
