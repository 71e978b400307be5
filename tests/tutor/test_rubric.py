"""Rubric files: the shipped one is valid and points at real lesson sections; broken ones are
reported with file and line, and the other rubrics still load."""
from __future__ import annotations

from pathlib import Path

import pytest

from studyapp.config import RESOURCES_DIR
from studyapp.content.lessons import load_lessons
from studyapp.content.rubric import check_links, load_rubrics

GOOD = """---
title: Tiny rubric
---
Explain SFT.

## Same objective
core: yes
weight: 2
lesson: instruction-tuning#what-sft-actually-is
- SFT keeps next-token prediction.
- It trains on instruction-response pairs,
  written by people.
claim: sft same objective

## Misconception: New objective
feedback: It is the same objective.
- SFT uses a new objective.
claim: sft new objective

## Terms
sft: sft, fine-tuning, instruction tuning
objective: objective, loss, next-token prediction
same: same, still
new: new, different
opposites: same/new
"""


def test_shipped_rubric_is_valid_and_links_to_real_sections():
    rubrics, errors = load_rubrics(RESOURCES_DIR / "rubrics")
    assert errors == []
    lessons, _ = load_lessons(RESOURCES_DIR / "lessons")
    rubric = next(r for r in rubrics if r.id == "base-to-assistant")
    assert len(rubric.points) == 11 and sum(p.core for p in rubric.points) == 8
    assert all(2 <= len(p.references) <= 5 for p in rubric.points)
    assert all(p.claims for p in rubric.points) and all(m.claims for m in rubric.misconceptions)
    # Every core point has at least one misconception that contradicts it, each naming real points.
    ids = {p.id for p in rubric.points}
    contradicted = {t for m in rubric.misconceptions for t in m.contradicts}
    assert contradicted <= ids and {p.id for p in rubric.points if p.core} <= contradicted
    assert check_links(rubric, lessons) == []
    assert rubric.points[0].taught_in[0].link == \
        "studyapp://lessons?lesson=base-models#what-pretraining-actually-trains"


def test_a_good_rubric_parses_with_wrapped_references(tmp_path):
    (tmp_path / "tiny.md").write_text(GOOD)
    (rubric,), errors = load_rubrics(tmp_path)
    assert errors == []
    point = rubric.points[0]
    assert (rubric.id, point.id, point.weight, point.core) == ("tiny", "same-objective", 2.0, True)
    assert point.references[1] == "It trains on instruction-response pairs, written by people."
    assert rubric.misconceptions[0].feedback == "It is the same objective."
    assert point.claims == ("sft same objective",)
    assert rubric.misconceptions[0].claims == ("sft new objective",)
    assert rubric.terms["same"] == ("same", "still") and rubric.opposites == (("same", "new"),)


@pytest.mark.parametrize("old, new, line, words", [
    ("---\ntitle: Tiny rubric\n---\n", "", 1, "front-matter block"),
    ("title: Tiny rubric\n", "", 1, "'title' is missing"),
    ("weight: 2", "weight: lots", 8, "'weight' must be a positive number"),
    ("weight: 2", "weight: -1", 8, "'weight' must be a positive number"),
    ("core: yes", "core: maybe", 7, "'core' must be yes or no"),
    ("lesson: instruction-tuning#what-sft-actually-is\n", "", 6, "needs a 'lesson:' line"),
    ("instruction-tuning#what-sft-actually-is", "Instruction Tuning/what", 9, "LESSON-SLUG"),
    ("core: yes", "colour: blue", 7, "unknown field 'colour'"),
    ("- SFT keeps next-token prediction.\n- It trains on instruction-response pairs,\n"
     "  written by people.\n", "", 6, "has 0 reference sentences"),
    ("Explain SFT.\n", "", 4, "prompt"),
    ("feedback: It is the same objective.\n", "", 15, "needs a 'feedback:' line"),
    ("## Misconception: New objective\nfeedback: It is the same objective.\n",
     "## Same objective\nlesson: base-models\n", 15, "same id as the heading on line 6"),
    ("claim: sft same objective\n", "", 6, "needs at least one 'claim:' line"),
    ("claim: sft new objective\n", "", 15, "needs at least one 'claim:' line"),
    ("claim: sft same objective", "claim: sft same next-token", 6, "neither a term"),
    ("claim: sft same objective", "claim: not", 6, "needs a word besides 'not'"),
    ("opposites: same/new", "opposites: same/old", 25, "pairs of term names"),
    ("new: new, different", "New Words: new", 24, "one lower-case word"),
    ("new: new, different", "same: again", 24, "given twice"),
    ("core: yes", "- a bullet first\ncore: yes", 8, "expected 'key: value' or a '- ' reference"),
])
def test_malformed_rubrics_name_file_and_line(tmp_path, old, new, line, words):
    assert old in GOOD
    (tmp_path / "broken.md").write_text(GOOD.replace(old, new, 1))
    (tmp_path / "fine.md").write_text(GOOD)
    rubrics, errors = load_rubrics(tmp_path)
    assert [r.id for r in rubrics] == ["fine"]   # the good one still loads
    (error,) = errors
    assert error.path.name == "broken.md"
    assert words in error.message
    assert (error.line, str(error).split(":")[0]) == (line, f"broken.md, line {line}")


def test_unknown_lesson_sections_are_reported(tmp_path):
    (tmp_path / "tiny.md").write_text(GOOD.replace("#what-sft-actually-is", "#no-such-section"))
    (rubric,), _ = load_rubrics(tmp_path)
    lessons, _ = load_lessons(RESOURCES_DIR / "lessons")
    (problem,) = check_links(rubric, lessons)
    assert problem.line == 6 and "no section 'no-such-section'" in problem.message


def test_unreadable_file_is_reported(tmp_path):
    (tmp_path / "latin1.md").write_bytes(GOOD.encode() + b"\xff\xfe caf\xe9")
    rubrics, errors = load_rubrics(tmp_path, Path(tmp_path / "missing-folder"))
    bad_line = GOOD.encode().count(b"\n") + 1       # the line holding the first non-UTF-8 byte
    assert rubrics == [] and errors[0].line == bad_line and "UTF-8" in errors[0].message
