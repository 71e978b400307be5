"""Claims: the propositions of a rubric, found in a learner's sentence together with their polarity.

    lexicon = Lexicon(rubric.terms, rubric.opposites)
    sentence = read("The KL penalty doesn't keep the policy near the SFT model.")
    match = lexicon.compile("kl keep close sft").find(sentence)
    match.flipped        # True: the sentence says the opposite of the claim
    match.evidence       # "kl penalty … not … keep … near … sft model"

A claim is one short line of a rubric (`claim: people rank answers`). Each word is a *slot*:
- the name of one of the rubric's terms (`people: people, humans, raters, labellers, we`), a set
  of words and phrases that mean the same thing to this rubric;
- or a literal word, matched by its stem ("ranked", "ranking" and "ranks" all match "rank");
- `a|b` accepts either; the word `not` makes the claim a negative statement ("sft not add facts");
- a claim that starts with `+` only ever credits: its opposite is not read as a contradiction
  (for claims too loose to judge a "not" in: "+ clip step" must not flag "clipping, so no step
  goes too far").

A sentence states a claim when its slots occur in that order, in one clause, each at most
MAX_GAP words after the previous one. Word order is how roles are told apart: "people rank the
model's answers" states `people rank answers`, "the model ranks the people's answers" does not.

Whether it states it *or its opposite*:
- negations (not, n't, no, never, nothing, nobody, none, neither, nor, without, rather than,
  instead of) that stand before a slot of the match, in the same clause, and at most NEG_BEFORE
  words before its first slot, each flip it; a negation that is part of a term ("say no") does
  not count;
- a slot whose term has an opposite (close/away, less/more, later/earlier) may be filled by the
  opposite term, which flips it too: "the early layers change most" is `later change most`
  flipped.
An even number of flips leaves the claim as stated. The matcher knows no grammar beyond this:
what it credits and flags is what the rubric's claims say, which a teacher can read and change.
Pure Python (snowballstemmer for the stems); no Qt, no torch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

MAX_GAP = 6          # words allowed between two consecutive slots of a claim
NEG_BEFORE = 3       # a negation this many words before the first slot still counts ("without the KL")
NEGATIONS = {"not", "no", "never", "nothing", "none", "nobody", "neither", "nor", "without"}
# Words that open a new clause after a comma; "but" and "whereas" open one anywhere.
CLAUSE_OPENERS = {"and", "but", "while", "whereas", "so", "which", "because", "although", "though",
                  "then", "who", "where", "since", "yet"}
BREAKS = {";", "-", "—", "–", "(", ")"}   # not ":" ("Base model: trained to predict ...")

_REWRITES = [
    (re.compile(r"\bcan\s*not\b|\bcan't\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"\b(?:rather than|instead of|as opposed to)\b"), " not "),
    (re.compile(r"\b(?:nothing more than|nothing but|no more than)\b"), " only "),
    (re.compile(r"['’]s\b"), ""),                 # possessive: "people's" -> "people"
    (re.compile(r"(?<=[a-z0-9])[-/](?=[a-z0-9])"), " "),   # "fine-tuning" -> "fine tuning"
]
TOKEN = re.compile(r"[a-z0-9]+|[;()—–]|\s-\s|,")

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


@dataclass(frozen=True)
class Sentence:
    """A sentence read into stems, with the clause of each word and where the negations are."""
    text: str
    words: tuple[str, ...]       # the words as written (lower case), for the evidence
    stems: tuple[str, ...]
    clause: tuple[int, ...]      # clause number of each word
    negations: tuple[int, ...]   # word indices of the negations


def read(text: str) -> Sentence:
    lowered = text.lower().replace("’", "'")
    for pattern, replacement in _REWRITES:
        lowered = pattern.sub(replacement, lowered)
    words, clauses = [], []
    clause = 0
    comma = False
    for token in TOKEN.findall(lowered):
        token = token.strip()
        if token == ",":
            comma = True
            continue
        if token in BREAKS:
            clause += 1
            comma = False
            continue
        if (comma and token in CLAUSE_OPENERS) or token in {"but", "whereas"}:
            clause += 1
        comma = False
        words.append(token)
        clauses.append(clause)
    stems = tuple(stem(w) for w in words)
    negations = tuple(i for i, w in enumerate(words) if w in NEGATIONS)
    return Sentence(text, tuple(words), stems, tuple(clauses), negations)


# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    """Where a claim was found: the word span of each slot, and whether it came out flipped."""
    spans: tuple[tuple[int, int], ...]
    flipped: bool
    evidence: str

    @property
    def size(self) -> int:
        return len(self.spans)

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def words(self) -> set[int]:
        return {i for start, end in self.spans for i in range(start, end)}

    def overlaps(self, other: Match) -> bool:
        return self.start < other.end and other.start < self.end

    def beats(self, other: Match) -> bool:
        """The more specific reading of the same words: more slots, or as many in fewer words."""
        return self.overlaps(other) and (self.size, -self.length) > (other.size, -other.length)


@dataclass(frozen=True)
class Slot:
    phrases: tuple[tuple[str, ...], ...]     # stem sequences that fill it as stated
    opposite: tuple[tuple[str, ...], ...]    # stem sequences that fill it flipped


class ClaimError(ValueError):
    """A claim line that cannot be used (the rubric parser turns it into a line-numbered error)."""


class Lexicon:
    """The rubric's terms, compiled: term name -> the stem sequences of its phrases."""

    def __init__(self, terms: dict[str, tuple[str, ...]], opposites: tuple[tuple[str, str], ...] = ()):
        self.terms = {name: tuple(_phrase(p) for p in phrases) for name, phrases in terms.items()}
        self.opposite: dict[str, str] = {}
        for a, b in opposites:
            self.opposite[a], self.opposite[b] = b, a
        # Every phrase of every term, longest first: a word inside a longer phrase of another
        # term ("model" inside "reward model") does not count as the shorter term.
        self._all = sorted({p for ps in self.terms.values() for p in ps}, key=len, reverse=True)
        self._covered: dict[Sentence, list[tuple[int, int]]] = {}

    def slot(self, word: str) -> Slot:
        phrases, opposite = [], []
        for alternative in word.split("|"):
            if not alternative:
                raise ClaimError(f"an empty alternative in {word!r}")
            if alternative in self.terms:
                phrases += self.terms[alternative]
                if alternative in self.opposite:
                    opposite += self.terms[self.opposite[alternative]]
            elif re.fullmatch(r"[a-z0-9]+", alternative):
                phrases.append((stem(alternative),))
            else:
                raise ClaimError(f"{alternative!r} is neither a term of this rubric nor a plain word")
        return Slot(tuple(phrases), tuple(opposite))

    def compile(self, line: str) -> Claim:
        words = line.lower().split()
        one_way = bool(words) and words[0] == "+"
        words = words[1:] if one_way else words
        negative = words.count("not") % 2 == 1
        slots = tuple(self.slot(w) for w in words if w != "not")
        if not slots:
            raise ClaimError("a claim needs at least one word besides 'not' and '+'")
        return Claim(line, slots, negative, self, one_way)

    def covered(self, sentence: Sentence) -> list[tuple[int, int]]:
        """The spans taken by term phrases (longest first, no overlaps); computed once per sentence."""
        cached = self._covered.get(sentence)
        if cached is not None:
            return cached
        if len(self._covered) > 2000:
            self._covered.clear()
        present = set(sentence.stems)
        taken: list[tuple[int, int]] = []
        used = [False] * len(sentence.stems)
        for phrase in self._all:
            if phrase[0] not in present:
                continue
            for start in _find(sentence.stems, phrase):
                end = start + len(phrase)
                if not any(used[start:end]):
                    taken.append((start, end))
                    used[start:end] = [True] * (end - start)
        self._covered[sentence] = taken
        return taken


