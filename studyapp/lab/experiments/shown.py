"""Does an experiment show the course's claim? One rule per experiment, read from its written result
(figures and series), so the verdict an experiment writes and the badge the claims tab shows for
the shipped files come from the same rule. Each returns {claim number: True (the tiny model shows
the course's claim), False (its figures contradict it) or None (it depends on the seed)}. No torch.
"""

from __future__ import annotations

import re

LR_MEASURES = (
    ("format", "chat replies that answer in one sentence and stop (seen facts)"),
    ("template", "pretrain-only facts answered in chat"),
    ("reworded", "pretrain-only facts answered in chat, reworded"),
    ("stems", "pretrain-only fact stems kept (raw text)"),
)

NEW_MEASURES = (
    ("template", "held-out facts answered, trained question"),
    ("reworded", "held-out facts answered, reworded"),
    ("transfer", "pretrain-only facts answered, reworded"),
)


RATIO_BAND = 0.2   # the clipping experiment counts ratios outside [1 - RATIO_BAND, 1 + RATIO_BAND]

# The metric names the PPO and reward-model experiments write (snake_case, TRL's style; the JSON and
# experiments.md keep them), in words for the claims tab. A name already in words is its own label.
FIGURE_WORDS = {
    "sqrt_kl": "sqrt(KL to SFT)", "kl": "KL to SFT", "proxy": "reward model's score (proxy)",
    "gold": "rater's score (gold)", "harmful_refusal": "harmful requests refused",
    "harmless_refusal": "harmless look-alikes refused", "fact_accuracy": "facts answered correctly (held-out wording)",
    "homework_gold": "rater's score on homework", "stock_phrase_share": "replies using the stock phrase",
    "same_opening_share": "replies opening the same way",
    "gold_drop_beta_0_vs_top": "rater's score lost at beta 0 against the largest beta",
    "ratio_spread_first_update": "ratio spread (5th-95th percentile), first update",
    "ratio_spread": "ratio spread (5th-95th percentile)", "ratio_max": "largest ratio",
    "ratio_outside_band": f"share of tokens with a ratio outside [{1 - RATIO_BAND:g}, {1 + RATIO_BAND:g}]", "kl_first_update": "KL moved by the first update",
    "kl_per_update": "KL moved per update", "kl_to_sft": "KL to SFT at the end", "clipfrac": "clip fraction",
    "score_mean": "mean score", "score_abs_gap": "score gap between two seeds, per reply",
    "rank_correlation": "rank correlation between two seeds (Spearman)",
    "same_order_share": "pairs two seeds put in the same order", "heldout_pair_accuracy": "pair accuracy, held-out pairs",
    "calibration_ece": "calibration error (ECE)",
}


def figure_label(name: str) -> str:
    """A figure's name in words: "harmful_refusal_beta_0.1" -> "harmful requests refused, beta 0.1",
    "kl_per_update_clipped" -> "KL moved per update, clip on"; other names unchanged."""
    if name in FIGURE_WORDS:
        return FIGURE_WORDS[name]
    m = re.fullmatch(r"(.+?)_(beta_[0-9.e-]+|clipped|unclipped)", name)
    if m is None or m.group(1) not in FIGURE_WORDS:
        return name
    tail = {"clipped": "clip on", "unclipped": "clip off"}.get(m.group(2)) or m.group(2).replace("_", " ")
    return f"{FIGURE_WORDS[m.group(1)]}, {tail}"


def lr_text(lr: float) -> str:
    mant, exp = f"{lr:.0e}".split("e")
    return f"{mant}e{int(exp)}"


