"""`studyapp content check PATH`: validate a content pack and report every problem, for teachers.

A content pack is a folder with any of lessons/, quizzes/, decks/ and rubrics/. Each file is
parsed by the same code the app uses, and cross-references (a quiz question's lesson section, a
card's lesson, a rubric point's section) are checked against the built-in lessons plus the
pack's own. Every problem is printed as FILE:LINE: message; the exit code is 1 if there were any.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studyapp.config import RESOURCES_DIR
from studyapp.content.lessons import load_lessons

KINDS = ("lessons", "quizzes", "decks", "rubrics")


def check_pack(pack: Path, builtin: Path = RESOURCES_DIR) -> tuple[list, dict[str, int]]:
    """(problems, counts of the files that loaded per kind) for one content pack folder."""
    from studyapp.content.decks import load_decks
    from studyapp.content.quiz import check_sections, load_banks
    from studyapp.tutor.rubric import check_links, load_rubrics

    problems: list = []
    pack_lessons, errors = load_lessons(pack / "lessons")
    problems += errors
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
        print(f"{problem.path}:{problem.line}: {problem.message}")
    loaded = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    print(f"{len(problems)} problem(s); loaded {loaded}")
    return 1 if problems else 0
