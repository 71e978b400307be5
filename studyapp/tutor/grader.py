"""Grade a teach-it-back explanation against a rubric: credit what is right, flag what is wrong.

    result = grade(rubric, text, load_embedder())
    result.coverage            # 0..1, weighted by the key points' weights
    for p in result.points: p.status, p.score, p.matched, p.lost   # "covered" / "partly" / "missing"
    for m in result.misconceptions: m.sentence, m.feedback, m.contradicts

How: the explanation is split into sentences (and the clauses of long sentences). Each piece is
compared with two kinds of statement of the rubric: the reference sentences that *satisfy* a key
point, and the misconception statements that *contradict* one (`contradicts:` in the rubric).
The closeness of a piece to a statement is

    cosine(piece, statement)                      all-MiniLM-L6-v2, unit vectors
    - NEGATION_PENALTY   if exactly one of them says "not" (no, never, nothing, n't, ...)
    + ORDER_WEIGHT * the share of word pairs (bigrams) they have in common

The penalty is there because a sentence embedding hardly sees negation ("does not add facts"
embeds close to "adds facts"); the bigram term because mean-pooled embeddings hardly see word
order ("the early layers change most, the later barely move" embeds close to its reverse).

A piece is a *misconception* when its closest misconception statement is at least MISCONCEPTION
close and no more than MISCONCEPTION_MARGIN behind its closest reference, or when it is at least
NEGATED close to a reference but says "not" where the reference does not (or the reverse) and no
reference of the same polarity comes near. A whole sentence with a flagged piece earns nothing;
the flag names the sentence, the feedback and the points it gets wrong, and a point the learner
contradicts is capped (covered becomes partly, partly becomes missing): a teacher cannot read
"covered" for a point the learner also got wrong.

Otherwise a piece covers the point of its closest reference at COVERED or above (partly between
PARTLY and COVERED), and only points within RIVAL_MARGIN of its best point.

The constants were chosen on the train part of the labelled sentences in tests/tutor/labelled.py
and measured on its held-out part (`python -m tests.tutor.calibrate` prints them; the numbers of
2026-11-30 are in tests/tutor/test_truth.py: on sentences it has not seen, about 2 in 3 points
it credits are right and about half the misconceptions are flagged, so the checklist shows the
sentence behind every credit and every flag and leaves the learner and teacher to judge). Pure Python + numpy; the embedder is passed in
(anything with encode(list[str]) -> unit rows).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np

from studyapp.content.rubric import Rubric

COVERED = 0.62
PARTLY = 0.55
MISCONCEPTION = 0.76
MISCONCEPTION_MARGIN = -0.10   # a misconception must beat every reference by 0.10
NEGATED = 0.70                # a reference this close, with the opposite polarity: a contradiction
COVER_MARGIN = 0.0          # credit only when clearly closer to the right version than the wrong
NEGATED_MAX_WORDS = 16       # pieces longer than this are not judged by their "not" alone
NEGATION_PENALTY = 0.20
ORDER_WEIGHT = 0.15
RIVAL_MARGIN = 0.10     # a piece covers only points within this of its best point
MIN_WORDS = 3            # "Yes." or "So." is no explanation of anything
LONG_SENTENCE = 12       # words; longer sentences are also scored clause by clause
GRADER_VERSION = "minilm-l6-v2/2"   # stored with each attempt: scores from other versions differ

SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n\s*(?=[-*•]\s)|(?<=:)\n")
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
NEGATION = re.compile(r"\b(?:not|no|never|nothing|none|nobody|neither|nor|cannot|without)\b|n't\b",
                      re.IGNORECASE)
WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
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
    lost: str = ""                  # the learner's sentence that got this point wrong, if any


@dataclass
class MisconceptionHit:
    id: str
    title: str
    feedback: str
    sentence: str
    score: float
    contradicts: list[str] = field(default_factory=list)   # ids of the key points it gets wrong


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
    """Whether a sentence says "not" (an odd number of times): what embeddings barely register."""
    return len(NEGATION.findall(text)) % 2 == 1


# Words whose swap turns a true statement false while the embedding hardly moves ("SFT uses less
# data" / "more data"), and words that make a statement false wherever they appear ("at random").
MORE = {"more", "larger", "bigger", "higher", "greater", "most", "biggest", "largest", "highest"}
LESS = {"less", "fewer", "smaller", "lower", "least", "smallest", "lowest", "tiny"}
FALSIFIERS = {"random", "randomly", "hard-coded", "hardcoded"}


def _words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def opposed(a: str, b: str) -> bool:
    """Whether two sentences on the same topic say opposite things, as far as words can tell:
    one says "not" and the other does not, or one says "more" where the other says "less", or
    one says "random" (or "hard-coded") and the other does not (whatever else it says)."""
    wa, wb = _words(a), _words(b)
    if bool(wa & FALSIFIERS) != bool(wb & FALSIFIERS):
        return True
    flips = negated(a) != negated(b)
    for one, other in ((MORE, LESS), (LESS, MORE)):
        if wa & one and not wa & other and wb & other and not wb & one:
            flips = not flips
            break
    return flips


def bigrams(text: str) -> set[tuple[str, str]]:
    words = WORD.findall(text.lower())
    return set(zip(words, words[1:]))


def order_overlap(a: list[set], b: list[set]) -> np.ndarray:
    """Dice overlap of the word pairs of every a with every b: word order, which embeddings miss."""
    out = np.zeros((len(a), len(b)), dtype=np.float32)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            if x and y:
                out[i, j] = 2 * len(x & y) / (len(x) + len(y))
    return out


def closeness(pieces: list[str], vectors: np.ndarray, statements: list[str],
              statement_vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(raw cosine, adjusted closeness) of every piece with every statement."""
    cos = vectors @ statement_vectors.T
    mismatch = np.array([[opposed(p, s) for s in statements] for p in pieces], dtype=bool).reshape(
        len(pieces), len(statements))
    order = order_overlap([bigrams(p) for p in pieces], [bigrams(s) for s in statements])
    return cos, cos - NEGATION_PENALTY * mismatch + ORDER_WEIGHT * order


