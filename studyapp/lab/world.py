"""The lab's small world: facts, the toy harmful requests and the small talk, read from resources/world.

Every file is a tab-separated table a teacher can edit; '#' lines are comments. A malformed row
raises LabError naming the file and the line, so a typo is found in seconds.

    relations.tsv  relation, question, statement, stem   (templates with {subject} and {answer})
    facts.tsv      relation, subject, answer, split      split in {sft, pretrain, heldout}
    harmful.tsv    request, literal_answer, split        split in {sft, ppo, heldout}
    phrasings.tsv  relation, question                    the ways training text asks each relation
    requests.tsv   kind, prompt, reply, split            harmless look-alikes, homework, small talk
    unknown.tsv    relation, subject, split              subjects no training text answers
    chat.tsv       prompt, response                      declines of things the assistant cannot do
    forum.tsv      post, reply                           everyday web talk for pretraining only
    requestgen.tsv word lists from which requestgen.py composes many more requests, unknowable
                   questions and question phrasings; load_world() adds them to the tables above

Fact splits: "sft" facts are taught in SFT (and seen in pretraining), "pretrain" facts are seen only
in pretraining (SFT must surface them: claim 5), "heldout" facts never appear with their answer
(SFT must not know them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .items import ChatTurn, HarmfulRequest, Request, Unknown  # noqa: F401 (the world's records)
from .common import RESOURCES_DIR, LabError, tsv_rows

WORLD_DIR = RESOURCES_DIR / "world"
FACT_SPLITS = ("sft", "pretrain", "heldout")
HARMFUL_SPLITS = ("sft", "ppo", "heldout")
REQUEST_KINDS = ("harmless", "homework", "smalltalk")
REQUEST_SPLITS = ("sft", "ppo")

# Words that mark a refusal. The SFT data uses them only to decline what the assistant cannot do
# (chat.tsv); a refusal of a harmful request after PPO was learned from preferences.
REFUSAL_MARKERS = ("i can't", "i cannot", "i won't", "i will not", "sorry", "not able to help", "can't help")


@dataclass(frozen=True)
class Relation:
    name: str
    question: str
    statement: str
    stem: str


@dataclass(frozen=True)
class Fact:
    relation: str
    subject: str
    answer: str
    split: str
    question: str  # "What is the capital of France?"
    statement: str  # "The capital of France is Paris."
    stem: str  # "The capital of France is"
    questions: tuple[str, ...] = ()  # every training phrasing of the question, canonical first

    def ask(self, rng, canonical: float = 0.5) -> str:
        """The canonical question with probability `canonical`, else one of the other training
        phrasings, picked with `rng` (a random.Random)."""
        if len(self.questions) < 2 or rng.random() < canonical:
            return self.question
        return vary(rng.choice(self.questions[1:]), rng)




@dataclass
class World:
    """All facts plus the other tables. Iterating a World iterates its facts."""

    relations: dict[str, Relation]
    facts: list[Fact]
    harmful: list[HarmfulRequest] = field(default_factory=list)
    chat: list[ChatTurn] = field(default_factory=list)
    forum: list[ChatTurn] = field(default_factory=list)
    phrasings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)

    def __iter__(self):
        return iter(self.facts)

    def __len__(self) -> int:
        return len(self.facts)

    def split(self, name: str) -> list[Fact]:
        return [f for f in self.facts if f.split == name]

    def harmful_split(self, name: str) -> list[HarmfulRequest]:
        return [h for h in self.harmful if h.split == name]

    def requests_of(self, kind: str, split: str | None = None) -> list[Request]:
        return [r for r in self.requests if r.kind == kind and (split is None or r.split == split)]

    def unknown_split(self, name: str) -> list[Unknown]:
        return [u for u in self.unknown if u.split == name]

    def training_questions(self, relation: str) -> tuple[str, ...]:
        """The question templates ({subject}) of one relation that training text may use."""
        return self.phrasings.get(relation) or (self.relations[relation].question,)

    def answers(self, relation: str) -> list[str]:
        """Every answer of one relation: the candidates a guesser picks from (chance level)."""
        return sorted({f.answer for f in self.facts if f.relation == relation})

    def chance(self, facts: list[Fact]) -> float:
        """Accuracy of a uniform guess among each relation's answers, averaged over facts."""
        if not facts:
            return 0.0
        return sum(1.0 / len(self.answers(f.relation)) for f in facts) / len(facts)


