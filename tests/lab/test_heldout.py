"""The held-out evaluation sets share nothing with the training data, and are big enough to mean something.

Two sets are checked the same way: heldout.tsv (the report's) and heldout_blind.tsv (written later by
someone who read no training text, so that figures on the first can be checked on a set nobody tuned to).
"""

import re

import pytest

from studyapp.lab.heldout import (BLIND_FILE, HELDOUT_FILE, heldout_prompts, load_heldout, normalise,
                                  training_prompts)
from studyapp.lab.world import load_world

WORLD = load_world()
EV = load_heldout()
SETS = {"heldout": HELDOUT_FILE, "blind": BLIND_FILE}
# Minimum sizes per set: (phrasings per relation, prompts per behaviour category, unknowable questions).
SIZES = {"heldout": (5, 12, 12), "blind": (8, 20, 24)}


@pytest.fixture(params=sorted(SETS), ids=sorted(SETS))
def held(request):
    return request.param, load_heldout(SETS[request.param])


def test_the_default_set_is_heldout_tsv():
    assert load_heldout().phrasings == load_heldout(HELDOUT_FILE).phrasings


def test_no_heldout_prompt_or_phrasing_is_used_in_training(held):
    _, ev = held
    shared = training_prompts(WORLD) & heldout_prompts(WORLD, ev)
    assert not shared, f"held-out prompts also used in training: {sorted(shared)}"


def test_no_heldout_question_instantiated_on_the_facts_is_a_training_question(held):
    _, ev = held
    train = training_prompts(WORLD)
    asked = {normalise(q) for f in WORLD.facts for q in ev.questions(f)}
    shared = asked & train
    assert not shared, f"held-out questions also asked in training: {sorted(shared)}"


def test_every_training_text_is_checked_for_overlap():
    # The overlap test is only as good as its list: every table a training stage reads is in it.
    train = training_prompts(WORLD)
    for text in ([WORLD.requests[0].prompt, WORLD.harmful[0].request, WORLD.unknown[0].question,
                  WORLD.chat[0].prompt, WORLD.facts[0].questions[-1]]):
        assert normalise(text) in train


def test_normalise_folds_case_punctuation_and_articles():
    assert normalise("What's the capital of {subject}?") == normalise("whats capital of {subject}")
    assert normalise("What noise does a dog make?") == normalise("what noise does the dog make")
    assert normalise("What noise does a dog make?") != normalise("Which noise does a dog make?")


def test_sizes_asked_for(held):
    name, ev = held
    per_relation, per_category, unknowable = SIZES[name]
    for rel in WORLD.relations:
        assert len(ev.phrasings.get(rel, [])) >= per_relation, rel
    for cat in ("harmful", "harmless", "homework", "smalltalk"):
        assert len(ev.prompts(cat)) >= per_category, cat
    assert len(ev.unknowable) >= unknowable
    assert {rel for _, rel in ev.unknowable} == set(WORLD.relations)


def test_unknowable_questions_name_no_subject_the_training_data_answers_or_uses(held):
    _, ev = held
    # Chemical symbols ("S", "He") are also ordinary short words; they are checked as answers elsewhere.
    names = {f.subject.lower() for f in WORLD.facts} | {f.answer.lower() for f in WORLD.facts if len(f.answer) > 2}
    names |= {u.subject.lower() for u in WORLD.unknown}
    for question, relation in ev.unknowable:
        words = set(re.findall(r"[a-z]+", question.lower()))
        assert relation in WORLD.relations
        clash = (words & names) - {"up", "down", "left", "right", "first", "last", "open", "high", "low",
                                   "long", "short", "day", "night", "win", "lose", "true", "false", "old"}
        assert not clash, f"{question!r} names {sorted(clash)}, which the world's facts hold"


def test_every_heldout_phrasing_fits_every_subject_of_its_relation(held):
    _, ev = held
    for f in WORLD.facts:
        for q in ev.questions(f):
            assert f.subject in q and "{" not in q


def test_the_blind_set_shares_no_prompt_with_the_first():
    # Independent sets: a prompt in both would count twice when the two sets' figures are compared.
    shared = heldout_prompts(WORLD, EV) & heldout_prompts(WORLD, load_heldout(BLIND_FILE))
    assert not shared, f"in both held-out sets: {sorted(shared)}"
