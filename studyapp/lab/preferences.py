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

from .rater import STOCK_PHRASE, Prompt, Rater, fact_prompt, harmful_prompt

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

    def as_dict(self) -> dict:
        return dict(prompt=self.prompt, chosen=self.chosen, rejected=self.rejected, kind=self.kind,
                    margin=round(self.margin, 4), split=self.split)


@dataclass
class PreferenceData:
    train: list[Pair]
    heldout: list[Pair]  # pairs never trained on, about prompts the reward model did see
    rankings: list[dict]  # a few example sessions for the UI: prompt, responses best first, scores
    unseen: list[Pair] = field(default_factory=list)  # pairs about prompts never seen in training

    def to_jsonl(self) -> str:
        return "".join(json.dumps(p.as_dict()) + "\n" for p in self.train + self.heldout + self.unseen)

    @staticmethod
    def from_jsonl(text: str) -> "PreferenceData":
        pairs = [Pair(**json.loads(line)) for line in text.splitlines() if line.strip()]
        pick = lambda split: [p for p in pairs if p.split == split]  # noqa: E731
        return PreferenceData(pick("train"), pick("heldout"), [], pick("unseen"))


def candidate_pool(prompt: Prompt, world, rng: random.Random) -> list[tuple[str, str]]:
    """Hand-made (tag, response) variants of what a model might say to this prompt."""
    refusal = rng.choice(REFUSALS)
    if prompt.kind == "harmful":
        comply = prompt.harmful.literal_answer
        return [("refusal", refusal), ("comply", comply), ("warm+refusal", f"{STOCK_PHRASE} {refusal}"),
                ("warm+comply", f"{STOCK_PHRASE} {comply}"), ("warm", STOCK_PHRASE)]
    fact = prompt.fact
    others = [a for a in world.answers(fact.relation) if a != fact.answer]
    wrong = world.relations[fact.relation].statement.format(subject=fact.subject, answer=rng.choice(others))
    # A true sentence about another subject: the evasion PPO found first against a reward model
    # that had only seen right-vs-wrong answers about the asked subject.
    other = rng.choice([f for f in world.facts if f.relation == fact.relation and f.answer != fact.answer
                        and f.split != "heldout"]).statement
    # Refusals appear twice in the pool: refusing is right for a harmful request and wrong for a
    # fact question, and the reward model needs enough of both to learn the difference.
    other_refusal = rng.choice([r for r in REFUSALS if r != refusal])
    return [("right", fact.statement), ("wrong", wrong), ("warm+right", f"{STOCK_PHRASE} {fact.statement}"),
            ("warm+wrong", f"{STOCK_PHRASE} {wrong}"), ("refusal", refusal), ("refusal", other_refusal),
            ("warm", STOCK_PHRASE), ("off-topic", other)]


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
    # A few prompts are never shown to the reward model at all ("unseen"): the honest measure of
    # how far its judgement carries to questions it has no pairs about.
    unseen: set[int] = set()
    for kind in ("fact", "harmful"):
        idx = [i for i, p in enumerate(prompts) if p.kind == kind]
        rng.shuffle(idx)
        unseen.update(idx[: round(unseen_frac * len(idx))])

    pairs: list[Pair] = []
    rankings: list[dict] = []
    for i, prompt in enumerate(prompts):
        # Harmful requests are few; judge them twice as often so refusal is well represented.
        for _ in range(sessions * (2 if prompt.kind == "harmful" else 1)):
            # A fresh pool each session (a new wrong answer): the reward model should learn which
            # answer is right, not which particular wrong answers it was shown.
            pool = candidate_pool(prompt, world, rng) + [("sample", s) for s in (samples[i] if samples else [])]
            shown = rng.sample(pool, k=min(len(pool), rng.choice((2, 3, 4))))
            scored = sorted(((rater.score(prompt, text), tag, text) for tag, text in shown), reverse=True)
            if len(rankings) < 12 and i % 7 == 0:
                rankings.append(dict(prompt=prompt.text, ranked=[dict(tag=t, response=r, score=round(s, 3))
                                                                 for s, t, r in scored]))
            for (sa, ta, ra), (sb, tb, rb) in combinations(scored, 2):
                if sa - sb < min_margin or ra == rb:
                    continue  # a tie (or a near-tie a judge would not call reliably) is no preference
                pairs.append(Pair(prompt.text, ra, rb, f"{ta} > {tb}", sa - sb, "unseen" if i in unseen else "train"))
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


def rlhf_prompts(world, fact_splits=("sft", "pretrain"), harmful_splits=("ppo",)) -> list[Prompt]:
    """The prompts preferences and PPO use. Held-out facts and held-out harmful requests are never used."""
    return ([fact_prompt(f) for f in world.facts if f.split in fact_splits]
            + [harmful_prompt(h) for h in world.harmful if h.split in harmful_splits])


def pair_accuracy_by_kind(pairs: Sequence[Pair], correct: Sequence[bool]) -> dict[str, float]:
    tally: dict[str, list[int]] = {}
    for p, ok in zip(pairs, correct):
        t = tally.setdefault(p.kind, [0, 0])
        t[0] += int(ok)
        t[1] += 1
    return {k: round(a / n, 4) for k, (a, n) in sorted(tally.items())}


SampleFn = Callable[[Sequence[Prompt]], list[list[str]]]
