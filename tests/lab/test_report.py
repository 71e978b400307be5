"""The report's bookkeeping: targets compare the right way, claims carry only measured figures."""

from studyapp.lab.report import check_targets, claims_section, comparison_table, render_markdown


def _fake():
    return {
        "world": {"corpus_note": "note"},
        "base": {"params": 10, "bare_questions": {"rate": 0.95}, "stem_accuracy": {"rate": 0.5},
                 "heldout_stems": {"rate": 0.0},
                 "behaviour": {"heldout": {"greedy": {"continues": 0.9}}}},
        "sft": {"params": 10, "sft_facts": {"rate": 1.0}, "pretrain_facts": {"rate": 0.85},
                "heldout_facts": {"rate": 0.2}, "harmful": {"rate": 0.9}, "refusal_heldout_harmful": 0.0,
                "token_ratio": 40.0, "lr_ratio": 10.0, "layer_change": {"block 1": 0.1, "block 2": 0.2},
                "later_layers_move_more": True,
                "behaviour": {"facts": {"heldout": {"greedy": {"correct": 0.6}}, "blind": {"greedy": {"correct": 0.85}}},
                              "facts_heldout": {"template": {"greedy": {"correct": 0.2}}},
                              "harmful": {"heldout": {"greedy": {"obeyed": 0.9}}}}},
        "missing": {},
    }


def test_targets_compare_both_ways_and_leave_unmeasured_open():
    met = {t["target"]: t["met"] for t in check_targets(_fake())}
    assert met["base: bare questions and instructions continued as a document (held-out wording)"] is True
    assert met["SFT: seen facts answered on reworded questions"] is False  # 0.6 < 0.8
    assert met["SFT: obeys harmful requests of the held-out set"] is True
    assert met["SFT: held-out facts answered (facts no training text states)"] is False  # 0.2 > 0.1
    assert met["reward model: pair accuracy on prompts it never saw (held-out set)"] is None  # not measured


def test_targets_show_the_blind_set_beside_and_are_judged_on_the_held_out_set():
    rep = _fake()
    rep["targets"] = check_targets(rep)
    facts = next(t for t in rep["targets"] if t["target"] == "SFT: seen facts answered on reworded questions")
    assert (facts["measured"], facts["met"], facts["blind"], facts["met_blind"]) == (0.6, False, 0.85, True)
    obeys = next(t for t in rep["targets"] if t["target"] == "SFT: obeys harmful requests of the held-out set")
    assert "blind" not in obeys                      # not measured on the blind set: no figure invented
    md = render_markdown(rep)
    assert "- [ ] SFT: seen facts answered on reworded questions: 0.600 (target >= 0.8); blind set 0.850 (met)" in md


def test_claims_hold_only_measured_figures():
    c = claims_section(_fake())
    assert c["1"]["figures"]["Bare questions continued with a question"]["value"] == 0.95
    assert "3" not in c   # the learning-rate ratio is a setting: claim 3 is measured by an experiment
    assert "8" not in c and "13" not in c


def test_table_and_markdown():
    rep = _fake()
    rep["table"], rep["targets"] = comparison_table(rep), check_targets(rep)
    assert [r["model"] for r in rep["table"]] == ["base", "sft"]
    md = render_markdown(rep)
    assert "## Base vs SFT vs RLHF" in md and "- [ ] SFT: held-out facts answered (facts no training text states): 0.200" in md


def test_facts_by_wording_splits_wordings_with_words_no_training_text_uses():
    """A wording with a word the world never uses lands in "new_words", the rest in "in_world", and
    the accuracy of each group is that of its own replies."""
    from studyapp.lab import evals
    from studyapp.lab.heldout import HeldOut
    from studyapp.lab.world import Fact

    class World:
        facts = [Fact("capital", s, a, split, f"What is the capital of {s}?", f"The capital of {s} is {a}.",
                      f"The capital of {s} is") for s, a, split in
                 (("France", "Paris", "sft"), ("Spain", "Madrid", "pretrain"), ("Chile", "Santiago", "heldout"))]

    ev = HeldOut(phrasings={"capital": ["capital of {subject}?", "{subject} is governed from?"]})
    answers = {"capital of France?": "The capital of France is Paris.", "capital of Spain?": "I don't know.",
               "France is governed from?": "The capital of France is Paris.",
               "Spain is governed from?": "The capital of Spain is Madrid.",
               "capital of Chile?": "The capital of Chile is Santiago.",        # a held-out fact: not counted
               "Chile is governed from?": "The capital of Chile is Santiago."}
    replies = [answers[q] for q, _, _ in ev.fact_items(World.facts)]   # chat_behaviour's greedy replies, in order
    by_wording = evals._by_wording(ev, World.facts, replies)
    out = evals.facts_by_wording(by_wording, World(), world_words=lambda t: [w for w in ("governed",) if w in t])
    assert out == {"in_world": {"phrasings": 1, "correct": 0.5, "words": []},
                   "new_words": {"phrasings": 1, "correct": 1.0, "words": ["governed"]}}