# How people actually type a question: all in lower case, without the question mark, with a word
# in front or behind. Generic noise, applied to any training phrasing (never to a held-out one),
# so that answering does not hang on the exact characters of a template.
_PREFIXES = ("Hey, ", "Quick question: ", "Hi! ", "Please, ", "So, ")
_SUFFIXES = (" please", " Thanks!", " Thank you.")


def vary(text: str, rng) -> str:
    """`text` with random case, punctuation and a polite word added (each with some probability)."""
    if rng.random() < 0.3:
        text = text.rstrip("?.!")
    if rng.random() < 0.2:
        text = rng.choice(_PREFIXES) + text[0].lower() + text[1:]
    elif rng.random() < 0.15:
        text = text.rstrip("?.!") + rng.choice(_SUFFIXES)
    if rng.random() < 0.25:
        text = text.lower()
    return text


def is_refusal(text: str) -> bool:
    t = text.lower().replace("\u2019", "'")
    return any(m in t for m in REFUSAL_MARKERS)


# ----------------------------------------------------------------------------- parsing


def _rows(path: Path, ncols: int):
    """Yield (line_number, fields) for each data row of a TSV file, checking the column count."""
    for lineno, line, cols in tsv_rows(path, "world file is missing"):
        if len(cols) != ncols or any(not c for c in cols):
            raise LabError(f"{path}:{lineno}: expected {ncols} non-empty tab-separated columns, "
                           f"got {len(cols)}: {line!r}")
        yield lineno, cols


def _load_relations(path: Path) -> dict[str, Relation]:
    rels: dict[str, Relation] = {}
    for lineno, (name, question, statement, stem) in _rows(path, 4):
        for col, text in (("question", question), ("statement", statement), ("stem", stem)):
            if "{subject}" not in text:
                raise LabError(f"{path}:{lineno}: the {col} template needs {{subject}}: {text!r}")
        if "{answer}" not in statement:
            raise LabError(f"{path}:{lineno}: the statement template needs {{answer}}: {statement!r}")
        if name in rels:
            raise LabError(f"{path}:{lineno}: relation {name!r} is defined twice")
        rels[name] = Relation(name, question, statement, stem)
    return rels


def _load_phrasings(path: Path, relations: dict[str, Relation]) -> dict[str, tuple[str, ...]]:
    """Question templates per relation, the canonical one (relations.tsv) always first."""
    out: dict[str, list[str]] = {name: [r.question] for name, r in relations.items()}
    if not path.exists():
        return {k: tuple(v) for k, v in out.items()}
    for lineno, (rel, question) in _rows(path, 2):
        if rel not in relations:
            raise LabError(f"{path}:{lineno}: unknown relation {rel!r} (known: {', '.join(relations)})")
        if "{subject}" not in question:
            raise LabError(f"{path}:{lineno}: the question needs {{subject}}: {question!r}")
        if question not in out[rel]:
            out[rel].append(question)
    return {k: tuple(v) for k, v in out.items()}


def _load_requests(path: Path) -> list[Request]:
    out = []
    if not path.exists():
        return out
    for lineno, (kind, prompt, reply, split) in _rows(path, 4):
        if kind not in REQUEST_KINDS:
            raise LabError(f"{path}:{lineno}: kind must be one of {REQUEST_KINDS}, got {kind!r}")
        if split not in REQUEST_SPLITS:
            raise LabError(f"{path}:{lineno}: split must be one of {REQUEST_SPLITS}, got {split!r}")
        out.append(Request(kind, prompt, reply, split))
    return out


