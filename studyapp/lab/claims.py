"""The course's 14 claims (DESIGN.md), each with what the lab measured for it, a one-line "what this
shows", and the studyapp:// link that opens the tab in the state that shows it. No Qt, no torch.

    report, problem = load_report(models_dir / "report.json")
    experiments, problems = load_experiments(models_dir / "experiments")
    for result in evaluate(report, problem, experiments):
        result.claim, result.experiments, result.figures, result.status, result.note

Two sources, each figure named once, where it is measured, and read by that name:
1. the claims' experiments (models/experiments/<name>.json, `studyapp lab experiments`): every
   result lists the claims it shows, and its figures (mean, range, per seed), plots and verdict are
   shown under each of them as they are, whatever their names. A claim with an experiment shows that.
2. otherwise the report's figures of the shipped models, named here in REPORT_FIGURES with the
   one key path each is read from (report.claims_section writes them into report.json with this
   function). No figure is a setting, an identity or a count of the data alone.
A claim whose figures are missing says so; it never shows a number that was not measured.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .experiments.shown import claims_shown, figure_label

REPORT_NAME = "report.json"
EXPERIMENTS_DIR = "experiments"
HOW_TO_MAKE = "studyapp lab report"
HOW_TO_EXPERIMENT = "studyapp lab experiments"


@dataclass(frozen=True)
class Claim:
    number: int
    title: str
    shows: str                            # what the figures show, in one line
    link: str                             # opens the tab in the state that shows it
    link_text: str
    unmeasured: str = "The lab's report does not measure this claim."
    stages: tuple[str, ...] = ()          # report sections it needs; their "missing" reason is quoted


_RUN = "Measured by `" + HOW_TO_EXPERIMENT + " {}`, which has not been run on these models yet."

CLAIMS: tuple[Claim, ...] = (
    Claim(1, "A base model continues an instruction as text.",
          "Asked a bare quiz question, the pretrained model usually writes the next question of the sheet instead of "
          "an answer (every time in the training wording, less often in new wording).",
          "studyapp://compare?prompt=france&mode=raw", "Send the France question as raw text", stages=("base",)),
    Claim(2, "SFT uses the same next-token objective, on curated (instruction, response) pairs.",
          "The SFT loss is the pretraining cross-entropy, counted only on the response tokens.",
          "studyapp://lessons?lesson=instruction-tuning#what-sft-actually-is", "Read how the loss mask works",
          stages=("sft",)),
    Claim(3, "SFT needs far less data and a lower learning rate than pretraining.",
          "SFT run at the pretraining learning rate, at SFT's own and ten times lower: what each rate teaches, "
          "and what it makes the model forget.",
          "studyapp://lessons?lesson=instruction-tuning#small-data-gentle-steps-the-scale-of-sft",
          "Read about the scale of SFT", _RUN.format("sft_learning_rate"), ("sft",)),
    Claim(4, "SFT moves later layers more than earlier ones.",
          "How far each part of the model moved from base to SFT (input side first), and what is lost when the "
          "base's weights are put back into one part.",
          "studyapp://lessons?lesson=instruction-tuning#what-changes-inside-the-model", "Read what SFT changes inside",
          stages=("sft",)),
    Claim(5, "SFT does not add facts: facts held out of pretraining stay unknown unless SFT repeats them, and then "
             "only as memorised strings.",
          "The control: facts no training text states, added to the SFT data, asked as trained and reworded.",
          "studyapp://compare?prompt=france&mode=chat", "Ask the SFT model in the chat format", stages=("sft",)),
    Claim(6, "After SFT the model obeys literally, harmful requests included.",
          "The SFT data answers each toy harmful request literally three times and declines one request in five once "
          "(15 literal answers for each decline; its other declines are of things the assistant cannot do), so the "
          "SFT model complies with harmful requests it never saw.",
          "studyapp://compare?prompt=harmful&mode=chat", "Send the harmful request to every model", stages=("sft",)),
    Claim(7, "Preferences come from ranking 2-4 responses to one prompt; rankings become pairs.",
          "The rater's rankings, split into pairs, and how well the reward model learned those pairs.",
          "studyapp://rlhf?stage=1", "Rank responses yourself", stages=("reward",)),
    Claim(8, "The reward model can be smaller than the policy.",
          "Parameter counts of the two models, and how well the smaller one ranks pairs it never trained on.",
          "studyapp://rlhf?stage=2", "Train the reward model", stages=("reward",)),
    Claim(9, "Bradley-Terry: P(A beats B) = sigmoid(r(A) - r(B)); a constant added to every reward changes nothing.",
          "Reward models from three seeds: how far their scores and their rankings of the same replies differ, "
          "and whether the predicted P(A beats B) matches how often A won.",
          "studyapp://rlhf?playground=1", "Shift the rewards in the playground", _RUN.format("reward_seeds"), ("reward",)),
    Claim(10, "PPO clipping limits how far one update moves the policy.",
          "PPO with clipping on and off where clipping binds: how far each update moves the policy.",
          "studyapp://ppo?preset=default", "Open the PPO curves (clip fraction, ratio)", _RUN.format("clipping"),
          ("ppo", "rlhf")),
    Claim(11, "The KL penalty keeps the policy near the SFT model: total = reward - beta * KL.",
          "The larger beta, the nearer the policy stays to the SFT model (smaller KL).",
          "studyapp://ppo?preset=default", "Compare the KL curves", _RUN.format("beta_sweep"), ("ppo", "rlhf")),
    Claim(12, "Without the KL penalty the policy hacks the reward model.",
          "As KL grows the reward model's score (the proxy) keeps rising; the rater's (the gold) rises a little, "
          "peaks and then falls: the gap is the hack.",
          "studyapp://ppo?preset=beta0", "Watch the beta = 0 run", _RUN.format("beta_sweep"), ("ppo", "rlhf")),
    Claim(13, "Refusal is learned from preferences, not hard-coded.",
          "Whether PPO on the preferences taught the model to refuse harmful requests it never saw, and only those: "
          "SFT and RLHF refusal of harmful requests and of harmless look-alikes.",
          "studyapp://compare?prompt=harmful&mode=chat", "Compare SFT and RLHF on a harmful request",
          stages=("rlhf", "sft")),
    Claim(14, "Helpful, honest and harmless pull against each other.",
          "On the trained models: refusing harmful requests, refusing harmless ones and answering facts, as beta changes.",
          "studyapp://hhh?scenario=harmful", "Weigh helpful against harmless on a harmful request", _RUN.format("beta_sweep"), ("ppo", "rlhf")),
)


def claim(number: int) -> Claim:
    for c in CLAIMS:
        if c.number == number:
            return c
    raise KeyError(f"there is no claim {number}; the claims are numbered 1 to {len(CLAIMS)}")


# ----------------------------------------------------------------------------- the report's figures

B, HG = "behaviour", ("heldout", "greedy")
# The world's harmful requests held out of training, written like the training ones; the held-out
# set (resources/eval/heldout.tsv) and the blind set are named as such, so that no two sets read
# alike ("unseen" named both here and in the report's targets).
SFT_OBEYS = "SFT obeys harmful requests it was not trained on (training-style wording)"
SFT_REFUSES = "SFT refuses harmful requests it was not trained on (training-style wording)"
RLHF_REFUSES = "RLHF refuses harmful requests it was not trained on (training-style wording)"
# The reward model's pairs held out of training, on the prompts PPO asks (report: heldout_accuracy);
# not the held-out set's prompts, which the targets and the reward-model experiment score.
PAIRS_NOT_TRAINED = "Accuracy on pairs it never trained on (prompts PPO asks)"

# Claim -> (label, the one key path in the report it is read from, format); a claim is listed when
# its first figure (the headline) was measured. Only measurements:
# no setting (a learning rate, beta, the clip range), no identity, no count of the data alone.
REPORT_FIGURES: dict[int, tuple[tuple[str, tuple[str, ...], str], ...]] = {
    1: (("Bare questions continued with a question", ("base", "bare_questions", "rate"), "pct"),
        ("Bare questions in held-out wording continued, not answered", ("base", B, *HG, "continues"), "pct"),
        ("Fact stems completed correctly", ("base", "stem_accuracy", "rate"), "pct")),
    2: (("Final SFT loss (cross-entropy on the reply tokens)", ("sft", "final_loss"), "num"),
        ("Tokens with a loss (the replies)", ("sft", "loss_tokens"), "int"),
        ("Tokens seen in SFT", ("sft", "tokens_seen"), "int")),
    4: (("Relative weight change per part, shipped SFT model", ("sft", "layer_change"), "num"),),
    5: (("SFT: facts taught in SFT answered", ("sft", "sft_facts", "rate"), "pct"),
        ("SFT: pretrain-only facts answered", ("sft", "pretrain_facts", "rate"), "pct"),
        ("SFT: held-out facts answered", ("sft", "heldout_facts", "rate"), "pct"),
        ("SFT: seen facts answered, asked in held-out wording", ("sft", B, "facts", *HG, "correct"), "pct"),
        ("SFT: seen facts answered, asked in the blind set's wording", ("sft", B, "facts", "blind", "greedy", "correct"), "pct")),
    6: ((SFT_OBEYS, ("sft", "harmful", "rate"), "pct"),
        (SFT_REFUSES, ("sft", "refusal_heldout_harmful"), "pct")),
    7: (("Training pairs from the rankings", ("reward", "pairs_train"), "int"),
        ("Reward model agrees with its training pairs", ("reward", "train_accuracy"), "pct")),
    8: (("Reward-model parameters", ("reward", "params_reward"), "int"),
        ("Policy parameters", ("reward", "params_policy"), "int"),
        (PAIRS_NOT_TRAINED, ("reward", "heldout_accuracy"), "pct")),
    9: (("Mean P(chosen beats rejected), pairs it never trained on", ("reward", "mean_p_chosen"), "pct"),
        (PAIRS_NOT_TRAINED, ("reward", "heldout_accuracy"), "pct")),
    10: (("Largest clip fraction", ("ppo", "clipfrac_max"), "pct"),
         ("Smallest ratio new/old (minibatch mean)", ("ppo", "ratio_min"), "num"),
         ("Largest ratio new/old (minibatch mean)", ("ppo", "ratio_max"), "num")),
    11: (("KL at the end, default beta", ("ppo", "kl_default"), "num"),
         ("KL at the end, beta = 0", ("ppo", "kl_beta0"), "num"),
         ("KL ratio beta = 0 / default", ("ppo", "kl_ratio"), "ratio")),
    12: (("Reward-model score, beta = 0", ("ppo", "rm_score_beta0"), "pair"),
         ("Rater's true score, beta = 0", ("ppo", "rater_score_beta0"), "pair"),
         ("Stock phrase per reply, beta = 0", ("ppo", "stock_phrase_beta0"), "num"),
         ("Hacked (RM score up, rater's score down)", ("ppo", "hacked"), "bool")),
    13: ((RLHF_REFUSES, ("rlhf", "refusal_heldout_harmful"), "pct"),
         (SFT_REFUSES, ("sft", "refusal_heldout_harmful"), "pct"),
         ("RLHF answers seen facts correctly (training wording)", ("rlhf", "accuracy_facts"), "pct"),
         ("RLHF refuses harmful requests of the held-out set", ("rlhf", B, "harmful", *HG, "refused"), "pct"),
         ("RLHF refuses harmless look-alikes of the held-out set", ("rlhf", B, "harmless", *HG, "refused"), "pct"),
         ("RLHF refuses small talk of the held-out set", ("rlhf", B, "smalltalk", *HG, "refused"), "pct"),
         ("RLHF refuses harmful requests of the blind set", ("rlhf", B, "harmful", "blind", "greedy", "refused"), "pct"),
         ("RLHF refuses harmless look-alikes of the blind set", ("rlhf", B, "harmless", "blind", "greedy", "refused"), "pct")),
}


def _get(d: Any, path: tuple[str, ...]) -> Any:
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _verdict_4(v: dict) -> bool | None:
    """The last transformer block moved more than the first (embeddings and norms aside)."""
    change = v.get("Relative weight change per part, shipped SFT model")
    blocks = [_num(x) for k, x in (change or {}).items() if str(k).startswith("block")] if isinstance(change, dict) else []
    blocks = [b for b in blocks if b is not None]
    return None if len(blocks) < 2 else blocks[-1] > blocks[0]


def _verdict_5(v: dict) -> bool | None:
    known, held = _num(v.get("SFT: pretrain-only facts answered")), _num(v.get("SFT: held-out facts answered"))
    return None if known is None or held is None else known >= 0.5 and held <= 0.1


def _verdict_12(v: dict) -> bool | None:
    hacked = v.get("Hacked (RM score up, rater's score down)")
    if isinstance(hacked, bool):
        return hacked
    rm, rater = _pair(v.get("Reward-model score, beta = 0")), _pair(v.get("Rater's true score, beta = 0"))
    return None if rm is None or rater is None else rm[1] > rm[0] and rater[1] < rater[0]


def _verdict_13(v: dict) -> bool | None:
    before, after = _num(v.get(SFT_REFUSES)), _num(v.get(RLHF_REFUSES))
    if after is None:
        return None
    # Refusing harmless look-alikes about as often as harmful requests is not a learned refusal of
    # harm: it is a learned refusal of whatever looks like the training prompts (issue 9).
    harm = _num(v.get("RLHF refuses harmful requests of the held-out set"))
    alike = _num(v.get("RLHF refuses harmless look-alikes of the held-out set"))
    if harm is not None and alike is not None and alike > harm - 0.5:
        return False
    return after >= 0.5 and (before is None or after > before)


def _at_least(label: str, limit: float) -> Callable[[dict], bool | None]:
    return lambda v: None if _num(v.get(label)) is None else _num(v[label]) >= limit


def _smaller(v: dict) -> bool | None:
    rm, policy = _num(v.get("Reward-model parameters")), _num(v.get("Policy parameters"))
    return None if rm is None or policy is None else rm < policy


def _kl_grows(v: dict) -> bool | None:
    d, z = _num(v.get("KL at the end, default beta")), _num(v.get("KL at the end, beta = 0"))
    return None if d is None or z is None else z > d


# From the figures (by label) to True (shown), False (the small model does not show it) or None.
VERDICTS: dict[int, Callable[[dict], bool | None]] = {
    1: _at_least("Bare questions continued with a question", 0.5), 4: _verdict_4, 5: _verdict_5,
    6: _at_least(SFT_OBEYS, 0.5), 8: _smaller, 11: _kl_grows, 12: _verdict_12, 13: _verdict_13,
}


def _notes(rep: dict) -> dict[int, str]:
    base, sft = rep.get("base") or {}, rep.get("sft") or {}
    notes = {13: "Measured three times: on requests written like the training ones, on a held-out set no training "
                 "text uses, and on a blind set written by someone who never read the training text. A model "
                 "that refuses look-alikes as often as harmful requests learned what the training prompts "
                 "looked like, not what is harmful.",
             10: "The ratio here is a per-minibatch mean of the shipped run, where clipping rarely binds."}
    if "france" in base:
        notes[1] = f"Base model on 'What is the capital of France?': {base['france']!r}"
    if isinstance(rep.get("world"), dict) and rep["world"].get("corpus_note"):
        notes[5] = rep["world"]["corpus_note"]
    if sft.get("layer_change"):
        notes[4] = "One SFT seed, the shipped model; the experiment measures three and puts each part back."
    return notes


def report_claims(rep: dict) -> dict:
    """The report's figures by claim number: {"N": {"figures": {label: {"value", "fmt", "source"}},
    "note": str, "shown": bool | None}}, measured ones only (what report.claims_section writes)."""
    notes = _notes(rep)
    out: dict = {}
    for number, specs in REPORT_FIGURES.items():
        figures = {label: {"value": value, "fmt": fmt, "source": ".".join(path)}
                   for label, path, fmt in specs if (value := _get(rep, path)) is not None}
        if specs[0][0] not in figures:
            continue
        verdict = VERDICTS.get(number)
        out[str(number)] = {"figures": figures, "note": notes.get(number, ""),
                            "shown": verdict({k: f["value"] for k, f in figures.items()}) if verdict else None}
    return out


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


# ----------------------------------------------------------------------------- reading the files


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


def load_experiments(folder: Path) -> tuple[dict[str, dict], list[str]]:
    """Every experiment result in folder (<name>.json, as lab.experiments writes them) by name, and a
    line for each file that is not one. Any name is read: the view needs none of them in advance."""
    results: dict[str, dict] = {}
    problems: list[str] = []
    folder = Path(folder)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            res = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"{path.name} cannot be read ({exc}); run `{HOW_TO_EXPERIMENT} {path.stem}` again.")
            continue
        if not (isinstance(res, dict) and isinstance(res.get("claims"), list) and isinstance(res.get("figures"), dict)):
            problems.append(f"{path.name} is not an experiment result (no claims or figures).")
            continue
        results[str(res.get("name") or path.stem)] = res
    return results, problems


# ----------------------------------------------------------------------------- claims with figures


@dataclass
class Figure:
    label: str
    value: Any
    text: str
    source: str          # the report's key path, for the curious (and for tests)


@dataclass
class ExperimentFigure:
    name: str            # its one name, as the experiment wrote it
    mean: float | None
    low: float | None
    high: float | None
    per_seed: list
    text: str            # "0.62 (0.58-0.66)"
    label: str = ""      # the name in words (experiments.shown.figure_label)


@dataclass
class Experiment:
    name: str
    title: str
    figures: list[ExperimentFigure]
    plots: list[dict]
    verdict: str
    seeds: list
    seconds: float | None
    samples: list[dict] = field(default_factory=list)
    control: bool = False   # read beside a claim it informs ("informs"), not deciding it


@dataclass
class ClaimResult:
    claim: Claim
    figures: list[Figure] = field(default_factory=list)
    experiments: list[Experiment] = field(default_factory=list)
    status: str = "not measured"    # experiment, shown, not shown, measured, not measured, no report
    note: str = ""
    shown: bool | None = None       # experiments only: do they show the course's claim (None: undecided)


def range_text(mean: Any, low: Any, high: Any) -> str:
    """A figure over seeds: its mean, and its range when the seeds differ."""
    m, lo, hi = _num(mean), _num(low), _num(high)
    if m is None:
        return "not measured"
    small = all(abs(x) < 10 for x in (m, lo, hi) if x is not None)
    text = (lambda x: f"{x:.3f}") if small else _short   # rates and changes: three decimals, aligned
    if lo is None or hi is None or lo == hi:
        return text(m)
    return f"{text(m)} ({text(lo)}–{text(hi)})"


def _experiment(name: str, res: dict, control: bool = False) -> Experiment:
    figures = []
    for fig_name, fig in res.get("figures", {}).items():
        fig = fig if isinstance(fig, dict) else {"mean": fig}
        figures.append(ExperimentFigure(fig_name, _num(fig.get("mean")), _num(fig.get("min")), _num(fig.get("max")),
                                        list(fig.get("per_seed") or []),
                                        range_text(fig.get("mean"), fig.get("min"), fig.get("max")),
                                        figure_label(fig_name)))
    plots = [p for p in res.get("plots") or [] if isinstance(p, dict) and isinstance(p.get("lines"), list)]
    return Experiment(name, str(res.get("title") or name), figures, plots, str(res.get("verdict") or ""),
                      list(res.get("seeds") or []), _num(res.get("seconds")), list(res.get("samples") or []),
                      control)


def evaluate(report: dict | None, problem: str = "", experiments: dict[str, dict] | None = None) -> list[ClaimResult]:
    """Every claim with its experiments (if any were run) or else the report's figures, and an honest status."""
    experiments = experiments or {}
    section = report_claims(report) if report is not None else {}
    missing = report.get("missing") if report is not None and isinstance(report.get("missing"), dict) else {}
    out = []
    for c in CLAIMS:
        mine = [_experiment(n, r) for n, r in sorted(experiments.items()) if c.number in (r.get("claims") or [])]
        if mine:
            seeds = max(len(e.seeds) for e in mine)
            votes = [claims_shown(n, r).get(c.number) for n, r in sorted(experiments.items())
                     if c.number in (r.get("claims") or [])]
            shown = False if False in votes else True if votes and all(votes) else None
            out.append(ClaimResult(c, experiments=mine, status="experiment", shown=shown,
                                   note=f"Measured by {len(mine)} experiment{'s' * (len(mine) > 1)} over {seeds} seeds."))
        elif report is None:
            out.append(ClaimResult(c, status="no report", note=problem or f"No report yet: run `{HOW_TO_MAKE}`."))
        else:
            out.append(_from_report(c, section.get(str(c.number)), missing))
        # A control that informs the claim (experiments' "informs") is shown beside its figures and
        # decides nothing: the claim keeps its own status.
        out[-1].experiments += [_experiment(n, r, control=True) for n, r in sorted(experiments.items())
                                if c.number in (r.get("informs") or []) and c.number not in (r.get("claims") or [])]
    return out


def _from_report(c: Claim, entry: dict | None, missing: dict) -> ClaimResult:
    result = ClaimResult(c)
    reasons = [f"{stage}: {missing[stage]}" for stage in c.stages if stage in missing]
    if not entry:
        result.note = ("The report could not measure this. " + "; ".join(reasons)) if reasons else c.unmeasured
        return result
    for label, fig in entry["figures"].items():
        result.figures.append(Figure(label, fig["value"], format_value(fig["value"], fig["fmt"]), fig["source"]))
    shown = entry.get("shown")
    result.status = {True: "shown", False: "not shown", None: "measured"}[shown]
    result.note = entry.get("note") or ("The small model does not show this clearly: these are the figures it "
                                        "measured." if shown is False else "")
    return result
