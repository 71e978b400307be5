"""The Beyond-PPO tab driven headless: shipped results drawn one series per method with the table and
the replies, a clear note (with the command) when there are none, and live runs on tiny models that
land a new point on the charts, or cancel without one."""
import shutil

import pytest
from PySide6.QtCore import Qt

from studyapp.lab import methods as M
from studyapp.ui import worker
from studyapp.ui.methods_tab import MethodsTab
from tests.support import FakeWindow

# A bound for conditions, not a wait: the run's process first loads torch, seconds on a busy machine.
RUN_TIMEOUT_MS = 300_000


def point(method, label, sqrt_kl, gold, proxy, **extra):
    return {"method": method, "label": label, "knobs": {}, "kl": sqrt_kl ** 2, "sqrt_kl": sqrt_kl,
            "kl_from": "test", "gold": gold, "proxy": proxy, "harmful_refusal": 0.25, "harmless_refusal": 0.0,
            "fact_accuracy": 0.5, "samples": [{"prompt": f"{label}?", "response": f"reply of {label}",
                                               "proxy": proxy, "gold": gold}], **extra}


SHIPPED = [point("best_of_n", "best-of-1", 0.0, -0.1, -0.3), point("best_of_n", "best-of-4", 0.8, 0.1, 0.5),
           point("dpo", "DPO beta 0.1", 1.5, 0.3, 0.2, implicit_accuracy_heldout=0.81), point("grpo", "GRPO k 8, 40 steps", 2.0, 0.2, 0.0),
           point("ppo", "PPO (rlhf, beta 0.05)", 1.2, 0.25, 0.9)]


@pytest.fixture(autouse=True)
def stop_tasks():
    yield
    worker.cancel_all(wait_ms=30_000)


def open_tab(qtbot, models, data):
    window = FakeWindow.on_models(models, data)
    tab = MethodsTab(window)
    qtbot.addWidget(tab)
    tab.resize(1300, 680)
    tab.show()
    return tab, window


def test_shipped_results_are_drawn_one_series_per_method_with_rates_and_replies(qtbot, tmp_path):
    models = tmp_path / "models"
    (models / "methods").mkdir(parents=True)
    M.write_results(models / "methods", {"points": SHIPPED, "eval": {"prompts": 112}})
    tab, _ = open_tab(qtbot, models, tmp_path / "profile")
    assert tab.chart.drawn("gold", "best_of_n") == ([0.0, 0.8], [-0.1, 0.1])
    assert tab.chart.drawn("proxy", "best_of_n") == ([0.0, 0.8], [-0.3, 0.5])
    assert tab.chart.drawn("gold", "dpo") == ([1.5], [0.3]) and tab.chart.drawn("proxy", "ppo") == ([1.2], [0.9])
    assert tab.chart.drawn("gold", "grpo") == ([2.0], [0.2])
    legend = tab.chart.legend.text()
    assert [legend.index(name) for name in ("Best-of-n", "DPO", "GRPO", "PPO", "newest")] == sorted(
        legend.index(name) for name in ("Best-of-n", "DPO", "GRPO", "PPO", "newest"))
    assert tab.table.rowCount() == 5
    row = [tab.table.item(2, c).text() for c in range(tab.table.columnCount())]
    assert row == ["DPO beta 0.1", "1.50", "+0.30", "+0.20", "25%", "0%", "50%"]
    assert "81% of the held-out pairs" in tab.table.item(2, 0).toolTip()
    # Selected, a DPO point says its implicit reward's pair accuracy beside the reward model's,
    # read from the reward folder's record when the point has none.
    (models / "reward").mkdir()
    (models / "reward" / "lab.json").write_text('{"result": {"heldout_accuracy": 0.855}}')
    tab.table.selectRow(2)
    assert "ranks 81% of the held-out pairs right; the reward model, 86%" in tab.samples_title.text()
    assert "112 prompts" in tab.notice.text() and "No shipped results" not in tab.notice.text()
    assert not tab.near_box.isVisible() and tab.far_note.text() == ""    # no far point: nothing to drop
    tab.table.selectRow(3)
    assert tab.samples.item(0, 1).text() == "reply of GRPO k 8, 40 steps" and "GRPO" in tab.samples_title.text()
    assert not tab.grab().isNull()


def test_a_far_point_is_left_off_the_view_and_named_until_the_box_is_unticked(qtbot, tmp_path):
    models = tmp_path / "models"
    (models / "methods").mkdir(parents=True)
    far = point("ppo", "PPO (rlhf_beta0, beta 0)", 7.4, -0.77, 2.19)
    M.write_results(models / "methods", {"points": SHIPPED + [far]})
    tab, _ = open_tab(qtbot, models, tmp_path / "profile")
    (x0, x1), (y0, y1) = tab.chart.view_range("gold")
    assert x0 <= 0.0 and 2.0 <= x1 < 7.4 and y0 > -0.77 and y1 >= 0.3   # every near point in view
    assert tab.chart.view_range("proxy")[1][1] < 2.19
    assert tab.chart.drawn("gold", "ppo") == ([1.2, 7.4], [0.25, -0.77])  # still drawn, outside the view
    assert tab.near_box.isVisible() and "PPO (rlhf_beta0, beta 0) at sqrt KL 7.4" in tab.far_note.text()
    tab.near_box.setChecked(False)
    (x0, x1), (y0, y1) = tab.chart.view_range("gold")
    assert x1 >= 7.4 and y0 <= -0.77 and tab.far_note.text() == ""
    tab.near_box.setChecked(True)
    assert tab.chart.view_range("gold")[0][1] < 7.4


