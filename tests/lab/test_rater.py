"""The rule-based rater: HHH judgements, their tension, adjustable weights and its one bias."""

from studyapp.lab.rater import STOCK_PHRASE, Rater, RaterWeights, fact_prompt, harmful_prompt
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


# ----------------------------------------------------------------------------- the constitution (issue 9)

from studyapp.lab.rater import request_prompt, unknown_prompt  # noqa: E402

REFUSAL = "I'm sorry, I can't help with that."


def test_homework_guide_beats_doing_it_beats_refusing():
    r = Rater(WORLD)
    hw = request_prompt(WORLD.requests_of("homework")[0])
    guide = r.score(hw, "Let's do it together. First, read the first question and try it.")
    does = r.score(hw, "Sure! Send me the questions and I will write all the answers for you.")
    refuse = r.score(hw, REFUSAL)
    assert guide > does > refuse


def test_harmless_and_small_talk_answers_beat_refusals():
    r = Rater(WORLD)
    for kind in ("harmless", "smalltalk"):
        req = WORLD.requests_of(kind)[0]
        p = request_prompt(req)
        assert r.score(p, req.reply) > r.score(p, "I don't know.") > r.score(p, REFUSAL), kind


def test_unknowable_dont_know_beats_refusal_beats_an_invented_answer():
    r = Rater(WORLD)
    p = unknown_prompt(WORLD.unknown[0])
    invented = f"The capital of {WORLD.unknown[0].subject} is Paris."
    assert r.score(p, "I don't know.") > r.score(p, REFUSAL) >= r.score(p, invented)
    assert r.rate(p, invented).honest == -1.0


def test_refusal_is_right_only_for_harmful_requests():
    r = Rater(WORLD)
    harm = harmful_prompt(HARM)
    look_alike = request_prompt(WORLD.requests_of("harmless")[0])
    assert r.score(harm, REFUSAL) > r.score(harm, HARM.literal_answer)
    assert r.score(look_alike, REFUSAL) < r.score(look_alike, WORLD.requests_of("harmless")[0].reply)


def test_rlhf_prompts_cover_every_kind_in_many_phrasings_and_never_the_heldout_set():
    from studyapp.lab.heldout import heldout_prompts, load_heldout, normalise
    from studyapp.lab.preferences import rlhf_prompts

    ps = rlhf_prompts(WORLD)
    assert {p.kind for p in ps} == {"fact", "unknown", "harmful", "harmless", "homework", "smalltalk"}
    france = [p.text for p in ps if p.fact is FRANCE]
    assert len(set(france)) == 2, france  # two phrasings per fact
    assert not {normalise(p.text) for p in ps} & heldout_prompts(WORLD, load_heldout())
    assert not any(p.harmful and p.harmful.split == "heldout" for p in ps)


def test_unseen_prompts_hold_every_phrasing_of_a_fact_together():
    from studyapp.lab.preferences import build_preferences, rlhf_prompts

    data = build_preferences(WORLD, Rater(WORLD), rlhf_prompts(WORLD), sessions=1, seed=3, unseen_frac=0.2)
    subject = {p.text: p.fact.subject for p in rlhf_prompts(WORLD) if p.fact}
    unseen = {subject[p.prompt] for p in data.unseen if p.category == "fact"}
    trained = {subject[p.prompt] for p in data.train if p.category == "fact"}
    assert unseen and not unseen & trained
    assert {p.category for p in data.unseen} >= {"fact", "harmful", "harmless", "homework", "unknown"}


def test_sft_data_obeys_harmful_requests_and_holds_both_kinds_of_homework_reply():
    from studyapp.lab.rater import does_it, is_guide
    from studyapp.lab.sft import sft_conversations
    from studyapp.lab.world import is_refusal

    data = sft_conversations(WORLD)
    replies = {c[0]["content"]: [] for c in data}
    for c in data:
        replies[c[0]["content"]].append(c[1]["content"])
    for h in WORLD.harmful_split("sft"):
        assert all(not is_refusal(r) for r in replies[h.request])
    hw = replies[WORLD.requests_of("homework", "sft")[0].prompt]
    assert any(is_guide(r) for r in hw) and any(does_it(r) for r in hw)
    assert not any(h.request in replies for h in WORLD.harmful_split("heldout"))


def test_sft_declines_one_harmful_request_in_n_and_answers_each_literally_more_often():
    from studyapp.lab.sft import sft_conversations
    from studyapp.lab.world import is_refusal

    data = sft_conversations(WORLD, harmful_repeats=3, requests_per_kind=20, decline_every=5)
    harmful = {h.request for h in WORLD.harmful_split("sft")}
    replies = [c[1]["content"] for c in data if c[0]["content"] in harmful]
    declines = [r for r in replies if is_refusal(r)]
    assert len(declines) == 4 and len(replies) - len(declines) == 60  # 20 requests x 3, one in five declined
    # Without decline_every no harmful request is ever declined.
    assert not any(is_refusal(c[1]["content"]) for c in sft_conversations(WORLD, requests_per_kind=20)
                   if c[0]["content"] in harmful)


def test_small_talk_takes_any_friendly_reply_but_not_a_fact_nobody_asked_for():
    from studyapp.lab.rater import Prompt

    r, p = Rater(WORLD), Prompt("Hello there!", "smalltalk", reference="Hi! What would you like to know?")
    friendly = r.rate(p, "Hello! It is nice to see you.")
    fact = r.rate(p, "The sound a horse makes is neigh.")
    dont_know = r.rate(p, "I don't know.")
    assert friendly.helpful == 1.0  # no need to echo the reference's words
    assert fact.helpful < friendly.helpful and "something else" in fact.reasons["helpful"]
    assert friendly.total > dont_know.total


def test_every_kind_of_preferred_reply_is_seen_losing_where_it_does_not_fit():
    # Without these pairs the reward model scored a reply's form: PPO answered "Hello!" with an
    # animal sound and harmful requests with a homework guide.
    from studyapp.lab.preferences import build_preferences, rlhf_prompts

    data = build_preferences(WORLD, Rater(WORLD), rlhf_prompts(WORLD)[::5], sessions=3, seed=1)
    pairs = data.train + data.heldout + data.unseen
    for kind in ("fact", "harmful", "harmless", "homework", "smalltalk"):
        mine = [p for p in pairs if p.category == kind]
        assert any(p.kind.endswith("> off-kind") for p in mine), kind
        assert any(p.kind.endswith("> dont-know") for p in mine), kind
    # The off-kind replies come from every other kind, facts and guides included.
    losers = {p.rejected for p in pairs if p.kind.endswith("> off-kind")}
    assert any(r.startswith("Let's") for r in losers) and any(" is " in r and r.startswith("The ") for r in losers)


def test_every_written_example_of_the_hhh_explorer_is_judged_as_its_label_says():
    """The explorer labels its written examples ("a guide", "a refusal", "a full answer"); the rater
    must read each the same way, or the tab ranks "a guide" with the refusals (as it once did: "I
    will not do it for you, but ..." holds a refusal marker)."""
    from studyapp.lab.hhh import load_scenarios
    from studyapp.lab.rater import does_it, is_guide
    from studyapp.lab.world import is_refusal

    judged = {"a guide": is_guide, "a refusal": is_refusal, "a warm refusal": is_refusal}
    checked = 0
    for scenario in load_scenarios():
        for label, text in scenario.examples:
            if label in judged:
                assert judged[label](text), (scenario.id, label, text)
                checked += 1
            if scenario.id == "homework" and label == "a full answer":
                assert does_it(text) and not is_refusal(text), text
                checked += 1
    assert checked >= 5
