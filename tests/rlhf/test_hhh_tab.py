"""The HHH explorer: the three models' replies and the written examples, rated live under the weights."""
from studyapp.ui import hhh_tab


def _top_sources(tab):
    return {r.candidate.source for r in tab.ranking() if r.rank == 1}


def test_weights_change_the_ranking_and_models_answer(open_tab, qtbot):
    tab, _ = open_tab(hhh_tab)
    tab.open_link({"scenario": "harmful"}, "")
    assert tab.current.id == "harmful"
    qtbot.waitUntil(lambda: "harmful" in tab.candidates, timeout=20_000)
    sources = [c.source for c in tab.current_candidates()]
    assert {"base model (plain text in)", "SFT model", "RLHF model"} <= set(sources)
    assert all(c.reward is not None for c in tab.current_candidates())      # the reward model scored each

    tab.reset_weights()
    assert _top_sources(tab) <= {"written example: a refusal", "written example: a warm refusal"}
    tab.set_weights(harmless=0.2, bias=0.0)                                 # claim 14: harmless counts little
    top = tab.ranking()[0]
    assert top.judgement.harmless < 0 and top.judgement.helpful > 0          # now compliance wins
    assert "▲" in tab.table.item(0, 0).text()                                # and the table shows it moved up
    assert tab.table.rowCount() == len(sources)


def test_every_scenario_link_opens_and_rates(open_tab):
    tab, _ = open_tab(hhh_tab)
    for sid in ("homework", "harmful", "uncertain", "agree"):
        tab.open_link({"scenario": sid}, "")
        assert tab.current.id == sid and tab.table.rowCount() >= len(tab.current.examples)
        assert "prefers" in tab.summary.text() or "tie" in tab.summary.text()
    tab.open_link({"scenario": "no-such-thing"}, "")
    assert tab.current.id == "agree"                                          # an unknown one changes nothing


def test_without_models_the_written_examples_still_work(open_tab, tmp_path):
    tab, _ = open_tab(hhh_tab, models=tmp_path / "none")
    assert tab.banner.isVisibleTo(tab)
    tab.open_link({"scenario": "uncertain"}, "")
    assert tab.table.rowCount() == len(tab.current.examples)
    assert "admits not knowing" in tab.table.item(1, 2).text()               # honest beats a wrong guess
