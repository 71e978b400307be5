"""Grade a teach-it-back explanation against a rubric with sentence embeddings.

    result = grade(rubric, text, load_embedder())
    result.coverage            # 0..1, weighted by the key points' weights
    for p in result.points: p.status, p.score, p.matched   # "covered" / "partly" / "missing"

How: the explanation is split into sentences (and the clauses of long sentences, so one point
made half-way through a long sentence is still seen). A key point's score is the best cosine
similarity between any of those pieces and any of its reference sentences. A point is *covered*
at COVERED or above and *partly* covered (worth half) between PARTLY and COVERED.

The thresholds were calibrated on the example explanations in tests/tutor/explanations.py
(`python -m tests.tutor.calibrate` prints every score). Mean coverage on 2026-11-27: good 0.91
(0.84-0.95), partial 0.26 (0.18-0.37), off-topic 0.00 (best single similarity 0.44, a CNN text
on "later layers"). MiniLM scores unrelated English around 0.0-0.25 and paraphrases of one idea
around 0.55-0.9; other machine-learning text ("the model is trained on data") sits in between,
which is why PARTLY sits above the off-topic maxima and not at the midpoint. Between 0.58 and
0.60 true paraphrases and vague clauses ("the model is trained to give the answers humans like")
overlap: no threshold separates them, so the checklist shows the learner's sentence for each
point and lets the learner judge.

A piece only speaks for the points it is nearly closest to (within RIVAL_MARGIN of its best
point): "a reward model learns which answer people prefer" is stage 2, not also stage 3.

Misconceptions: an embedding model hardly sees negation ("does not add facts" embeds close to
"adds facts"), so a piece is flagged only when it is at least MISCONCEPTION close to a
misconception statement, says "not" exactly when that statement does, and either is closer to it
than to any reference sentence by MISCONCEPTION_MARGIN or differs in "not" from the reference it
is closest to. A flagged piece earns no point (it would otherwise "cover" the very point it
contradicts); nothing else is deducted. The flag is shown as "Check this" with the feedback.
Pure Python + numpy; the embedder is passed in (anything with encode(list[str]) -> unit rows).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np

from .rubric import Rubric

COVERED = 0.58
PARTLY = 0.50
MISCONCEPTION = 0.77
MISCONCEPTION_MARGIN = 0.08
RIVAL_MARGIN = 0.10     # a piece covers only points within this of its best point
MIN_WORDS = 3            # "Yes." or "So." is no explanation of anything
LONG_SENTENCE = 12       # words; longer sentences are also scored clause by clause
GRADER_VERSION = "minilm-l6-v2/1"   # stored with each attempt: scores from other versions differ

SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n\s*(?=[-*•]\s)|(?<=:)\n")
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
NEGATION = re.compile(r"\b(?:not|no|never|nothing|none|cannot|without)\b|n't\b", re.IGNORECASE)
CLAUSE = re.compile(r"\s*(?:;|:|\s[-–—]\s|,\s+(?:and|but|while|so|which|because|then)\s)\s*")


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class Piece:
    text: str          # what is compared with the references (a sentence or a clause)
    sentence: str      # the learner's whole sentence it came from (what the result shows)


@dataclass
class PointResult:
    id: str
    title: str
    status: str                     # "covered", "partly", "missing"
    score: float                    # best cosine similarity with a reference sentence
    matched: str = ""               # the learner's sentence that came closest
    reference: str = ""             # the reference sentence it came closest to
    weight: float = 1.0
    core: bool = False
    links: list[str] = field(default_factory=list)      # studyapp://lessons?lesson=...#section
    lessons: list[str] = field(default_factory=list)    # lesson slugs, for the Progress tab


@dataclass
class MisconceptionHit:
    id: str
    title: str
    feedback: str
    sentence: str
    score: float


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
        points = [PointResult(**p) for p in data.pop("points", [])]
        hits = [MisconceptionHit(**m) for m in data.pop("misconceptions", [])]
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(points=points, misconceptions=hits, **known)


# ---------------------------------------------------------------------------------------------

def split_sentences(text: str) -> list[str]:
    """Sentences and bullet items of an explanation, whitespace tidied, very short ones dropped."""
    sentences = []
    for chunk in SENTENCE_END.split(text.strip()):
        chunk = BULLET.sub("", " ".join(chunk.split()))
        if len(chunk.split()) >= MIN_WORDS:
            sentences.append(chunk)
    return sentences


def pieces_of(text: str) -> list[Piece]:
    """What gets compared: every sentence, plus the clauses of long ones."""
    pieces = []
    for sentence in split_sentences(text):
        pieces.append(Piece(sentence, sentence))
        if len(sentence.split()) > LONG_SENTENCE:
            for clause in CLAUSE.split(sentence):
                if len(clause.split()) >= MIN_WORDS + 1 and clause != sentence:
                    pieces.append(Piece(clause, sentence))
    return pieces


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


_embedding_cache: dict[tuple[int, str], np.ndarray] = {}


def _embedded(texts: list[str], encoder: Encoder) -> np.ndarray:
    """Rubric sentences embedded once per encoder (they never change while the app runs)."""
    key = (id(encoder), "\n".join(texts))
    if key not in _embedding_cache:
        _embedding_cache[key] = encoder.encode(texts)
    return _embedding_cache[key]


def negated(text: str) -> bool:
    """Whether a sentence says "not": the one thing sentence embeddings barely register."""
    return bool(NEGATION.search(text))


def grade(rubric: Rubric, text: str, encoder: Encoder) -> GradeResult:
    pieces = pieces_of(text)
    owners = [(i, ref) for i, point in enumerate(rubric.points) for ref in point.references]
    refs = _embedded([ref for _, ref in owners], encoder)
    vectors = encoder.encode([p.text for p in pieces]) if pieces else np.zeros((0, refs.shape[1]), np.float32)
    sims = vectors @ refs.T      # pieces x references
    hits, flagged = _misconceptions(rubric, pieces, vectors, sims, [ref for _, ref in owners], encoder)
    # A sentence flagged as a misconception ("fine-tuning adds facts") must not also earn the
    # point it contradicts ("fine-tuning adds no facts"), however close the two embed.
    sims[flagged, :] = -1.0
    # A piece speaks for the points it is nearly closest to, not for every point it brushes:
    # "a reward model learns which answer people prefer" is stage 2, even though it is also
    # 0.6 from "the reward model scores them and PPO updates the model" (stage 3).
    per_point = np.stack([sims[:, [j for j, (o, _) in enumerate(owners) if o == i]].max(axis=1)
                          for i in range(len(rubric.points))], axis=1) if len(pieces) else sims[:, :0]
    if per_point.size:
        behind = per_point.max(axis=1, keepdims=True) - per_point[:, [o for o, _ in owners]]
        sims[behind > RIVAL_MARGIN] = -1.0

    results: list[PointResult] = []
    earned = 0.0
    for index, point in enumerate(rubric.points):
        columns = [j for j, (owner, _) in enumerate(owners) if owner == index]
        block = sims[:, columns]
        if block.size:
            row, col = np.unravel_index(int(np.argmax(block)), block.shape)
            score, matched, reference = float(block[row, col]), pieces[row].sentence, point.references[col]
        else:
            score, matched, reference = 0.0, "", point.references[0]
        status = "covered" if score >= COVERED else "partly" if score >= PARTLY else "missing"
        earned += point.weight * {"covered": 1.0, "partly": 0.5, "missing": 0.0}[status]
        results.append(PointResult(
            point.id, point.title, status, round(max(score, 0.0), 4),
            matched if status != "missing" else "", reference, point.weight, point.core,
            [s.link for s in point.taught_in], sorted({s.lesson for s in point.taught_in})))

    statuses = {p.id: p.status for p in results}
    coverage = earned / rubric.total_weight if rubric.points else 0.0
    return GradeResult(rubric.id, round(coverage, 4), results, hits,
                       band(rubric, statuses, len(hits)), len(split_sentences(text)))


def _misconceptions(rubric: Rubric, pieces: list[Piece], vectors: np.ndarray, sims: np.ndarray,
                    references: list[str], encoder: Encoder) -> tuple[list[MisconceptionHit], list[int]]:
    """Misconceptions found, and the indices of the pieces that state them.

    A piece states a misconception when it is close to one of its statements, says "not" exactly
    when the statement does, and either is clearly closer to it than to any reference sentence or
    differs in negation from the reference it is closest to (the "adds facts" / "adds no facts"
    pair, which the embedding alone cannot tell apart).
    """
    if not rubric.misconceptions or not pieces:
        return [], []
    statements = [(m, s) for m in rubric.misconceptions for s in m.statements]
    closeness = vectors @ _embedded([s for _, s in statements], encoder).T
    hits: dict[str, MisconceptionHit] = {}
    flagged = []
    for i, piece in enumerate(pieces):
        j = int(np.argmax(closeness[i]))
        score = float(closeness[i, j])
        nearest_ref = int(np.argmax(sims[i]))
        if score < MISCONCEPTION or negated(piece.text) != negated(statements[j][1]):
            continue
        clearly_closer = score - float(sims[i, nearest_ref]) >= MISCONCEPTION_MARGIN
        contradicts = negated(piece.text) != negated(references[nearest_ref])
        if clearly_closer or contradicts:
            flagged.append(i)
            m = statements[j][0]
            if m.id not in hits or hits[m.id].score < score:
                hits[m.id] = MisconceptionHit(m.id, m.title, m.feedback, piece.sentence, round(score, 4))
    return list(hits.values()), flagged
