"""Claim 9 measured on trained reward models: seeds disagree on absolute scores, agree on rankings,
and P(A beats B) = sigmoid(r(A) - r(B)) can be checked against what the rater prefers.

    result = reward_seeds(models_dir, seeds=[0, 1, 2], progress=print)

Each seed trains a reward model exactly as the pipeline does (reward.train_reward on models_dir/sft
with RewardConfig(seed=s): the seed draws the SFT model's sampled replies, the ranking sessions, the
split and the order of training), into a temporary folder. Every model then scores one fixed set of
(prompt, reply) items that no model trained on: the replies of the held-out set's ranked pairs
(preferences.heldout_set_pairs, seed 0, the same for every reward seed). From those scores:

- absolute scores: each seed's mean score, and the mean |r_i(x) - r_j(x)| of the same item under
  two seeds (every pair of seeds);
- rankings: Spearman's rank correlation of two seeds' scores over the items (every pair of seeds);
- calibration: each held-out pair, shown in a random but fixed order (A, B), gets the model's
  P(A beats B) = sigmoid(r(A) - r(B)); the pairs are binned by that prediction (BINS equal bins)
  and each bin's observed win rate is the share of its pairs where the rater preferred A. The
  expected calibration error (ECE) is the pair-weighted mean |observed - predicted| over bins.

Figures over seeds ("per_seed" holds one value per seed, or per pair of seeds for the pairwise
figures, in the order of series["seed_pairs"]). series: "seed_pairs", "calibration" (a list, one per
run: seed, bin edges, mean prediction, observed rate, count, accuracy), "trained" (each run's
training figures), "items" and "pairs" (how many were scored). A seed listed twice trains twice.
"""

from __future__ import annotations

import math
import random
import tempfile
from dataclasses import replace
from itertools import combinations
from pathlib import Path
from typing import Callable, Sequence

from . import over_seeds

BINS = 10
MIN_PER_BIN = 5   # a bin with fewer pairs (for any seed) is left out of the plotted curve


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (ties get their average rank): Pearson's r of the ranks."""
    ra, rb = _ranks(a), _ranks(b)
    n = len(ra)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else 0.0


def _ranks(xs: Sequence[float]) -> list[float]:
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def calibration(pred: Sequence[float], won: Sequence[bool], bins: int = BINS) -> dict:
    """Predictions binned into `bins` equal bins of [0, 1]: per bin the mean prediction, the observed
    share of wins and the count; plus the expected calibration error over the non-empty bins."""
    rows = [[] for _ in range(bins)]
    for p, w in zip(pred, won):
        rows[min(bins - 1, int(p * bins))].append((p, 1.0 if w else 0.0))
    mean_pred = [sum(p for p, _ in r) / len(r) if r else None for r in rows]
    observed = [sum(w for _, w in r) / len(r) if r else None for r in rows]
    counts = [len(r) for r in rows]
    total = sum(counts)
    ece = sum(c * abs(o - m) for c, o, m in zip(counts, observed, mean_pred) if c) / total if total else None
    return {"edges": [i / bins for i in range(bins + 1)], "mean_pred": mean_pred, "observed": observed,
            "counts": counts, "ece": ece}


def oriented_pairs(pairs, seed: int = 0) -> list[tuple[str, str, str, bool]]:
    """(prompt, A, B, rater prefers A) for each pair, A the chosen reply in a random half of them."""
    rng = random.Random(seed)
    out = []
    for p in pairs:
        if rng.random() < 0.5:
            out.append((p.prompt, p.chosen, p.rejected, True))
        else:
            out.append((p.prompt, p.rejected, p.chosen, False))
    return out