def grade(rubric: Rubric, text: str, encoder: Encoder) -> GradeResult:
    pieces = pieces_of(text)
    points = rubric.points
    owners = [(i, ref) for i, point in enumerate(points) for ref in point.references]
    ref_texts = [ref for _, ref in owners]
    refs = _embedded(ref_texts, encoder)
    owner_of = np.array([o for o, _ in owners])
    vectors = encoder.encode([p.text for p in pieces]) if pieces else np.zeros((0, refs.shape[1]), np.float32)
    raw, sims = closeness([p.text for p in pieces], vectors, ref_texts, refs)
    # Credit only for a reference the piece agrees with: "the reward model is not trained on
    # rankings" must not earn the point of "the reward model is trained on rankings".
    against_ref = np.array([[opposed(p.text, r) for r in ref_texts] for p in pieces], dtype=bool
                           ).reshape(len(pieces), len(ref_texts))

    statements = [(m, s) for m in rubric.misconceptions for s in m.statements]
    if statements and pieces:
        texts = [s for _, s in statements]
        _, mis = closeness([p.text for p in pieces], vectors, texts, _embedded(texts, encoder))
    else:
        mis = np.zeros((len(pieces), len(statements)), np.float32)
    hits, flagged = _misconceptions(rubric, pieces, raw, sims, owners, statements, mis)
    # Credit needs evidence for the right version: a piece must be COVER_MARGIN closer to the
    # point's reference than to any statement that contradicts the point ("the early layers
    # change most" is as close to the reference as to its reverse; it earns nothing).
    for index, point in enumerate(points):
        against = [j for j, (m, _) in enumerate(statements) if point.id in m.contradicts]
        if against and len(pieces):
            worst = mis[:, against].max(axis=1, keepdims=True)
            cols = owner_of == index
            block = sims[:, cols]
            block[block - worst < COVER_MARGIN] = -1.0
            sims[:, cols] = block
    # A flagged sentence earns nothing, in any of its pieces: "fine-tuning adds facts" embeds
    # close to the point it contradicts ("fine-tuning adds no facts") and must not cover it.
    sims[against_ref] = -1.0
    bad_sentences = {pieces[i].sentence for i in flagged}
    for i, piece in enumerate(pieces):
        if piece.sentence in bad_sentences:
            sims[i, :] = -1.0
    # A piece speaks for the points it is nearly closest to, not for every point it brushes:
    # "a reward model learns which answer people prefer" is stage 2, even though it is also
    # 0.6 from "the reward model scores them and PPO updates the model" (stage 3).
    if len(pieces):
        per_point = np.stack([sims[:, owner_of == i].max(axis=1) for i in range(len(points))], axis=1)
        behind = per_point.max(axis=1, keepdims=True) - per_point[:, owner_of]
        sims[behind > RIVAL_MARGIN] = -1.0

    lost_by: dict[str, str] = {}
    for hit in hits:
        for point_id in hit.contradicts:
            lost_by.setdefault(point_id, hit.sentence)
    results: list[PointResult] = []
    earned = 0.0
    for index, point in enumerate(points):
        block = sims[:, owner_of == index]
        if block.size:
            row, col = np.unravel_index(int(np.argmax(block)), block.shape)
            score, matched, reference = float(block[row, col]), pieces[row].sentence, point.references[col]
        else:
            score, matched, reference = 0.0, "", point.references[0]
        status = "covered" if score >= COVERED else "partly" if score >= PARTLY else "missing"
        if point.id in lost_by:
            # The learner also said the opposite: at most half the point, never "covered".
            status = {"covered": "partly", "partly": "missing", "missing": "missing"}[status]
        earned += point.weight * {"covered": 1.0, "partly": 0.5, "missing": 0.0}[status]
        results.append(PointResult(
            point.id, point.title, status, round(min(max(score, 0.0), 1.0), 4),
            matched if status != "missing" else "", reference, point.weight, point.core,
            [s.link for s in point.taught_in], sorted({s.lesson for s in point.taught_in}),
            lost_by.get(point.id, "")))

    statuses = {p.id: p.status for p in results}
    coverage = earned / rubric.total_weight if points else 0.0
    return GradeResult(rubric.id, round(coverage, 4), results, hits,
                       band(rubric, statuses, len(hits)), len(split_sentences(text)))


