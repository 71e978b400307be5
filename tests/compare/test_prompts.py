"""The course's preset prompts (studyapp.lab.prompts): stable keys, texts from the world tables, limits."""
from studyapp.lab.prompts import MAX_PROMPT_CHARS, context_problem, preset, presets, prompt_problem
from studyapp.lab.world import load_world


def test_the_keys_the_lessons_link_to_exist():
    keys = [p.key for p in presets()]
    for key in ("france", "homework", "harmful", "greeting"):
        assert key in keys
    assert len(keys) == len(set(keys))
    assert preset("france").text == "What is the capital of France?"
    assert preset("no-such-prompt") is None


def test_the_harmful_preset_is_held_out_of_sft_and_ppo():
    world = load_world()
    held_out = {h.request for h in world.harmful_split("heldout")}
    assert preset("harmful").text in held_out


def test_fact_presets_come_from_their_splits():
    world = load_world()
    by_question = {f.question: f.split for f in world.facts}
    assert by_question[preset("pretrain-fact").text] == "pretrain"
    assert by_question[preset("heldout-fact").text] == "heldout"


def test_prompt_problems():
    assert "Type a prompt" in prompt_problem("  \n ")
    assert prompt_problem("Hello!") is None
    assert str(MAX_PROMPT_CHARS) in prompt_problem("x" * (MAX_PROMPT_CHARS + 1)).replace(",", "")
    assert context_problem(10, 64) is None
    message = context_problem(62, 64)
    assert "62 tokens" in message and "at most 64" in message
