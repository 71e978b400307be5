"""Teach-it-back rubrics: hand-written markdown files under resources/rubrics/ (or a content pack).

A rubric file looks like this (see resources/rubrics/README.md for the full description):

    ---
    title: From base model to assistant
    ---
    The prompt the learner answers: every line before the first `##` heading.

    ## Terms
    sft: sft, fine-tuning, instruction tuning
    base: base model, pretrained model
    less: less, fewer, smaller
    more: more, larger, bigger
    opposites: less/more

    ## Pretraining only teaches continuation
    core: yes
    weight: 2
    lesson: base-models#what-pretraining-actually-trains
    claim: base continue text
    claim: sft less data pretraining
    - A reference sentence, written the way a learner might say it.
    - Another way of saying the same point.

    ## Misconception: Fine-tuning adds new facts
    contradicts: what-fine-tuning-changes-in-the-weights-and-what-it-does-not
    feedback: Fine-tuning changes how existing knowledge is used; new facts need more pretraining.
    claim: sft add facts
    - Fine-tuning teaches the model new facts.

`## Terms` names the words a learner may use for one idea; `claim:` lines are what the tutor
looks for in a learner's sentence (studyapp/tutor/claims.py says how they match).

The rubric id is the file name without `.md` (the learner's attempts are stored under it, so do
not rename a shipped rubric). A file that cannot be used becomes a RubricError naming the file
and the line, and the other rubrics load as usual. Pure Python; no Qt, no torch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from studyapp.content.frontmatter import ContentError, Invalid, load_files, read_front_matter

FIELD = re.compile(r"^([A-Za-z][\w ]*?)\s*:\s*(.*)$")
BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
LINK = re.compile(r"^([a-z0-9][a-z0-9-]*)(?:#([a-z0-9][a-z0-9-]*))?$")
MISCONCEPTION = re.compile(r"^misconception\s*:\s*(.+)$", re.IGNORECASE)
CLAIM = re.compile(r"^claim\s*:\s*(.*)$", re.IGNORECASE)
TERMS = "terms"
TERM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MIN_REFERENCES, MAX_REFERENCES = 1, 10
POINT_FIELDS = ("core", "weight", "lesson", "id")
YES, NO = {"yes", "true", "1"}, {"no", "false", "0"}


@dataclass(frozen=True)
class Section:
    """Where a point is taught: a lesson slug and a `##` heading's anchor ('' = the lesson)."""
    lesson: str
    section: str = ""

    @property
    def link(self) -> str:
        return f"studyapp://lessons?lesson={self.lesson}" + (f"#{self.section}" if self.section else "")


@dataclass(frozen=True)
class KeyPoint:
    id: str
    title: str
    references: tuple[str, ...]
    weight: float = 1.0
    core: bool = False
    taught_in: tuple[Section, ...] = ()
    line: int = 0
    claims: tuple[str, ...] = ()    # what a sentence must state to earn the point


@dataclass(frozen=True)
class Misconception:
    id: str
    title: str
    statements: tuple[str, ...]
    feedback: str
    line: int = 0
    contradicts: tuple[str, ...] = ()   # ids of the key points it gets wrong (may be empty)
    claims: tuple[str, ...] = ()        # what a sentence states when it makes this mistake


@dataclass
class Rubric:
    id: str
    title: str
    prompt: str
    points: list[KeyPoint]
    misconceptions: list[Misconception] = field(default_factory=list)
    path: Path | None = None
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)   # name -> words and phrases
    opposites: tuple[tuple[str, str], ...] = ()                        # pairs of term names

    @property
    def total_weight(self) -> float:
        return sum(p.weight for p in self.points)

    def point(self, point_id: str) -> KeyPoint | None:
        return next((p for p in self.points if p.id == point_id), None)


RubricError = ContentError


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ---------------------------------------------------------------------------------------------
# Parsing

def _front_matter(lines: list[str]) -> tuple[dict, int]:
    meta, start = read_front_matter(lines)
    if not meta.get("title"):
        raise Invalid(1, "front matter: 'title' is missing")
    return meta, start


def _parse_links(value: str, line: int) -> tuple[Section, ...]:
    sections = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        match = LINK.match(part)
        if not match:
            raise Invalid(line, f"'lesson' must be LESSON-SLUG or LESSON-SLUG#section-anchor, got {part!r}")
        sections.append(Section(match.group(1), match.group(2) or ""))
    if not sections:
        raise Invalid(line, "'lesson' is empty")
    return tuple(sections)


