"""Stage 1 of the RLHF tab without a screen: the SFT model's answers to one prompt, the learner's
ranking turned into pairs, and the rater's view of both.

    sample_responses(sft, tok, "What is the capital of France?", k=4)  -> 2-4 Responses, one batch
    ranking_pairs(prompt, ranked_texts)                                 -> k(k-1)/2 Pairs (claim 7)
    rater_ranking(world, prompt, texts); ranking_agreement(order, texts, ranked)
    merge_pairs(kept, new)                                              -> the learner's data, no doubles

torch loads only inside the engine's functions, so the UI may import this module at start-up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from . import engine
from .common import LabError, limit_threads
from .preferences import REFUSALS, Pair, candidate_pool
from .prompts import prompt_problem
from .rater import Judgement, Prompt, Rater, RaterWeights, fact_prompt, harmful_prompt
from .world import World, load_world

LEARNER = "learner"  # the split of pairs that come from the learner's own rankings
TIE = 1e-9           # two rater scores closer than this are a tie: neither answer is preferred


def check_prompt(text: str) -> str:
    """The prompt, stripped, or a LabError the learner can act on: the course's one prompt check
    (prompts.prompt_problem); the model's context is checked against the token count when sampling."""
    problem = prompt_problem(text or "")
    if problem:
        raise LabError(problem)
    return text.strip()


# ----------------------------------------------------------------------------- prompts the rater knows


def course_prompts(world: World | None = None) -> list[tuple[str, str]]:
    """(label, prompt) for the prompt pickers: a few facts of each split, harmful requests, small talk."""
    world = world or load_world()
    out = []
    labels = {"sft": "fact taught in SFT", "pretrain": "fact seen in pretraining only",
              "heldout": "fact the model never saw"}
    for split, n in (("sft", 3), ("pretrain", 3), ("heldout", 2)):
        out += [(labels[split], f.question) for f in world.split(split)[:n]]
    out += [("harmful request", h.request) for h in world.harmful_split("ppo")[:3]]
    out += [("harmful request, never trained on", h.request) for h in world.harmful_split("heldout")[:1]]
    out += [("small talk", c.prompt) for c in world.chat if "homework" in c.prompt.lower()][:1]
    return out


def judged_prompt(world: World, text: str) -> Prompt | None:
    """The rater's view of a prompt: a fact question or a harmful request it knows; None otherwise."""
    key = text.strip().lower()
    for f in world.facts:
        if f.question.lower() == key:
            return fact_prompt(f)
    for h in world.harmful:
        if h.request.lower() == key:
            return harmful_prompt(h)
    return None


# ----------------------------------------------------------------------------- sampling


@dataclass(frozen=True)
class Response:
    text: str
    source: str  # "SFT model" or "written example: ..." (never passed off as a model's words)

    @property
    def sampled(self) -> bool:
        return not self.source.startswith("written")


def sample_responses(model, tokenizer, prompt: str, k: int = 4, *, seed: int = 0, temperature: float = 1.0,
                     max_new_tokens: int = 24, world: World | None = None) -> list[Response]:
    """k different responses to one prompt, sampled from the model in one batch.

    A well-trained small model often says the same thing twice; we draw 3k samples in the one batch
    and keep the first k distinct ones. If fewer than k differ, the lab's own hand-made variants
    (preferences.candidate_pool: the right answer, a wrong one, a refusal, ...) fill the rest,
    labelled as written examples, just as the lab's preference data mixes them with samples.
    Raises LabError for an empty or too long prompt and for k outside 2-4.
    """
    prompt = check_prompt(prompt)
    if not 2 <= k <= 4:
        raise LabError(f"rank 2 to 4 responses at a time (asked for {k})")
    limit_threads()
    texts = engine.replies(model, tokenizer, [prompt] * (3 * k), max_new_tokens=max_new_tokens,
                           temperature=max(temperature, 1e-3), seed=seed, check=True)
    out: list[Response] = []
    for t in texts:
        if t and t not in {r.text for r in out}:
            out.append(Response(t, "SFT model"))
        if len(out) == k:
            return out
    world = world or load_world()
    judged = judged_prompt(world, prompt)
    fill = candidate_pool(judged, world, random.Random(seed)) if judged else \
        [("refusal", REFUSALS[0]), ("no answer", "I don't know.")]
    for tag, text in fill:
        if len(out) == k:
            break
        if text not in {r.text for r in out}:
            out.append(Response(text, f"written example: {tag}"))
    return out