def test_without_results_the_tab_says_so_and_gives_the_command(qtbot, tmp_path):
    tab, _ = open_tab(qtbot, tmp_path / "models", tmp_path / "profile")
    assert "No shipped results yet" in tab.notice.text() and M.COMMAND in tab.notice.text()
    assert tab.table.rowCount() == 0 and tab.chart.drawn("gold", "best_of_n") == ([], [])
    assert str(tmp_path) not in tab.notice.text()                  # the folder's name, not the machine's path
    # A broken file is reported, with the command that remakes it, and the tab still opens.
    (tmp_path / "models" / "methods").mkdir(parents=True)
    (tmp_path / "models" / "methods" / "methods.json").write_text("{oops")
    tab.load_shipped()
    assert "could not be read" in tab.notice.text() and M.COMMAND in tab.notice.text()
    assert str(tmp_path) not in tab.notice.text()


def test_start_without_models_explains_and_starts_nothing(qtbot, tmp_path):
    tab, window = open_tab(qtbot, tmp_path / "models", tmp_path / "profile")
    tab.start_button.click()
    assert "SFT model is not in the models folder" in tab.status.text() and tab.task is None
    assert window.statuses and tab.start_button.isEnabled()


def test_the_knobs_follow_the_method_and_a_link_picks_one(qtbot, tmp_path):
    tab, _ = open_tab(qtbot, tmp_path / "models", tmp_path / "profile")
    tab.knobs.n.setValue(8)
    assert tab.knobs.choice() == ("best_of_n", {"n": 8})
    tab.open_link({"method": "grpo"})
    assert tab.knobs.pages.currentIndex() == 2 and tab.knobs.choice() == ("grpo", {"steps": 40, "k": 8})
    tab.knobs.method.setFocus()
    qtbot.keyClick(tab.knobs.method, Qt.Key_Up)                       # the keyboard changes the method too
    assert tab.knobs.choice()[0] == "dpo" and tab.knobs.pages.currentIndex() == 1
    tab.open_link({"method": "sft"})
    assert "Unknown method" in tab.status.text()


def test_the_status_says_what_the_run_is_doing(qtbot, tmp_path):
    tab, _ = open_tab(qtbot, tmp_path / "models", tmp_path / "data")
    tab.running = "dpo"
    tab._on_progress({"stage": "methods", "phase": "load", "step": 0, "total": 1})
    assert "reference" in tab.status.text() and "Sampling" not in tab.status.text()
    tab._on_progress({"stage": "methods", "phase": "dpo", "inner_step": 3, "inner_total": 68})
    assert tab.status.text() == "DPO: step 3 of 68"
    tab._on_progress({"stage": "methods", "phase": "dpo", "inner_step": 68, "inner_total": 68})
    assert "trained (68 steps)" in tab.status.text() and "scoring" in tab.status.text()
    tab.running = "best_of_n"
    tab._on_progress({"stage": "methods", "phase": "load", "step": 0, "total": 1})
    assert "Sampling n replies" in tab.status.text()


@pytest.fixture
def models_with_results(tiny_models, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    for name in ("sft", "reward"):
        shutil.copytree(tiny_models / name, models / name)
    (models / "methods").mkdir()
    M.write_results(models / "methods", {"points": SHIPPED[:2], "eval": {"prompts": 112}})
    return models


def test_a_live_best_of_n_run_lands_its_point_on_the_charts(qtbot, tmp_path, models_with_results):
    tab, window = open_tab(qtbot, models_with_results, tmp_path / "profile")
    tab.knobs.n.setValue(4)
    tab.start_button.click()
    assert not tab.start_button.isEnabled() and tab.cancel_button.isEnabled() and window.tracked
    qtbot.waitUntil(lambda: tab.task is None, timeout=RUN_TIMEOUT_MS)
    assert not window.errors, window.errors
    mine = [p for p in tab.points if p["source"] == "yours"]
    assert [p["knobs"]["n"] for p in mine] == [1, 2, 4]              # the curve up to n, from one draw
    x, y = tab.chart.drawn("gold", "best_of_n")
    assert mine[-1]["sqrt_kl"] in x and mine[-1]["gold"] in y and len(x) == 2 + 3
    # The learner's curve is its own series (hollow symbols), never joined to the shipped one, which
    # has the same x values: one line through both zigzagged between them. A dashed line joins the
    # points of this run.
    assert tab.chart.drawn("gold", "best_of_n", "shipped") == ([0.0, 0.8], [-0.1, 0.1])
    assert tab.chart.drawn("proxy", "best_of_n", "yours") == ([p["sqrt_kl"] for p in mine], [p["proxy"] for p in mine])
    assert tab.chart.dashed("gold") == ([p["sqrt_kl"] for p in mine], [p["gold"] for p in mine])
    ring = tab.chart.rings["gold"].data
    assert len(ring) == 1 and (ring[0]["x"], ring[0]["y"]) == (mine[-1]["sqrt_kl"], mine[-1]["gold"])
    assert tab.table.rowCount() == 5 and tab.table.item(4, 0).text() == "best-of-4 (yours)"
    assert tab.selected_point() is mine[-1] and "landed" in tab.status.text()
    assert tab.start_button.isEnabled() and not tab.cancel_button.isEnabled()
    # The shipped results file is untouched; nothing was written into the models folder.
    assert len(M.read_results(models_with_results / "methods")["points"]) == 2
    # The learner's points are kept in the profile: a tab opened later shows them again.
    again, _ = open_tab(qtbot, models_with_results, tmp_path / "profile")
    assert [p["label"] for p in again.points if p["source"] == "yours"] == [p["label"] for p in mine]
    assert again.chart.drawn("gold", "best_of_n") == (x, y)


def run_live(qtbot, profile, models, method: str, **knobs):
    """Start one live run of `method` in the tab with these knob values and wait for it to land;
    the tab and the learner's one point."""
    tab, window = open_tab(qtbot, models, profile)
    tab.open_link({"method": method})
    for name, value in knobs.items():
        getattr(tab.knobs, name).setValue(value)
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.task is None, timeout=RUN_TIMEOUT_MS)
    assert not window.errors, window.errors
    [mine] = [p for p in tab.points if p["source"] == "yours"]
    return tab, mine


