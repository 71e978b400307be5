"""The RLHF and HHH tabs' lab modules without a screen (ranking, reward_tuning, hhh): pairs from
rankings, merging them, the rater's agreement, Bradley-Terry, sampling, the fine-tune's cancel
safety, the scenarios file, and that the UI modules import without torch."""
import os
import subprocess
import sys
import threading
from dataclasses import replace

import pytest

from studyapp.lab import engine, hhh, ranking, reward_tuning
from studyapp.lab.common import LabError
from studyapp.lab.prompts import MAX_PROMPT_CHARS
from studyapp.lab.rater import RaterWeights
from studyapp.lab.world import load_world


def test_ranking_pairs_count_and_order():
    pairs = ranking.ranking_pairs("p", ["a", "b", "c", "d"])
    assert len(pairs) == 6 and (pairs[0].chosen, pairs[0].rejected) == ("a", "b")
    assert all(p.split == ranking.LEARNER for p in pairs)
    assert len(ranking.ranking_pairs("p", ["a", "a", "b"])) == 2     # the same text twice is no preference


def test_bradley_terry_is_shift_invariant_and_stable():
    p = reward_tuning.bt_probability(1.0, 0.2)
    assert abs(p - 0.6899744811276125) < 1e-12
    for c in (-1e3, -7.5, 3.0, 1e3):
        assert abs(reward_tuning.bt_probability(1.0, 0.2, c) - p) < 1e-9
    assert reward_tuning.bt_probability(800.0, -800.0) == 1.0 and reward_tuning.bt_probability(-800.0, 800.0) == 0.0


def test_prompts_are_checked():
    with pytest.raises(LabError, match="Type a prompt"):
        ranking.check_prompt("  ")
    with pytest.raises(LabError, match="keep it under"):
        ranking.check_prompt("x" * (MAX_PROMPT_CHARS + 1))


def test_sampling_gives_k_distinct_labelled_answers(models_dir):
    sft = engine.load(models_dir / "sft", device="cpu")
    model, tok = sft.model, sft.tokenizer
    out = ranking.sample_responses(model, tok, "What is the capital of France?", 3)
    assert len(out) == 3 and len({r.text for r in out}) == 3
    assert all(r.source == "SFT model" or r.source.startswith("written example") for r in out)
    with pytest.raises(LabError):
        ranking.sample_responses(model, tok, "Hi", 5)
    with pytest.raises(LabError, match="Shorten the prompt"):             # the context's one limit
        ranking.sample_responses(model, tok, "What is the capital of France? " * 20, 2)


def test_keeping_a_ranking_twice_adds_nothing_and_a_new_order_replaces_the_old():
    first = ranking.ranking_pairs("p", ["a", "b", "c"])
    kept, fresh = ranking.merge_pairs([], first)
    assert kept == first and fresh == first
    kept, fresh = ranking.merge_pairs(kept, first)
    assert kept == first and fresh == []
    kept, fresh = ranking.merge_pairs(kept, ranking.ranking_pairs("p", ["b", "a", "c"]))
    assert [(p.chosen, p.rejected) for p in fresh] == [("b", "a")]
    assert {(p.chosen, p.rejected) for p in kept} == {("a", "c"), ("b", "c"), ("b", "a")}   # a > b is gone
    other = ranking.ranking_pairs("q", ["b", "a"])                       # another prompt's pairs stay apart
    assert len(ranking.merge_pairs(kept, other)[0]) == 4


def test_agreement_with_the_rater_counts_pairs_and_ties():
    world = load_world()
    fact = next(f for f in world.facts if f.split == "sft")
    wrong = next(a for a in world.answers(fact.relation) if a != fact.answer)
    texts = [fact.statement, fact.statement.replace(fact.answer, wrong), "I don't know."]
    order = ranking.rater_ranking(world, fact.question, texts)
    assert order is not None and [i for i, _ in order][0] == 0              # the right answer first
    best_first = [texts[i] for i, _ in order]
    same = ranking.ranking_agreement(order, texts, best_first)
    flipped = ranking.ranking_agreement(order, texts, best_first[::-1])
    assert same["agree"] == same["judged"] > 0 and flipped["agree"] == 0
    assert same["judged"] + same["ties"] == 3 == flipped["judged"] + flipped["ties"]
    assert ranking.rater_ranking(world, "Tell me a joke about nothing.", texts) is None   # unjudged prompt


def test_a_cancelled_finetune_leaves_the_folder_alone(models_dir, tmp_path):
    out = tmp_path / "mine"
    stop = threading.Event()
    stop.set()
    with pytest.raises(Exception, match="cancel"):
        reward_tuning.finetune_reward(models_dir / "reward", ranking.ranking_pairs("p", ["a", "b"]), out, cancel=stop)
    assert not out.exists()


def test_scenarios_load_and_harmless_weight_flips_the_harmful_one():
    world = load_world()
    scenarios = {s.id: s for s in hhh.load_scenarios()}
    assert {"homework", "harmful", "uncertain"} <= set(scenarios)
    s = scenarios["harmful"]
    cands = [hhh.Candidate(f"written example: {label}", text) for label, text in s.examples]
    default = hhh.rate_candidates(world, s, cands, RaterWeights())[0]
    low = hhh.rate_candidates(world, s, cands, RaterWeights(harmless=0.2, bias=0.0))[0]
    assert "refusal" in default.candidate.source and low.candidate.source == "written example: a full answer"


def test_hhh_conflicts_measure_claim_14():
    result = hhh.hhh_conflicts()
    scenarios = result["scenarios"]
    assert scenarios["harmful"]["conflict"]
    assert not scenarios["agree"]["conflict"]                       # the control scenario agrees
    assert result["conflicts"] == sum(v["conflict"] for v in scenarios.values())
    # Homework, as the course ranks it: the guide is both the most helpful and the most harmless
    # reply, so it wins under every weighting; the criteria pull apart only between doing the
    # homework and refusing it, which is where the weights decide.
    assert list(scenarios["homework"]["winners"]) == ["a guide"]
    homework = next(s for s in hhh.load_scenarios() if s.id == "homework")
    without_guide = replace(homework, examples=[(label, text) for label, text in homework.examples if label != "a guide"])
    apart = hhh.hhh_conflicts(scenarios=[without_guide])["scenarios"]["homework"]
    assert apart["conflict"] and set(apart["winners"]) == {"a full answer", "a refusal"}


def test_ui_modules_import_without_torch():
    code = ("import sys, studyapp.ui.rlhf_tab, studyapp.ui.hhh_tab, studyapp.ui.reward_playground; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}).returncode == 0