def _phrase(text: str) -> tuple[str, ...]:
    return read(text).stems


def _find(stems: tuple[str, ...], phrase: tuple[str, ...]) -> list[int]:
    n = len(phrase)
    return [i for i, first in enumerate(stems[:len(stems) - n + 1])
            if first == phrase[0] and stems[i:i + n] == phrase]


@dataclass(frozen=True)
class Claim:
    text: str
    slots: tuple[Slot, ...]
    negative: bool
    lexicon: Lexicon
    one_way: bool = False     # `+ ...`: credits when stated, never read as its opposite

    def find(self, sentence: Sentence) -> Match | None:
        """The tightest occurrence of the claim in the sentence, or None."""
        taken = self.lexicon.covered(sentence)
        present = set(sentence.stems)

        def places(phrases, flip):
            out = []
            for phrase in phrases:
                if phrase[0] not in present:
                    continue
                for start in _find(sentence.stems, phrase):
                    end = start + len(phrase)
                    # Skip a phrase that is only part of a longer term phrase ("model" in "reward model").
                    if any(s <= start and end <= e and (e - s) > (end - start) for s, e in taken):
                        continue
                    out.append((start, end, flip))
            return out

        options = [places(slot.phrases, False) + places(slot.opposite, True) for slot in self.slots]
        if not all(options):
            return None
        best = None
        for chain in _chains(options, sentence.clause):
            span = chain[-1][1] - chain[0][0]
            if best is None or span < best[0]:
                best = (span, chain)
        if best is None:
            return None
        chain = best[1]
        flips = sum(flip for _, _, flip in chain) + self._negations(sentence, chain, taken)
        flipped = (flips % 2 == 1) != self.negative
        if flipped and self.one_way:
            return None
        return Match(tuple((s, e) for s, e, _ in chain), flipped, self._evidence(sentence, chain))

    @staticmethod
    def _negations(sentence: Sentence, chain, taken) -> int:
        """Negations that govern the match: before one of its slots in the same clause, from at
        most NEG_BEFORE words ahead of the first slot, and not part of a term phrase."""
        count = 0
        first = chain[0][0]
        for i in sentence.negations:
            if i < first - NEG_BEFORE or i >= chain[-1][0]:
                continue
            if any(s <= i < e for s, e in taken) or any(s <= i < e for s, e, _ in chain):
                continue     # "say no" (a term) or "without" (a word of the claim itself)
            if any(start > i and sentence.clause[start] == sentence.clause[i] for start, _, _ in chain):
                count += 1
        return count

    @staticmethod
    def _evidence(sentence: Sentence, chain) -> str:
        parts = []
        for index, (start, end, _) in enumerate(chain):
            if index:
                between = [sentence.words[i] for i in sentence.negations if chain[index - 1][1] <= i < start]
                parts += between
            parts.append(" ".join(sentence.words[start:end]))
        before = [sentence.words[i] for i in sentence.negations if chain[0][0] - NEG_BEFORE <= i < chain[0][0]]
        return " … ".join(before + parts)


def _chains(options, clause):
    """Every way of choosing one place per slot, in order, each within MAX_GAP of the previous,
    all in one clause ("the later layers; the early layers hardly move" is two statements)."""
    def extend(prefix, rest):
        if not rest:
            yield prefix
            return
        last_end = prefix[-1][1]
        for place in rest[0]:
            if last_end <= place[0] <= last_end + MAX_GAP and clause[place[0]] == clause[prefix[0][0]]:
                yield from extend(prefix + [place], rest[1:])

    for first in options[0]:
        yield from extend([first], options[1:])

