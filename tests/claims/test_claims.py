"""The claims (studyapp.lab.claims) without Qt: 14 of them with links to real tabs; each figure read
by its one name, from an experiment result or from the report's one key path; no setting or
identity as a figure; honest statuses; clear messages when a file is missing or broken."""
import json

import pytest

from studyapp.lab import claims as C
from studyapp.ui.links import parse_link
from studyapp.ui.tabs import REGISTRY
from tests.support import REPO

# Shaped like the lab's report.json (report.build_report: one section per stage).
REPORT = {
    "created": "2026-11-27 19:00",
    "world": {"corpus_note": "Held-out facts appear only as bare subjects."},
    "base": {"bare_questions": {"rate": 0.95, "n": 40}, "stem_accuracy": {"rate": 1.0}, "france": "\nWhat is ...",
             "behaviour": {"heldout": {"greedy": {"continues": 0.9}}}},
    "sft": {"tokens_seen": 20_000, "base_tokens_seen": 1_200_000, "lr": 1e-3, "base_lr": 1e-2, "lr_ratio": 10.0,
            "token_ratio": 60.0, "loss_tokens": 9_000, "conversations": 300, "final_loss": 0.41,
            "refusal_heldout_harmful": 0.0, "harmful": {"rate": 0.9}, "sft_facts": {"rate": 1.0},
            "pretrain_facts": {"rate": 0.85}, "heldout_facts": {"rate": 0.0},
            "layer_change": {"embeddings": 0.2, "block 1": 0.15, "block 2": 0.14, "final norm": 0.03}},
    "reward": {"params_reward": 300_000, "params_policy": 900_000, "heldout_accuracy": 0.93, "train_accuracy": 0.95,
               "pairs_train": 1617, "pairs_heldout": 200, "mean_p_chosen": 0.81, "samples_per_prompt": 2,
               "max_prob_change_after_constant": 0.0, "constant": 5.0},
    "ppo": {"beta": 0.1, "beta_default": 0.1, "kl_end": 3.1, "clipfrac_max": 0.12, "ratio_min": 0.93, "ratio_max": 1.08,
            "cliprange": 0.2, "kl_default": 3.1, "kl_beta0": 58.0, "kl_ratio": 18.7, "rm_score_beta0": [-0.29, 1.5],
            "rater_score_beta0": [-0.39, -1.88], "stock_phrase_beta0": 0.0, "hacked": True},
    "rlhf": {"refusal_heldout_harmful": 0.85, "accuracy_facts": 0.7},
    "missing": {},
}

# Settings, identities and bare data counts: never a claim's figure on their own (issue 10).
NOT_FIGURES = {"lr", "base_lr", "lr_ratio", "token_ratio", "beta", "beta_default", "cliprange", "constant",
               "max_prob_change_after_constant", "conversations", "samples_per_prompt", "base_tokens_seen"}


def by_number(results):
    return {r.claim.number: r for r in results}


def experiment(name="fake_sweep", claims=(12,), **extra):
    fig = {"mean": 0.5, "min": 0.4, "max": 0.6, "per_seed": [0.4, 0.5, 0.6]}
    return {"name": name, "claims": list(claims), "title": "A fake sweep", "seeds": [0, 1, 2], "seconds": 12.0,
            "figures": {"gold score at beta 0": fig, "proxy score at beta 0": {**fig, "mean": 1.5, "min": 1.5, "max": 1.5}},
            "plots": [{"title": "proxy vs gold", "x_label": "sqrt KL", "y_label": "score", "log_x": False,
                       "lines": [{"label": "gold", "x": [0, 1, 2], "y": [0.1, 0.3, 0.2],
                                  "y_min": [0.0, 0.2, 0.1], "y_max": [0.2, 0.4, 0.3]}]}],
            "verdict": "The gold score falls as the proxy rises.", **extra}


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


def test_report_figures_are_read_by_their_one_key_path():
    results = by_number(C.evaluate(REPORT))
    figures = {n: {f.label: f.text for f in r.figures} for n, r in results.items()}
    assert figures[1]["Bare questions continued with a question"] == "95%"
    assert figures[8] == {"Reward-model parameters": "300,000", "Policy parameters": "900,000",
                          C.PAIRS_NOT_TRAINED: "93%"}
    assert figures[11] == {"KL at the end, default beta": "3.1", "KL at the end, beta = 0": "58",
                           "KL ratio beta = 0 / default": "18.7×"}
    assert figures[12]["Reward-model score, beta = 0"] == "-0.29 → 1.5"
    assert figures[13][C.RLHF_REFUSES] == "85%"
    # Each set of harmful requests is named as such: "unseen" also names the held-out set in the
    # report's targets, with another figure.
    labels = [f.label for r in results.values() for f in r.figures]
    assert not [label for label in labels if "unseen" in label]
    assert results[12].figures[0].source == "ppo.rm_score_beta0"
    status = {n: r.status for n, r in results.items()}
    assert status[1] == status[8] == status[11] == status[12] == "shown"
    assert status[4] == "not shown"   # the shipped SFT's last block moved less than its first
    # Claim 3 has no report figure: the learning-rate ratio is a setting. It names its experiment.
    assert status[3] == "not measured" and "studyapp lab experiments sft_learning_rate" in results[3].note
    assert status[14] == "not measured" and "beta_sweep" in results[14].note


