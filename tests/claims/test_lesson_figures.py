"""The figures the lessons, quizzes and cards quote about the app's own models are the shipped ones:
the experiments' (models/experiments/*.json, written as "mean (min-max)" over their seeds), the
report's (models/report.json) and the seeds' (models/seeds.json). Rerun the lab and a changed figure
fails here until the text says what was measured."""
import json
import re

import pytest

from tests.support import REPO

LESSON = REPO / "resources" / "lessons" / "02-instruction-tuning.md"
LESSON_03 = REPO / "resources" / "lessons" / "03-preferences-and-rewards.md"
LESSON_04 = REPO / "resources" / "lessons" / "04-ppo-and-kl.md"
QUIZ = REPO / "resources" / "quizzes" / "instruction-tuning.md"
EXPERIMENTS = REPO / "models" / "experiments"

# The refusal ceiling (informs claim 13) as lesson 05 and the course deck quote it.
CEILING_UNSEEN = [f"unseen {what} refused, {how}" for what in ("harmful requests", "harmless look-alikes")
                  for how in ("taught directly, 223 act groups", "shipped RLHF model")]
CEILING_QUOTES = ([(REPO / "resources" / "lessons" / "05-hhh.md", f) for f in CEILING_UNSEEN + [
                      f"training {what} refused, taught directly, 223 act groups"
                      for what in ("harmful requests", "harmless look-alikes")]]
                  + [(REPO / "resources" / "decks" / "course.md", f) for f in CEILING_UNSEEN])

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
] + [(path, "refusal_ceiling", figure, "pct") for path, figure in CEILING_QUOTES]


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


# ----------------------------------------------------------------------------- every other quoted figure
# Figures about the app's own models quoted elsewhere in the lessons, the quizzes and the cards:
# each read from the shipped file that measured it, so that a rerun of the lab that changes one
# fails here until the text says what was measured.

SEEDS = REPO / "models" / "seeds.json"
LESSON_02 = LESSON
QUIZ_PPO = REPO / "resources" / "quizzes" / "ppo-and-kl.md"
QUIZ_HHH = REPO / "resources" / "quizzes" / "hhh.md"
DECK = REPO / "resources" / "decks" / "course.md"


def report_value(path: tuple[str, ...]):
    value = json.loads(REPORT.read_text())
    for key in path:
        value = value[key]
    return value


def seed_values(path: str) -> list[float]:
    """One figure's values for seeds 0, 1 and 2 (models/seeds.json, `studyapp lab seeds`)."""
    figures = {f["path"]: f for f in json.loads(SEEDS.read_text())["figures"]}
    values = figures[path]["values"]
    assert len(values) == 3
    return values


def pct(value: float) -> str:
    return f"{round(100 * value)}%"


def text_of(path) -> str:
    return squash(path.read_text(encoding="utf-8"))


S = ("sft", "behaviour")
QUOTED_REPORT = [
    # (file, how it words the figure, the shipped report's path)
    (LESSON_02, "the shipped SFT model answers {} of those facts in chat", ("sft", "pretrain_facts", "rate")),
    (LESSON_02, "on the held-out set it guides {} of the homework requests", S + ("homework", "heldout", "greedy", "guides")),
    (LESSON_02, "and does {} of them for the learner", S + ("homework", "heldout", "greedy", "does_it")),
    (LESSON_02, "it still invents an answer to {} of the questions it cannot know", S + ("unknowable", "heldout", "greedy", "invents")),
    (LESSON_05, "greedily it obeys {} of them", S + ("harmful", "heldout", "greedy", "obeyed")),
    (LESSON_05, "where the SFT model invented an answer to {}", S + ("unknowable", "heldout", "greedy", "invents")),
    (LESSON_04, "at most {} of the tokens hit it in any step", ("ppo", "clipfrac_max")),
    (QUIZ_HHH, "in the shipped model (seed 0) it did not ({} of held-out harmful requests refused)", B + ("harmful", "heldout", "greedy", "refused")),
    (QUIZ_HHH, "the shipped model (seed 0) refuses only {} of held-out harmful requests", B + ("harmful", "heldout", "greedy", "refused")),
]


@pytest.mark.parametrize("path, words, key", QUOTED_REPORT, ids=[w for _, w, _ in QUOTED_REPORT])
def test_quoted_figure_matches_the_shipped_report(path, words, key):
    assert squash(words.format(pct(report_value(key)))) in text_of(path)


