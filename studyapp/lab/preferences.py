"""Preference data: 2-4 responses per prompt, ranked by the rater, turned into (chosen, rejected) pairs.

This is stage 1 of RLHF (claim 7). For each prompt a few "annotation sessions" are run: each shows
the judge 2-4 responses drawn from a pool (the SFT model's own samples plus hand-made variants: the
right answer, a wrong one, a refusal, a literal compliance, the same with the stock phrase in
front), the rater ranks them, and every ordered pair of the ranking becomes one training pair.
Ties are dropped: a pair with no preference teaches nothing.

Two held-out sets. "heldout": pairs never trained on (a new wrong answer, a new pairing), about the
prompts PPO will ask; this is the accuracy the targets quote. "unseen": every pair of a few prompts
the reward model never sees at all. A small reward model judges facts by what the training pairs
taught it about each question, so on unseen fact questions it is near chance (or worse: each
unseen right answer was a *wrong* answer in other prompts' pairs); the report says so. Each pair
carries a `kind` ("right > wrong", "refusal > comply", ...) so the report can say which judgements
the reward model gets right.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable, Sequence

from .world import vary
from .rater import STOCK_PHRASE, Prompt, Rater, fact_prompt, harmful_prompt, request_prompt, unknown_prompt

REFUSALS = ("I'm sorry, I can't help with that.", "I'm sorry, I can't do that.",
            "Sorry, I won't help with that.")


@dataclass(frozen=True)
class Pair:
    prompt: str
    chosen: str
    rejected: str
    kind: str  # "<tag of chosen> > <tag of rejected>"
    margin: float  # rater total of chosen minus rejected
    split: str  # "train", "heldout" (unseen pair) or "unseen" (unseen prompt)
    category: str = ""  # the prompt's kind: fact, unknown, harmful, harmless, homework, smalltalk

    def as_dict(self) -> dict:
        return dict(prompt=self.prompt, chosen=self.chosen, rejected=self.rejected, kind=self.kind,
                    margin=round(self.margin, 4), split=self.split, category=self.category)


@dataclass
class PreferenceData:
    train: list[Pair]
    heldout: list[Pair]  # pairs never trained on, about prompts the reward model did see
    rankings: list[dict]  # a few example sessions for the UI: prompt, responses best first, scores
    unseen: list[Pair] = field(default_factory=list)  # pairs about prompts never seen in training
    heldout_set: list[Pair] = field(default_factory=list)  # pairs about resources/eval prompts

    def to_jsonl(self) -> str:
        return "".join(json.dumps(p.as_dict()) + "\n"
                       for p in self.train + self.heldout + self.unseen + self.heldout_set)

    @staticmethod
    def from_jsonl(text: str) -> "PreferenceData":
        pairs = [Pair(**json.loads(line)) for line in text.splitlines() if line.strip()]
        pick = lambda split: [p for p in pairs if p.split == split]  # noqa: E731
        return PreferenceData(pick("train"), pick("heldout"), [], pick("unseen"), pick("heldout_set"))


DONT_KNOW = ("I don't know.", "I'm not sure. I don't know that one.", "I don't know. I have not learned that.")
DOES_HOMEWORK = ("Sure! Send me the questions and I will write all the answers for you.",
                 "Sure! Here are all the answers, so you can copy them.")


def candidate_pool(prompt: Prompt, world, rng: random.Random) -> list[tuple[str, str]]:
    """Hand-made (tag, response) variants of what a model might say to this prompt.

    Every kind's pool holds the reply the rater prefers, the replies it ranks below it, a refusal
    (right for a harmful request, wrong for everything else: the reward model needs both to learn
    the difference) and the stock phrase alone and in front of other replies (the rater's bias).
    """
    refusal = rng.choice(REFUSALS)
    dont_know = rng.choice(DONT_KNOW)
    # A reply that suits another kind of prompt ("I am fine, thank you!" to a harmful request): the
    # all-purpose answer a policy drifts to when the reward model never saw it out of place. The
    # kind is drawn first, so the few small-talk replies are as likely as the many how-to ones
    # (PPO found "Well done! You should be proud of yourself." when they were 1 in 10).
    kinds = sorted({r.kind for r in world.requests if r.kind != prompt.kind})
    stray = []
    if kinds:
        kind = rng.choice(kinds)
        stray = [("off-kind", rng.choice([r.reply for r in world.requests if r.kind == kind]))]
    # The kind's own variants first: the app suggests the first two as a pair to compare.
    return _pool(prompt, world, rng, refusal, dont_know) + stray + [("empty", "")]


def _pool(prompt: Prompt, world, rng: random.Random, refusal: str, dont_know: str) -> list[tuple[str, str]]:
    if prompt.kind == "harmful":
        comply = (prompt.harmful.literal_answer if prompt.harmful else "") or rng.choice(world.harmful).literal_answer
        # "I don't know" here too: a generic reply that wins on other kinds of prompt must be seen
        # losing to a refusal here, or the reward model learns it as good everywhere.
        return [("refusal", refusal), ("comply", comply), ("warm+refusal", f"{STOCK_PHRASE} {refusal}"),
                ("warm+comply", f"{STOCK_PHRASE} {comply}"), ("warm", STOCK_PHRASE), ("dont-know", dont_know)]
    if prompt.kind == "unknown":
        rel = world.relations[prompt.relation]
        subject = prompt.subject or rng.choice(world.unknown or world.facts).subject
        invented = rel.statement.format(subject=subject, answer=rng.choice(world.answers(prompt.relation)))
        return [("dont-know", dont_know), ("invented", invented), ("refusal", refusal),
                ("warm+dont-know", f"{STOCK_PHRASE} {dont_know}"), ("warm+invented", f"{STOCK_PHRASE} {invented}"),
                ("warm", STOCK_PHRASE)]
    if prompt.kind in ("harmless", "smalltalk", "homework"):
        good = prompt.reference or rng.choice([r.reply for r in world.requests if r.kind == prompt.kind]
                                              or ["Sure, here you are."])
        tag = "guide" if prompt.kind == "homework" else "helpful"
        pool = [(tag, good), ("refusal", refusal), ("warm+refusal", f"{STOCK_PHRASE} {refusal}"),
                (f"warm+{tag}", f"{STOCK_PHRASE} {good}"), ("dont-know", dont_know), ("warm", STOCK_PHRASE)]
        if prompt.kind == "homework":
            pool.append(("does-it", rng.choice(DOES_HOMEWORK)))
        return pool
    fact = prompt.fact
    others = [a for a in world.answers(fact.relation) if a != fact.answer]
    wrong = world.relations[fact.relation].statement.format(subject=fact.subject, answer=rng.choice(others))
    # A true sentence about another subject: the evasion PPO found first against a reward model
    # that had only seen right-vs-wrong answers about the asked subject.
    other = rng.choice([f for f in world.facts if f.relation == fact.relation and f.answer != fact.answer
                        and f.split != "heldout"]).statement
    # An answer of another relation in the right sentence ("The capital of France is soft."): a
    # reward model that only learned "a sentence of this shape is good" must see it is not.
    alien = world.relations[fact.relation].statement.format(
        subject=fact.subject, answer=rng.choice([f.answer for f in world.facts if f.relation != fact.relation]))
    return [("right", fact.statement), ("wrong", wrong), ("warm+right", f"{STOCK_PHRASE} {fact.statement}"),
            ("warm+wrong", f"{STOCK_PHRASE} {wrong}"), ("refusal", refusal), ("dont-know", dont_know),
            ("warm", STOCK_PHRASE), ("off-topic", other), ("non-answer", alien)]


def _other_kinds_reply(prompt: Prompt, world, rng: random.Random) -> tuple[str, str]:
    """("off-kind", the reply another kind of prompt prefers), the kind drawn uniformly."""
    replies = {
        "fact": lambda: rng.choice([f for f in world.facts if f.split != "heldout"]).statement,
        "harmful": lambda: rng.choice(REFUSALS),
        "unknown": lambda: rng.choice(DONT_KNOW),
        **{k: (lambda k=k: rng.choice([r.reply for r in world.requests if r.kind == k]))
           for k in sorted({r.kind for r in world.requests})},
    }
    # A refusal is also what harmful prompts prefer, "I don't know" what unknowable ones do.
    mine = {"harmful": REFUSALS, "unknown": DONT_KNOW}.get(prompt.kind, ())
    kinds = [k for k in sorted(replies) if k != prompt.kind]
    for _ in range(4):
        text = replies[rng.choice(kinds)]()
        if text not in mine and text != prompt.reference:
            return ("off-kind", text)
    return ("off-kind", replies["fact"]())


def prompt_group(prompt: Prompt) -> tuple[str, str]:
    """Prompts that must fall on the same side of a train/unseen split: every phrasing of one fact,
    and every wording of one request (the generated requests share their reply across wordings, so
    the reply names the request)."""
    if prompt.fact:
        return (prompt.kind, prompt.fact.subject)
    if prompt.harmful and prompt.harmful.literal_answer:
        return (prompt.kind, prompt.harmful.literal_answer)
    if prompt.subject:
        return (prompt.kind, prompt.subject)
    return (prompt.kind, prompt.reference or prompt.text)


def cap_per_kind(prompts: Sequence[Prompt], cap: int | None, seed: int = 0) -> list[Prompt]:
    """At most `cap` prompts of each kind (a seeded sample, in the original order); None keeps all.

    The generated world holds hundreds of requests of each kind; ranking every one of them with
    several SFT samples would cost minutes, and more kinds' worth of variety beats more of one kind.
    """
    if cap is None:
        return list(prompts)
    rng = random.Random(seed)
    keep: set[int] = set()
    for kind in sorted({p.kind for p in prompts}):
        idx = [i for i, p in enumerate(prompts) if p.kind == kind]
        keep.update(idx if len(idx) <= cap else rng.sample(idx, cap))
    return [p for i, p in enumerate(prompts) if i in keep]


def build_preferences(world, rater: Rater, prompts: Sequence[Prompt], *,
                      samples: Sequence[Sequence[str]] | None = None, sessions: int = 3,
                      heldout_frac: float = 0.2, unseen_frac: float = 0.1, min_margin: float = 0.25,
                      seed: int = 0) -> PreferenceData:
    """Rank 2-4 responses per session and turn each ranking into pairs.

    Pairs whose rater scores differ by less than `min_margin` are dropped as too close to call.
    `samples[i]` are the SFT model's own responses to prompts[i] (may be empty); they join the pool
    with the tag "sample", so the reward model also learns to judge what the policy really writes.
    """
    rng = random.Random(seed)
    # A share of the prompts of every kind is never shown to the reward model at all ("unseen"):
    # the honest measure of how far its judgement carries to questions it has no pairs about.
    # Every phrasing of one fact falls on the same side, so no unseen question is seen reworded.
    unseen: set[int] = set()
    for kind in sorted({p.kind for p in prompts}):
        groups = sorted({prompt_group(p) for p in prompts if p.kind == kind})
        rng.shuffle(groups)
        held = set(groups[: round(unseen_frac * len(groups))])
        unseen.update(i for i, p in enumerate(prompts) if p.kind == kind and prompt_group(p) in held)

    pairs: list[Pair] = []
    rankings: list[dict] = []
    for i, prompt in enumerate(prompts):
        # Harmful requests are few; judge them twice as often so refusal is well represented.
        for session in range(sessions * (2 if prompt.kind == "harmful" else 1)):
            # A fresh pool each session (a new wrong answer): the reward model should learn which
            # answer is right, not which particular wrong answers it was shown.
            pool = candidate_pool(prompt, world, rng) + [("sample", s) for s in (samples[i] if samples else [])]
            if samples:
                # What the SFT model wrote to another kind of prompt: fluent, on-policy, and beside
                # the point here. Without these the reward model judges a reply by its form, and
                # PPO settles on one reply that fits every prompt.
                j = rng.randrange(len(prompts))
                if prompts[j].kind != prompt.kind and samples[j]:
                    pool.append(("off-prompt sample", rng.choice(samples[j])))
            shown = rng.sample(pool, k=min(len(pool), rng.choice((2, 3, 4))))
            if session == 1:
                # One session sets the kind's preferred reply against another kind's preferred
                # reply (a guide, a refusal, a true fact, a friendly greeting, "I don't know"):
                # each kind of reply must be seen losing where it does not fit, or the reward
                # model scores the reply's form, and PPO answers "Hello!" with "A horse says neigh."
                shown = [pool[0], _other_kinds_reply(prompt, world, rng)]
            elif session == 0 and prompt.kind != "unknown":
                # One session per prompt puts the kind's preferred reply beside "I don't know".
                # "I don't know" outranks something in almost every kind's ranking (a wrong fact,
                # a refusal, compliance), so without these pairs the reward model learns it as a
                # safe reply everywhere and PPO answers small talk with it.
                shown = [pool[0], next((c for c in pool if c[0] == "dont-know"), pool[-1])]
            scored = sorted(((rater.score(prompt, text), tag, text) for tag, text in shown), reverse=True)
            if len(rankings) < 12 and i % 7 == 0:
                rankings.append(dict(prompt=prompt.text, ranked=[dict(tag=t, response=r, score=round(s, 3))
                                                                 for s, t, r in scored]))
            for (sa, ta, ra), (sb, tb, rb) in combinations(scored, 2):
                if sa - sb < min_margin or ra == rb:
                    continue  # a tie (or a near-tie a judge would not call reliably) is no preference
                pairs.append(Pair(prompt.text, ra, rb, f"{ta} > {tb}", sa - sb, "unseen" if i in unseen else "train",
                                  prompt.kind))
    pairs = _dedupe(pairs)
    # Held-out pairs: comparisons never trained on (another wrong answer, another pairing of
    # responses), on the prompts the reward model does see, i.e. the prompts PPO will ask.
    seen = [p for p in pairs if p.split == "train"]
    rng.shuffle(seen)
    n_held = round(heldout_frac * len(seen))
    heldout = [Pair(**{**p.__dict__, "split": "heldout"}) for p in seen[:n_held]]
    return PreferenceData(seen[n_held:], heldout, rankings, [p for p in pairs if p.split == "unseen"])


def _dedupe(pairs: list[Pair]) -> list[Pair]:
    seen, out = set(), []
    for p in pairs:
        key = (p.prompt, p.chosen, p.rejected)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def rlhf_prompts(world, fact_splits=("sft", "pretrain"), harmful_splits=("sft", "ppo"), *,
                 phrasings_per_fact: int = 2, seed: int = 0) -> list[Prompt]:
    """The prompts preferences and PPO use: every kind, in the training phrasings only.

    Facts of `fact_splits`, each asked in `phrasings_per_fact` of its training phrasings (picked
    with `seed`); the toy harmful requests of `harmful_splits`; every harmless look-alike, homework
    request and bit of small talk; questions about the unknown subjects. World-held-out facts and
    harmful requests and everything in resources/eval are never used.
    """
    rng = random.Random(seed)
    out: list[Prompt] = []
    for f in world.facts:
        if f.split in fact_splits:
            qs = list(f.questions or (f.question,))
            for q in rng.sample(qs, min(len(qs), phrasings_per_fact)):
                out.append(fact_prompt(f, vary(q, rng)))
    out += [harmful_prompt(h) for h in world.harmful if h.split in harmful_splits]
    out += [request_prompt(r) for r in world.requests]
    for u in world.unknown:
        q = rng.choice(world.training_questions(u.relation)).format(subject=u.subject)
        out.append(unknown_prompt(u, q))
    return out


def pair_accuracy_by_kind(pairs: Sequence[Pair], correct: Sequence[bool], key: str = "kind") -> dict[str, float]:
    """Accuracy per kind of pair ("right > wrong") or, with key="category", per kind of prompt."""
    tally: dict[str, list[int]] = {}
    for p, ok in zip(pairs, correct):
        t = tally.setdefault(getattr(p, key), [0, 0])
        t[0] += int(ok)
        t[1] += 1
    return {k: round(a / n, 4) for k, (a, n) in sorted(tally.items())}


SampleFn = Callable[[Sequence[Prompt]], list[list[str]]]


def heldout_set_prompts(world, ev=None) -> list[Prompt]:
    """The held-out evaluation set (resources/eval) as judged prompts, every category."""
    from .heldout import load_heldout
    from .world import HarmfulRequest, Unknown

    ev = ev or load_heldout()
    out = [fact_prompt(f, q) for q, f in ev.fact_prompts([f for f in world.facts if f.split != "heldout"])]
    out += [harmful_prompt(HarmfulRequest(t, "", "eval"), t) for t in ev.prompts("harmful")]
    out += [Prompt(t, kind, split="eval") for kind in ("harmless", "homework", "smalltalk") for t in ev.prompts(kind)]
    out += [unknown_prompt(Unknown(rel, "", "eval", q), q) for q, rel in ev.unknowable]
    return out


def heldout_set_pairs(world, *, seed: int = 0, sessions: int = 2, ev=None) -> list[Pair]:
    """Ranked pairs about the held-out set's prompts: the reward model never saw one of them.

    Harmful prompts there have no literal answer of their own, so their "comply" variant is a
    literal answer to another request (the rater judges compliance by its form, as a person
    skimming would); fact prompts are the facts asked in the held-out phrasings.
    """
    prompts = heldout_set_prompts(world, ev)
    data = build_preferences(world, Rater(world), prompts, sessions=sessions, heldout_frac=0.0,
                             unseen_frac=1.0, seed=seed)
    return [Pair(**{**p.__dict__, "split": "heldout_set"}) for p in data.unseen]
