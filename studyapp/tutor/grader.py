"""Grade a teach-it-back explanation against a rubric: credit what is right, flag what is wrong.

    result = grade(rubric, text)
    result.coverage            # 0..1, weighted by the key points' weights
    for p in result.points: p.status, p.matched, p.evidence, p.lost   # "covered" / "partly" / "missing"
    for m in result.misconceptions: m.sentence, m.feedback, m.evidence, m.contradicts

How: the explanation is split into sentences (and bullet items). In each sentence the claims of
the rubric are looked for (studyapp/tutor/claims.py: terms in order, negations, opposites):
- a key point's claim stated as written is *support* for the point;
- a key point's claim stated the other way round (negated, or with an opposite term: "the early
  layers change most") *contradicts* the point;
- a misconception's claim stated as written is that misconception (a negated misconception,
  "fine-tuning does not add facts", is neither: it earns nothing and is not flagged).
The most specific statement decides: a contradiction is dropped only when an overlapping support
match has more slots, or as many in fewer words ("the KL term penalises drifting away from the
SFT model" is `kl penalise away sft`, 4 slots, not `kl away sft`, 3); and a word that fills a
slot of two points' claims counts for the more specific one only. A sentence with a contradiction left is
flagged and earns nothing, whatever else it says; the flag names the sentence, the words that
matched, the feedback and the points it gets wrong. A point the learner also contradicts is
capped: covered becomes partly (the learner said both), never "covered".

There are no thresholds: a point is covered when one sentence states one of its claims. The rules
were built on the calibration part of the labelled sentences (tests/tutor/labelled.py) and
measured on the held-out part written before them (tests/tutor/heldout2.py);
`python -m tests.tutor.calibrate` prints both, tests/tutor/test_truth.py holds the held-out part
to the issue's targets. Pure Python, no model (attempts graded by the former embedding grader keep
their stored results).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from studyapp.content.rubric import KeyPoint, Misconception, Rubric
from studyapp.tutor.claims import Claim, Lexicon, Match, read

MIN_WORDS = 3            # "Yes." or "So." is no explanation of anything
GRADER_VERSION = "claims/1"   # stored with each attempt: scores from other versions differ

SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n\s*(?=[-*•]\s)|(?<=:)\n")
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass
class PointResult:
    id: str
    title: str
    status: str                     # "covered", "partly", "missing"
    score: float                    # 1 covered, 0.5 partly, 0 missing
    matched: str = ""               # the learner's sentence that earned the point
    reference: str = ""             # how the course says it (the point's first reference)
    weight: float = 1.0
    core: bool = False
    links: list[str] = field(default_factory=list)      # studyapp://lessons?lesson=...#section
    lessons: list[str] = field(default_factory=list)    # lesson slugs, for the Progress tab
    lost: str = ""                  # the learner's sentence that got this point wrong, if any
    evidence: str = ""              # the words of `matched` that stated the point's claim


@dataclass
class MisconceptionHit:
    id: str
    title: str
    feedback: str
    sentence: str
    score: float
    contradicts: list[str] = field(default_factory=list)   # ids of the key points it gets wrong
    evidence: str = ""              # the words of `sentence` that stated it


@dataclass
class GradeResult:
    rubric_id: str
    coverage: float
    points: list[PointResult]
    misconceptions: list[MisconceptionHit] = field(default_factory=list)
    band: str = ""
    sentences: int = 0
    grader: str = GRADER_VERSION

    @property
    def covered(self) -> list[PointResult]:
        return [p for p in self.points if p.status == "covered"]

    @property
    def missing(self) -> list[PointResult]:
        return [p for p in self.points if p.status != "covered"]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> GradeResult:
        data = dict(data)
        points = [PointResult(**_known(PointResult, p)) for p in data.pop("points", [])]
        hits = [MisconceptionHit(**_known(MisconceptionHit, m)) for m in data.pop("misconceptions", [])]
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(points=points, misconceptions=hits, **known)


def _known(cls, data: dict) -> dict:
    """The fields a dataclass knows: results stored by other grader versions still load."""
    return {k: v for k, v in data.items() if k in cls.__dataclass_fields__}


# ---------------------------------------------------------------------------------------------

def split_sentences(text: str) -> list[str]:
    """Sentences and bullet items of an explanation, whitespace tidied, very short ones dropped."""
    sentences = []
    for chunk in SENTENCE_END.split(text.strip()):
        chunk = BULLET.sub("", " ".join(chunk.split()))
        if len(chunk.split()) >= MIN_WORDS:
            sentences.append(chunk)
    return sentences


def band(rubric: Rubric, statuses: dict[str, str], misconceptions: int) -> str:
    """The rubric's scoring bands, from the curriculum's draft."""
    core = [p for p in rubric.points if p.core]
    core_done = sum(statuses[p.id] == "covered" for p in core)
    extras = sum(statuses[p.id] == "covered" for p in rubric.points if not p.core)
    if core and core_done == len(core) and misconceptions == 0 and extras >= 1:
        return "Excellent"
    if core_done >= max(1, round(len(core) * 0.75)) and misconceptions <= 1:
        return "Good"
    return "Needs another pass"


@dataclass(frozen=True)
class Found:
    """One claim found in one sentence."""
    owner: KeyPoint | Misconception
    claim: Claim
    match: Match

    @property
    def supports(self) -> bool:
        return isinstance(self.owner, KeyPoint) and not self.match.flipped


@dataclass
class Compiled:
    rubric: Rubric
    claims: list[tuple[KeyPoint | Misconception, Claim]]


_compiled: dict[int, Compiled] = {}


def compiled(rubric: Rubric) -> list[tuple[KeyPoint | Misconception, Claim]]:
    """The rubric's claims compiled once per rubric object (rubrics do not change while loaded)."""
    entry = _compiled.get(id(rubric))
    if entry is None or entry.rubric is not rubric:
        lexicon = Lexicon(rubric.terms, rubric.opposites)
        claims = [(item, lexicon.compile(line))
                  for item in [*rubric.points, *rubric.misconceptions] for line in item.claims]
        entry = _compiled[id(rubric)] = Compiled(rubric, claims)
    return entry.claims