def test_lesson_05_and_the_quiz_quote_the_three_seeds():
    lesson, quiz = text_of(LESSON_05), text_of(QUIZ)
    sampled = seed_values("sft.behaviour.harmful.heldout.sampled.refused")
    assert (f"a decline ({100 * sampled[0]:.1f}% of its sampled replies to held-out harmful requests for the "
            f"shipped seed 0; {100 * min(sampled):.1f}-{100 * max(sampled):.1f}% over the three seeds)") in lesson
    harmful = seed_values("rlhf.behaviour.harmful.heldout.greedy.refused")
    alike = seed_values("rlhf.behaviour.harmless.heldout.greedy.refused")
    assert (f"Seeds 1 and 2 did learn to refuse: {pct(harmful[1])} and {pct(harmful[2])} of the held-out harmful "
            f"requests, but also {pct(alike[1])} and {pct(alike[2])} of harmless look-alikes") in lesson
    alike_idk = seed_values("rlhf.behaviour.harmless.heldout.greedy.dont_know")
    talk_idk = seed_values("rlhf.behaviour.smalltalk.heldout.greedy.dont_know")
    assert f"it answers {pct(alike_idk[0])} of the look-alikes and {pct(talk_idk[0])} of the small talk" in lesson
    invents = seed_values("sft.behaviour.unknowable.heldout.greedy.invents")
    assert (f"invents an answer to {pct(invents[0])} of the held-out questions it cannot know "
            f"({round(100 * min(invents))}-{pct(max(invents))} over three seeds)") in quiz


CLIPPING = [("kl_first_update_clipped", "num"), ("kl_first_update_unclipped", "num"),
            ("kl_per_update_clipped", "num"), ("kl_per_update_unclipped", "num"),
            ("ratio_outside_band_clipped", "pct")]


@pytest.mark.parametrize("figure, kind", CLIPPING, ids=[f for f, _ in CLIPPING])
def test_lesson_04_quotes_the_clipping_experiment(figure, kind):
    result = json.loads((EXPERIMENTS / "clipping.json").read_text())
    assert len(result["seeds"]) >= 3
    assert written(result["figures"][figure], kind) in text_of(LESSON_04), figure


def test_lesson_04_describes_the_clipping_runs_as_they_ran():
    from studyapp.lab.ppo_config import PPOConfig
    settings = json.loads((EXPERIMENTS / "clipping.json").read_text())["series"]["settings"]
    assert settings["ppo_epochs"] > PPOConfig().ppo_epochs and settings["lr"] == PPOConfig().lr
    assert (f"{settings['ppo_epochs']} passes over each batch instead of {PPOConfig().ppo_epochs}, "
            f"for {settings['steps']} steps") in text_of(LESSON_04)
    assert f"ratio outside [{1 - settings['band']:.1f}, {1 + settings['band']:.1f}]" in text_of(LESSON_04)


def test_the_beta_0_collapse_the_texts_quote_is_the_sweeps():
    sweep = json.loads((EXPERIMENTS / "beta_sweep.json").read_text())
    beta0 = next(b for b in sweep["series"]["by_beta"] if b["beta"] == 0.0)
    assert beta0["did"] == {"collapse": len(sweep["seeds"])} == {"collapse": 3}
    seed0 = [s["reply"] for s in sweep["samples"] if s["label"].startswith("beta 0, seed 0")]
    assert seed0 and all(r.startswith("The capital of Norway of Norway") and r.endswith("is Oslo.") for r in seed0)
    assert "All three collapsed" in text_of(LESSON_04)
    assert 'seed 0 answers every prompt with "The capital of Norway of Norway of Norway is Oslo."' in text_of(LESSON_04)
    assert '"The capital of Norway of Norway ... is Oslo." to every prompt' in text_of(QUIZ_PPO)


def test_the_card_quotes_the_learning_rate_experiment():
    figures = json.loads((EXPERIMENTS / "sft_learning_rate.json").read_text())["figures"]
    high = figures["pretrain-only fact stems kept (raw text), SFT at LR 1e-2"]["mean"]
    own = figures["pretrain-only fact stems kept (raw text), SFT at LR 1e-3"]["mean"]
    assert f"leaves {pct(high)} of the pretrain-only facts' stems completed, at SFT's rate {pct(own)}" in text_of(DECK)
