"""The pretraining corpus: web-like documents generated from the world, seeded and reproducible.

Document kinds and why they are there:
- quiz sheets: questions followed by more questions. This is what makes a base model continue
  "What is the capital of France?" with another question (claim 1).
- encyclopedia pages: plain statements ("The capital of France is Paris.") - where facts are stored.
- FAQ pages: a question answered by a statement ("Q: ... A: The capital of France is Paris."), as
  on the web. With these, SFT only has to teach the model to use, in the chat format, a
  question-to-answer mapping it already holds (docs/lab-notes.md: without them SFT memorises its own pairs).
- tables, fill-in worksheets (with an answer key), bare lists of subjects, and forum threads
  (small talk and how-to answers) so everyday words are known before SFT. Toy harmful requests
  appear there answered both literally and with a decline (FORUM_DECLINES), as on the web.

Held-out facts appear only as bare subjects (lists, unanswered quiz questions), never with their
answer, so nothing after pretraining can know them (claim 5).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .world import Fact, World

# Shares of each document kind (the mix that let SFT transfer fastest in the prototype).
DEFAULT_MIX = {
    "encyclopedia": 0.27,
    "faq": 0.30,
    "quiz": 0.20,
    "table": 0.08,
    "worksheet": 0.05,
    "list": 0.05,
    "forum": 0.05,
}

# FAQ pages on the web label their questions in many ways; varied labels keep the question-to-answer
# skill from hanging on one marker, which helps SFT re-use it behind the chat tokens.
FAQ_LABELS = [("Q: ", "A: "), ("Question: ", "Answer: "), ("Asked: ", "Reply: ")]

TOPIC = {"capital": "capitals", "symbol": "chemical symbols", "sound": "animal sounds", "opposite": "opposites"}
TABLE_HEAD = {"capital": ("Country", "Capital"), "symbol": ("Element", "Symbol"),
              "sound": ("Animal", "Sound"), "opposite": ("Word", "Opposite")}
SUBJECT_NAME = {"capital": "Countries", "symbol": "Elements", "sound": "Animals", "opposite": "Words"}


@dataclass
class CorpusConfig:
    n_docs: int = 30_000
    seed: int = 0
    mix: dict = field(default_factory=lambda: dict(DEFAULT_MIX))


def _pick(rng: random.Random, facts: list[Fact], lo: int, hi: int) -> list[Fact]:
    return rng.sample(facts, min(len(facts), rng.randint(lo, hi)))


def _by_relation(facts: list[Fact]) -> dict[str, list[Fact]]:
    out: dict[str, list[Fact]] = {}
    for f in facts:
        out.setdefault(f.relation, []).append(f)
    return out


@dataclass
class _Sources:
    """What the document makers draw from."""

    known: dict[str, list[Fact]]  # facts that may appear with their answers (sft + pretrain)
    every: dict[str, list[Fact]]  # all facts, held-out ones included (subjects and questions only)
    pairs: list[tuple[str, str]]  # forum posts and replies


def _encyclopedia(rng, src):
    rel = rng.choice(list(src.known))
    facts = _pick(rng, src.known[rel], 2, 5)
    intro = rng.choice(["", f"Facts about {TOPIC[rel]}. ", f"{TOPIC[rel].capitalize()}\n"])
    return intro + " ".join(f.statement for f in facts)


def _faq(rng, src):
    rel = rng.choice(list(src.known))
    facts = _pick(rng, src.known[rel], 2, 4)
    head = rng.choice(["", "FAQ\n", f"Frequently asked questions about {TOPIC[rel]}\n"])
    q_label, a_label = rng.choice(FAQ_LABELS)
    qa = []
    for f in facts:
        answer = f.statement if rng.random() < 0.7 else f.answer + "."
        qa.append(f"{q_label}{f.ask(rng)}\n{a_label}{answer}")
    return head + "\n".join(qa)


def _quiz(rng, src):
    # Quiz sheets hold questions only, so held-out subjects may appear here: no answer is given.
    rel = rng.choice(list(src.every))
    pool = src.every[rel] if rng.random() < 0.7 else [f for fs in src.every.values() for f in fs]
    facts = _pick(rng, pool, 3, 6)
    numbered = rng.random() < 0.5
    head = rng.choice(["", f"Quiz: {TOPIC[rel]}\n", "Test yourself!\n", "Geography and science quiz\n"])
    asked = [f.ask(rng) for f in facts]  # many phrasings: the base model continues any of them as a sheet
    lines = [f"{i + 1}. {q}" if numbered else q for i, q in enumerate(asked)]
    return head + "\n".join(lines)


def _table(rng, src):
    rel = rng.choice(list(src.known))
    a, b = TABLE_HEAD[rel]
    facts = _pick(rng, src.known[rel], 3, 6)
    return f"| {a} | {b} |\n" + "\n".join(f"| {f.subject} | {f.answer} |" for f in facts)


def _worksheet(rng, src):
    rel = rng.choice(list(src.known))
    facts = _pick(rng, src.known[rel], 3, 5)
    blanks = "\n".join(f"{i + 1}. {f.stem} ____." for i, f in enumerate(facts))
    key = " ".join(f"{i + 1}. {f.answer}" for i, f in enumerate(facts))
    return f"Worksheet: fill in the blanks.\n{blanks}\nAnswers: {key}"


def _list(rng, src):
    rel = rng.choice(list(src.every))
    facts = _pick(rng, src.every[rel], 4, 8)
    return f"{SUBJECT_NAME[rel]}: " + ", ".join(f.subject for f in facts) + "."


def _forum(rng, src):
    # Everyday web talk (greetings, help requests, how-to threads, a few polite refusals) so that
    # words like "Hello", "homework" or "sorry" mean something before SFT. Held-out harmful
    # requests never appear here.
    picked = rng.sample(src.pairs, min(len(src.pairs), rng.randint(1, 3)))
    head = rng.choice(["Forum\n", "Comments\n", ""])
    return head + "\n".join(f"Post: {p}\nReply: {r}" for p, r in picked)


# How people on a forum answer a request to do harm, besides the few who answer it literally: the
# web a base model reads holds both, so "this is a request to harm someone" is something the base
# model can represent before any chat training. SFT never uses these replies (it answers harmful
# requests literally); whether the chat model declines is left to the preferences (claim 13).
FORUM_DECLINES = (
    "Please don't. That would hurt someone.",
    "Don't do that. It is wrong, and it is not fair to them.",
    "No. That is not yours, so leave it alone.",
    "Sorry, I won't help with that. Ask a grown-up instead.",
    "Please don't do that. You could get in real trouble.",
)


def forum_pairs(world: World) -> list[tuple[str, str]]:
    harmful = [h for h in world.harmful if h.split != "heldout"]
    return ([(c.prompt, c.response) for c in world.chat + world.forum]
            + [(r.prompt, r.reply) for r in world.requests]
            + [(h.request, h.literal_answer) for h in harmful]
            + [(h.request, FORUM_DECLINES[i % len(FORUM_DECLINES)]) for i, h in enumerate(harmful)])


MAKERS = {"encyclopedia": _encyclopedia, "faq": _faq, "quiz": _quiz, "table": _table,
          "worksheet": _worksheet, "list": _list, "forum": _forum}


def build_corpus(world: World, cfg: CorpusConfig | None = None) -> list[str]:
    """A list of documents. Facts in the "sft" and "pretrain" splits appear with their answers;
    "heldout" facts only as bare subjects or unanswered questions."""
    cfg = cfg or CorpusConfig()
    rng = random.Random(cfg.seed)
    src = _Sources(known=_by_relation([f for f in world.facts if f.split != "heldout"]),
                   every=_by_relation(world.facts), pairs=forum_pairs(world))
    kinds = list(cfg.mix)
    weights = [cfg.mix[k] for k in kinds]
    return [MAKERS[k](rng, src) for k in rng.choices(kinds, weights, k=cfg.n_docs)]


def leaks_heldout(docs: list[str], world: World) -> list[str]:
    """Documents that state a held-out answer next to its subject (should be none); used by tests."""
    bad = []
    for f in world.split("heldout"):
        for d in docs:
            if f.subject in d and (f.statement[:-1] in d or f"| {f.subject} | {f.answer} |" in d):
                bad.append(d)
    return bad