def _parse_block(heading: str, line: int, body: list[tuple[int, str]]) -> KeyPoint | Misconception:
    """One `##` section: its `key: value` fields and its bullet list of reference sentences."""
    fields: dict[str, tuple[int, str]] = {}
    bullets: list[str] = []
    claims: list[str] = []
    for number, text in body:
        stripped = text.strip()
        if not stripped or stripped.startswith("<!--"):
            continue
        claim = CLAIM.match(stripped)
        if claim:
            if not claim.group(1).strip():
                raise Invalid(number, "an empty 'claim:' line")
            claims.append(claim.group(1).strip())
            continue
        bullet = BULLET.match(text)
        if bullet:
            sentence = bullet.group(1).strip()
            if not sentence:
                raise Invalid(number, "an empty reference sentence")
            bullets.append(sentence)
            continue
        pair = FIELD.match(stripped)
        if pair and not bullets:
            key = pair.group(1).strip().lower()
            if key in fields:
                raise Invalid(number, f"'{key}' is given twice")
            fields[key] = (number, pair.group(2).strip())
            continue
        if bullets and not pair:
            # A wrapped reference sentence: the continuation of the previous bullet.
            bullets[-1] = f"{bullets[-1]} {stripped}"
            continue
        raise Invalid(number, f"expected 'key: value' or a '- ' reference sentence, got {stripped!r}")

    misconception = MISCONCEPTION.match(heading)
    if misconception:
        title = misconception.group(1).strip()
        unknown = set(fields) - {"feedback", "id", "contradicts"}
        if unknown:
            key = sorted(unknown)[0]
            raise Invalid(fields[key][0], f"unknown field '{key}' for a misconception "
                                          f"(use 'feedback' and 'contradicts')")
        if "feedback" not in fields or not fields["feedback"][1]:
            raise Invalid(line, f"misconception {title!r} needs a 'feedback:' line")
        if not bullets:
            raise Invalid(line, f"misconception {title!r} needs at least one '- ' statement")
        if not claims:
            raise Invalid(line, f"misconception {title!r} needs at least one 'claim:' line")
        contradicts = tuple(filter(None, (c.strip() for c in fields.get("contradicts", (0, ""))[1].split(","))))
        return Misconception(fields.get("id", (0, slugify(title)))[1], title, tuple(bullets),
                             fields["feedback"][1], line, contradicts, tuple(claims))

    unknown = set(fields) - set(POINT_FIELDS)
    if unknown:
        key = sorted(unknown)[0]
        raise Invalid(fields[key][0], f"unknown field '{key}' (use {', '.join(POINT_FIELDS)})")
    weight = 1.0
    if "weight" in fields:
        number, value = fields["weight"]
        try:
            weight = float(value)
        except ValueError:
            raise Invalid(number, f"'weight' must be a positive number, got {value!r}") from None
        if not weight > 0 or weight > 100:
            raise Invalid(number, f"'weight' must be a positive number up to 100, got {value!r}")
    core = False
    if "core" in fields:
        number, value = fields["core"]
        if value.lower() not in YES | NO:
            raise Invalid(number, f"'core' must be yes or no, got {value!r}")
        core = value.lower() in YES
    if "lesson" not in fields:
        raise Invalid(line, f"key point {heading!r} needs a 'lesson:' line naming the section that teaches it")
    taught_in = _parse_links(fields["lesson"][1], fields["lesson"][0])
    if not MIN_REFERENCES <= len(bullets) <= MAX_REFERENCES:
        raise Invalid(line, f"key point {heading!r} has {len(bullets)} reference sentences; "
                             f"give {MIN_REFERENCES} to {MAX_REFERENCES} (2-3 work best)")
    if not claims:
        raise Invalid(line, f"key point {heading!r} needs at least one 'claim:' line (what a "
                            f"learner's sentence must state to earn it)")
    point_id = fields["id"][1] if "id" in fields else slugify(heading)
    return KeyPoint(point_id, heading, tuple(bullets), weight, core, taught_in, line, tuple(claims))


def _parse_terms(body: list[tuple[int, str]], terms: dict) -> tuple[dict, tuple]:
    """The `## Terms` section: `name: word, phrase, ...` lines and one `opposites: a/b, c/d`."""
    terms = dict(terms)
    opposites: list[tuple[str, str]] = []
    pending: list[tuple[int, str, str]] = []
    for number, text in body:
        stripped = text.strip()
        if not stripped or stripped.startswith("<!--"):
            continue
        pair = FIELD.match(stripped)
        if not pair:
            raise Invalid(number, f"expected 'name: word, phrase, ...' in the terms, got {stripped!r}")
        name, value = pair.group(1).strip().lower(), pair.group(2)
        if name == "opposites":
            for item in filter(None, (v.strip() for v in value.split(","))):
                a, _, b = item.partition("/")
                pending.append((number, a.strip(), b.strip()))
            continue
        if not TERM_NAME.match(name) or name == "not":
            raise Invalid(number, f"a term name is one lower-case word (letters, digits, _), got {name!r}")
        if name in terms:
            raise Invalid(number, f"the term '{name}' is given twice")
        phrases = tuple(filter(None, (v.strip() for v in value.split(","))))
        if not phrases:
            raise Invalid(number, f"the term '{name}' has no words")
        terms[name] = phrases
    for number, a, b in pending:
        if a not in terms or b not in terms:
            raise Invalid(number, f"opposites are pairs of term names like 'less/more', got {a!r}/{b!r}")
        opposites.append((a, b))
    return terms, tuple(opposites)