def test_no_claim_figure_is_a_setting_an_identity_or_a_data_count_alone():
    for number, specs in C.REPORT_FIGURES.items():
        assert {path[-1] for _, path, _ in specs} & NOT_FIGURES == set(), number
    for result in C.evaluate(REPORT):
        assert not {f.source.split(".")[-1] for f in result.figures} & NOT_FIGURES
    # The report writes the same figures into report.json (report.claims_section).
    from studyapp.lab.report import claims_section
    written = claims_section(REPORT)
    assert "3" not in written and written["11"]["figures"]["KL at the end, beta = 0"]["value"] == 58.0


def test_a_claim_the_small_model_does_not_show_says_so():
    report = json.loads(json.dumps(REPORT))
    report["ppo"].update(hacked=False, rater_score_beta0=[-0.4, -0.3])
    result = by_number(C.evaluate(report))[12]
    assert result.status == "not shown" and "does not show this clearly" in result.note
    assert {f.label: f.text for f in result.figures}["Hacked (RM score up, rater's score down)"] == "no"


def test_an_experiment_replaces_the_report_figures_of_every_claim_it_names(tmp_path):
    (tmp_path / "fake_sweep.json").write_text(json.dumps(experiment(claims=[11, 12])))
    (tmp_path / "other.json").write_text(json.dumps(experiment("other", claims=[12], title="Another")))
    results_in, problems = C.load_experiments(tmp_path)
    assert sorted(results_in) == ["fake_sweep", "other"] and problems == []
    results = by_number(C.evaluate(REPORT, "", results_in))
    for n in (11, 12):
        assert results[n].status == "experiment" and results[n].figures == []
    assert [e.name for e in results[12].experiments] == ["fake_sweep", "other"]
    fake = results[11].experiments[0]
    assert [(f.name, f.text) for f in fake.figures] == [("gold score at beta 0", "0.500 (0.400–0.600)"),
                                                         ("proxy score at beta 0", "1.500")]
    assert fake.verdict.startswith("The gold score falls") and fake.seeds == [0, 1, 2] and len(fake.plots) == 1
    assert "over 3 seeds" in results[11].note
    assert results[8].status == "shown" and results[8].experiments == []   # not named: report figures stay


def test_broken_experiment_files_are_named_not_fatal(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "nothing.json").write_text(json.dumps({"title": "no claims"}))
    (tmp_path / "good.json").write_text(json.dumps(experiment("good", claims=[9])))
    results, problems = C.load_experiments(tmp_path)
    assert list(results) == ["good"]
    assert any("broken.json cannot be read" in p and "studyapp lab experiments broken" in p for p in problems)
    assert any("nothing.json is not an experiment result" in p for p in problems)
    assert C.load_experiments(tmp_path / "absent") == ({}, [])


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


def test_a_failed_measurement_is_quoted():
    report = {k: v for k, v in REPORT.items() if k != "reward"}
    report["missing"] = {"reward": "models/reward not found (train it with --stages reward)"}
    results = by_number(C.evaluate(report))
    assert results[8].status == "not measured"
    assert results[8].note == "The report could not measure this. reward: models/reward not found (train it with --stages reward)"


def test_every_figure_shown_for_the_shipped_models_is_in_the_shipped_results():
    models = REPO / "models"
    report, problem = C.load_report(models / C.REPORT_NAME)
    assert report is not None, problem
    shipped, problems = C.load_experiments(models / C.EXPERIMENTS_DIR)
    assert problems == []
    results = by_number(C.evaluate(report, problem, shipped))
    for n in (3, 4, 5):   # the SFT claims are shown by experiments over at least 3 seeds
        assert results[n].status == "experiment" and all(len(e.seeds) >= 3 for e in results[n].experiments)
    for result in results.values():
        for e in result.experiments:
            written = shipped[e.name]["figures"]
            for fig in e.figures:
                assert written[fig.name]["mean"] == fig.mean, (e.name, fig.name)
        for fig in result.figures:
            value = report
            for key in fig.source.split("."):
                value = value[key]
            assert value == fig.value and fig.source.split(".")[-1] not in NOT_FIGURES, fig.label