def shown_sft_learning_rate(res: dict) -> dict[int, bool]:
    """Claim 3: SFT's rate teaches the facts and keeps them better than pretraining's rate, and
    teaches the format better than a rate ten times lower."""
    figs, lrs = res["figures"], res["series"]["lrs"]
    m = {k: [figs[f"{text}, SFT at LR {lr_text(lr)}"]["mean"] for lr in lrs] for k, text in LR_MEASURES}
    hi, mid, lo = 0, 1, 2
    return {3: bool(m["template"][mid] > m["template"][hi] and m["stems"][mid] > m["stems"][hi]
                    and m["format"][mid] > m["format"][lo])}


def shown_weight_change(res: dict) -> dict[int, bool]:
    """Claim 4: the last block moved more than the first (relative weight change, mean over seeds)."""
    blocks = [p for p in res["series"]["parts"] if p.startswith("block")]
    mean = {p: res["figures"][f"relative weight change base -> SFT: {p}"]["mean"] for p in blocks}
    return {4: bool(len(blocks) >= 2 and mean[blocks[-1]] > mean[blocks[0]])}


def shown_sft_new_facts(res: dict) -> dict[int, bool]:
    """Claim 5: facts added to SFT do not transfer to new wording (reworded accuracy at the most
    copies within 0.2 of none)."""
    figs, copies = res["figures"], res["series"]["copies"]
    reworded = [figs[f"{NEW_MEASURES[1][1]}, added x{k}"]["mean"] for k in copies]
    return {5: bool(reworded[-1] <= reworded[0] + 0.2)}


def shown_clipping(res: dict) -> dict[int, bool | None]:
    """Claim 10: True when, in every seed, the first update and the mean update move the policy
    less (KL) with the clip than without; False when in none; None when it depends on the seed."""
    f = res["figures"]
    wins = [sum(a < b for a, b in zip(f[f"{k}_clipped"]["per_seed"], f[f"{k}_unclipped"]["per_seed"]))
            for k in ("kl_first_update", "kl_per_update")]
    n = len(f["kl_per_update_clipped"]["per_seed"])
    return {10: True if all(w == n for w in wins) else False if all(w == 0 for w in wins) else None}


def shown_beta_sweep(res: dict) -> dict[int, bool | None]:
    """Claims 11, 12 and 14 from the sweep's means per beta (series.by_beta, beta ascending) and the
    SFT point. 11: sqrt(KL to SFT) falls as beta rises. 12: at beta 0 the reward model's score rises
    above SFT's while the rater's falls below it, in every seed (False in none, None in some).
    14: where PPO refuses most harmful requests it also refuses more harmless ones and answers fewer
    facts than SFT."""
    by_beta, sft = res["series"]["by_beta"], res["series"]["sft"]
    kl = [b["sqrt_kl"]["mean"] for b in by_beta]
    zero = by_beta[0]
    hacked = sum(p > sft["proxy"] and g < sft["gold"]
                 for p, g in zip(zero["proxy"]["per_seed"], zero["gold"]["per_seed"]))
    n = len(zero["proxy"]["per_seed"])
    most = max(by_beta, key=lambda b: b["harmful_refusal"]["mean"] or 0.0)
    pull = (most["harmless_refusal"]["mean"] > sft["harmless_refusal"]
            and most["fact_accuracy"]["mean"] < sft["fact_accuracy"])
    return {11: all(a > b for a, b in zip(kl, kl[1:])),
            12: True if hacked == n else False if hacked == 0 else None,
            14: bool(pull)}


SHOWN = {"sft_learning_rate": shown_sft_learning_rate, "weight_change": shown_weight_change,
         "sft_new_facts": shown_sft_new_facts, "clipping": shown_clipping, "beta_sweep": shown_beta_sweep}


def claims_shown(name: str, res: dict) -> dict[int, bool | None]:
    """The rule of experiment `name` applied to its result; {} for an experiment with no rule
    (reward_seeds measures how far seeds differ, which does not decide claim 9) or a result missing
    what the rule reads."""
    rule = SHOWN.get(name)
    try:
        return rule(res) if rule else {}
    except (KeyError, IndexError, TypeError):
        return {}
