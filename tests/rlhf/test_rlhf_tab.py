"""The RLHF pipeline tab driven headless: sample, rank, train the reward model, hand over to PPO,
the playground's constant shift, links, and the bad inputs (empty prompt, missing models, busy, cancel)."""
import threading

from PySide6.QtCore import QModelIndex

from studyapp.ui import rlhf_tab, worker


def test_a_ranking_becomes_pairs_and_trains_the_reward_model(open_tab, qtbot):
    tab, window = open_tab(rlhf_tab)
    stage1, stage2 = tab.ranking, tab.training
    k = stage1.rank_list.count()
    assert 2 <= k <= 4 and stage1.responses
    assert stage1.pairs_list.count() == k * (k - 1) // 2          # claim 7: k answers, k(k-1)/2 pairs
    first = stage1.ranked_texts()
    stage1.rank_list.setCurrentRow(0)
    stage1.move_selected(+1)                                       # the learner reorders by keyboard/button
    assert stage1.ranked_texts()[1] == first[0] and stage1.current_pairs[0].chosen == first[1]
    # A drop of a dragged row moves it in the model; the numbering and the pairs follow.
    last = stage1.ranked_texts()[-1]
    stage1.rank_list.model().moveRow(QModelIndex(), k - 1, QModelIndex(), 0)
    qtbot.waitUntil(lambda: stage1.rank_list.item(0).text().startswith(f"1.  {last}"), timeout=2000)
    assert stage1.current_pairs[0].chosen == last
    stage1.keep_pairs()
    assert len(stage1.learner_pairs) == k * (k - 1) // 2
    stage1.keep_pairs()                                            # the same ranking twice adds nothing
    assert len(stage1.learner_pairs) == k * (k - 1) // 2

    tab.show_stage(2)
    assert stage2.pair_table.rowCount() == len(stage1.learner_pairs)   # waiting to be measured
    stage2.epochs_box.setValue(1)
    stage2.max_shipped = 160                                       # seconds, even on the shipped models
    stage2.start_box.setCurrentIndex(0)                            # a fresh reward model: 50% before
    stage2.train()
    assert window.tracked == ["Training the reward model"]
    qtbot.waitUntil(lambda: stage2.train_task is None, timeout=30_000)
    result = stage2.last_result
    assert result["heldout_before"] == 0.5 and result["heldout_after"] != result["heldout_before"]
    assert result["n_mine"] == len(stage1.learner_pairs) == stage2.pair_table.rowCount()
    assert all(0 < p["p_after"] < 1 for p in result["pairs"])
    assert tab.reward_dir == tab.mine_dir and (tab.mine_dir / "model.safetensors").exists()
    assert "→" in stage2.acc_label.text()
    assert "your reward model" in tab.ppo.ppo_label.text()

    tab.show_stage(3)
    tab.ppo.ppo_button.click()
    assert window.links[-1].startswith("studyapp://ppo?reward=") and "reward-mine" in window.links[-1]


def test_cancel_keeps_the_previous_reward_model_and_busy_is_reported(open_tab, qtbot):
    tab, window = open_tab(rlhf_tab)
    stage2 = tab.training
    before = tab.reward_dir
    stage2.train()
    stage2.train_task.cancel()
    qtbot.waitUntil(lambda: stage2.train_task is None, timeout=30_000)
    assert tab.reward_dir == before and "previous reward model is still in use" in stage2.train_status.text()

    release = threading.Event()
    other = worker.run_in_background(lambda: release.wait(10), label="A PPO run", exclusive="training")
    try:
        stage2.train()
        assert stage2.train_task is None and "A PPO run is still running" in stage2.train_status.text()
    finally:
        release.set()
        qtbot.waitUntil(lambda: other.done, timeout=5000)


def test_constant_shift_leaves_the_probability_unchanged(open_tab, qtbot):
    tab, _ = open_tab(rlhf_tab)
    tab.open_link({"playground": "1"})
    pg = tab.playground
    qtbot.waitUntil(lambda: pg.rewards is not None and pg.task is None, timeout=20_000)
    p0 = pg.probability
    label0 = pg.ra_label.text()
    for value in (-100, -37, 25, 100):
        pg.shift_slider.setValue(value)
        assert abs(pg.probability - p0) < 1e-12                     # claim 9
        assert f"{p0:.4f}" in pg.p_label.text()
    assert pg.ra_label.text() != label0                             # the rewards themselves did move
    qtbot.waitUntil(lambda: "parameters" in pg.size_note.text(), timeout=20_000)
    assert "of the policy's parameters" in pg.size_note.text()      # claim 8


def test_links_open_the_right_stage(open_tab):
    tab, _ = open_tab(rlhf_tab)
    for params, page in (({"stage": "2"}, 1), ({"stage": "3"}, 2), ({"stage": "1"}, 0),
                         ({"playground": "1"}, 3), ({"stage": "nonsense"}, 0)):
        tab.open_link(params, "")
        assert tab.pages.currentIndex() == page and tab.stage_buttons[page].isChecked()


def test_empty_and_too_long_prompts_and_an_empty_answer_are_refused(open_tab, qtbot):
    from studyapp.lab.prompts import MAX_PROMPT_CHARS

    tab, _ = open_tab(rlhf_tab)
    stage1 = tab.ranking
    stage1.prompt_box.setCurrentText("   ")
    stage1.sample()
    assert stage1.sample_task is None and "Type a prompt" in stage1.sample_info.text()
    stage1.prompt_box.setCurrentText("x" * (MAX_PROMPT_CHARS + 1))   # refused before any model work
    stage1.sample()
    assert stage1.sample_task is None and f"{MAX_PROMPT_CHARS:,}" in stage1.sample_info.text()
    # Short enough in characters, too long in tokens: the model's context check (the same limit
    # and words as the compare tab's) refuses it once the model is loaded.
    stage1.prompt_box.setCurrentText("What is the capital of France? " * 20)
    stage1.sample()
    qtbot.waitUntil(lambda: stage1.sample_task is None, timeout=30_000)
    assert "Could not sample" in stage1.sample_info.text() and "Shorten the prompt" in stage1.sample_info.text()
    pg = tab.playground
    pg.b_box.setCurrentText("")
    pg.score()
    assert pg.task is None and "Type both answers" in pg.status.text()


def test_missing_models_folder_gives_a_clear_message(open_tab, tmp_path):
    tab, _ = open_tab(rlhf_tab, models=tmp_path / "no-models-here")
    assert tab.banner.isVisibleTo(tab) and "studyapp lab train" in tab.banner.text()
    assert tab.ranking.rank_list.count() == 0
    tab.ranking.sample()
    assert tab.ranking.sample_task is None and "missing" in tab.ranking.sample_info.text()
    tab.training.train()
    assert tab.training.train_task is None and "missing" in tab.training.train_status.text()
