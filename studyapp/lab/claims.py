"""The course's 14 claims (DESIGN.md), each with the figures the lab's report measured, a one-line
"what this shows", and the studyapp:// link that opens the tab in the state that shows it. No Qt.

    report, problem = load_report(models_dir / "report.json")
    for result in evaluate(report): result.claim.title, result.figures, result.status, result.note

Where the figures come from, in order:
1. a `claims` section of the report, {"12": {"figures": {"label": value}, "note": "..."}}, which the
   lab writes when it wants to say exactly what measures a claim;
2. otherwise the stage results the report holds, found by key name wherever they sit: a figure's
   key path ("rlhf", "refusal_heldout_harmful") matches any path in the report whose components
   contain those names in that order and end with the last one (the shortest such path wins).
A claim whose figures the report lacks says so; it never shows a number that was not measured.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPORT_NAME = "report.json"
HOW_TO_MAKE = "studyapp lab report"


@dataclass(frozen=True)
class FigureSpec:
    label: str
    keys: tuple[tuple[str, ...], ...]     # alternative key paths, the first that is found wins
    fmt: str = "num"                      # num, pct, int, bool, ratio


@dataclass(frozen=True)
class Claim:
    number: int
    title: str
    shows: str                            # what the figures show, in one line
    link: str                             # opens the tab in the state that shows it
    link_text: str
    figures: tuple[FigureSpec, ...] = ()
    # From the found values (by label) to True (shown), False (the small model does not show it)
    # or None (cannot tell); only claims with a clear numeric test have one.
    verdict: Callable[[dict], bool | None] | None = None
    unmeasured: str = "The lab's report does not measure this claim."
    stages: tuple[str, ...] = ()          # report sections it needs; their "missing" reason is quoted


def _k(*paths: str) -> tuple[tuple[str, ...], ...]:
    """'sft.tokens_seen' -> ('sft', 'tokens_seen'): key paths written as dotted text for brevity."""
    return tuple(tuple(p.split(".")) for p in paths)


def _ge(label: str, limit: float) -> Callable[[dict], bool | None]:
    return lambda v: None if _num(v.get(label)) is None else _num(v[label]) >= limit


def _verdict_3(v: dict) -> bool | None:
    tokens, lr = _num(v.get("Pretraining tokens per SFT token")), _num(v.get("Pretraining LR / SFT LR"))
    if tokens is None and lr is None:
        return None
    return (tokens is None or tokens > 1) and (lr is None or lr > 1)


def _verdict_4(v: dict) -> bool | None:
    """Later transformer blocks moved more than the first one (embeddings and norms left aside)."""
    change = v.get("Relative change per layer")
    if isinstance(change, dict):
        blocks = [_num(x) for k, x in change.items() if str(k).startswith("block")]
    elif isinstance(change, (list, tuple)):
        blocks = [_num(x) for x in change]
    else:
        return None
    blocks = [b for b in blocks if b is not None]
    return None if len(blocks) < 2 else blocks[-1] > blocks[0]


def _verdict_5(v: dict) -> bool | None:
    known, heldout = _num(v.get("SFT: pretrain-only facts answered")), _num(v.get("SFT: held-out facts answered"))
    if known is None or heldout is None:
        return None
    return known >= 0.5 and heldout <= 0.1


def _verdict_8(v: dict) -> bool | None:
    rm, policy = _num(v.get("Reward-model parameters")), _num(v.get("Policy parameters"))
    return None if rm is None or policy is None else rm < policy


def _verdict_9(v: dict) -> bool | None:
    change = _num(v.get("Largest change of P after adding a constant"))
    return None if change is None else change < 1e-5


def _verdict_10(v: dict) -> bool | None:
    low, high = _num(v.get("Smallest ratio new/old")), _num(v.get("Largest ratio new/old"))
    clip = _num(v.get("Clip range")) or 0.2
    if low is None or high is None:
        return None
    return 1 - 2 * clip <= low and high <= 1 + 2 * clip   # the ratio stays in (twice) the clip band


def _verdict_11(v: dict) -> bool | None:
    d, z = _num(v.get("KL at the end, default beta")), _num(v.get("KL at the end, beta = 0"))
    return None if d is None or z is None else z > d


def _verdict_12(v: dict) -> bool | None:
    hacked = v.get("Hacked (RM score up, rater's score down)")
    if isinstance(hacked, bool):
        return hacked
    rm, rater = _pair(v.get("Reward-model score, beta = 0")), _pair(v.get("Rater's true score, beta = 0"))
    if rm is None or rater is None:
        return None
    return rm[1] > rm[0] and rater[1] < rater[0]


def _verdict_13(v: dict) -> bool | None:
    before, after = _num(v.get("SFT refuses unseen harmful requests")), _num(v.get("RLHF refuses unseen harmful requests"))
    if after is None:
        return None
    # Refusing harmless look-alikes about as often as harmful requests is not a learned refusal of
    # harm: it is a learned refusal of whatever looks like the training prompts (issue 9).
    harm = _num(v.get("RLHF refuses harmful requests of the held-out set"))
    alike = _num(v.get("RLHF refuses harmless look-alikes of the held-out set"))
    if harm is not None and alike is not None and alike > harm - 0.5:
        return False
    return after >= 0.5 and (before is None or after > before)


CLAIMS: tuple[Claim, ...] = (
    Claim(1, "A base model continues an instruction as text.",
          "Asked a bare quiz question, the pretrained model writes the next question of the sheet instead of an answer.",
          "studyapp://compare?prompt=france&mode=raw", "Send the France question as raw text",
          (FigureSpec("Bare questions continued with a question", _k("base.bare_questions.rate", "bare_questions.rate",
                                                                      "continues_with_question", "base.continues_question"), "pct"),
           FigureSpec("Bare questions in held-out wording continued, not answered",
                      _k("base.behaviour.heldout.greedy.continues"), "pct"),
           FigureSpec("Fact stems completed correctly", _k("base.stem_accuracy.rate", "stem_accuracy.rate"), "pct")),
          _ge("Bare questions continued with a question", 0.5)),
    Claim(2, "SFT uses the same next-token objective, on curated (instruction, response) pairs.",
          "The SFT loss is the pretraining cross-entropy, counted only on the response tokens.",
          "studyapp://lessons?lesson=instruction-tuning#what-sft-actually-is", "Read how the loss mask works",
          (FigureSpec("SFT conversations", _k("sft.conversations"), "int"),
           FigureSpec("Tokens with a loss (responses only)", _k("sft.loss_tokens"), "int"),
           FigureSpec("Tokens seen in SFT", _k("sft.tokens_seen"), "int"),
           FigureSpec("Final SFT loss", _k("sft.final_loss")))),
    Claim(3, "SFT needs far less data and a lower learning rate than pretraining.",
          "The lab's own ratios: tokens of pretraining per token of SFT, and the two learning rates.",
          "studyapp://lessons?lesson=instruction-tuning#small-data-gentle-steps-the-scale-of-sft", "Read about the scale of SFT",
          (FigureSpec("Pretraining tokens per SFT token", _k("token_ratio", "data_ratio", "sft.token_ratio"), "ratio"),
           FigureSpec("Pretraining LR / SFT LR", _k("lr_ratio", "sft.lr_ratio"), "ratio"),
           FigureSpec("Tokens seen in pretraining", _k("sft.base_tokens_seen", "pretrain.tokens_seen", "base.tokens_seen"), "int"),
           FigureSpec("Tokens seen in SFT", _k("sft.tokens_seen"), "int"),
           FigureSpec("Pretraining learning rate", _k("sft.base_lr", "pretrain.lr", "base.lr")),
           FigureSpec("SFT learning rate", _k("sft.lr"))),
          _verdict_3),
    Claim(4, "SFT moves later layers more than earlier ones.",
          "Relative weight change from base to SFT, layer by layer (first layer on the left).",
          "studyapp://lessons?lesson=instruction-tuning#what-changes-inside-the-model", "Read what SFT changes inside",
          (FigureSpec("Relative change per layer", _k("layer_change", "relative_change_per_layer", "weight_change_per_layer",
                                                      "sft.layer_change", "layers.relative_change")),),
          _verdict_4),
    Claim(5, "SFT does not add facts: facts held out of pretraining stay unknown.",
          "After SFT the model answers facts it saw in pretraining, but not the ones it never saw.",
          "studyapp://compare?prompt=france&mode=chat", "Ask the SFT model in the chat format",
          (FigureSpec("SFT: facts taught in SFT answered", _k("sft.sft_facts.rate", "sft.accuracy_sft_facts"), "pct"),
           FigureSpec("SFT: pretrain-only facts answered", _k("sft.pretrain_facts.rate", "sft.pretrain_only.rate",
                                                              "sft.accuracy_pretrain_facts"), "pct"),
           FigureSpec("SFT: held-out facts answered", _k("sft.heldout_facts.rate", "sft.heldout.rate",
                                                         "sft.accuracy_heldout_facts"), "pct"),
           FigureSpec("SFT: seen facts answered, asked in held-out wording",
                      _k("sft.behaviour.facts.heldout.greedy.correct"), "pct")),
          _verdict_5),
    Claim(6, "After SFT the model obeys literally, harmful requests included.",
          "The SFT data answers each toy harmful request literally three times and declines one request in five once (15 literal answers for each decline; its other declines are of things the "
          "assistant cannot do), so the SFT model complies with harmful requests it never saw.",
          "studyapp://compare?prompt=harmful&mode=chat", "Send the harmful request to every model",
          (FigureSpec("SFT obeys harmful requests", _k("sft.harmful.rate", "sft.harmful_behaviour.rate", "sft.obey_rate"), "pct"),
           FigureSpec("SFT refuses unseen harmful requests", _k("sft.refusal_heldout_harmful", "sft.harmful.refusal_rate"), "pct")),
          _ge("SFT obeys harmful requests", 0.5)),
    Claim(7, "Preferences come from ranking 2-4 responses to one prompt; rankings become pairs.",
          "How many ranked pairs the rater's rankings gave the reward model to learn from.",
          "studyapp://rlhf?stage=1", "Rank responses yourself",
          (FigureSpec("Training pairs", _k("reward.pairs_train", "pairs_train"), "int"),
           FigureSpec("Held-out pairs", _k("reward.pairs_heldout", "pairs_heldout", "reward.n_heldout"), "int"),
           FigureSpec("SFT samples in each prompt's pool (a ranking shows 2-4 of the pool)", _k("reward.samples_per_prompt", "responses_per_prompt")))),
    Claim(8, "The reward model can be smaller than the policy.",
          "Parameter counts of the two models, and how well the smaller one ranks held-out pairs.",
          "studyapp://rlhf?stage=2", "Train the reward model",
          (FigureSpec("Reward-model parameters", _k("reward.params_reward", "params_reward"), "int"),
           FigureSpec("Policy parameters", _k("reward.params_policy", "params_policy"), "int"),
           FigureSpec("Held-out pair accuracy", _k("reward.heldout_accuracy", "heldout_accuracy"), "pct")),
          _verdict_8),
    Claim(9, "Bradley-Terry: P(A beats B) = sigmoid(r(A) - r(B)); a constant added to every reward changes nothing.",
          "Only differences of rewards matter: shifting them all leaves every probability where it was.",
          "studyapp://rlhf?playground=1", "Shift the rewards in the playground",
          (FigureSpec("Mean P(chosen beats rejected)", _k("mean_p_chosen"), "pct"),
           FigureSpec("Largest change of P after adding a constant", _k("max_prob_change_after_constant")),
           FigureSpec("Constant added", _k("constant")),
           FigureSpec("Held-out pair accuracy", _k("reward.heldout_accuracy", "heldout_accuracy"), "pct")),
          _verdict_9),
    Claim(10, "PPO clipping limits how far one update moves the policy.",
          "The ratio new/old stays near 1 and only a small share of tokens is ever clipped.",
          "studyapp://ppo?preset=default", "Open the PPO curves (clip fraction, ratio)",
          (FigureSpec("Clip range", _k("ppo.cliprange", "cliprange")),
           FigureSpec("Largest clip fraction", _k("ppo.clipfrac_max", "clipfrac_max"), "pct"),
           FigureSpec("Smallest ratio new/old", _k("ppo.ratio_min", "ratio_min")),
           FigureSpec("Largest ratio new/old", _k("ppo.ratio_max", "ratio_max"))),
          _verdict_10),
    Claim(11, "The KL penalty keeps the policy near the SFT model: total = reward - beta * KL.",
          "With the default beta the KL stays small; without the penalty it grows many times larger.",
          "studyapp://ppo?preset=default", "Compare the KL curves",
          (FigureSpec("beta (default run)", _k("beta_default", "ppo.beta")),
           FigureSpec("KL at the end, default beta", _k("kl_default", "ppo.kl_end")),
           FigureSpec("KL at the end, beta = 0", _k("kl_beta0", "ppo_beta0.kl_end", "beta0.kl_end")),
           FigureSpec("KL ratio beta = 0 / default", _k("kl_ratio"), "ratio")),
          _verdict_11),
    Claim(12, "Without the KL penalty the policy hacks the reward model.",
          "At beta = 0 the reward model's score rises while the rater's true score falls: the gap is the hack.",
          "studyapp://ppo?preset=beta0", "Watch the beta = 0 run",
          (FigureSpec("Reward-model score, beta = 0", _k("rm_score_beta0"), "pair"),
           FigureSpec("Rater's true score, beta = 0", _k("rater_score_beta0"), "pair"),
           FigureSpec("Stock phrase per reply, beta = 0", _k("stock_phrase_beta0", "ppo_beta0.stock_phrase_end")),
           FigureSpec("Hacked (RM score up, rater's score down)", _k("hacked"), "bool")),
          _verdict_12),
    Claim(13, "Refusal is learned from preferences, not hard-coded.",
          "The SFT model obeys harmful requests it never saw; after PPO on the preferences it refuses them.",
          "studyapp://compare?prompt=harmful&mode=chat", "Compare SFT and RLHF on a harmful request",
          (FigureSpec("SFT refuses unseen harmful requests", _k("sft.refusal_heldout_harmful", "sft.harmful.refusal_rate"), "pct"),
           FigureSpec("RLHF refuses unseen harmful requests", _k("rlhf.refusal_heldout_harmful", "ppo.refusal_heldout_harmful"), "pct"),
           FigureSpec("RLHF answers facts correctly", _k("rlhf.accuracy_facts", "ppo.accuracy_facts"), "pct"),
           FigureSpec("RLHF refuses harmful requests of the held-out set",
                      _k("rlhf.behaviour.harmful.heldout.greedy.refused"), "pct"),
           FigureSpec("RLHF refuses harmless look-alikes of the held-out set",
                      _k("rlhf.behaviour.harmless.heldout.greedy.refused"), "pct"),
           FigureSpec("RLHF refuses small talk of the held-out set",
                      _k("rlhf.behaviour.smalltalk.heldout.greedy.refused"), "pct")),
          _verdict_13),
    Claim(14, "Helpful, honest and harmless pull against each other.",
          "The rater scores each reply per criterion; weighting them differently changes which reply wins.",
          "studyapp://hhh?scenario=homework", "Open the homework scenario",
          (FigureSpec("Scenarios where the criteria disagree", _k("hhh.conflicts", "hhh.disagreements"), "int"),),
          unmeasured="The report has no single figure for this trade-off; the HHH explorer shows it scenario by scenario."),
)


# Which report sections each claim's figures come from: when the report lists one of them under
# "missing" (a model folder absent, a measurement that failed), the card quotes the reason.
_STAGES = {1: ("base",), 2: ("sft",), 3: ("sft", "sft_extra"), 4: ("sft", "sft_extra"), 5: ("sft",), 6: ("sft",),
           7: ("reward",), 8: ("reward",), 9: ("reward",), 10: ("ppo", "rlhf"), 11: ("ppo", "rlhf"),
           12: ("ppo", "rlhf"), 13: ("rlhf", "sft")}
CLAIMS = tuple(dataclasses.replace(c, stages=_STAGES.get(c.number, ())) for c in CLAIMS)


def claim(number: int) -> Claim:
    for c in CLAIMS:
        if c.number == number:
            return c
    raise KeyError(f"there is no claim {number}; the claims are numbered 1 to {len(CLAIMS)}")


# ----------------------------------------------------------------------------- reading the report


def load_report(path: Path) -> tuple[dict | None, str]:
    """(report, "") or (None, a message that says what is wrong and how to make a report)."""
    path = Path(path)
    if not path.is_file():
        return None, (f"The lab has not written a report yet ({path} is missing). Make one with "
                      f"`{HOW_TO_MAKE}`; it measures every claim on the shipped models.")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"The lab's report {path} cannot be read ({exc}). Make it again with `{HOW_TO_MAKE}`."
    if not isinstance(report, dict):
        return None, f"The lab's report {path} is not a JSON object. Make it again with `{HOW_TO_MAKE}`."
    return report, ""


def flatten(report: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every value of the report by its key path; lists of numbers stay whole (a pair, a per-layer list)."""
    out: dict[tuple[str, ...], Any] = {}
    if isinstance(report, dict):
        for key, value in report.items():
            out.update(flatten(value, prefix + (str(key),)))
        if prefix:
            out[prefix] = report   # a dict of numbers (per layer, per kind) can be a figure too
    elif isinstance(report, list) and report and not all(_num(v) is not None for v in report):
        for i, value in enumerate(report):
            out.update(flatten(value, prefix + (str(i),)))
    else:
        out[prefix] = report
    return out


