"""The figures lesson 02 (and its quiz) quote about the app's own models are the shipped experiments'
figures (models/experiments/*.json), written as "mean (min-max)" over the SFT seeds: rerun the
experiments and a changed figure fails here until the text says what was measured."""
import json
import re

import pytest

from tests.support import REPO

LESSON = REPO / "resources" / "lessons" / "02-instruction-tuning.md"
LESSON_03 = REPO / "resources" / "lessons" / "03-preferences-and-rewards.md"
LESSON_04 = REPO / "resources" / "lessons" / "04-ppo-and-kl.md"
QUIZ = REPO / "resources" / "quizzes" / "instruction-tuning.md"
EXPERIMENTS = REPO / "models" / "experiments"

# (file, experiment, figure name, how the text writes it)
QUOTED = [
    (LESSON, "weight_change", "relative weight change base -> SFT: embeddings", "num"),
    (LESSON, "weight_change", "relative weight change base -> SFT: block 1", "num"),
    (LESSON, "weight_change", "relative weight change base -> SFT: block 2", "num"),
    (LESSON, "weight_change", "seen facts answered in chat: SFT model", "pct"),
    (LESSON, "weight_change", "seen facts answered in chat: base block 1 put back", "pct"),
    (LESSON, "weight_change", "seen facts answered in chat: base block 2 put back", "pct"),
    (QUIZ, "weight_change", "relative weight change base -> SFT: embeddings", "num"),
    (QUIZ, "weight_change", "relative weight change base -> SFT: block 1", "num"),
    (QUIZ, "weight_change", "relative weight change base -> SFT: block 2", "num"),
    (QUIZ, "weight_change", "seen facts answered in chat: SFT model", "pct"),
    (QUIZ, "weight_change", "seen facts answered in chat: base block 1 put back", "pct"),
    (QUIZ, "weight_change", "seen facts answered in chat: base block 2 put back", "pct"),
    (LESSON, "sft_learning_rate", "chat replies that answer in one sentence and stop (seen facts), SFT at LR 1e-2", "pct"),
    (LESSON, "sft_learning_rate", "chat replies that answer in one sentence and stop (seen facts), SFT at LR 1e-4", "pct"),
    (LESSON, "sft_learning_rate", "pretrain-only facts answered in chat, SFT at LR 1e-2", "pct"),
    (LESSON, "sft_learning_rate", "pretrain-only facts answered in chat, SFT at LR 1e-3", "pct"),
    (LESSON, "sft_learning_rate", "pretrain-only facts answered in chat, SFT at LR 1e-4", "pct"),
    (LESSON, "sft_learning_rate", "pretrain-only facts answered in chat, reworded, SFT at LR 1e-3", "pct"),
    (LESSON, "sft_learning_rate", "pretrain-only fact stems kept (raw text), SFT at LR 1e-2", "pct"),
    (LESSON, "sft_learning_rate", "pretrain-only fact stems kept (raw text), SFT at LR 1e-3", "pct"),
    (LESSON, "sft_learning_rate", "pretrain-only fact stems kept (raw text), SFT at LR 1e-4", "pct"),
    (LESSON, "sft_learning_rate", "pretrain-only fact stems completed by the base model (no SFT)", "pct"),
    (LESSON, "sft_new_facts", "held-out facts answered, trained question, added x0", "pct"),
    (LESSON, "sft_new_facts", "held-out facts answered, trained question, added x1", "pct"),
    (LESSON, "sft_new_facts", "held-out facts answered, trained question, added x10", "pct"),
    (LESSON, "sft_new_facts", "held-out facts answered, reworded, added x10", "pct"),
    (LESSON, "sft_new_facts", "pretrain-only facts answered, reworded, added x0", "pct"),
    (LESSON, "sft_new_facts", "pretrain-only facts answered, reworded, added x10", "pct"),
    (LESSON_03, "reward_seeds", "score_abs_gap", "num"),
    (LESSON_03, "reward_seeds", "rank_correlation", "num"),
    (LESSON_03, "reward_seeds", "calibration_ece", "num"),
    (LESSON_04, "beta_sweep", "proxy_beta_0", "signed"),
    (LESSON_04, "beta_sweep", "gold_beta_0.2", "signed"),
    (LESSON_04, "beta_sweep", "gold_beta_0", "signed"),
    (LESSON_04, "beta_sweep", "stock_phrase_share_beta_0", "pct"),
]