@pytest.mark.parametrize("mean, low, high, text", [
    (0.0093, 0.0, 0.0278, "0.009 (0.000–0.028)"), (0.5, 0.5, 0.5, "0.500"), (86.29, 40.0, 120.5, "86.3 (40–120)"),
    (None, None, None, "not measured"), (0.2, None, None, "0.200"),
])
def test_a_figure_over_seeds_reads_as_mean_and_range(mean, low, high, text):
    assert C.range_text(mean, low, high) == text


def test_claim_14_opens_a_scenario_where_the_criteria_pull_apart():
    """The homework scenario's guide wins under every weighting; the claim's link opens one where
    the weights change which reply the rater puts first."""
    from studyapp.lab import hhh
    scenario = parse_link(C.claim(14).link).params["scenario"]
    assert hhh.hhh_conflicts()["scenarios"][scenario]["conflict"]


def weight_change_result(block_1: float, block_2: float) -> dict:
    parts = ["embeddings", "block 1", "block 2", "final norm"]
    moved = dict(zip(parts, [0.2, block_1, block_2, 0.03]))
    return {"name": "weight_change", "claims": [4], "title": "Where SFT changes the model", "seeds": [0, 1, 2],
            "verdict": "...", "series": {"parts": parts},
            "figures": {f"relative weight change base -> SFT: {p}": {"mean": v, "min": v, "max": v, "per_seed": [v] * 3}
                        for p, v in moved.items()}}


def test_an_experiment_says_whether_the_tiny_model_shows_its_claim_by_its_own_rule():
    later_more = by_number(C.evaluate(REPORT, "", {"weight_change": weight_change_result(0.14, 0.16)}))[4]
    earlier_more = by_number(C.evaluate(REPORT, "", {"weight_change": weight_change_result(0.16, 0.14)}))[4]
    assert (later_more.status, later_more.shown) == ("experiment", True)
    assert (earlier_more.status, earlier_more.shown) == ("experiment", False)
    # an experiment without a rule, or one whose file lacks what the rule reads, decides nothing
    undecided = by_number(C.evaluate(REPORT, "", {"fake_sweep": experiment(claims=[11])}))[11]
    assert undecided.status == "experiment" and undecided.shown is None
    # one experiment that contradicts a claim outweighs one that cannot decide it
    both = by_number(C.evaluate(REPORT, "", {"weight_change": weight_change_result(0.16, 0.14),
                                             "other": experiment("other", claims=[4])}))[4]
    assert both.shown is False


def test_the_shipped_experiments_show_or_contradict_the_claims_as_their_verdicts_say():
    shipped, problems = C.load_experiments(REPO / "models" / C.EXPERIMENTS_DIR)
    assert problems == []
    results = by_number(C.evaluate(None, "", shipped))
    verdicts = {n: " ".join(e.verdict for e in r.experiments) for n, r in results.items() if r.experiments}
    for n, text in verdicts.items():
        if results[n].shown is False:
            assert "disagrees" in text or "not shown" in text, n
        elif results[n].shown:
            assert "disagrees" not in text and "not shown" not in text, n
    assert results[4].shown is False          # embeddings and block 1 moved most in the tiny model
    assert results[9].shown is None           # how far reward-model seeds differ decides nothing about claim 9


def test_a_control_that_informs_a_claim_is_shown_beside_its_figures_and_decides_nothing():
    plain = by_number(C.evaluate(REPORT))[13]
    control = experiment("refusal_ceiling", claims=(), informs=[13])
    informed = by_number(C.evaluate(REPORT, "", {"refusal_ceiling": control}))
    assert [e.name for e in informed[13].experiments] == ["refusal_ceiling"]
    # the claim keeps the report's figures, status and note; no other claim gets the control
    assert (informed[13].status, informed[13].shown, informed[13].note) == (plain.status, plain.shown, plain.note)
    assert [f.label for f in informed[13].figures] == [f.label for f in plain.figures] != []
    assert all(not r.experiments for n, r in informed.items() if n != 13)


def test_every_figure_the_claims_tab_shows_reads_in_words():
    """The PPO and reward-model experiments write TRL-style metric names ("kl_per_update_clipped");
    the tab shows each in words, the written name kept for the files."""
    shipped, problems = C.load_experiments(REPO / "models" / C.EXPERIMENTS_DIR)
    assert problems == [] and shipped
    for result in by_number(C.evaluate(None, "", shipped)).values():
        for e in result.experiments:
            for fig in e.figures:
                assert "_" not in fig.label and fig.label, (e.name, fig.name, fig.label)
    from studyapp.lab.experiments.shown import figure_label
    assert figure_label("harmful_refusal_beta_0.1") == "harmful requests refused, beta 0.1"
    assert figure_label("kl_per_update_unclipped") == "KL moved per update, clip off"
    assert figure_label("ratio_outside_band_clipped") == "share of tokens with a ratio outside [0.8, 1.2], clip on"
    assert figure_label("a figure in words, beta 0") == "a figure in words, beta 0"