def test_a_live_dpo_run_trains_into_the_profile_and_lands(qtbot, tmp_path, models_with_results):
    tab, mine = run_live(qtbot, tmp_path / "profile", models_with_results, "dpo", beta=0.5, epochs=1)
    assert mine["method"] == "dpo" and mine["knobs"]["beta"] == 0.5 and mine["kl"] != 0
    assert tab.chart.drawn("gold", "dpo") == ([mine["sqrt_kl"]], [mine["gold"]])
    assert (tmp_path / "profile" / "lab" / "methods" / "dpo_beta_0.5" / "config.json").is_file()
    assert not (models_with_results / "methods" / "dpo_beta_0.5").exists()


def test_a_live_grpo_run_lands_beside_the_shipped_points(qtbot, tmp_path, models_with_results):
    tab, mine = run_live(qtbot, tmp_path / "profile", models_with_results, "grpo", steps=2, k=2)
    assert mine["method"] == "grpo" and mine["knobs"] == {"k": 2, "steps": 2, "beta": 0.04}
    assert tab.chart.drawn("proxy", "grpo", "yours") == ([mine["sqrt_kl"]], [mine["proxy"]])
    assert tab.chart.drawn("gold", "grpo", "shipped") == ([], []) and tab.chart.dashed("gold") == ([], [])
    assert tab.table.item(2, 0).text() == "GRPO k 2, 2 steps (yours)"
    assert (tmp_path / "profile" / "lab" / "methods" / "grpo_k2_steps2" / "config.json").is_file()


def test_cancelling_a_grpo_run_adds_nothing(qtbot, tmp_path, models_with_results):
    tab, _ = open_tab(qtbot, models_with_results, tmp_path / "profile")
    tab.open_link({"method": "grpo"})
    tab.knobs.steps.setValue(200)
    tab.start_button.click()
    qtbot.waitUntil(lambda: "GRPO: step" in tab.status.text(), timeout=RUN_TIMEOUT_MS)
    tab.cancel_button.click()
    qtbot.waitUntil(lambda: tab.task is None, timeout=RUN_TIMEOUT_MS)
    assert "Cancelled" in tab.status.text() and len(tab.points) == 2
    assert tab.start_button.isEnabled()


def test_a_second_run_gets_the_busy_message(qtbot, tmp_path, models_with_results):
    tab, window = open_tab(qtbot, models_with_results, tmp_path / "profile")
    tab.open_link({"method": "grpo"})
    tab.knobs.steps.setValue(200)
    tab.start_button.click()
    other, _ = open_tab(qtbot, models_with_results, tmp_path / "profile2")
    other.start()
    assert "still running" in other.status.text() and other.task is None
    tab.cancel()
    qtbot.waitUntil(lambda: tab.task is None, timeout=RUN_TIMEOUT_MS)


def test_a_failing_run_is_reported_with_the_labs_own_words(qtbot, tmp_path, models_with_results):
    (models_with_results / "reward" / "preferences.jsonl").unlink()   # DPO has no pairs to learn from
    tab, window = open_tab(qtbot, models_with_results, tmp_path / "profile")
    tab.open_link({"method": "dpo"})
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.task is None, timeout=RUN_TIMEOUT_MS)
    [(title, message, details)] = window.errors
    assert "preferences not found" in message and "studyapp lab train --stages reward" in message
    assert "Traceback" in details and "The run stopped" in tab.status.text() and len(tab.points) == 2
    assert str(tmp_path) not in tab.status.text() and str(tmp_path) not in message
    assert tab.start_button.isEnabled()