def reward_seeds(models_dir: Path, seeds: Sequence[int], progress: Callable[[dict], None], *,
                 config=None, max_pairs: int | None = None, folders: Sequence | None = None) -> dict:
    """Train one reward model per seed on models_dir/sft and compare them (see the module docstring).

    config: a RewardConfig whose other settings to keep (default: RewardConfig(), the pipeline's);
    max_pairs: use at most this many held-out pairs (tests); folders: per seed, a reward model
    folder train_reward already wrote with that seed and config (None: train it here), so that
    the seeds can be trained in parallel processes and compared afterwards."""
    from ..modeling import read_meta
    from ..preferences import heldout_set_pairs
    from ..reward import RewardConfig, load_reward_model, score, train_reward
    from ..world import load_world

    if len(seeds) < 2:
        raise ValueError("reward_seeds needs at least two seeds to compare")
    sft = Path(models_dir) / "sft"
    world = load_world()
    pairs = heldout_set_pairs(world, seed=0)
    if max_pairs is not None:
        pairs = random.Random(0).sample(pairs, min(max_pairs, len(pairs)))
    shown = oriented_pairs(pairs)
    items = list(dict.fromkeys([(p.prompt, p.chosen) for p in pairs] + [(p.prompt, p.rejected) for p in pairs]))
    index = {item: i for i, item in enumerate(items)}
    base = config or RewardConfig()

    # Keyed by position, not seed: the same seed listed twice trains twice (a check of determinism).
    scores: list[list[float]] = []
    trained: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="reward-seeds-") as tmp:
        for n, seed in enumerate(seeds):
            progress({"experiment": "reward_seeds", "phase": f"train reward model, seed {seed}",
                      "step": n, "total": len(seeds)})
            given = folders[n] if folders is not None else None
            folder = Path(given) if given is not None else Path(tmp) / f"reward_seed_{seed}"
            if given is None:
                result = train_reward(sft, folder, replace(base, seed=seed), world=world)
            else:
                result = read_meta(folder).get("result", {})
                if read_meta(folder).get("config", {}).get("seed") != seed:
                    raise ValueError(f"{folder}: not a reward model trained with seed {seed}")
            rm, tok = load_reward_model(folder, "cpu")
            scores.append(score(rm, tok, [p for p, _ in items], [r for _, r in items]))
            trained.append({"seed": seed, **{k: result.get(k) for k in ("heldout_set_accuracy", "unseen_prompt_accuracy",
                                                         "train_accuracy", "reward_scale_divided_by", "seconds")}})

    runs = range(len(seeds))
    pairs_of_runs = list(combinations(runs, 2))
    seed_pairs = [(seeds[a], seeds[b]) for a, b in pairs_of_runs]
    cal = []
    for s in scores:
        pred = [1 / (1 + math.exp(-(s[index[(q, a)]] - s[index[(q, b)]]))) for q, a, b, _ in shown]
        cal.append(calibration(pred, [w for *_, w in shown]))
        cal[-1]["accuracy"] = sum((p > 0.5) == w for p, (*_, w) in zip(pred, shown)) / len(shown)

    figures = {
        "score_mean": over_seeds([sum(s) / len(items) for s in scores]),
        "score_abs_gap": over_seeds([sum(abs(x - y) for x, y in zip(scores[a], scores[b])) / len(items)
                                     for a, b in pairs_of_runs]),
        "rank_correlation": over_seeds([spearman(scores[a], scores[b]) for a, b in pairs_of_runs]),
        "same_order_share": over_seeds([_same_order(scores[a], scores[b], shown, index) for a, b in pairs_of_runs]),
        "heldout_pair_accuracy": over_seeds([c["accuracy"] for c in cal]),
        "calibration_ece": over_seeds([c["ece"] for c in cal]),
    }
    plot = _calibration_plot(cal)
    verdict = _verdict(figures)
    return {
        "name": "reward_seeds", "claims": [9],
        "title": "Reward-model seeds: how far their scores and rankings differ, and are they calibrated?",
        "figures": figures, "plots": [plot] if plot else [],
        "series": {"seed_pairs": [list(p) for p in seed_pairs], "items": len(items), "pairs": len(pairs),
                   "calibration": [{"seed": seed, **c} for seed, c in zip(seeds, cal)], "trained": trained},
        "samples": _samples(items, scores, seeds),
        "verdict": verdict, "seeds": list(seeds),
    }


def _same_order(a: list[float], b: list[float], shown, index) -> float:
    """Share of the held-out pairs that two seeds put in the same order."""
    same = [(a[index[(q, x)]] > a[index[(q, y)]]) == (b[index[(q, x)]] > b[index[(q, y)]]) for q, x, y, _ in shown]
    return sum(same) / len(same)


def _calibration_plot(cal: list[dict]) -> dict | None:
    """Observed win rate against predicted P(A beats B), bins that every seed fills well enough."""
    n_bins = len(cal[0]["counts"])
    keep = [i for i in range(n_bins) if all(c["counts"][i] >= MIN_PER_BIN for c in cal)]
    if not keep:
        return None
    x = [round(sum(c["mean_pred"][i] for c in cal) / len(cal), 4) for i in keep]
    obs = [[c["observed"][i] for c in cal] for i in keep]
    return {"title": "Calibration on held-out pairs: predicted P(A beats B) vs how often the rater prefers A",
            "x_label": "predicted P(A beats B) = sigmoid(r(A) - r(B)), binned", "y_label": "observed win rate",
            "log_x": False,
            "lines": [{"label": "observed (mean over reward seeds; band: range)", "x": x,
                       "y": [round(sum(o) / len(o), 4) for o in obs], "y_min": [round(min(o), 4) for o in obs],
                       "y_max": [round(max(o), 4) for o in obs]},
                      {"label": "perfectly calibrated", "x": [0.0, 1.0], "y": [0.0, 1.0]}]}


def _samples(items, scores, seeds) -> list[dict]:
    """Four items across the first seed's range, with every seed's score: the numbers differ, the order
    holds (or not)."""
    first = scores[0]
    order = sorted(range(len(items)), key=lambda i: first[i])
    picks = [order[int(q * (len(order) - 1))] for q in (0.05, 0.35, 0.65, 0.95)]
    return [{"label": "scores: " + ", ".join(f"seed {seed} {s[i]:+.2f}" for seed, s in zip(seeds, scores)),
             "prompt": items[i][0], "reply": items[i][1]} for i in picks]


def _verdict(f: dict) -> str:
    rho, gap, ece, same = f["rank_correlation"], f["score_abs_gap"], f["calibration_ece"], f["same_order_share"]
    agree = ("agree" if rho["min"] >= 0.8 else "mostly agree" if rho["min"] >= 0.6 else
             "do not agree well: the models differ in more than a constant")
    text = (f"Each seed (its own sampled preference data, split and training order) scores the same held-out "
            f"reply differently by {gap['mean']:.2f} on average (range {gap['min']:.2f}-{gap['max']:.2f}; each "
            f"model's scores have spread 1), and their rankings {agree}: Spearman {rho['mean']:.2f} (range "
            f"{rho['min']:.2f}-{rho['max']:.2f}), the same order for {same['mean']:.0%} of held-out pairs. ")
    if ece["mean"] is not None:
        text += (f"sigmoid(r(A) - r(B)) is off the rater's observed win rate by {ece['mean']:.2f} on average (ECE, "
                 f"range {ece['min']:.2f}-{ece['max']:.2f}): "
                 + ("roughly calibrated" if ece["mean"] <= 0.1 else "not calibrated")
                 + (", depending on the seed." if ece["max"] - ece["min"] > 0.05 else "."))
    if rho["max"] - rho["min"] > 0.15:
        text += " How well two seeds agree depends on the seeds."
    return text
