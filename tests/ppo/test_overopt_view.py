"""The PPO tab's over-optimisation view: the shipped beta sweep drawn as proxy and gold against
sqrt(KL), one labelled point per beta plus SFT, and a clear note when the sweep is missing or broken.
The sweep file is written by the experiment's own result builder from made-up points."""
import json

import pytest

from studyapp.lab.experiments import ppo_claims as P
from studyapp.lab.ppo_config import PPOConfig
from studyapp.ui.overopt_view import COMMAND, OverOptView
from studyapp.ui.ppo_tab import PPOTab

BETAS = (0.0, 0.1, 0.5)


def fake_point(beta: float, seed: int) -> dict:
    kl = {0.0: 40.0, 0.1: 9.0, 0.5: 1.0}[beta] + seed
    return {"method": "ppo", "label": f"PPO beta {beta:g}, seed {seed}", "beta": beta, "seed": seed, "kl": kl,
            "sqrt_kl": kl ** 0.5, "proxy": 2.0 - beta + 0.1 * seed, "gold": -0.5 + beta + 0.1 * seed,
            "harmful_refusal": 0.5, "harmless_refusal": 0.1, "fact_accuracy": 0.6,
            "samples": [{"prompt": "Hi", "response": "The capital of Norway", "proxy": 2.0, "gold": -1.0}],
            "what_it_did": P.what_it_did(["The capital of Norway"] * 3 if beta == 0 else ["a", "b", "c"]),
            "homework": {"reply": "Let's do it together.", "kind": "guide", "rank": 1, "gold": 2.0}}


def write_sweep(models):
    points = [fake_point(b, s) for s in (0, 1, 2) for b in BETAS]
    sft = {"sqrt_kl": 0.0, "kl": 0.0, "proxy": 0.1, "gold": 0.2, "harmful_refusal": 0.1, "harmless_refusal": 0.0,
           "fact_accuracy": 0.6}
    res = P._sweep_result(points, sft, {"sft": points[0]["homework"]}, BETAS, [0, 1, 2], PPOConfig())
    (models / "experiments").mkdir(parents=True, exist_ok=True)
    (models / "experiments" / "beta_sweep.json").write_text(json.dumps(res))
    return res


def test_the_curve_has_one_labelled_point_per_beta_and_starts_at_sft(qtbot, tmp_path):
    res = write_sweep(tmp_path)
    view = OverOptView(tmp_path)
    qtbot.addWidget(view)
    assert view.plot_widget is None          # nothing drawn before it is shown
    view.resize(900, 500)
    view.show()
    qtbot.waitUntil(lambda: view.plot_widget is not None)
    x, gold = view.drawn("gold")
    _, proxy = view.drawn("proxy")
    by_beta = {r["beta"]: r for r in res["series"]["by_beta"]}
    # SFT, then beta from largest to 0: the policy moves further from SFT along the line
    assert x == pytest.approx([0.0] + [by_beta[b]["sqrt_kl"]["mean"] for b in (0.5, 0.1, 0.0)])
    assert gold == pytest.approx([0.2] + [by_beta[b]["gold"]["mean"] for b in (0.5, 0.1, 0.0)])
    assert proxy[-1] == pytest.approx(by_beta[0.0]["proxy"]["mean"])
    assert [t.textItem.toPlainText() for t in view.labels] == ["SFT", "β 0.5", "β 0.1", "β 0"]
    assert "seed 0: collapse" in view.note.text() and "3 seeds" in view.title.text()
    assert not view.grab().isNull()


@pytest.mark.parametrize("content", [None, "{not json", json.dumps({"series": {"by_beta": []}})])
def test_a_missing_or_broken_sweep_gets_a_note_not_a_chart(qtbot, tmp_path, content):
    if content is not None:
        (tmp_path / "experiments").mkdir()
        (tmp_path / "experiments" / "beta_sweep.json").write_text(content)
    view = OverOptView(tmp_path)
    qtbot.addWidget(view)
    view.show()
    assert view.plot_widget is None
    assert COMMAND in view.note.text() and str(tmp_path / "experiments") in view.note.text()


def test_the_ppo_tab_opens_the_sweep_by_link(qtbot, make_window, models_dir):
    write_sweep(models_dir)
    tab = PPOTab(make_window())
    qtbot.addWidget(tab)
    tab.show()
    assert tab.views.currentWidget() is tab.curves
    tab.open_link({"view": "overopt"})
    assert tab.views.currentWidget() is tab.overopt
    qtbot.waitUntil(lambda: tab.overopt.plot_widget is not None)
    assert len(tab.overopt.drawn("gold")[0]) == 1 + len(BETAS)


def test_chart_captions_give_back_their_height_when_the_window_widens(qtbot):
    from studyapp.ui.curves import CurveGrid

    grid = CurveGrid()
    qtbot.addWidget(grid)
    grid.resize(420, 700)          # narrow: each caption wraps onto many lines
    grid.show()
    caption = grid.charts[0].caption
    qtbot.waitUntil(lambda: caption.minimumHeight() > 0)
    narrow = caption.minimumHeight()
    grid.resize(1300, 700)
    qtbot.waitUntil(lambda: 0 < caption.minimumHeight() < narrow)


def test_only_the_view_on_show_claims_room(qtbot, make_window, models_dir):
    write_sweep(models_dir)
    tab = PPOTab(make_window())
    qtbot.addWidget(tab)
    tab.resize(1300, 700)
    tab.show()
    tab.open_link({"view": "overopt"})
    qtbot.waitUntil(lambda: tab.overopt.plot_widget is not None)
    # the hidden charts' height does not push the replies table off the screen
    assert tab.views.minimumSizeHint().height() < tab.curves.minimumSizeHint().height()
    tab.open_link({"view": "curves"})
    assert tab.views.currentWidget() is tab.curves