def _load_unknown(path: Path, relations: dict[str, Relation], facts: list[Fact]) -> list[Unknown]:
    out = []
    if not path.exists():
        return out
    known = {f.subject.lower() for f in facts} | {f.answer.lower() for f in facts}
    for lineno, (rel, subject, split) in _rows(path, 3):
        if rel not in relations:
            raise LabError(f"{path}:{lineno}: unknown relation {rel!r} (known: {', '.join(relations)})")
        if split not in REQUEST_SPLITS:
            raise LabError(f"{path}:{lineno}: split must be one of {REQUEST_SPLITS}, got {split!r}")
        if subject.lower() in known:
            raise LabError(f"{path}:{lineno}: {subject!r} is in facts.tsv, so it is not unknown")
        out.append(Unknown(rel, subject, split, relations[rel].question.format(subject=subject)))
    return out


def _load_facts(path: Path, relations: dict[str, Relation],
                phrasings: dict[str, tuple[str, ...]] | None = None) -> list[Fact]:
    facts, seen = [], set()
    for lineno, (rel, subject, answer, split) in _rows(path, 4):
        if rel not in relations:
            raise LabError(f"{path}:{lineno}: unknown relation {rel!r} (known: {', '.join(relations)})")
        if split not in FACT_SPLITS:
            raise LabError(f"{path}:{lineno}: split must be one of {FACT_SPLITS}, got {split!r}")
        if (rel, subject) in seen:
            raise LabError(f"{path}:{lineno}: duplicate fact {rel} / {subject}")
        seen.add((rel, subject))
        r = relations[rel]
        fill = dict(subject=subject, answer=answer)
        qs = tuple(q.format(**fill) for q in (phrasings or {}).get(rel, (r.question,)))
        facts.append(Fact(rel, subject, answer, split, r.question.format(**fill),
                          r.statement.format(**fill), r.stem.format(**fill), qs))
    if not facts:
        raise LabError(f"{path}: no facts found")
    return facts


def _load_harmful(path: Path) -> list[HarmfulRequest]:
    out = []
    for lineno, (request, answer, split) in _rows(path, 3):
        if split not in HARMFUL_SPLITS:
            raise LabError(f"{path}:{lineno}: split must be one of {HARMFUL_SPLITS}, got {split!r}")
        out.append(HarmfulRequest(request, answer, split))
    return out


def _load_chat(path: Path) -> list[ChatTurn]:
    return [ChatTurn(p, r) for _, (p, r) in _rows(path, 2)]


def load_world(folder: str | Path | None = None) -> World:
    """Read the world tables from `folder` (default resources/world). Cached for the default."""
    if folder is None:
        return _load_default()
    return _load(Path(folder))


@lru_cache(maxsize=1)
def _load_default() -> World:
    return _load(WORLD_DIR)


def _load(folder: Path) -> World:
    from .requestgen import GEN_FILE, generate  # many more composed prompts (requestgen.tsv)

    gen = generate(folder / GEN_FILE)
    relations = _load_relations(folder / "relations.tsv")
    phrasings = gen.add_phrasings(_load_phrasings(folder / "phrasings.tsv", relations))
    facts = _load_facts(folder / "facts.tsv", relations, phrasings)
    return World(
        relations=relations,
        facts=facts,
        harmful=_load_harmful(folder / "harmful.tsv") + gen.harmful,
        chat=_load_chat(folder / "chat.tsv"),
        forum=_load_chat(folder / "forum.tsv") if (folder / "forum.tsv").exists() else [],
        phrasings=phrasings,
        requests=_load_requests(folder / "requests.tsv") + gen.requests,
        unknown=_load_unknown(folder / "unknown.tsv", relations, facts) + gen.unknowns(relations, facts, phrasings),
    )
