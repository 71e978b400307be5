"""The compare tab driven headless the way a learner uses it: run, click a token, bad folders, links."""
import shutil
import subprocess
import sys

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCursor

from studyapp.lab.prompts import preset
from tests.compare.conftest import wait_idle


def test_first_open_streams_the_france_prompt_into_all_three_columns(open_compare, tiny_models, qtbot):
    window, tab = open_compare(models_dir=tiny_models)
    wait_idle(qtbot, tab)
    assert tab.prompt.toPlainText() == "What is the capital of France?"
    for column in tab.columns:
        assert column.tokens, column.spec.key
        assert "capital of France" in column.prompt_shown   # the prompt, as the model reads it
        assert "<|user|>" in column.prompt_shown             # chat format by default
        assert "tokens/s" in column.status.text()
        assert all(len(t["dist"]) == 8 for t in column.tokens)
    # The first run opens the bars of one token so the view explains itself.
    assert tab.dist.current is not None


def test_clicking_a_token_shows_its_distribution(open_compare, tiny_models, qtbot):
    window, tab = open_compare(models_dir=tiny_models)
    wait_idle(qtbot, tab)
    column = tab.columns[0]
    index = next(i for i, t in enumerate(column.tokens) if len(t["text"].strip()) >= 2 and i > 0)
    # Click in the middle of that token's text, as a learner would.
    start = len(column.prompt_shown) + sum(len(t["text"].replace("\n", "↵\n")) for t in column.tokens[:index])
    first, last = QTextCursor(column.view.document()), QTextCursor(column.view.document())
    first.setPosition(start + len(column.tokens[index]["text"]) - len(column.tokens[index]["text"].lstrip()))
    last.setPosition(start + len(column.tokens[index]["text"]))
    # A long answer is scrolled to its end; a learner scrolls back up to the token first.
    column.view.setTextCursor(first)
    column.view.ensureCursorVisible()
    a, b = column.view.cursorRect(first), column.view.cursorRect(last)
    middle = a.center() if a.top() != b.top() else QPoint((a.center().x() + b.center().x()) // 2, a.center().y())
    assert column.view.viewport().rect().contains(middle)
    qtbot.mouseClick(column.view.viewport(), Qt.LeftButton, pos=middle)
    qtbot.waitUntil(lambda: tab.dist.current is not None and tab.dist.current["position"] == index)
    shown = tab.dist.current
    assert shown["model"] == "Base model"
    assert shown["dist"] == column.tokens[index]["dist"]
    assert abs(sum(p for _, p in shown["dist"])) <= 1.0 + 1e-6
    assert column.selected == index and all(c.selected is None for c in tab.columns[1:])
    assert "token " + str(index + 1) in tab.dist.caption.text()


def test_a_wrong_folder_gets_a_clear_message_and_the_column_keeps_its_model(open_compare, tiny_models, qtbot, tmp_path):
    window, tab = open_compare(models_dir=tiny_models)
    wait_idle(qtbot, tab)
    before = tab.slots[1].loaded
    junk = tmp_path / "holiday-photos"
    junk.mkdir()
    (junk / "beach.jpg").write_bytes(b"\xff\xd8")
    tab.controls.own_models.setChecked(True)
    assert tab.columns[1].folder_row.isVisible()
    assert tab.use_folder(1, junk)
    qtbot.waitUntil(lambda: "cannot be used" in tab.columns[1].status.text(), timeout=10_000)
    assert "config.json is missing" in tab.columns[1].status.text()
    assert tab.slots[1].loaded is before and not tab.slots[1].own


def test_own_folder_loads_into_one_column(open_compare, tiny_models, qtbot):
    window, tab = open_compare(models_dir=tiny_models)
    wait_idle(qtbot, tab)
    tab.controls.own_models.setChecked(True)
    tab.use_folder(2, tiny_models / "base")
    qtbot.waitUntil(lambda: tab.slots[2].own, timeout=10_000)
    assert "Your model" in tab.columns[2].title.text()
    wait_idle(qtbot, tab)    # the column answers the prompt again, with the new model
    assert tab.slots[2].answered_by == tiny_models / "base" and tab.columns[2].tokens
    tab.controls.own_models.setChecked(False)   # back to the course model
    qtbot.waitUntil(lambda: not tab.slots[2].own, timeout=10_000)
    assert tab.columns[2].title.text() == "<b>RLHF model</b>"


def test_own_models_can_be_switched_off_by_the_site(open_compare, tiny_models, qtbot, tmp_path):
    window, tab = open_compare(models_dir=tiny_models, allow_own_models=False)
    assert not tab.controls.own_models.isEnabled()
    assert not tab.use_folder(0, tiny_models / "sft")


def test_open_link_sets_the_prompt_and_the_mode(open_compare, tiny_models, qtbot):
    window, tab = open_compare(models_dir=tiny_models)
    wait_idle(qtbot, tab)
    assert window.open_link("studyapp://compare?prompt=harmful&mode=raw")
    assert window.current_tab_name() == "compare"
    assert tab.prompt.toPlainText() == preset("harmful").text
    assert tab.mode == "raw" and tab.format.raw_radio.isChecked()
    assert "continues" in tab.format.mode_text.text()
    wait_idle(qtbot, tab)
    assert all(c.prompt_shown == preset("harmful").text for c in tab.columns)   # raw: no chat markers
    window.open_link("studyapp://compare?prompt=greeting&mode=chat")
    assert tab.prompt.toPlainText() == preset("greeting").text and tab.mode == "chat"
    wait_idle(qtbot, tab)


def test_an_empty_prompt_is_refused(open_compare, tiny_models, qtbot):
    window, tab = open_compare(models_dir=tiny_models)
    wait_idle(qtbot, tab)
    tab.prompt.setPlainText("   ")
    assert not tab.generate_button.isEnabled()
    run = tab.run_id
    qtbot.keyClick(tab.prompt, Qt.Key_Return, Qt.ControlModifier)
    assert tab.run_id == run and not tab.busy()
    assert tab.notice.isVisible() and "Type a prompt" in tab.notice.text()


def test_a_prompt_longer_than_the_context_is_refused_with_the_limit(open_compare, tiny_models, qtbot):
    window, tab = open_compare(models_dir=tiny_models)
    wait_idle(qtbot, tab)
    tab.prompt.setPlainText("What is the capital of France? " * 20)
    assert tab.generate()
    wait_idle(qtbot, tab)
    for column in tab.columns:
        assert "reads at most 64 tokens" in column.message
        assert not column.tokens


def test_generating_again_while_generating_restarts_cleanly(open_compare, tiny_models, qtbot):
    window, tab = open_compare(models_dir=tiny_models)
    wait_idle(qtbot, tab)
    tab.controls.max_new.setValue(60)
    tab.set_preset("homework")
    for _ in range(4):                 # hammer it: each press cancels the run before it
        assert tab.generate()
    wait_idle(qtbot, tab)
    for slot in tab.slots:
        assert slot.run == tab.run_id
        assert "Can you help me with my homework?" in slot.column.prompt_shown
        assert slot.column.tokens and "tokens/s" in slot.column.status.text()
    run = tab.run_id
    qtbot.keyClick(tab.prompt, Qt.Key_Return, Qt.ControlModifier)   # Ctrl+Enter generates
    assert tab.run_id == run + 1 and tab.busy()
    qtbot.keyClick(tab.prompt, Qt.Key_Escape)   # Esc stops
    wait_idle(qtbot, tab)
    assert not tab.busy()


def test_a_missing_models_folder_is_explained_and_the_app_still_works(open_compare, tiny_models, qtbot, tmp_path):
    models = tmp_path / "no-models-yet"
    window, tab = open_compare(models_dir=models)
    wait_idle(qtbot, tab)
    for column in tab.columns:
        assert "could not be loaded" in column.message and "model folder not found" in column.message
        assert "studyapp lab train" in column.message
    assert window.show_tab("lessons") is not None
    # The learner trains the models; the next Generate finds them.
    shutil.copytree(tiny_models, models)
    window.show_tab("compare")
    assert tab.generate()
    wait_idle(qtbot, tab)
    assert all(c.tokens and not c.message for c in tab.columns)


def test_shipped_models_show_the_lesson(open_compare, qtbot):
    """With the real checkpoints: the base model continues the France question as a quiz sheet
    would, with another question, and the SFT model answers it."""
    window, tab = open_compare()
    wait_idle(qtbot, tab, timeout=60_000)
    tab.controls.greedy.setChecked(True)
    tab.format.raw_radio.setChecked(True)     # switching the mode runs again
    wait_idle(qtbot, tab, timeout=60_000)
    assert "?" in tab.columns[0].answer_text()
    tab.format.chat_radio.setChecked(True)
    wait_idle(qtbot, tab, timeout=60_000)
    assert "Paris" in tab.columns[1].answer_text()


def test_the_tab_module_does_not_import_torch():
    code = ("import sys, studyapp.ui.compare_tab, studyapp.ui.compare_jobs, studyapp.lab.prompts; "
            "sys.exit(1 if 'torch' in sys.modules or 'pyqtgraph' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], env={"QT_QPA_PLATFORM": "offscreen"}).returncode == 0
