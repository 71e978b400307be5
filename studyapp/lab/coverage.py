"""Whether a prompt lies inside the tiny model's world, and a short note for the learner if not.

    from studyapp.lab.coverage import check
    check("What is the capital of France?").inside        # True: a fact the models were taught
    check("What is the capital of Australia?").note       # "…no text it saw gives the capital of Australia…"

The lab's models know only the world tables (resources/world, read through world.py): four kinds of
fact, some everyday requests, homework requests and small talk. Asked anything else they still
write something (a guess, a quiz question, gibberish, or nothing at all), and a learner should know
why. The decision is plain word matching against those tables, not a model: it is cheap enough
for every Generate press, needs no torch, and a teacher who edits the world edits it too.

A prompt is outside when
- it asks one of the world's fact questions about a subject whose answer no training text gives
  (unknown.tsv, or a word the world has never seen), or
- it asks the model to compose something (a poem, a story, an essay): the world's only writing
  requests are homework ("Write my poem for class"), answered with a guide, never with a poem, or
- at least half of its words never occur anywhere in the world's text.
Held-out facts are inside: the world names them, the models just never saw their answers (the
compare tab's preset for them says so).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from .world import World, load_world

# Words too common to say anything about a topic; a prompt made only of these is small talk.
STOPWORDS = frozenset("""
a an the and or but if so of to in on at for from by with about into over under than then as is
am are was were be been being do does did done have has had i me my mine you your yours we us our
it its he him his she her they them their this that these those what which who whom whose when
where why how can could would should will shall may might must not no yes please just very too
also there here some any all tell give let s t d ll m re ve
""".split())

# How the note names each relation's facts; a relation a teacher adds is named by its key.
_KINDS = {"capital": "the capitals of {n} countries", "symbol": "the chemical symbols of {n} elements",
          "sound": "the sounds of {n} animals", "opposite": "{n} pairs of opposites"}

# "write me a poem", "compose a song", "make up a story": a request to create text. The world's
# writing requests all say whose work it is ("Write my essay"), so the possessive tells them apart.
_COMPOSE = re.compile(r"\b(write|compose|draft|create|make up|invent)\s+(me\s+|us\s+)?(a|an|another|some)\b")

# A relation's cue must occur in at least this many of its training phrasings (one odd phrasing
# does not make a word a sign of the relation).
_MIN_CUE_PHRASINGS = 2


@dataclass(frozen=True)
class Coverage:
    inside: bool
    reason: str   # fact, heldout, world, small-talk | no-answer, new-subject, compose, unfamiliar
    note: str     # "" when inside; otherwise one or two sentences for the learner


def words(text: str) -> list[str]:
    """Lower-case words and numbers; "France's" gives "france" (the possessive is dropped)."""
    return re.findall(r"[^\W_]+", (text.lower() + " ").replace("'s ", " ").replace("’s ", " "))


@dataclass(frozen=True)
class _Index:
    vocabulary: frozenset[str]
    cues: dict[str, frozenset[str]]            # relation -> words only its questions use
    facts: dict[tuple[str, str], str]          # (relation, subject) -> split
    unknown: dict[tuple[str, str], str]        # (relation, subject) -> the subject as written
    subjects: frozenset[str]
    taught: str                                # "the capitals of 26 countries, …"


def _build(world: World) -> _Index:
    texts: list[str] = []
    for fact in world.facts:
        texts += [fact.question, fact.statement, fact.answer, *fact.questions]
    texts += [r.prompt + " " + r.reply for r in world.requests]
    texts += [h.request + " " + h.literal_answer for h in world.harmful]
    texts += [c.prompt + " " + c.response for c in world.chat + world.forum]
    texts += [u.question for u in world.unknown]
    vocabulary = {w for text in texts for w in words(text)}

    # A cue word of a relation: in several of its phrasings, in no other relation's phrasings, and
    # in at most one of the world's other prompts ("city" is in "catch a bus to the city").
    per_relation = {}
    for name in world.relations:
        counts = Counter(w for q in world.training_questions(name)
                         for w in set(words(q.replace("{subject}", " "))))
        per_relation[name] = {w for w, n in counts.items() if n >= _MIN_CUE_PHRASINGS and w not in STOPWORDS}
    others = Counter(w for text in [r.prompt for r in world.requests] + [h.request for h in world.harmful]
                     + [c.prompt for c in world.chat + world.forum] for w in set(words(text)))
    cues = {}
    for name, mine in per_relation.items():
        shared = set().union(*(v for k, v in per_relation.items() if k != name))
        cues[name] = frozenset(w for w in mine - shared if others[w] <= 1)

    facts = {(f.relation, f.subject.lower()): f.split for f in world.facts}
    unknown = {(u.relation, u.subject.lower()): u.subject for u in world.unknown}
    taught_counts = Counter(f.relation for f in world.facts if f.split != "heldout")
    kinds = [_KINDS.get(r, f"{{n}} {r} facts").format(n=n) for r, n in taught_counts.items()]
    return _Index(frozenset(vocabulary), cues, facts, unknown,
                  frozenset(s for _, s in facts) | frozenset(s for _, s in unknown),
                  ", ".join(kinds))


@lru_cache(maxsize=1)
def _default_index() -> _Index:
    return _build(load_world())


def trained_on(world: World | None = None) -> str:
    """One sentence: what the tiny models were trained on."""
    index = _build(world) if world is not None else _default_index()
    return (f"The tiny models were trained only on a small made-up world: {index.taught}, "
            "some everyday requests, homework requests and small talk.")


def _known(word: str, vocabulary: frozenset[str]) -> bool:
    return word in vocabulary or (word.endswith("s") and word[:-1] in vocabulary)


def new_words(text: str, world: World | None = None) -> list[str]:
    """The words of `text` that no text of the world uses (a plural counts as its singular), in order;
    a "{subject}" slot is ignored. "antonym for {subject}?" -> ["antonym"]."""
    index = _build(world) if world is not None else _default_index()
    return [w for w in words(text.replace("{subject}", " ")) if not _known(w, index.vocabulary)]


def check(prompt: str, world: World | None = None) -> Coverage:
    """Whether the tiny models could know what `prompt` asks (see the module docstring)."""
    index = _build(world) if world is not None else _default_index()
    said = words(prompt)
    present = set(said)
    about = trained_on(world) if world is not None else trained_on()

    for relation, cues in index.cues.items():
        if not present & cues:
            continue
        for subject in present & index.subjects:
            split = index.facts.get((relation, subject))
            if split is not None:
                return Coverage(True, "heldout" if split == "heldout" else "fact", "")
            if (relation, subject) in index.unknown:
                name = index.unknown[(relation, subject)]
                return Coverage(False, "no-answer",
                                f"No text the models saw gives the {relation} of {name}, so any "
                                f"answer is a guess (the tuned models may say they do not know). {about}")
        content = [w for w in said if w not in STOPWORDS]
        strange = [w for w in content if not _known(w, index.vocabulary)]
        if strange and 2 * len(strange) <= len(content):    # a new name in a familiar question
            return Coverage(False, "new-subject",
                            f"The models have never seen the word “{strange[-1]}”, so any answer is "
                            f"a guess. {about}")
        break                                 # mostly unknown words: judged as any other prompt

    if _COMPOSE.search(prompt.lower()):
        return Coverage(False, "compose",
                        "The models never saw a poem, story or essay written on request: the only "
                        "writing requests they know are homework (“Write my poem for class”), "
                        f"answered with a first step. {about}")

    content = [w for w in said if w not in STOPWORDS]
    if not content:
        return Coverage(True, "small-talk", "")
    strange = [w for w in content if not _known(w, index.vocabulary)]
    if 2 * len(strange) >= len(content):
        shown = ", ".join(f"“{w}”" for w in list(dict.fromkeys(strange))[:3])
        return Coverage(False, "unfamiliar",
                        f"Words such as {shown} never occur in the text the models learned "
                        f"from, so expect a guess, a quiz question or nothing. {about}")
    return Coverage(True, "world", "")
