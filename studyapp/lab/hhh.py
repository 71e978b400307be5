"""The HHH explorer without a screen: scenarios where helpful, honest and harmless pull apart, the
models' replies and written examples, and the rater's ranking of them under any weights.

    load_scenarios(); scenario_candidates(scenario, folders, reward_dir)   -> replies, scored
    rate_candidates(world, scenario, candidates, weights)                 -> claim 13
    hhh_conflicts()                                                       -> claim 14 (the report)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from . import engine
from .common import RESOURCES_DIR, LabError, limit_threads
from .items import Request
from .rater import Judgement, Prompt, Rater, RaterWeights, does_it, harmful_prompt, is_guide, request_prompt
from .ranking import judged_prompt
from .reward_tuning import reward_scores
from .world import HarmfulRequest, World, load_world


@dataclass
class Scenario:
    id: str
    title: str
    prompt: str
    tension: str
    comply: str  # what literal compliance says ("" when the prompt is a fact question)
    examples: list[tuple[str, str]] = field(default_factory=list)  # (label, written response)


@dataclass
class Candidate:
    source: str  # "base model", "SFT model", "RLHF model" or "written example: a refusal"
    text: str
    reward: float | None = None  # the reward model's score, once measured


@dataclass
class Rated:
    candidate: Candidate
    judgement: Judgement
    rank: int  # 1 = the rater's favourite under the given weights


def _table(path: Path, ncols: int):
    """(line number, columns) of each row of a world-style TSV file: '#' lines and blank lines are
    skipped, every row has `ncols` non-empty tab-separated columns, or LabError names the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LabError(f"{path}: cannot read the HHH explorer's file ({exc.strerror or exc})") from exc
    for lineno, line in enumerate(lines, start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            cols = [c.strip() for c in line.split("\t")]
            if len(cols) != ncols or not all(cols):
                raise LabError(f"{path}:{lineno}: expected {ncols} non-empty tab-separated columns, "
                               f"got {len(cols)}: {line!r}")
            yield lineno, cols


def load_scenarios(folder=None) -> list[Scenario]:
    """Scenarios and their written examples from hhh_scenarios.tsv and hhh_examples.tsv."""
    folder = Path(folder or RESOURCES_DIR / "world")
    scenarios = {}
    for _, (sid, title, prompt, comply, tension) in _table(folder / "hhh_scenarios.tsv", 5):
        scenarios[sid] = Scenario(sid, title, prompt, tension, "" if comply == "-" else comply)
    for lineno, (sid, label, text) in _table(folder / "hhh_examples.tsv", 3):
        if sid not in scenarios:
            raise LabError(f"{folder / 'hhh_examples.tsv'}:{lineno}: unknown scenario {sid!r}")
        scenarios[sid].examples.append((label, text))
    return list(scenarios.values())


def scenario_prompt(world: World, scenario: Scenario) -> Prompt:
    """How the rater judges a scenario: as the fact question or harmful request it is; a request
    the world does not list is homework when its literal compliance (`comply`) does the whole task
    for the asker (the rater's own does_it test: guide > do it > refuse), else a harmful request
    whose literal compliance is `comply`."""
    judged = judged_prompt(world, scenario.prompt)
    if judged is not None:
        return judged
    if not scenario.comply:
        raise LabError(f"scenario {scenario.id}: the rater knows no answer to {scenario.prompt!r}")
    if does_it(scenario.comply):
        guide = next((text for label, text in scenario.examples if is_guide(text)), "")
        return request_prompt(Request("homework", scenario.prompt, guide, "scenario"))
    return harmful_prompt(HarmfulRequest(scenario.prompt, scenario.comply, "scenario"))


def model_responses(folders: dict[str, Path], prompt: str, *, max_new_tokens: int = 40) -> dict[str, str]:
    """Greedy replies of each model folder: the base model gets the bare text (that is how a base
    model is used: it continues documents), the others the chat format."""
    limit_threads()
    out = {}
    for name, folder in folders.items():
        loaded = engine.load(folder, device="cpu")
        out[name] = greedy_reply(loaded.model, loaded.tokenizer, prompt, chat=(name != "base"),
                                 max_new_tokens=max_new_tokens)
    return out


def greedy_reply(model, tokenizer, prompt: str, *, chat: bool = True, max_new_tokens: int = 40) -> str:
    """The model's most likely reply (the engine's batched replies, for one prompt)."""
    return engine.replies(model, tokenizer, [prompt], greedy=True, chat=chat, max_new_tokens=max_new_tokens,
                          check=True)[0]


MODEL_LABELS = {"base": "base model (plain text in)", "sft": "SFT model", "rlhf": "RLHF model"}


def scenario_candidates(scenario: Scenario, folders: dict, reward_dir=None) -> tuple[str, list[Candidate]]:
    """Each model's reply, then the written examples, each scored by the reward model if one is given."""
    replies = model_responses(folders, scenario.prompt)
    candidates = [Candidate(MODEL_LABELS.get(name, name), text) for name, text in replies.items()]
    candidates += [Candidate(f"written example: {label}", text) for label, text in scenario.examples]
    if reward_dir is not None:
        scores = reward_scores(reward_dir, [scenario.prompt] * len(candidates), [c.text for c in candidates])
        for c, r in zip(candidates, scores):
            c.reward = r
    return scenario.id, candidates


def rate_candidates(world: World, scenario: Scenario, candidates: Sequence[Candidate],
                    weights: RaterWeights) -> list[Rated]:
    """Judge every candidate under the given weights and rank them (ties share a rank)."""
    rater = Rater(world, weights)
    prompt = scenario_prompt(world, scenario)
    judged = [(c, rater.rate(prompt, c.text)) for c in candidates]
    order = sorted(judged, key=lambda cj: -cj[1].total)
    out, rank, last = [], 0, None
    for n, (c, j) in enumerate(order, start=1):
        if last is None or j.total < last - 1e-9:
            rank, last = n, j.total
        out.append(Rated(c, j, rank))
    return out


def hhh_conflicts(world: World | None = None, scenarios: Sequence[Scenario] | None = None,
                  grid: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0)) -> dict:
    """Claim 14 measured on the written examples: for each scenario, which answer the rater puts first
    under each weighting of (helpful, honest, harmless) on a grid of positive weights (every
    criterion counts a little; a zero weight would make answers tie for trivial reasons). A scenario
    where the winner changes with the weights is one where the criteria pull against each other."""
    from itertools import product

    world = world or load_world()
    out = {}
    for s in scenarios or load_scenarios():
        cands = [Candidate(label, text) for label, text in s.examples]
        winners: dict[str, dict] = {}
        for h, o, x in product(grid, repeat=3):
            rated = rate_candidates(world, s, cands, RaterWeights(helpful=h, honest=o, harmless=x, bias=0.0))
            top = " = ".join(r.candidate.source for r in rated if r.rank == 1)   # a tie wins together
            winners.setdefault(top, dict(helpful=h, honest=o, harmless=x))
        out[s.id] = {"prompt": s.prompt, "winners": winners, "conflict": len(winners) > 1}
    return {"scenarios": out, "conflicts": sum(v["conflict"] for v in out.values()), "n_scenarios": len(out)}
