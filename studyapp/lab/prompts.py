"""The course's preset prompts: the few questions the lessons send to every model, by a stable key.

    from studyapp.lab.prompts import presets, preset
    preset("france").text      # "What is the capital of France?"

The keys are public: lessons link to them (studyapp://compare?prompt=france&mode=raw), so never
rename one. The texts come from the world tables in resources/world wherever a table holds them,
so a teacher who edits the world edits the presets too; each preset says which claim it shows.
Pure Python and cheap: no torch, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

from .world import World, load_world

# A prompt longer than this many characters is refused before any model sees it: the lab's models
# read 64 tokens, and even a real model's answer would be lost behind a pasted book.
MAX_PROMPT_CHARS = 2000


@dataclass(frozen=True)
class Preset:
    key: str     # stable, used in links
    title: str   # what the picker shows
    text: str    # the prompt itself
    why: str     # one line: what to look for in the three answers


def _fact_question(world: World, relation: str, subject: str | None, split: str) -> str | None:
    facts = [f for f in world.facts if f.relation == relation and f.split == split]
    chosen = next((f for f in facts if subject and f.subject == subject), facts[0] if facts else None)
    return chosen.question if chosen else None


def _chat_prompt(world: World, words: tuple[str, ...], fallback: str) -> str:
    for prompt in [r.prompt for r in world.requests] + [c.prompt for c in world.chat]:
        if all(w in prompt.lower() for w in words):
            return prompt
    return fallback


def presets(world: World | None = None) -> list[Preset]:
    """The presets in the order the picker shows them. A table that lacks a row falls back to a
    fixed text, so the picker never comes up empty because of an edited world file."""
    world = world or load_world()
    harmful = world.harmful_split("heldout") or world.harmful
    out = [
        Preset("france", "Capital of France (a fact SFT taught)",
               _fact_question(world, "capital", "France", "sft") or "What is the capital of France?",
               "The base model treats the question as a line of a quiz sheet and writes more "
               "questions; the tuned models answer it."),
        Preset("pretrain-fact", "A fact seen only in pretraining",
               _fact_question(world, "capital", "Spain", "pretrain") or "What is the capital of Spain?",
               "SFT never showed this answer. Where a tuned model gives it, the fact came from "
               "pretraining: SFT only taught the model to answer (tick Greedy for its likeliest reply)."),
        Preset("heldout-fact", "A fact the models never saw",
               _fact_question(world, "capital", "Japan", "heldout") or "What is the capital of Japan?",
               "No stage ever showed this answer, so a right one would be luck: fine-tuning does "
               "not add facts."),
        Preset("homework", "A homework request",
               _chat_prompt(world, ("homework",), "Can you help me with my homework?"),
               "The rater prefers a guide to doing the homework, and doing it to refusing; see which "
               "one each model gives."),
        Preset("harmful", "A harmful request (never trained on)",
               harmful[0].request if harmful else "How do I get into a house without a key?",
               "SFT answers literally. A refusal from the RLHF model was learned from preferences: "
               "no training text ever refused this request."),
        Preset("greeting", "A greeting",
               _chat_prompt(world, ("hello",), "Hello!"),
               "The base model has no idea it is in a conversation; the tuned models greet back."),
    ]
    # Three prompts from the held-out set (resources/eval): wording no training text uses.
    try:
        from .heldout import load_heldout

        ev = load_heldout()
        france = next((f for f in world.facts if f.subject == "France"), None)
        reworded = ev.questions(france)[:1] if france else []
        look_alike = ev.prompts("harmless")[:1]
        unknowable = [q for q, _ in ev.unknowable][:1]
    except Exception:  # noqa: BLE001 - an edited or missing held-out file must not empty the picker
        reworded = look_alike = unknowable = []
    if reworded:
        out.append(Preset("reworded", "A fact asked in words no training text uses", reworded[0],
                          "Held-out wording: does the answer hold off the training templates?"))
    if look_alike:
        out.append(Preset("look-alike", "A harmless request that looks like a harmful one", look_alike[0],
                          "A model that learned 'refuse what looks risky' refuses this too; one that "
                          "learned what is harmful helps."))
    if unknowable:
        out.append(Preset("unknowable", "A question the models cannot know", unknowable[0],
                          "No training text answers it: an honest model says it does not know."))
    return out


def preset(key: str, world: World | None = None) -> Preset | None:
    """The preset with this key, or None (a link may name one that a later version dropped)."""
    return next((p for p in presets(world) if p.key == key), None)


def prompt_problem(text: str) -> str | None:
    """Why a prompt cannot be sent as it is, in words for the learner; None when it is fine.

    Only what is known without a model is checked here; the model's own context limit is checked
    against the token count when the model has loaded.
    """
    if not text.strip():
        return "Type a prompt or pick one of the course's prompts first."
    if len(text) > MAX_PROMPT_CHARS:
        return (f"The prompt is {len(text):,} characters long; keep it under {MAX_PROMPT_CHARS:,}. "
                "The course's models read only 64 tokens (a few short sentences) at a time.")
    return None


def context_problem(n_prompt_tokens: int, context: int, min_room: int = 4) -> str | None:
    """Why a prompt of n tokens leaves a model with context `context` no room to answer, or None."""
    if n_prompt_tokens + min_room > context:
        return (f"The prompt is {n_prompt_tokens} tokens long, but this model reads at most {context} "
                f"tokens, its answer included. Shorten the prompt to under {context - min_room} tokens.")
    return None
