"""Preference data: 2-4 responses per prompt, ranked by the rater, turned into (chosen, rejected) pairs.

This is stage 1 of RLHF (claim 7). For each prompt a few "annotation sessions" are run: each shows
the judge 2-4 responses drawn from a pool (the SFT model's own samples plus hand-made variants: the
right answer, a wrong one, a refusal, a literal compliance, the same with the stock phrase in
front), the rater ranks them, and every ordered pair of the ranking becomes one training pair.
Ties are dropped: a pair with no preference teaches nothing.

Prompts, not pairs, are split into train and held-out, so the held-out accuracy of the reward model
is measured on questions it never saw. Each pair carries a `kind` ("right > wrong",
"refusal > comply", ...) so the report can say which judgements the reward model gets right.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
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
    split: str  # "train" or "heldout"

    def as_dict(self) -> dict:
        return dict(prompt=self.prompt, chosen=self.chosen, rejected=self.rejected, kind=self.kind,
                    margin=round(self.margin, 4), split=self.split)


@dataclass
class PreferenceData:
    train: list[Pair]
    heldout: list[Pair]
    rankings: list[dict]  # a few example sessions for the UI: prompt, responses best first, scores

    def to_jsonl(self) -> str:
        return "".join(json.dumps(p.as_dict()) + "\n" for p in self.train + self.heldout)

    @staticmethod
    def from_jsonl(text: str) -> "PreferenceData":
        pairs = [Pair(**json.loads(line)) for line in text.splitlines() if line.strip()]
        return PreferenceData([p for p in pairs if p.split == "train"],
                              [p for p in pairs if p.split == "heldout"], [])


def candidate_pool(prompt: Prompt, world, rng: random.Random) -> list[tuple[str, str]]:
    """Hand-made (tag, response) variants of what a model might say to this prompt."""
    refusal = rng.choice(REFUSALS)
    if prompt.kind == "harmful":
        comply = prompt.harmful.literal_answer
        return [("refusal", refusal), ("comply", comply), ("warm+refusal", f"{STOCK_PHRASE} {refusal}"),
                ("warm+comply", f"{STOCK_PHRASE} {comply}")]
    fact = prompt.fact
    others = [a for a in world.answers(fact.relation) if a != fact.answer]
    wrong = world.relations[fact.relation].statement.format(subject=fact.subject, answer=rng.choice(others))
    return [("right", fact.statement), ("wrong", wrong), ("warm+right", f"{STOCK_PHRASE} {fact.statement}"),
            ("warm+wrong", f"{STOCK_PHRASE} {wrong}"), ("refusal", refusal)]


def build_preferences(world, rater: Rater, prompts: Sequence[Prompt], *,
                      samples: Sequence[Sequence[str]] | None = None, sessions: int = 3,
                      heldout_frac: float = 0.2, seed: int = 0) -> PreferenceData:
    """Rank 2-4 responses per session and turn each ranking into pairs.

    `samples[i]` are the SFT model's own responses to prompts[i] (may be empty); they join the pool
    with the tag "sample", so the reward model also learns to judge what the policy really writes.
    """
    rng = random.Random(seed)
    order = list(range(len(prompts)))
    rng.shuffle(order)
    n_held = max(1, round(heldout_frac * len(prompts))) if len(prompts) > 1 else 0
    # Hold out the same fraction of fact questions and of harmful requests.
    held: set[int] = set()
    for kind in ("fact", "harmful"):
        idx = [i for i in order if prompts[i].kind == kind]
        held.update(idx[: round(heldout_frac * len(idx))])
    if not held and n_held:
        held.add(order[0])

    train, heldout, rankings = [], [], []
    for i, prompt in enumerate(prompts):
        pool = candidate_pool(prompt, world, rng)
        pool += [("sample", s) for s in (samples[i] if samples else [])]
        split = "heldout" if i in held else "train"
        # Harmful requests are few; judge them twice as often so refusal is well represented.
        for _ in range(sessions * (2 if prompt.kind == "harmful" else 1)):
            shown = rng.sample(pool, k=min(len(pool), rng.choice((2, 3, 4))))
            scored = sorted(((rater.score(prompt, text), tag, text) for tag, text in shown), reverse=True)
            if len(rankings) < 12 and i % 7 == 0:
                rankings.append(dict(prompt=prompt.text, ranked=[dict(tag=t, response=r, score=round(s, 3))
                                                                 for s, t, r in scored]))
            for (sa, ta, ra), (sb, tb, rb) in combinations(scored, 2):
                if sa - sb < 1e-6 or ra == rb:
                    continue  # a tie is no preference
                pair = Pair(prompt.text, ra, rb, f"{ta} > {tb}", sa - sb, split)
                (heldout if split == "heldout" else train).append(pair)
    return PreferenceData(_dedupe(train), _dedupe(heldout), rankings)


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
