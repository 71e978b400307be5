"""The claims view in the real main window: cards with the report's figures, a clear note without a
report, studyapp://claims?claim=N, and every "Show me" button opening its tab in the right state."""
import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from studyapp.lab import claims as C
from studyapp.ui.links import parse_link

from tests.support import REPO, only_tabs

from .test_claims import REPORT, experiment

# Only the tabs this test is about (and the lessons tab the window opens on): other tabs are built
# by other work in progress and must not decide whether the claims view works.
OURS = ("lessons", "ppo", "claims")


@pytest.fixture
def open_window(main_windows, tmp_path, monkeypatch):
    only_tabs(monkeypatch, OURS)

    def _open(report=None, experiments=(), models=None):
        models = models or tmp_path / "models"
        if models == tmp_path / "models":
            (models / "experiments").mkdir(parents=True, exist_ok=True)
            for res in experiments:
                (models / "experiments" / f"{res['name']}.json").write_text(json.dumps(res))
        if report is not None:
            (models / "report.json").write_text(json.dumps(report))
        return main_windows.open(models_dir=models)[0]

    return _open


def test_cards_show_the_reports_figures_and_links_open_their_tabs(open_window):
    window = open_window(REPORT)
    tab = window.show_tab("claims")
    assert len(tab.cards) == 14
    assert "measured 12 of 14 claims" in tab.header.text()
    card = tab.cards[11]
    texts = [label.text() for label in card.findChildren(type(tab.header))]
    assert any("58" in t for t in texts) and any("3.1" in t for t in texts)

    for number, card in tab.cards.items():
        window.show_tab("claims")
        card.button.click()
        target = parse_link(card.claim.link).tab
        if target in window.tab_widgets:
            assert window.current_tab_name() == target, card.claim.link
        else:   # a tab another issue is still building: the window says so instead of failing
            assert window.current_tab_name() == "claims"
            assert "not part of this version" in window.statusBar().currentMessage()
    # Claim 12's button left the PPO tab on the beta = 0 preset with its shipped run selected.
    tab.cards[12].button.click()
    ppo = window.tab_widgets["ppo"]
    assert window.current_tab_name() == "ppo" and ppo.settings.beta.value() == 0.0


def test_a_link_scrolls_to_its_claim_and_a_wrong_one_is_explained(open_window, qtbot):
    window = open_window(REPORT)
    assert window.open_link("studyapp://claims?claim=12")
    tab = window.tab_widgets["claims"]
    assert "solid" in tab.cards[12].styleSheet() and "2px" in tab.cards[12].styleSheet()
    assert "1px" in tab.cards[1].styleSheet()
    qtbot.waitUntil(lambda: tab.scroll.verticalScrollBar().value() > 0)
    window.open_link("studyapp://claims?claim=99")
    assert "no claim '99'" in window.statusBar().currentMessage()


def test_without_a_report_every_card_says_how_to_make_one(open_window, tmp_path):
    window = open_window(None)
    tab = window.show_tab("claims")
    assert "studyapp lab report" in tab.header.text()
    assert all(tab.result_of(n).status == "no report" for n in range(1, 15))
    (tmp_path / "models" / "report.json").write_text(json.dumps(REPORT))
    tab.reload()
    assert tab.result_of(12).status == "shown" and "measured" in tab.header.text()


def test_model_output_and_tiny_numbers_read_as_text():
    from studyapp.ui.claims_tab import figure_text, note_text
    assert figure_text("1.19e-07") == "1.19 × 10⁻⁷" and figure_text("3e+05") == "3 × 10⁵"
    assert figure_text("-0.0561 → 1.27") == "-0.0561 → 1.27"        # ordinary numbers untouched
    said = note_text("Base model on 'What is the capital of France?': '\\nWhat is the capital of Turkey?\\nWhat is the'")
    assert said == "Base model, given “What is the capital of France?”, wrote: “⏎ What is the capital of Turkey? ⏎ What is the…”"
    assert "\\n" not in said and "'" not in said
    assert note_text("Later layers move more than earlier ones.") == "Later layers move more than earlier ones."


def test_an_experiment_shows_its_figures_plots_and_verdict_under_each_claim_it_names(open_window):
    window = open_window(REPORT, [experiment("fake_sweep", claims=[11, 12])])
    tab = window.show_tab("claims")
    assert "2 by experiments over seeds" in tab.header.text()
    for n in (11, 12):
        card = tab.cards[n]
        assert [box.experiment.name for box in card.experiments] == ["fake_sweep"]
        box = card.experiments[0]
        assert "0.500 (0.400–0.600)" in box.figures.text() and "gold score at beta 0" in box.figures.text()
        texts = [label.text() for label in card.findChildren(type(tab.header))]
        assert "The gold score falls as the proxy rises." in texts
        assert not any("KL at the end" in t for t in texts)   # the experiment replaces the report's figures
        # The plot: the mean as a line, the range over seeds as a band around it.
        [(label, xs, ys, band)] = box.plots[0].curves
        assert (label, xs, ys) == ("gold", [0, 1, 2], [0.1, 0.3, 0.2])
        assert band == ([0.0, 0.2, 0.1], [0.2, 0.4, 0.3])
    assert tab.cards[8].experiments == []