def _check_claim(claim: str, terms: dict, line: int) -> None:
    words = claim.lower().split()
    words = [w for w in (words[1:] if words[:1] == ["+"] else words) if w != "not"]
    if not words:
        raise Invalid(line, f"the claim {claim!r} needs a word besides 'not' and '+'")
    for word in words:
        for alternative in word.split("|"):
            if alternative not in terms and not re.fullmatch(r"[a-z0-9]+", alternative):
                raise Invalid(line, f"in the claim {claim!r}, {alternative!r} is neither a term "
                                    f"of the '## Terms' section nor a plain word")


def parse_rubric_text(text: str, rubric_id: str, path: Path | None = None) -> Rubric:
    """Parse one rubric; raises Invalid(line, message) on the first problem."""
    lines = text.splitlines()
    meta, start = _front_matter(lines)
    prompt_lines: list[str] = []
    blocks: list[tuple[str, int, list[tuple[int, str]]]] = []
    for index in range(start, len(lines)):
        line = lines[index]
        if line.startswith("## "):
            blocks.append((line[3:].strip().rstrip("#").strip(), index + 1, []))
        elif line.startswith("#") and not line.startswith("##") and not blocks:
            continue   # a `# Title` above the prompt is decoration
        elif blocks:
            blocks[-1][2].append((index + 1, line))
        else:
            prompt_lines.append(line)
    prompt = "\n".join(prompt_lines).strip()
    if not prompt:
        raise Invalid(start + 1, "the prompt (the text before the first '## ' key point) is empty")
    points: list[KeyPoint] = []
    misconceptions: list[Misconception] = []
    seen: dict[str, int] = {}
    terms: dict[str, tuple[str, ...]] = {}
    opposites: tuple[tuple[str, str], ...] = ()
    for heading, line, body in blocks:
        if not heading:
            raise Invalid(line, "a '## ' heading without a title")
        if heading.lower() == TERMS:
            terms, opposites = _parse_terms(body, terms)
            continue
        item = _parse_block(heading, line, body)
        if item.id in seen:
            raise Invalid(line, f"{item.title!r} has the same id as the heading on line {seen[item.id]}")
        seen[item.id] = line
        (points if isinstance(item, KeyPoint) else misconceptions).append(item)
    if not points:
        raise Invalid(start + 1, "a rubric needs at least one key point ('## ' heading)")
    for item in [*points, *misconceptions]:
        for claim in item.claims:
            _check_claim(claim, terms, item.line)
    point_ids = {p.id for p in points}
    for m in misconceptions:
        for target in m.contradicts:
            if target not in point_ids:
                raise Invalid(m.line, f"misconception {m.title!r} contradicts {target!r}, which is "
                                      f"no key point of this rubric (give a key point's id)")
    return Rubric(rubric_id, meta["title"], prompt, points, misconceptions, path, terms, opposites)


def parse_rubric(path: Path) -> Rubric:
    return parse_rubric_text(Path(path).read_text(encoding="utf-8"), Path(path).stem, Path(path))


def load_rubrics(*folders: Path) -> tuple[list[Rubric], list[RubricError]]:
    """Every rubric of the folders, sorted by title (see frontmatter.load_files)."""
    rubrics, errors = load_files(folders, parse_rubric, key=lambda rubric: rubric.id)
    return sorted(rubrics, key=lambda r: r.title), errors


def check_links(rubric: Rubric, lessons) -> list[RubricError]:
    """Sections a rubric names that no lesson has (lessons: content.lessons.Lesson objects)."""
    anchors = {lesson.slug: {s.id for s in lesson.sections} for lesson in lessons}
    problems = []
    for point in rubric.points:
        for where in point.taught_in:
            if where.lesson not in anchors:
                problems.append(RubricError(rubric.path or Path(rubric.id), point.line,
                                            f"no lesson '{where.lesson}' (in {point.title!r})"))
            elif where.section and where.section not in anchors[where.lesson]:
                problems.append(RubricError(rubric.path or Path(rubric.id), point.line,
                                            f"lesson '{where.lesson}' has no section "
                                            f"'{where.section}' (in {point.title!r})"))
    return problems