def judge(rubric: Rubric, sentence: str) -> tuple[list[Found], list[Found]]:
    """(supports, contradictions) of one sentence, after the most specific statement decided."""
    words = read(sentence)
    found = []
    for owner, claim in compiled(rubric):
        match = claim.find(words)
        if match is None:
            continue
        if isinstance(owner, Misconception) and match.flipped:
            continue     # "fine-tuning does not add facts" negates a misconception: neither
        found.append(Found(owner, claim, match))
    supports = [f for f in found if f.supports]
    against = [f for f in found if not f.supports and not any(s.match.beats(f.match) for s in supports)]
    # One word states one thing: when two points' claims use the same word ("the reward model
    # learns from human rankings" is not also people ranking answers), the more specific keeps it.
    supports = [f for f in supports if not any(
        g.owner is not f.owner and g.match.words & f.match.words and g.match.beats(f.match)
        for g in supports)]
    # A misconception of the rubric explains a mistake better than "this says the opposite":
    # a turned-round claim of a point it already names is not reported a second time.
    named = {p for f in against if isinstance(f.owner, Misconception) for p in f.owner.contradicts}
    against = [f for f in against if isinstance(f.owner, Misconception) or f.owner.id not in named]
    return supports, against


def grade(rubric: Rubric, text: str) -> GradeResult:
    sentences = split_sentences(text)
    earned_by: dict[str, tuple[str, Found]] = {}
    lost_by: dict[str, str] = {}
    hits: dict[str, MisconceptionHit] = {}
    for sentence in sentences:
        supports, against = judge(rubric, sentence)
        if against:
            for f in against:
                hit = _hit(f, sentence)
                hits.setdefault(hit.id, hit)
                for point_id in hit.contradicts:
                    lost_by.setdefault(point_id, sentence)
            continue     # a flagged sentence earns nothing, whatever else it says
        for f in supports:
            best = earned_by.get(f.owner.id)
            if best is None or f.match.size > best[1].match.size:
                earned_by[f.owner.id] = (sentence, f)

    results: list[PointResult] = []
    earned = 0.0
    for point in rubric.points:
        status = "covered" if point.id in earned_by else "missing"
        if point.id in lost_by and status == "covered":
            status = "partly"     # the learner also said the opposite: never "covered"
        value = {"covered": 1.0, "partly": 0.5, "missing": 0.0}[status]
        earned += point.weight * value
        sentence, found = earned_by.get(point.id, ("", None))
        results.append(PointResult(
            point.id, point.title, status, value, sentence, point.references[0], point.weight,
            point.core, [s.link for s in point.taught_in], sorted({s.lesson for s in point.taught_in}),
            lost_by.get(point.id, ""), found.match.evidence if found else ""))

    statuses = {p.id: p.status for p in results}
    coverage = earned / rubric.total_weight if rubric.points else 0.0
    return GradeResult(rubric.id, round(coverage, 4), results, list(hits.values()),
                       band(rubric, statuses, len(hits)), len(sentences))


def _hit(found: Found, sentence: str) -> MisconceptionHit:
    owner = found.owner
    if isinstance(owner, Misconception):
        return MisconceptionHit(owner.id, owner.title, owner.feedback, sentence, 1.0,
                                list(owner.contradicts), found.match.evidence)
    # A key point's claim turned round: say what the course says instead, in the reference
    # sentence closest in words to the learner's ("the early layers change most" gets the one
    # about layers, not the one about facts).
    words = set(read(sentence).stems)
    reference = max(owner.references, key=lambda ref: len(words & set(read(ref).stems)))
    return MisconceptionHit(f"not-{owner.id}", f"This says the opposite of: {owner.title}",
                            f"The course says: {reference}", sentence, 1.0,
                            [owner.id], found.match.evidence)
