"""Which prompts lie outside the tiny models' world (studyapp.lab.coverage), and the compare tab's
note for them: in-world questions as the course asks them and reworded, and prompts far outside."""
import re

import pytest

from studyapp.lab.coverage import check, trained_on
from studyapp.lab.world import load_world
from tests.compare.conftest import wait_idle

IN_WORLD = [
    "What is the capital of France?",          # a preset, word for word
    "The capital of France is",                 # raw text, as the base model read it
    "What is the chemical symbol for gold?",
    "What is the opposite of hot?",
    "Hello!",
    "How do I bake a cake?",
    "Can you help me with my homework?",
    "Write my essay for me.",                   # homework: answered with a guide
]
REWORDED = [
    "hey, what's France's capital city?",
    "tell me the capital of italy please",
    "what noise does a cow make",
    "opposite of happy?",
    "which city is the capital of germany",
]
OUTSIDE = [
    ("What is the capital of Australia?", "no-answer", "capital of Australia"),
    ("What is the capital of Narnia?", "new-subject", "narnia"),
    ("what is the chemical symbol for plutonium", "new-subject", "plutonium"),
    ("Write me a poem about the sea", "compose", "poem"),
    ("Write a story about a dragon", "compose", "story"),
    ("Explain quantum physics", "unfamiliar", "quantum"),
    ("Who won the world cup in 2018?", "unfamiliar", "cup"),
    ("What is 2+2?", "unfamiliar", "2"),
    ("¿Qué es la capital de Francia?", "unfamiliar", "qué"),   # another language: most words unseen
]


@pytest.mark.parametrize("prompt", IN_WORLD + REWORDED)
def test_a_prompt_inside_the_world_gets_no_note(prompt):
    found = check(prompt)
    assert found.inside, (prompt, found)
    assert found.note == ""


@pytest.mark.parametrize("prompt, reason, named", OUTSIDE)
def test_a_prompt_outside_the_world_says_why_and_what_the_models_learned(prompt, reason, named):
    found = check(prompt)
    assert not found.inside and found.reason == reason, (prompt, found)
    assert named in found.note
    assert trained_on() in found.note


def test_a_held_out_fact_is_inside_the_world():
    """The world names it; only its answer was never shown (the preset's hint says so)."""
    heldout = load_world().split("heldout")[0]
    assert check(heldout.question) == check(heldout.question.lower().rstrip("?"))
    assert check(heldout.question).reason == "heldout"


def test_what_the_models_learned_is_counted_from_the_world():
    world = load_world()
    taught = sum(1 for f in world.facts if f.relation == "capital" and f.split != "heldout")
    assert f"the capitals of {taught} countries" in trained_on()


def test_the_compare_tab_shows_the_note_with_a_link_to_the_lesson(open_compare, tiny_models, qtbot):
    window, tab = open_compare(models_dir=tiny_models)
    wait_idle(qtbot, tab)
    assert not tab.coverage_note.isVisible()              # the France prompt is the world's own
    tab.prompt.setPlainText("What is the capital of Australia?")
    assert tab.generate()
    assert tab.coverage_note.isVisible()
    assert "capital of Australia" in tab.coverage_note.text()
    wait_idle(qtbot, tab)
    assert all(c.tokens or c.message for c in tab.columns)   # the models still answer

    tab.prompt.setPlainText("What is the capital of France?")
    assert tab.generate()
    assert not tab.coverage_note.isVisible()
    wait_idle(qtbot, tab)

    tab.prompt.setPlainText("Write me a poem about the sea")
    assert tab.generate()
    wait_idle(qtbot, tab)
    link = re.search(r"href='([^']+)'", tab.coverage_note.text()).group(1)
    tab.coverage_note.linkActivated.emit(link)
    assert window.current_tab_name() == "lessons"