def written(fig: dict, kind: str) -> str:
    """"0.199 (0.197-0.200)", "83% (78-89%)" or "+0.39 (+0.26 to +0.48)"; a figure every seed
    agrees on is written alone."""
    if kind == "signed":
        mean, lo, hi = (f"{fig[k]:+.2f}" for k in ("mean", "min", "max"))
        return mean if lo == hi else f"{mean} ({lo} to {hi})"
    if kind == "pct":
        mean, lo, hi = (round(100 * fig[k]) for k in ("mean", "min", "max"))
        return f"{mean}%" if lo == hi else f"{mean}% ({lo}-{hi}%)"
    text = f"{fig['mean']:.3f}"
    return text if fig["min"] == fig["max"] else f"{text} ({fig['min']:.3f}-{fig['max']:.3f})"


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("path, name, figure, kind", QUOTED, ids=[f"{p.stem}:{f}" for p, _, f, _ in QUOTED])
def test_quoted_figure_matches_the_shipped_experiment(path, name, figure, kind):
    result = json.loads((EXPERIMENTS / f"{name}.json").read_text())
    assert len(result["seeds"]) >= 3
    assert written(result["figures"][figure], kind) in squash(path.read_text(encoding="utf-8")), figure


def test_the_lessons_chance_level_is_the_experiments():
    chance = json.loads((EXPERIMENTS / "sft_new_facts.json").read_text())["series"]["chance"]
    assert f"a uniform guess gets {round(100 * chance)}%" in squash(LESSON.read_text(encoding="utf-8"))


def test_the_lesson_quotes_no_other_relative_change():
    """Every three-decimal change figure in the lesson is one of the shipped experiment's."""
    result = json.loads((EXPERIMENTS / "weight_change.json").read_text())
    known = {f"{v[k]:.3f}" for v in result["figures"].values() for k in ("mean", "min", "max")}
    quoted = set(re.findall(r"\b0\.\d{3}\b", LESSON.read_text(encoding="utf-8")))
    assert quoted <= known, quoted - known


def test_lesson_04_quotes_the_sft_point_of_the_shipped_sweep():
    sft = json.loads((EXPERIMENTS / "beta_sweep.json").read_text())["series"]["sft"]
    assert f"from {sft['proxy']:+.2f} for the SFT model" in squash(LESSON_04.read_text(encoding="utf-8"))


LESSON_05 = REPO / "resources" / "lessons" / "05-hhh.md"
REPORT = REPO / "models" / "report.json"
B = ("rlhf", "behaviour")
# (how lesson 05 words it, with {} for the figure as a whole percentage; the shipped report's path)
LESSON_05_QUOTES = [
    ("it guides {}% of the held-out homework requests", B + ("homework", "heldout", "greedy", "guides")),
    ('says "I don\'t know" to {}% of the questions it cannot know', B + ("unknowable", "heldout", "greedy", "dont_know")),
    ("it refuses only {}% of the held-out harmful requests", B + ("harmful", "heldout", "greedy", "refused")),
    ("(and {}% of the harmless look-alikes)", B + ("harmless", "heldout", "greedy", "refused")),
    ("refuses {}% of the harmful requests", B + ("harmful", "blind", "greedy", "refused")),
    ("and {}% of the look-alikes, and guides", B + ("harmless", "blind", "greedy", "refused")),
    ("guides only {}% of the homework", B + ("homework", "blind", "greedy", "guides")),
]


@pytest.mark.parametrize("words, path", LESSON_05_QUOTES, ids=[w for w, _ in LESSON_05_QUOTES])
def test_lesson_05_quotes_the_shipped_report(words, path):
    value = json.loads(REPORT.read_text())
    for key in path:
        value = value[key]
    assert squash(words.format(round(100 * value))) in squash(LESSON_05.read_text())
