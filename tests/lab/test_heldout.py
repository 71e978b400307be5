"""The held-out evaluation set shares nothing with the training data, and is big enough to mean something."""

import re

from studyapp.lab.heldout import heldout_prompts, load_heldout, normalise, training_prompts
from studyapp.lab.world import load_world

WORLD = load_world()
EV = load_heldout()


def test_no_heldout_prompt_or_phrasing_is_used_in_training():
    shared = training_prompts(WORLD) & heldout_prompts(WORLD, EV)
    assert not shared, f"held-out prompts also used in training: {sorted(shared)}"


def test_no_heldout_question_instantiated_on_the_facts_is_a_training_question():
    train = training_prompts(WORLD)
    asked = {normalise(q) for f in WORLD.facts for q in EV.questions(f)}
    assert not asked & train


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


def test_sizes_asked_for():
    for rel in WORLD.relations:
        assert len(EV.phrasings.get(rel, [])) >= 5, rel
    for cat in ("harmful", "harmless", "homework", "smalltalk"):
        assert len(EV.prompts(cat)) >= 12, cat
    assert len(EV.unknowable) >= 12


def test_unknowable_questions_name_no_subject_the_training_data_answers_or_uses():
    # Chemical symbols ("S", "He") are also ordinary short words; they are checked as answers elsewhere.
    names = {f.subject.lower() for f in WORLD.facts} | {f.answer.lower() for f in WORLD.facts if len(f.answer) > 2}
    names |= {u.subject.lower() for u in WORLD.unknown}
    for question, relation in EV.unknowable:
        words = set(re.findall(r"[a-z]+", question.lower()))
        assert relation in WORLD.relations
        assert not (words & names) - {"up", "down", "left", "right", "first", "last", "open", "high", "low",
                                      "long", "short", "day", "night", "win", "lose", "true", "false", "old"}, question


def test_every_heldout_phrasing_fits_every_subject_of_its_relation():
    for f in WORLD.facts:
        for q in EV.questions(f):
            assert f.subject in q and "{" not in q
