"""Claim 9's experiment (studyapp.lab.experiments.reward_claims): the rank correlation and the
calibration by hand, and reward_seeds on a tiny SFT model: a result in the runner's format that
tells two copies of one seed (identical scores, rank correlation 1) from two different seeds."""
import json
import math

import pytest

from studyapp.lab.experiments import reward_claims as RC
from studyapp.lab.experiments import EXPERIMENTS
from studyapp.lab.preferences import Pair
from studyapp.lab.reward import RewardConfig


def test_spearman_by_hand():
    assert RC.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert RC.spearman([1, 2, 3, 4], [0.1, 5, 6, 1e6]) == pytest.approx(1.0)     # any monotone map: 1
    assert RC.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ties take their mean rank: ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4)
    assert RC.spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / math.sqrt(4.5 * 5))


def test_calibration_bins_predictions_and_measures_the_error():
    pred = [0.05, 0.05, 0.95, 0.95, 0.55, 0.55]
    won = [False, False, True, True, True, False]
    cal = RC.calibration(pred, won, bins=10)
    assert cal["counts"][0] == 2 and cal["counts"][9] == 2 and cal["counts"][5] == 2 and sum(cal["counts"]) == 6
    assert cal["observed"][0] == 0.0 and cal["observed"][9] == 1.0 and cal["observed"][5] == 0.5
    assert cal["observed"][3] is None                                     # an empty bin has no rate
    # |0 - 0.05| * 2 + |1 - 0.95| * 2 + |0.5 - 0.55| * 2, over 6 pairs
    assert cal["ece"] == pytest.approx(0.05)
    assert RC.calibration([1.0], [True], bins=4)["counts"][3] == 1         # p = 1 falls in the last bin


def test_oriented_pairs_put_the_chosen_reply_first_about_half_the_time():
    pairs = [Pair(f"q{i}", f"good{i}", f"bad{i}", "a > b", 1.0, "heldout_set") for i in range(200)]
    shown = RC.oriented_pairs(pairs)
    assert shown == RC.oriented_pairs(pairs)                               # fixed
    assert all((a.startswith("good")) == won for _, a, _, won in shown)   # "won": the rater prefers A
    assert 70 < sum(won for *_, won in shown) < 130


TINY = RewardConfig(epochs=1, samples_per_prompt=0, sessions=1, prompts_per_kind=8)


@pytest.fixture(scope="module")
def result(tmp_path_factory, tiny_tokenizer):
    from tests.support import make_tiny_sft

    models = tmp_path_factory.mktemp("reward-seeds")
    make_tiny_sft(models / "sft", tokenizer=tiny_tokenizer)
    seen = []
    # seed 0 twice: two copies of one seed must agree exactly; seed 1 is a different run
    res = RC.reward_seeds(models, [0, 0, 1], seen.append, config=TINY, max_pairs=150)
    return res, seen, models


def test_reward_seeds_is_in_the_runners_format(result):
    res, seen, _ = result
    assert EXPERIMENTS["reward_seeds"][:2] == ("reward_claims", "reward_seeds")
    assert res["claims"] == [9] and res["seeds"] == [0, 0, 1] and res["verdict"]
    assert json.loads(json.dumps(res)) == res
    for name, fig in res["figures"].items():
        assert set(fig) == {"mean", "min", "max", "per_seed"}, name
    assert len(res["figures"]["score_mean"]["per_seed"]) == 3                  # one per seed
    assert res["series"]["seed_pairs"] == [[0, 0], [0, 1], [0, 1]]
    assert len(res["figures"]["rank_correlation"]["per_seed"]) == 3            # one per pair of seeds
    for cal in res["series"]["calibration"]:
        assert sum(cal["counts"]) == res["series"]["pairs"] == 150
    assert [e["phase"] for e in seen] == ["train reward model, seed 0"] * 2 + ["train reward model, seed 1"]
    assert len(res["samples"]) == 4 and all("seed 1" in s["label"] for s in res["samples"])


def test_two_copies_of_a_seed_agree_exactly_and_another_seed_does_not(result):
    res, _, _ = result
    gap = res["figures"]["score_abs_gap"]["per_seed"]
    rho = res["figures"]["rank_correlation"]["per_seed"]
    assert gap[0] == 0.0 and rho[0] == pytest.approx(1.0)       # (0, 0): the same model twice
    assert gap[1] > 0.0 and gap[1] == gap[2]                     # (0, 1) twice: another model
    assert rho[1] < 1.0


def test_the_calibration_plot_has_a_band_and_the_diagonal(result):
    res, _, _ = result
    if not res["plots"]:
        pytest.fail("no calibration bin held enough pairs for every seed")
    observed, diagonal = res["plots"][0]["lines"]
    assert diagonal["x"] == [0.0, 1.0] == diagonal["y"]
    assert len(observed["x"]) == len(observed["y"]) == len(observed["y_min"]) == len(observed["y_max"])
    assert all(lo <= y <= hi for lo, y, hi in zip(observed["y_min"], observed["y"], observed["y_max"]))
    assert observed["x"] == sorted(observed["x"]) and all(0 <= x <= 1 for x in observed["x"])


def test_seeds_trained_elsewhere_compare_the_same_as_seeds_trained_here(result, tmp_path):
    from dataclasses import replace

    from studyapp.lab.reward import train_reward

    res, _, models = result
    for seed in (0, 1):
        train_reward(models / "sft", tmp_path / f"rm{seed}", replace(TINY, seed=seed))
    seen = []
    again = RC.reward_seeds(models, [0, 0, 1], seen.append, config=TINY, max_pairs=150,
                            folders=[tmp_path / "rm0", tmp_path / "rm0", tmp_path / "rm1"])
    assert again["figures"] == res["figures"]
    with pytest.raises(ValueError, match="seed 1"):
        RC.reward_seeds(models, [0, 1], seen.append, config=TINY, max_pairs=150,
                        folders=[tmp_path / "rm0", tmp_path / "rm0"])
