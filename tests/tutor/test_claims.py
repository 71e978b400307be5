"""The claim matcher on a tiny lexicon: word order decides roles, "not" and opposites turn a claim
round, a negation in another clause or after the claim does not, and phrases of longer terms
hide the shorter ones inside them."""
from __future__ import annotations

import pytest

from studyapp.tutor.claims import Lexicon, read

TERMS = {
    "people": ("people", "humans", "raters"),
    "rank": ("rank", "order", "compare"),
    "answers": ("answers", "replies"),
    "lm": ("model", "policy"),
    "rm": ("reward model",),
    "kl": ("KL penalty",),
    "keep": ("keep", "pull"),
    "close": ("close", "near", "towards"),
    "away": ("away", "far"),
    "sft": ("SFT model",),
    "later": ("later", "top"),
    "early": ("early", "bottom"),
    "refuse": ("refuse", "say no"),
}
LEX = Lexicon(TERMS, (("close", "away"), ("later", "early")))


def found(claim: str, text: str):
    match = LEX.compile(claim).find(read(text))
    return None if match is None else ("flipped" if match.flipped else "stated")


@pytest.mark.parametrize("text, expected", [
    ("People rank the answers the model writes.", "stated"),
    ("Raters compare several replies.", "stated"),                 # synonyms and stems
    ("The model ranks the answers that people write.", None),     # roles swapped: not this claim
    ("People do not rank the answers.", "flipped"),
    ("People never rank answers.", "flipped"),
    ("People don't rank the answers.", "flipped"),                # n't
    ("People rank answers, not the model.", "stated"),            # "not" after the claim
    ("Nobody is paid much, but people rank the answers.", "stated"),  # "not" in another clause
])
def test_order_and_negation(text, expected):
    assert found("people rank answers", text) == expected


def test_opposite_terms_turn_a_claim_round_and_two_flips_cancel():
    assert found("kl keep close sft", "The KL penalty keeps the policy near the SFT model.") == "stated"
    assert found("kl keep close sft", "The KL penalty keeps the policy far from the SFT model.") == "flipped"
    assert found("kl keep close sft", "The KL penalty does not keep the policy far from the SFT model.") == "stated"
    assert found("later change", "The bottom layers change most.") == "flipped"


def test_a_claim_does_not_reach_across_clauses_or_beyond_the_gap():
    assert found("later change", "The top layers are wide; the rest change.") is None
    assert found("people rank answers", "People came, and after a very long and tiring day they "
                                        "were asked to rank answers.") is None


def test_negative_claims_and_negations_inside_terms():
    assert found("not refuse", "It does not refuse.") == "stated"
    assert found("not refuse", "It refuses.") == "flipped"
    assert found("refuse", "It learned to say no.") == "stated"     # "no" belongs to the term
    assert found("without kl", "Without the KL penalty it drifts.") == "stated"   # a word of the claim


def test_one_way_claims_never_read_as_their_opposite():
    assert found("+ people rank answers", "People rank answers.") == "stated"
    assert found("+ people rank answers", "People do not rank answers.") is None


def test_a_shorter_term_inside_a_longer_phrase_does_not_count():
    # "model" inside "reward model" is not the language model.
    assert found("lm rank", "The reward model ranks answers.") is None
    assert found("rm rank", "The reward model ranks answers.") == "stated"


def test_evidence_names_the_words_and_the_negation():
    match = LEX.compile("kl keep close sft").find(read("The KL penalty doesn't keep it near the SFT model."))
    assert match.evidence == "kl penalty … not … keep … near … sft model"
