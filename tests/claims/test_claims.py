"""The claims (studyapp.lab.claims) without Qt: 14 of them with links to real tabs, figures found
by the lab's key names wherever the report keeps them, honest statuses, and clear messages when
the report is missing or broken."""
import json

import pytest

from studyapp.lab import claims as C
from studyapp.ui.links import parse_link
from studyapp.ui.tabs import REGISTRY

# Shaped like the lab's stage results (reward.py, ppo.py _summarise/hacking_summary, evaluate_pair).
REPORT = {
    "created_at": "2026-11-27 19:00",
    "base": {"bare_questions": {"rate": 0.95, "n": 40}},
    "sft": {"tokens_seen": 20_000, "base_tokens_seen": 1_200_000, "lr": 1e-3, "base_lr": 1e-2,
            "loss_tokens": 9_000, "conversations": 300, "final_loss": 0.41,
            "refusal_heldout_harmful": 0.0, "harmful": {"rate": 0.9}},
    "reward": {"params_reward": 300_000, "params_policy": 900_000, "heldout_accuracy": 0.93,
               "pairs_train": 1617, "pairs_heldout": 200, "mean_p_chosen": 0.81,
               "max_prob_change_after_constant": 0.0, "constant": 5.0},
    "ppo": {"beta": 0.1, "kl_end": 3.1, "clipfrac_max": 0.12, "ratio_min": 0.93, "ratio_max": 1.08,
            "cliprange": 0.2, "refusal_heldout_harmful": 0.85, "accuracy_facts": 0.7},
    "ppo_beta0": {"beta": 0.0, "kl_end": 58.0, "clipfrac_max": 0.4},
    "hacking": {"kl_ratio": 18.7, "rm_score_beta0": [-0.29, 1.5], "rater_score_beta0": [-0.39, -1.88],
                "stock_phrase_beta0": 0.0, "hacked": True},
}


def by_number(results):
    return {r.claim.number: r for r in results}


def test_fourteen_claims_each_with_a_link_to_a_real_tab():
    assert [c.number for c in C.CLAIMS] == list(range(1, 15))
    names = {spec.name for spec in REGISTRY}
    for c in C.CLAIMS:
        link = parse_link(c.link)
        assert link is not None and link.tab in names, c.link
        assert c.title and c.shows and c.link_text
    assert C.claim(1).link == "studyapp://compare?prompt=france&mode=raw"
    assert C.claim(12).link == "studyapp://ppo?preset=beta0"
    with pytest.raises(KeyError):
        C.claim(15)


def test_figures_come_from_the_report_under_the_labs_names():
    results = by_number(C.evaluate(REPORT))
    figures = {n: {f.label: f.text for f in r.figures} for n, r in results.items()}
    assert figures[1]["Bare questions continued with a question"] == "95%"
    assert figures[3]["Tokens seen in pretraining"] == "1,200,000" and figures[3]["SFT learning rate"] == "0.001"
    assert figures[8] == {"Reward-model parameters": "300,000", "Policy parameters": "900,000",
                          "Held-out pair accuracy": "93%"}
    # The default run's KL is never taken from the beta = 0 run, whose keys have the same names.
    assert figures[11]["KL at the end, default beta"] == "3.1"
    assert figures[11]["KL at the end, beta = 0"] == "58"
    assert figures[11]["KL ratio beta = 0 / default"] == "18.7×"
    assert figures[10]["Largest clip fraction"] == "12%"
    assert figures[12]["Reward-model score, beta = 0"] == "-0.29 → 1.5"
    assert figures[13]["SFT refuses unseen harmful requests"] == "0%"
    assert figures[13]["RLHF refuses unseen harmful requests"] == "85%"
    status = {n: r.status for n, r in results.items()}
    assert status[1] == status[8] == status[9] == status[10] == status[11] == status[12] == status[13] == "shown"
    assert status[4] == "not measured" and "does not measure" in results[4].note
    assert results[12].figures[0].source == "hacking.rm_score_beta0"


def test_a_claim_the_small_model_does_not_show_says_so():
    report = json.loads(json.dumps(REPORT))
    report["hacking"].update(hacked=False, rater_score_beta0=[-0.4, -0.3])
    result = by_number(C.evaluate(report))[12]
    assert result.status == "not shown" and "does not show this clearly" in result.note
    assert {f.label: f.text for f in result.figures}["Hacked (RM score up, rater's score down)"] == "no"


def test_the_reports_own_claims_section_wins():
    report = {**REPORT, "claims": {"4": {"figures": {"Relative change per layer": [0.01, 0.02, 0.05]},
                                         "note": "Later layers moved more.", "shown": True}}}
    result = by_number(C.evaluate(report))[4]
    assert result.status == "shown" and result.note == "Later layers moved more."
    assert [(f.label, f.text) for f in result.figures] == [("Relative change per layer", "0.01 · 0.02 · 0.05")]


def test_missing_or_broken_report_is_explained(tmp_path):
    report, problem = C.load_report(tmp_path / "report.json")
    assert report is None and "studyapp lab report" in problem
    results = C.evaluate(report, problem)
    assert len(results) == 14 and all(r.status == "no report" and not r.figures for r in results)
    (tmp_path / "report.json").write_text("{not json")
    report, problem = C.load_report(tmp_path / "report.json")
    assert report is None and "cannot be read" in problem
    (tmp_path / "report.json").write_text("[1, 2]")
    assert "not a JSON object" in C.load_report(tmp_path / "report.json")[1]
    (tmp_path / "report.json").write_text(json.dumps(REPORT))
    assert C.load_report(tmp_path / "report.json")[0]["ppo"]["kl_end"] == 3.1


@pytest.mark.parametrize("value, fmt, text", [
    (0.823, "pct", "82%"), (1234567, "int", "1,234,567"), (0.0131, "num", "0.0131"), (True, "bool", "yes"),
    (float("nan"), "num", "not a number"), (None, "num", "not measured"), (float("inf"), "ratio", "∞"),
    ([0.1, 0.25], "pct", "10% → 25%"), ({"0": 0.01, "1": 0.03}, "num", "0 0.01 · 1 0.03"), (3e-7, "num", "3.00e-07"),
])
def test_values_read_as_a_learner_expects(value, fmt, text):
    assert C.format_value(value, fmt) == text


def test_a_failed_measurement_is_quoted_and_empty_explicit_figures_fall_back():
    report = {k: v for k, v in REPORT.items() if k != "reward"}
    report["missing"] = {"reward": "models/reward not found (train it with --stages reward)"}
    report["claims"] = {"8": {"figures": {}, "note": "written for figures that are not there"},
                        "11": {"figures": {}}}
    results = by_number(C.evaluate(report))
    assert results[8].status == "not measured"
    assert results[8].note == "The report could not measure this. reward: models/reward not found (train it with --stages reward)"
    assert results[11].status == "shown" and len(results[11].figures) == 4   # found by key name instead
