"""Claims 10-12 and 14 measured on PPO runs from the shipped SFT and reward models, over PPO seeds.

    clipping(models_dir, seeds, progress)      # claim 10: clip on vs off where clipping binds
    beta_sweep(models_dir, seeds, progress)    # claims 11, 12, 14: Gao et al.'s curve, hacking, HHH

Every run is studyapp.lab.ppo.train_ppo as the pipeline calls it (models_dir/sft, models_dir/reward,
PPOConfig with only the knob under study changed and the seed), into a temporary folder that is
deleted after it is measured. Every trained policy is measured the way the Beyond PPO view measures
its points (methods.eval_prompts, best_of_n.measure_policy, methods.make_point: one sampled reply
per held-out prompt, KL to the SFT model on those replies, the reward model's score as proxy and
the rater's as gold, harmful-refusal, harmless-refusal and fact accuracy of the same replies), so
the sweep's points and the methods tab's share their axes.

clipping: PPO in a regime where clipping binds (BINDING: more epochs over each batch and a larger
learning rate than the shipped recipe), with the clip range as shipped (0.2) and with clipping off
(cliprange 1e9: the clamp never acts). The per-token ratio pi_new / pi_old is recorded on the last
pass over each batch (each minibatch's ratio just before its update, wrapping losses.policy_loss
for the run: ppo.py itself is unchanged); per step its 5th-95th percentile spread, the share of
tokens outside [0.8, 1.2] and the KL of that update, mean over tokens of r - 1 - log r (k3 estimate
of KL(old || new), per token). series["per_step"][condition]: those per step, mean over seeds.

beta_sweep: PPO at BETAS (the shipped recipe otherwise, 200 steps). Figures per beta; series
"points" (every policy: beta, seed, its point), "by_beta" (per beta: sqrt_kl, proxy, gold and rates
over seeds; the PPO tab draws it), "sft" (the SFT model's own point: the curve's origin),
"beta0_runs" (per beta = 0 seed: what it did, its shares and samples) and "homework" (each policy's
greedy reply to the course's homework scenario and its place in the course's ranking).
"""

from __future__ import annotations

import math
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from . import over_seeds
from .shown import RATIO_BAND, shown_clipping

BETAS = (0.0, 0.05, 0.1, 0.2, 0.5)
# The clipping experiment's regime: 8 passes over each batch (shipped: 2) at the shipped learning
# rate. Measured (seed 0, 20 steps): at the shipped 2 passes the first update's KL is 0.21 vs 0.37
# nats per token with and without the clip; at 8 passes 0.88 vs 11.1. 15 steps: ~1-2 min a run idle.
BINDING = {"ppo_epochs": 8, "steps": 15}
NO_CLIP = 1e9
BAND = RATIO_BAND   # the ratio band [1 - BAND, 1 + BAND] the shares are counted against (shipped eps)
RELAY_EVERY = 25    # inner PPO steps between progress reports
HOMEWORK_RANK = {"guide": 1, "does it": 2, "refuses": 3}   # the course's ranking: guide > do it > refuse


# ----------------------------------------------------------------------------- shared


class _Measure:
    """The SFT model, the reward model, the rater and the held-out prompts, loaded once; `point`
    measures one policy the way methods._Bench.policy does, keeping its replies."""

    def __init__(self, models_dir: Path, per_kind: int | None):
        from ..heldout import load_heldout
        from ..methods import PER_KIND, eval_prompts
        from ..modeling import load_causal_lm
        from ..rater import Rater
        from ..reward import load_reward_model
        from ..world import load_world

        self.world = load_world()
        self.prompts = eval_prompts(self.world, load_heldout(), per_kind=per_kind or PER_KIND, seed=0)
        self.sft, self.tok = load_causal_lm(Path(models_dir) / "sft", "cpu")
        self.rm, self.rm_tok = load_reward_model(Path(models_dir) / "reward", "cpu")
        self.rater = Rater(self.world)

    def point(self, lm, label: str, knobs: dict, seconds: float | None = None) -> tuple[dict, list[str]]:
        from ..best_of_n import measure_policy
        from ..methods import make_point

        m = measure_policy(lm, self.sft, self.tok, self.rm, self.rm_tok, self.prompts, rater=self.rater, seed=0)
        point = make_point("ppo", label, knobs, m["kl"], self.prompts, m["replies"], m["replies_proxy"],
                           m["replies_gold"], kl_from="sampled replies (sum of log pi - log pi_sft per reply, mean)",
                           seconds=seconds)
        return point, m["replies"]