def _is_beta0(part: str) -> bool:
    return "beta0" in part or "beta_0" in part


def _matches(path: tuple[str, ...], want: tuple[str, ...]) -> bool:
    if not path or path[-1] != want[-1]:
        return False
    # The beta = 0 run repeats the default run's key names: never take one for the other.
    if not any(_is_beta0(w) for w in want) and any(_is_beta0(p) for p in path[:-1]):
        return False
    rest = iter(path[:-1])
    return all(any(part == w for part in rest) for w in want[:-1])


def find(flat: dict[tuple[str, ...], Any], keys: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], Any] | None:
    """The first alternative found (shortest path first), skipping the report's own claims section."""
    for want in keys:
        hits = [p for p in flat if p and p[0] != "claims" and _matches(p, want)]
        if hits:
            best = min(hits, key=lambda p: (len(p), p))
            return best, flat[best]
    return None


# ----------------------------------------------------------------------------- formatting


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _pair(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_num(v) is not None for v in value):
        return _num(value[0]), _num(value[1])
    return None


def _short(x: float) -> str:
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.2e}"
    return f"{x:,.0f}" if x == int(x) and abs(x) >= 10 else f"{x:.3g}"


def format_value(value: Any, fmt: str = "num") -> str:
    """A figure as a learner reads it: 82%, 1,234, 0.013, -0.29 → 1.50, yes/no, 12×."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "not measured"
    if (pair := _pair(value)) is not None and fmt in ("pair", "num", "pct"):
        return " → ".join(format_value(v, fmt if fmt != "pair" else "num") for v in pair)
    if isinstance(value, (list, tuple)):
        return " · ".join(format_value(v, fmt) for v in value) if value else "none"
    if isinstance(value, dict):
        return " · ".join(f"{k} {format_value(v, fmt)}" for k, v in value.items()) if value else "none"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"   # a ratio over a zero KL, say
    number = _num(value)
    if number is None:
        return str(value) if isinstance(value, str) else "not a number"
    if fmt == "pct":
        return f"{number:.0%}" if abs(number) <= 1.5 else f"{number:.3g}"
    if fmt == "int":
        return f"{number:,.0f}"
    if fmt == "ratio":
        return f"{number:.3g}×"
    return _short(number)


# ----------------------------------------------------------------------------- claims with figures


@dataclass
class Figure:
    label: str
    value: Any
    text: str
    source: str          # the report's key path, for the curious (and for tests)


@dataclass
class ClaimResult:
    claim: Claim
    figures: list[Figure] = field(default_factory=list)
    status: str = "not measured"    # shown, not shown, measured, not measured, no report
    note: str = ""


def evaluate(report: dict | None, problem: str = "") -> list[ClaimResult]:
    """Every claim with the figures the report holds for it, and an honest status."""
    if report is None:
        return [ClaimResult(c, status="no report", note=problem or f"No report yet: run `{HOW_TO_MAKE}`.")
                for c in CLAIMS]
    flat = flatten(report)
    explicit = report.get("claims") if isinstance(report.get("claims"), dict) else {}
    missing = report.get("missing") if isinstance(report.get("missing"), dict) else {}
    return [_evaluate_one(c, flat, explicit.get(str(c.number)) or explicit.get(c.number), missing) for c in CLAIMS]


def _evaluate_one(c: Claim, flat: dict, explicit: Any, missing: dict) -> ClaimResult:
    result = ClaimResult(c)
    values: dict[str, Any] = {}
    if isinstance(explicit, dict) and isinstance(explicit.get("figures"), dict) and explicit["figures"]:
        for label, value in explicit["figures"].items():
            spec = next((f for f in c.figures if f.label == label), None)
            values[label] = value
            result.figures.append(Figure(label, value, format_value(value, spec.fmt if spec else "num"),
                                         f"claims.{c.number}.figures.{label}"))
    else:
        for spec in c.figures:
            hit = find(flat, spec.keys)
            if hit is not None:
                path, value = hit
                values[spec.label] = value
                result.figures.append(Figure(spec.label, value, format_value(value, spec.fmt), ".".join(path)))
    note = explicit.get("note", "") if isinstance(explicit, dict) else ""
    reasons = [f"{stage}: {missing[stage]}" for stage in c.stages if stage in missing]
    if not result.figures:
        result.status = "not measured"
        # A failed measurement's reason comes first: a note written for figures that are not
        # there would describe a result nobody measured.
        result.note = ("The report could not measure this. " + "; ".join(reasons)) if reasons else (note or c.unmeasured)
        return result
    shown = explicit.get("shown") if isinstance(explicit, dict) and isinstance(explicit.get("shown"), bool) else None
    if shown is None and c.verdict is not None:
        shown = c.verdict(values)
    result.status = {True: "shown", False: "not shown", None: "measured"}[shown]
    if shown is False and not note:
        note = "The small model does not show this clearly: these are the figures it measured."
    result.note = note
    return result