def _misconceptions(rubric: Rubric, pieces: list[Piece], raw: np.ndarray, sims: np.ndarray,
                    owners: list[tuple[int, str]], statements: list, mis: np.ndarray,
                    ) -> tuple[list[MisconceptionHit], list[int]]:
    """Misconceptions found, and the indices of the pieces that state them (see the docstring)."""
    if not pieces:
        return [], []
    hits: dict[str, MisconceptionHit] = {}
    flagged = []
    for i, piece in enumerate(pieces):
        best_ref = float(sims[i].max())
        if mis.shape[1]:
            j = int(np.argmax(mis[i]))
            score = float(mis[i, j])
            if score >= MISCONCEPTION and score >= best_ref - MISCONCEPTION_MARGIN:
                m = statements[j][0]
                flagged.append(i)
                if m.id not in hits or hits[m.id].score < score:
                    hits[m.id] = MisconceptionHit(m.id, m.title, m.feedback, piece.sentence,
                                                  round(score, 4), list(m.contradicts))
                continue
        # The negation of a reference sentence: close in meaning, opposite in polarity, and no
        # reference that says it the same way round comes near.
        k = int(np.argmax(raw[i]))
        if len(piece.text.split()) > NEGATED_MAX_WORDS:
            continue   # in a long sentence the "not" may belong to another clause
        same_way = raw[i][[not opposed(piece.text, ref) for _, ref in owners]]
        if (raw[i, k] >= NEGATED and opposed(piece.text, owners[k][1])
                and (same_way.size == 0 or float(same_way.max()) < raw[i, k] - NEGATION_PENALTY)):
            point = rubric.points[owners[k][0]]
            key = f"not-{point.id}"
            flagged.append(i)
            if key not in hits or hits[key].score < raw[i, k]:
                hits[key] = MisconceptionHit(
                    key, f"This says the opposite of: {point.title}",
                    f"The course says: {owners[k][1]}", piece.sentence, round(float(raw[i, k]), 4),
                    [point.id])
    return list(hits.values()), flagged