def test_a_control_shows_beside_the_reports_figures_and_note_and_keeps_the_claims_status(open_window):
    window = open_window(REPORT, [experiment("refusal_ceiling", claims=(), informs=[13])])
    tab = window.show_tab("claims")
    card = tab.cards[13]
    assert [box.experiment.name for box in card.experiments] == ["refusal_ceiling"]
    texts = [label.text() for label in card.findChildren(type(tab.header))]
    assert "The gold score falls as the proxy rises." in texts            # the control's verdict
    assert any(C.RLHF_REFUSES in t for t in texts)                          # the report's figures stay
    assert any("looked like, not what is harmful" in t for t in texts)      # and so does the claim's note
    assert not card.status_text.startswith("experiment")
    assert "0 by experiments over seeds" in tab.header.text()      # a control is not counted as one
    # it comes after the claim's own figures and note, headed as a control
    layout = card.layout()
    at = {layout.itemAt(i).widget(): i for i in range(layout.count()) if layout.itemAt(i).widget()}
    notes = [w for w in at if w.objectName() == "note"]
    assert notes and at[card.experiments[0]] > at[notes[0]]
    assert "Control, read beside this claim" in card.experiments[0].findChildren(QLabel)[0].text()


def test_a_long_table_of_figures_starts_folded_and_a_button_unfolds_it(open_window, qtbot):
    from studyapp.ui.experiment_view import FIGURES_OPEN

    fig = {"mean": 0.5, "min": 0.5, "max": 0.5, "per_seed": [0.5, 0.5, 0.5]}
    many = experiment("big_sweep", claims=[11], figures={f"figure {i}": fig for i in range(FIGURES_OPEN + 5)})
    window = open_window(REPORT, [many, experiment("small_sweep", claims=[12])])
    tab = window.show_tab("claims")
    big, small = tab.cards[11].experiments[0], tab.cards[12].experiments[0]
    assert small.more is None and not small.figures.isHidden()
    assert big.figures.isHidden() and big.more.text() == f"Show all {FIGURES_OPEN + 5} figures"
    big.more.setFocus()
    qtbot.keyClick(big.more, " ")          # keyboard, as a learner without a mouse would
    assert not big.figures.isHidden() and big.more.text().startswith("Hide")
    qtbot.mouseClick(big.more, Qt.LeftButton)
    assert big.figures.isHidden()


def test_the_shipped_claims_show_only_figures_of_the_shipped_results(open_window):
    from studyapp.lab.report import load_report

    window = open_window(models=REPO / "models")
    tab = window.show_tab("claims")
    report = load_report(REPO / "models")
    shipped, _ = C.load_experiments(REPO / "models" / "experiments")
    report_labels = {label for entry in C.report_claims(report).values() for label in entry["figures"]}
    for number, card in tab.cards.items():
        for box in card.experiments:
            assert set(box.shown_figures()) <= set(shipped[box.experiment.name]["figures"]), number
        for figure in tab.result_of(number).figures:
            assert figure.label in report_labels
    assert all(tab.cards[n].experiments for n in (3, 4, 5))
    # the course's claim 4 is contradicted by the tiny model: its chip and the header say so
    assert tab.cards[4].status_text == "experiment over seeds: the tiny model disagrees"
    assert tab.cards[3].status_text == "experiment over seeds: shown"
    assert "the tiny model disagrees with 1 of them" in tab.header.text()


def test_pyqtgraph_waits_until_a_plot_is_drawn():
    import subprocess
    import sys
    code = "import sys, studyapp.ui.claims_tab; print('pyqtgraph' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={"PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "False", out.stderr


def test_an_axis_title_too_long_for_its_axis_moves_its_aside_under_the_plot(qtbot):
    from PySide6.QtWidgets import QApplication
    from studyapp.ui.experiment_view import draw_plot

    plot = {"x_label": "sqrt(KL to the SFT model), mean over seeds; leftmost point: SFT",
            "y_label": "mean score on held-out prompts", "lines": [{"label": "a", "x": [0, 1], "y": [0, 1]}]}
    widget = draw_plot(plot)
    qtbot.addWidget(widget)
    axis = widget.getPlotItem().getAxis("bottom")
    assert axis.labelText == "sqrt(KL to the SFT model), mean over seeds"
    assert widget.note == "leftmost point: SFT"
    from PySide6.QtGui import QFont, QFontMetrics
    from studyapp.ui.experiment_view import PLOT_HEIGHT, Y_AXIS_ROOM
    size = widget.getPlotItem().getAxis("left").labelStyle.get("font-size")   # None: fits as it is
    font = QFont(QApplication.font())
    if size is not None:
        font.setPointSizeF(float(size.removesuffix("pt")))
    assert QFontMetrics(font).horizontalAdvance(plot["y_label"]) <= PLOT_HEIGHT - Y_AXIS_ROOM
    short = draw_plot({**plot, "x_label": "PPO step", "y_label": "share"})
    qtbot.addWidget(short)
    assert short.note == "" and short.getPlotItem().getAxis("left").labelStyle.get("font-size") is None