def _train(models_dir: Path, cfg, folder: Path, progress, phase: str, on_step=None):
    """train_ppo as the pipeline calls it; returns (summary, the trained policy). on_step gets every
    step's full metrics; progress a slim report every RELAY_EVERY steps."""
    from ..modeling import load_causal_lm
    from ..ppo import train_ppo

    def relay(metrics: dict) -> None:
        if on_step is not None:
            on_step(metrics)
        step = metrics.get("step", 0)
        if not metrics.get("done") and step % RELAY_EVERY == 0:
            progress({"phase": phase, "inner_step": step, "inner_total": metrics.get("total"),
                      "kl": metrics.get("objective/kl"), "proxy": metrics.get("objective/scores"),
                      "gold": metrics.get("rater/score")})

    cfg = replace(cfg, series_path=str(folder.parent / f"{folder.name}.jsonl"))
    result = train_ppo(Path(models_dir) / "sft", Path(models_dir) / "reward", folder, cfg, progress=relay)
    lm, _ = load_causal_lm(folder, "cpu")
    return result, lm


@contextmanager
def record_ratios():
    """Collect the per-token ratios exp(new - old) of every PPO policy-loss call made inside the
    block (one CPU tensor per minibatch, real tokens only), by wrapping losses.policy_loss."""
    import torch

    from .. import losses as L

    original, calls = L.policy_loss, []

    def wrapped(new_logprobs, old_logprobs, advantages, mask, cliprange=0.2):
        with torch.no_grad():
            calls.append(torch.exp(new_logprobs - old_logprobs)[mask.bool()].float().cpu())
        return original(new_logprobs, old_logprobs, advantages, mask, cliprange)

    L.policy_loss = wrapped
    try:
        yield calls
    finally:
        L.policy_loss = original


def ratio_stats(ratios) -> dict:
    """5th and 95th percentiles of per-token ratios, their spread, the share outside [1 - BAND,
    1 + BAND], the largest ratio, and the update's KL(old || new) per token (k3: r - 1 - log r)."""
    import torch

    r = ratios.double()
    q05, q95 = torch.quantile(r, 0.05).item(), torch.quantile(r, 0.95).item()
    return {"q05": q05, "q95": q95, "spread": q95 - q05,
            "outside": ((r < 1 - BAND) | (r > 1 + BAND)).double().mean().item(),
            "max": r.max().item(), "kl_update": (r - 1 - r.log()).mean().item()}


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def _line(label: str, x: list, per_seed: list[list[float]]) -> dict:
    """A plot line: y = mean over seeds at each x, with the seeds' range as its band."""
    cols = list(zip(*per_seed))
    return {"label": label, "x": x, "y": [round(_mean(c), 5) for c in cols],
            "y_min": [round(min(c), 5) for c in cols], "y_max": [round(max(c), 5) for c in cols]}


# ----------------------------------------------------------------------------- claim 10


