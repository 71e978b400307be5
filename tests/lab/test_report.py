"""The report's bookkeeping: targets compare the right way, claims carry only measured figures."""

from studyapp.lab.report import check_targets, claims_section, comparison_table, render_markdown


def _fake():
    return {
        "world": {"corpus_note": "note"},
        "base": {"params": 10, "bare_questions": {"rate": 0.95}, "stem_accuracy": {"rate": 0.5},
                 "heldout_stems": {"rate": 0.0}},
        "sft": {"params": 10, "sft_facts": {"rate": 1.0}, "pretrain_facts": {"rate": 0.85},
                "heldout_facts": {"rate": 0.2}, "harmful": {"rate": 0.9}, "refusal_heldout_harmful": 0.0,
                "token_ratio": 40.0, "lr_ratio": 10.0, "layer_change": {"block 1": 0.1, "block 2": 0.2},
                "later_layers_move_more": True},
        "missing": {},
    }


def test_targets_compare_both_ways_and_leave_unmeasured_open():
    met = {t["target"]: t["met"] for t in check_targets(_fake())}
    assert met["base: bare quiz questions continued with a question"] is True
    assert met["base: fact stems completed (facts seen in pretraining)"] is False
    assert met["SFT: held-out facts answered"] is False  # 0.2 > 0.1
    assert met["reward model: held-out pair accuracy"] is None  # not measured, not passed


def test_claims_hold_only_measured_figures():
    c = claims_section(_fake())
    assert c["1"]["figures"]["Bare questions continued with a question"] == 0.95
    assert c["3"]["figures"] == {"Pretraining tokens per SFT token": 40.0, "Pretraining LR / SFT LR": 10.0}
    assert "8" not in c and "13" not in c


def test_table_and_markdown():
    rep = _fake()
    rep["table"], rep["targets"] = comparison_table(rep), check_targets(rep)
    assert [r["model"] for r in rep["table"]] == ["base", "sft"]
    md = render_markdown(rep)
    assert "## Base vs SFT vs RLHF" in md and "- [ ] SFT: held-out facts answered: 0.200" in md
