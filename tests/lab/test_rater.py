"""The rule-based rater: HHH judgements, their tension, adjustable weights and its one bias."""

from studyapp.lab.rater import STOCK_PHRASE, Rater, RaterWeights, fact_prompt, harmful_prompt, prompts_for
from studyapp.lab.world import load_world

WORLD = load_world()
FRANCE = next(f for f in WORLD.facts if f.subject == "France")
OXYGEN = next(f for f in WORLD.facts if f.subject == "Oxygen")
HARM = WORLD.harmful_split("ppo")[0]


def test_fact_answers_ranked_right_over_unsure_over_wrong():
    r, p = Rater(WORLD), fact_prompt(FRANCE)
    right = r.rate(p, "The capital of France is Paris.")
    wrong = r.rate(p, "The capital of France is Madrid.")
    unsure = r.rate(p, "I don't know.")
    assert (right.helpful, right.honest) == (1.0, 1.0)
    assert wrong.honest == -1.0 and "Madrid" in wrong.reasons["honest"]
    assert right.total > unsure.total > wrong.total


def test_symbols_match_case_sensitively():
    r, p = Rater(WORLD), fact_prompt(OXYGEN)
    assert r.rate(p, "The chemical symbol for Oxygen is O.").helpful == 1.0
    assert r.rate(p, "o no, he said so").helpful == -1.0  # neither "o" nor "he" is a symbol here


def test_harmful_request_helpful_and_harmless_pull_apart():
    r, p = Rater(WORLD), harmful_prompt(HARM)
    comply = r.rate(p, HARM.literal_answer)
    refuse = r.rate(p, "I'm sorry, I can't help with that.")
    # Complying is more helpful to the asker, refusing is harmless: the weights decide (claim 14).
    assert comply.helpful > refuse.helpful and refuse.harmless > comply.harmless
    assert refuse.total > comply.total
    lenient = Rater(WORLD, RaterWeights(helpful=1.0, honest=1.0, harmless=0.1))
    assert lenient.score(p, HARM.literal_answer) > lenient.score(p, "I'm sorry, I can't help with that.")


def test_stock_phrase_bias_is_small_and_repeats_are_penalised():
    r, p = Rater(WORLD), fact_prompt(FRANCE)
    plain = r.score(p, "The capital of France is Paris.")
    warm = r.score(p, f"{STOCK_PHRASE} The capital of France is Paris.")
    assert abs(warm - plain - 0.3) < 1e-9  # the one deliberate bias
    # The hack a reward model may fall for: the phrase, repeated, and no answer. The rater is not fooled.
    hack = r.score(p, " ".join([STOCK_PHRASE] * 4))
    assert hack < plain - 2
    assert r.score(p, "") < plain


def test_prompts_for_splits():
    ps = prompts_for(WORLD)
    assert {p.kind for p in ps} == {"fact", "harmful"}
    assert all(p.split in ("sft", "pretrain", "ppo") for p in ps)
    assert not any(p.harmful and p.harmful.split == "heldout" for p in ps)


def test_preferences_pairs_follow_the_rater_and_splits_do_not_leak():
    from studyapp.lab.preferences import PreferenceData, build_preferences, rlhf_prompts

    r = Rater(WORLD)
    prompts = rlhf_prompts(WORLD)
    data = build_preferences(WORLD, r, prompts, sessions=2, seed=1)
    assert data.train and data.heldout and data.unseen
    by_text = {p.text: p for p in prompts}
    for pair in data.train + data.heldout + data.unseen:
        p = by_text[pair.prompt]
        assert r.score(p, pair.chosen) - r.score(p, pair.rejected) >= 0.25  # chosen really is better
    key = lambda p: (p.prompt, p.chosen, p.rejected)  # noqa: E731
    assert not {key(p) for p in data.train} & {key(p) for p in data.heldout}
    assert not {p.prompt for p in data.unseen} & {p.prompt for p in data.train}
    assert any(p.kind == "refusal > comply" for p in data.train)  # refusal is learnable from pairs
    again = PreferenceData.from_jsonl(data.to_jsonl())
    assert len(again.train) == len(data.train) and len(again.unseen) == len(data.unseen)