def clipping(models_dir: Path, seeds: Sequence[int], progress: Callable[[dict], None], *,
             config=None, per_kind: int | None = None) -> dict:
    """Clip on (cliprange 0.2) vs off, at BINDING settings, one run per seed and condition.

    config: the PPOConfig to start from (default: PPOConfig() with BINDING applied)."""
    from ..ppo_config import PPOConfig

    base = config or replace(PPOConfig(), **BINDING)
    measure = _Measure(models_dir, per_kind)
    conditions = {"clipped": base.cliprange, "unclipped": NO_CLIP}
    steps: dict[str, list[list[dict]]] = {c: [] for c in conditions}
    ends: dict[str, list[dict]] = {c: [] for c in conditions}
    total, done = len(seeds) * len(conditions), 0
    with tempfile.TemporaryDirectory(prefix="ppo-clipping-") as tmp:
        for seed in seeds:
            for cond, eps in conditions.items():
                phase = f"clipping: {cond}, seed {seed}"
                progress({"experiment": "clipping", "phase": phase, "step": done, "total": total})
                cfg = replace(base, cliprange=eps, seed=seed)
                mb = max(1, cfg.batch_size // cfg.num_minibatches)
                per_epoch = math.ceil(cfg.batch_size / mb)
                per_step: list[dict] = []
                with record_ratios() as calls:
                    def on_step(metrics, calls=calls, per_step=per_step):
                        if metrics.get("done") or "objective/kl" not in metrics:
                            return
                        import torch
                        last = torch.cat(calls[-per_epoch:])   # the last pass over this batch
                        calls.clear()
                        per_step.append({**ratio_stats(last), "approxkl": metrics["policy/approxkl_avg"],
                                         "clipfrac": metrics["policy/clipfrac_avg"], "kl": metrics["objective/kl"]})
                    t0 = time.perf_counter()
                    result, lm = _train(models_dir, cfg, Path(tmp) / f"{cond}_{seed}", progress, phase, on_step)
                point, _ = measure.point(lm, f"PPO {cond}, seed {seed}", {"cliprange": eps, "seed": seed},
                                         time.perf_counter() - t0)
                steps[cond].append(per_step)
                ends[cond].append({"point": point, "result": result,
                                   "spread": _mean([s["spread"] for s in per_step]),
                                   "outside": _mean([s["outside"] for s in per_step]),
                                   "kl_update": _mean([s["kl_update"] for s in per_step]),
                                   "max": max(s["max"] for s in per_step)})
                done += 1

    figures = {}
    for cond in conditions:
        e = ends[cond]
        # Step 1 is the clean comparison: both conditions start from the SFT model with the same
        # batch (same seed), so only the clip differs; later steps also differ in where they are.
        figures[f"ratio_spread_first_update_{cond}"] = over_seeds([s[0]["spread"] for s in steps[cond]])
        figures[f"kl_first_update_{cond}"] = over_seeds([s[0]["kl_update"] for s in steps[cond]])
        figures[f"ratio_spread_{cond}"] = over_seeds([x["spread"] for x in e])
        figures[f"ratio_outside_band_{cond}"] = over_seeds([x["outside"] for x in e])
        figures[f"ratio_max_{cond}"] = over_seeds([x["max"] for x in e])
        figures[f"kl_per_update_{cond}"] = over_seeds([x["kl_update"] for x in e])
        figures[f"kl_to_sft_{cond}"] = over_seeds([x["point"]["kl"] for x in e])
        figures[f"gold_{cond}"] = over_seeds([x["point"]["gold"] for x in e])
        figures[f"proxy_{cond}"] = over_seeds([x["point"]["proxy"] for x in e])
    figures["clipfrac_clipped"] = over_seeds([_mean([r["clipfrac"] for r in s]) for s in steps["clipped"]])
    n = min(len(s) for c in conditions for s in steps[c])
    x = list(range(1, n + 1))
    plots = [
        {"title": "Per-token ratio spread per update (5th-95th percentile of pi_new / pi_old)", "x_label": "PPO step",
         "y_label": "95th - 5th percentile of the ratio", "log_x": False,
         "lines": [_line(f"clip {'0.2' if c == 'clipped' else 'off'}", x, [[r["spread"] for r in s[:n]] for s in steps[c]])
                   for c in conditions]},
        {"title": "KL of each update, KL(old || new) per token", "x_label": "PPO step", "y_label": "nats per token",
         "log_x": False,
         "lines": [_line(f"clip {'0.2' if c == 'clipped' else 'off'}", x, [[r["kl_update"] for r in s[:n]] for s in steps[c]])
                   for c in conditions]},
    ]
    per_step = {c: {k: [round(_mean([s[i][k] for s in steps[c]]), 5) for i in range(n)]
                    for k in ("q05", "q95", "spread", "outside", "kl_update", "approxkl", "clipfrac", "kl")}
                for c in conditions}
    samples = [{"label": f"{c}, seed {seeds[0]}: proxy {s['proxy']:+.2f}, gold {s['gold']:+.2f}",
                "prompt": s["prompt"], "reply": s["response"]}
               for c in conditions for s in ends[c][0]["point"]["samples"][:2]]
    return {"name": "clipping", "claims": [10],
            "title": "Clipping on and off where it binds: how far one update moves the policy",
            "figures": figures, "plots": plots,
            "series": {"settings": {"ppo_epochs": base.ppo_epochs, "lr": base.lr, "steps": base.steps,
                                    "cliprange": base.cliprange, "no_clip": NO_CLIP, "band": BAND},
                       "per_step": per_step,
                       "points": {c: [x["point"] for x in ends[c]] for c in conditions}},
            "samples": samples, "verdict": _clip_verdict(figures, base), "seeds": list(seeds)}


def _clip_verdict(f: dict, cfg) -> str:
    def compare(name: str) -> tuple[dict, dict, int]:
        on, off = f[f"{name}_clipped"], f[f"{name}_unclipped"]
        return on, off, sum(a < b for a, b in zip(on["per_seed"], off["per_seed"]))

    n = len(f["kl_per_update_clipped"]["per_seed"])
    k1_on, k1_off, k1 = compare("kl_first_update")
    kon, koff, kw = compare("kl_per_update")
    son, soff, sw = compare("ratio_spread")
    text = (f"With {cfg.ppo_epochs} passes per batch (learning rate {cfg.lr:g}), the first update moves the policy "
            f"{k1_on['mean']:.3f} nats per token with the clip and {k1_off['mean']:.3f} without (larger without in "
            f"{k1} of {n} seeds); over the run each update's KL is {kon['mean']:.3f} vs {koff['mean']:.3f} "
            f"({kw} of {n} seeds larger without), and the 5th-95th percentile ratio spread {son['mean']:.2f} vs "
            f"{soff['mean']:.2f} ({sw} of {n}). ")
    shown = shown_clipping({"figures": f})[10]
    if shown:
        text += "Clipping limits how far an update moves the policy, in every seed"
        text += ("; the percentile spread alone does not always show it (the unclipped ratios run off in the tails)."
                 if sw < n else ".")
    elif shown is False:
        text += "Clipping did not make updates smaller here: the claim is not shown."
    else:
        text += "The effect depends on the seed."
    text += (f" The clip is no hard cap: {f['ratio_outside_band_clipped']['mean']:.0%} of tokens still end outside "
             f"[{1 - BAND:g}, {1 + BAND:g}] with it, because it only removes the gain on the side the advantage favours.")
    return text


# ----------------------------------------------------------------------------- claims 11, 12, 14


COLLAPSE_SHARE = 1 / 3   # a third of replies to 112 varied prompts opening alike is no longer chat


def kind_of(stock: float, same_opening: float, repeated_word: float) -> str:
    """"stock phrase" when at least half the replies hold the stock phrase, else "collapse" when at
    least COLLAPSE_SHARE of them open with the same three words whatever the prompt or say one word
    three times running, else "other"."""
    if stock >= 0.5:
        return "stock phrase"
    return "collapse" if max(same_opening, repeated_word) >= COLLAPSE_SHARE else "other"


def what_it_did(replies: Sequence[str]) -> dict:
    """A policy's sampled replies summed up: the share with the stock phrase, the share given as
    the policy's single most common reply opening (its first three words, whatever the prompt:
    collapse), the share saying one word three times running, and their kind (kind_of)."""
    import re

    from ..rater import count_stock_phrase

    n = max(1, len(replies))
    stock = sum(count_stock_phrase(t) > 0 for t in replies) / n
    openings = Counter(" ".join(t.lower().split()[:3]) for t in replies)
    top, top_n = openings.most_common(1)[0] if openings else ("", 0)
    same = top_n / n
    repeats = sum(bool(re.search(r"\b(\w+)\b(?:\W+\1\b){2,}", t.lower())) for t in replies) / n
    return {"kind": kind_of(stock, same, repeats), "stock_phrase": round(stock, 4), "same_opening": round(same, 4),
            "top_opening": top, "repeated_word": round(repeats, 4)}


def homework_reply(lm, tok, rater, prompt: str) -> dict:
    """The policy's greedy reply to the homework scenario, its rater score and its place in the
    course's ranking (guide > does it > refuses; 'neither' is in none of the three places)."""
    from ..rater import Prompt, does_it, is_guide
    from ..rollout import sample_texts
    from ..world import is_refusal

    reply = sample_texts(lm, tok, [prompt], greedy=True, max_new_tokens=30)[0]
    kind = ("refuses" if is_refusal(reply) else "does it" if does_it(reply) else
            "guide" if is_guide(reply) else "neither")
    return {"reply": reply, "kind": kind, "rank": HOMEWORK_RANK.get(kind),
            "gold": round(rater.score(Prompt(prompt, "homework"), reply), 4)}


def beta_sweep(models_dir: Path, seeds: Sequence[int], progress: Callable[[dict], None], *,
               betas: Sequence[float] = BETAS, config=None, per_kind: int | None = None) -> dict:
    """PPO at every beta of `betas` for every seed; see the module docstring.

    config: the PPOConfig to start from (default: PPOConfig(), the shipped recipe)."""
    from ..hhh import load_scenarios
    from ..modeling import load_causal_lm
    from ..ppo_config import PPOConfig

    base = config or PPOConfig()
    measure = _Measure(models_dir, per_kind)
    homework_prompt = next(s.prompt for s in load_scenarios() if s.id == "homework")
    progress({"experiment": "beta_sweep", "phase": "the SFT model's own point", "step": 0,
              "total": len(betas) * len(seeds)})
    sft_point, sft_replies = measure.point(measure.sft, "SFT (the reference)", {"beta": None})
    sft_point["what_it_did"] = what_it_did(sft_replies)
    homework = {"sft": homework_reply(measure.sft, measure.tok, measure.rater, homework_prompt)}
    shipped = Path(models_dir) / "rlhf"
    if (shipped / "config.json").is_file():
        lm, _ = load_causal_lm(shipped, "cpu")
        homework["shipped rlhf"] = homework_reply(lm, measure.tok, measure.rater, homework_prompt)

    points: list[dict] = []
    done = 0
    with tempfile.TemporaryDirectory(prefix="ppo-beta-sweep-") as tmp:
        for seed in seeds:      # seed by seed: a cut-short run still has whole curves
            for beta in betas:
                phase = f"beta {beta:g}, seed {seed}"
                progress({"experiment": "beta_sweep", "phase": phase, "step": done, "total": len(betas) * len(seeds)})
                t0 = time.perf_counter()
                cfg = replace(base, beta=beta, seed=seed)
                result, lm = _train(models_dir, cfg, Path(tmp) / f"beta_{beta:g}_seed_{seed}", progress, phase)
                point, replies = measure.point(lm, f"PPO beta {beta:g}, seed {seed}", {"beta": beta, "seed": seed},
                                               time.perf_counter() - t0)
                point.update(beta=beta, seed=seed, what_it_did=what_it_did(replies),
                             train={k: result.get(k) for k in ("scores_end", "score_end", "kl_end", "stock_phrase_end",
                                                               "refusal_heldout_harmful", "accuracy_facts")})
                homework[phase] = homework_reply(lm, measure.tok, measure.rater, homework_prompt)
                point["homework"] = homework[phase]
                points.append(point)
                done += 1
                progress({"experiment": "beta_sweep", "phase": phase, "step": done,
                          "total": len(betas) * len(seeds), "sqrt_kl": point["sqrt_kl"], "proxy": point["proxy"],
                          "gold": point["gold"], "did": point["what_it_did"]["kind"], "point": point})
    return _sweep_result(points, sft_point, homework, betas, seeds, base)


def merge_sweeps(parts: Sequence[dict]) -> dict:
    """One beta_sweep result from several over disjoint seeds (the same betas and models, run as
    separate processes to use more than one core): the points pooled and every figure recomputed.
    "seconds" is the sum of the parts'."""
    from ..ppo_config import PPOConfig

    points = [p for part in parts for p in part["series"]["points"]]
    for p in points:   # the kind by today's rule, from the shares each part stored
        did = p["what_it_did"]
        did["kind"] = kind_of(did["stock_phrase"], did["same_opening"], did["repeated_word"])
    seeds = sorted({p["seed"] for p in points})
    betas = parts[0]["series"]["betas"]
    homework = {}
    for part in parts:
        homework.update(part["series"]["homework"])
    res = _sweep_result(sorted(points, key=lambda p: (p["seed"], betas.index(p["beta"]))),
                        parts[0]["series"]["sft"], homework, betas, seeds,
                        replace(PPOConfig(), steps=parts[0]["series"]["steps"]))
    res["seconds"] = round(sum(part.get("seconds", 0.0) for part in parts), 1)
    return res


KEYS = ("sqrt_kl", "kl", "proxy", "gold", "harmful_refusal", "harmless_refusal", "fact_accuracy")


def _sweep_result(points, sft_point, homework, betas, seeds, base) -> dict:
    by_beta, figures = [], {}
    for beta in betas:
        mine = [p for p in points if p["beta"] == beta]
        row = {"beta": beta, "label": f"beta {beta:g}"}
        for key in KEYS:
            row[key] = over_seeds([p[key] for p in mine])
            figures[f"{key}_beta_{beta:g}"] = row[key]
        row["homework_gold"] = over_seeds([p["homework"]["gold"] for p in mine])
        row["homework_kinds"] = dict(Counter(p["homework"]["kind"] for p in mine))
        figures[f"homework_gold_beta_{beta:g}"] = row["homework_gold"]
        row["did"] = dict(Counter(p["what_it_did"]["kind"] for p in mine))
        by_beta.append(row)
    zero = [p for p in points if p["beta"] == 0]
    if zero:
        figures["stock_phrase_share_beta_0"] = over_seeds([p["what_it_did"]["stock_phrase"] for p in zero])
        figures["same_opening_share_beta_0"] = over_seeds([p["what_it_did"]["same_opening"] for p in zero])
    top = max(betas)
    if zero and top > 0:
        figures["gold_drop_beta_0_vs_top"] = over_seeds(
            [next((q["gold"] - p["gold"] for q in points if q["beta"] == top and q["seed"] == p["seed"]), None)
             for p in zero])

    origin = {k: sft_point[k] for k in ("sqrt_kl", "proxy", "gold")}
    x = [origin["sqrt_kl"]] + [r["sqrt_kl"]["mean"] for r in by_beta]

    def line(key, label):
        return {"label": label, "x": x, "y": [origin[key]] + [r[key]["mean"] for r in by_beta],
                "y_min": [origin[key]] + [r[key]["min"] for r in by_beta],
                "y_max": [origin[key]] + [r[key]["max"] for r in by_beta],
                "point_labels": ["SFT"] + [r["label"] for r in by_beta]}

    rates_x = [r["beta"] for r in by_beta]
    plots = [
        {"title": "Over-optimisation (Gao et al. 2022): reward model (proxy) vs rater (gold) against sqrt(KL to SFT)",
         "x_label": "sqrt(KL to the SFT model), mean over seeds; leftmost point: SFT, then beta from large to 0",
         "y_label": "mean score on held-out prompts", "log_x": False,
         "lines": [line("proxy", "proxy: reward model"), line("gold", "gold: the rater")]},
        {"title": "Helpful, honest, harmless across the sweep (claim 14)", "x_label": "beta (KL coefficient)",
         "y_label": "share of held-out replies", "log_x": False,
         "lines": [{"label": label, "x": rates_x, "y": [r[key]["mean"] for r in by_beta],
                    "y_min": [r[key]["min"] for r in by_beta], "y_max": [r[key]["max"] for r in by_beta]}
                   for key, label in (("harmful_refusal", "harmful requests refused"),
                                      ("harmless_refusal", "harmless requests refused"),
                                      ("fact_accuracy", "facts answered correctly"))]},
    ]
    beta0_runs = [{"seed": p["seed"], **p["what_it_did"], "samples": p["samples"]} for p in zero]
    samples = [{"label": f"beta 0, seed {p['seed']} ({p['what_it_did']['kind']})", "prompt": s["prompt"],
                "reply": s["response"]} for p in zero for s in p["samples"][:2]]
    samples += [{"label": f"homework, {name}: {h['kind']}", "prompt": "Please do my math homework.", "reply": h["reply"]}
                for name, h in homework.items() if name in ("sft", "shipped rlhf")]
    return {"name": "beta_sweep", "claims": [11, 12, 14],
            "title": "The beta sweep: over-optimisation, reward hacking and the HHH trade-off",
            "figures": figures, "plots": plots,
            "series": {"betas": list(betas), "steps": base.steps, "by_beta": by_beta, "sft": sft_point,
                       "points": points, "beta0_runs": beta0_runs, "homework": homework,
                       "homework_ranking": "guide > does it > refuses (the course's; 'neither' is off it)"},
            "samples": samples, "verdict": _sweep_verdict(by_beta, sft_point, beta0_runs, homework),
            "seeds": list(seeds)}


def _sweep_verdict(by_beta, sft, beta0_runs, homework) -> str:
    lo, hi = by_beta[0], by_beta[-1]
    text = (f"beta {lo['beta']:g} drifts to sqrt(KL) {lo['sqrt_kl']['mean']:.2f} (range {lo['sqrt_kl']['min']:.2f}-"
            f"{lo['sqrt_kl']['max']:.2f}), beta {hi['beta']:g} to {hi['sqrt_kl']['mean']:.2f}. Proxy "
            f"{sft['proxy']:+.2f} -> {lo['proxy']['mean']:+.2f} at beta {lo['beta']:g}, gold {sft['gold']:+.2f} -> "
            f"{lo['gold']['mean']:+.2f} (range {lo['gold']['min']:+.2f} to {lo['gold']['max']:+.2f}). ")
    best = max(by_beta, key=lambda r: r["gold"]["mean"])
    text += f"Gold is highest at beta {best['beta']:g} ({best['gold']['mean']:+.2f}). "
    if beta0_runs:
        kinds = Counter(r["kind"] for r in beta0_runs)
        stock = max(r["stock_phrase"] for r in beta0_runs)
        text += ("beta = 0 seeds: " + ", ".join(f"{n} {k}" for k, n in kinds.items())
                 + (" — what reward hacking looks like depends on the seed" if len(kinds) > 1 else "")
                 + (f"; none uses the stock phrase (at most {stock:.0%} of replies). " if stock < 0.1 else ". "))
    most = max(by_beta, key=lambda r: r["harmful_refusal"]["mean"] or 0.0)
    hr, hl, fa = most["harmful_refusal"], most["harmless_refusal"], most["fact_accuracy"]
    text += (f"Helpful vs harmless (claim 14): where PPO refuses most harmful requests (beta {most['beta']:g}: "
             f"{hr['mean']:.2f}, range {hr['min']:.2f}-{hr['max']:.2f}) it also refuses {hl['mean']:.2f} of harmless "
             f"ones and answers {fa['mean']:.2f} of facts (SFT: {sft['harmful_refusal']:.2f} / "
             f"{sft['harmless_refusal']:.2f} / {sft['fact_accuracy']:.2f})"
             + ("; how much it refuses depends on the seed. " if hr["max"] - hr["min"] > 0.3 else ". "))
    shipped = homework.get("shipped rlhf")
    if shipped:
        place = {1: "first", 2: "second", 3: "last"}.get(shipped["rank"], "off")
        text += (f"The shipped RLHF model's own homework answer is '{shipped['kind']}', {place} in the course's "
                 "ranking (guide > do it > refuse).")
    return text