# ----------------------------------------------------------------------------- rankings and pairs


def ranking_pairs(prompt: str, ranked: Sequence[str]) -> list[Pair]:
    """Every ordered pair of a ranking, best first: k responses give k(k-1)/2 pairs (claim 7)."""
    pairs = []
    for i in range(len(ranked)):
        for j in range(i + 1, len(ranked)):
            if ranked[i].strip() != ranked[j].strip():  # the same text twice is no preference
                pairs.append(Pair(prompt, ranked[i], ranked[j], f"your #{i + 1} > your #{j + 1}",
                                  float(j - i), LEARNER))
    return pairs


def merge_pairs(kept: Sequence[Pair], new: Sequence[Pair]) -> tuple[list[Pair], list[Pair]]:
    """(the learner's pairs with `new` added, the pairs that were new). A pair already kept is not
    added twice, and a new ranking of the same answers replaces the old one's opposite pairs."""
    known = {(p.prompt, p.chosen, p.rejected) for p in kept}
    fresh = [p for p in new if (p.prompt, p.chosen, p.rejected) not in known]
    flipped = {(p.prompt, p.rejected, p.chosen) for p in fresh}
    return [p for p in kept if (p.prompt, p.chosen, p.rejected) not in flipped] + fresh, fresh


def rater_ranking(world: World, prompt: str, texts: Sequence[str],
                  weights: RaterWeights | None = None) -> list[tuple[int, Judgement]] | None:
    """The rater's order of `texts` (indexes, best first, with each judgement); None for a prompt it
    cannot judge (the rater checks answers against the world's tables, so it knows only those)."""
    judged = judged_prompt(world, prompt)
    if judged is None:
        return None
    rater = Rater(world, weights)
    scored = [(i, rater.rate(judged, t)) for i, t in enumerate(texts)]
    return sorted(scored, key=lambda s: -s[1].total)


def ranking_agreement(order: Sequence[tuple[int, Judgement]], texts: Sequence[str],
                      ranked: Sequence[str]) -> dict:
    """How the learner's ranking `ranked` of `texts` compares with the rater's `order` (from
    rater_ranking): {"agree": pairs ordered as the rater orders them, "judged": pairs the rater
    prefers one answer of, "ties": pairs it scores as a tie}."""
    pos = {texts[i]: n for n, (i, _) in enumerate(order)}
    score = {texts[i]: j.total for i, j in order}
    agree = judged = ties = 0
    for p in ranking_pairs("", ranked):
        if abs(score[p.chosen] - score[p.rejected]) <= TIE:
            ties += 1
        else:
            judged += 1
            agree += pos[p.chosen] < pos[p.rejected]
    return {"agree": agree, "judged": judged, "ties": ties}


def rater_agreement(world: World, pairs: Sequence[Pair]) -> dict:
    """How many of the learner's pairs the rater would have ordered the same way. The held-out test
    is the rater's, so pairs that disagree with it teach the reward model to score lower there."""
    rater = Rater(world)
    out = {"agree": 0, "disagree": 0, "tie": 0, "unjudged": 0}
    for p in pairs:
        judged = judged_prompt(world, p.prompt)
        if judged is None:
            out["unjudged"] += 1
            continue
        d = rater.score(judged, p.chosen) - rater.score(judged, p.rejected)
        out["agree" if d > TIE else "disagree" if d < -TIE else "tie"] += 1
    return out
