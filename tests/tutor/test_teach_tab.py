"""The Teach tab driven like a learner: type, Ctrl+Enter, see the checklist, find the attempt
stored and reviewable; the draft survives a restart; the tab never imports torch by itself."""
from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6.QtCore import Qt

from studyapp.store.teach import TeachAttempts
from tests.support import make_config, only_tabs
from tests.tutor.explanations import GOOD, PARTIAL


@pytest.fixture
def open_tab(main_windows, monkeypatch):
    """open_tab() -> (window, ctx, tab): the main window on the lessons, teach and progress tabs,
    showing the Teach tab. Opened again, it reopens the same profile (a restart)."""
    only_tabs(monkeypatch, ("lessons", "teach", "progress"))

    def _open():
        window, ctx = main_windows.open()
        return window, ctx, window.show_tab("teach")

    return _open


def check(qtbot, tab, text):
    tab.editor.setFocus()
    tab.editor.setPlainText(text)
    assert tab.check.isEnabled()
    qtbot.keyClick(tab.editor, Qt.Key_Return, Qt.ControlModifier)
    assert tab.task is not None and not tab.check.isEnabled()   # running, button off meanwhile
    qtbot.waitUntil(lambda: tab.task is None, timeout=60_000)


def test_ctrl_enter_grades_shows_the_checklist_and_stores_the_attempt(open_tab, qtbot):
    window, ctx, tab = open_tab()
    check(qtbot, tab, PARTIAL["partial-pretraining-only"])
    assert tab.editor.toPlainText() == PARTIAL["partial-pretraining-only"]   # Ctrl+Enter adds no line
    shown = tab.result.toPlainText()
    assert "of the key points covered" in shown
    assert "Covered (" in shown and "Missing: read these sections" in shown
    assert "Earned by:" in shown and "predict the next word" in shown
    # Sentence by sentence: what each one earned, and the ones that earned nothing.
    assert "Sentence by sentence" in shown and "Earns: Pretraining only teaches continuation" in shown
    assert "Counts for no key point" in shown
    html = tab.result.toHtml()
    assert "studyapp://lessons?lesson=ppo-and-kl#the-kl-penalty-stay-near-the-sft-model" in html
    (attempt,) = TeachAttempts(ctx.store).history()
    assert attempt.text == PARTIAL["partial-pretraining-only"] and 0.1 < attempt.coverage < 0.6
    assert tab.history.count() == 1 and tab.history.currentRow() == 0

    check(qtbot, tab, GOOD["good-compact"])
    assert tab.history.count() == 2
    newest, older = TeachAttempts(ctx.store).history()
    assert newest.coverage > older.coverage
    # Reviewing the older attempt shows its grade and its text.
    tab.history.setCurrentRow(1)
    assert "Attempt of" in tab.result_title.text() and tab.back_to_latest.isVisibleTo(tab)
    assert "Your explanation" in tab.result.toPlainText()
    tab.back_to_latest.click()
    assert tab.result_title.text() == "<b>Latest check</b>"


def test_a_wrong_sentence_is_shown_with_the_words_that_made_it_wrong(open_tab, qtbot):
    window, ctx, tab = open_tab()
    check(qtbot, tab, "People rank the answers that the model writes. "
                      "The KL penalty pushes the model away from the SFT model.")
    shown = tab.result.toPlainText()
    assert "Check this: The KL penalty pushes the model away" in shown
    assert "It says: KL penalty … away … SFT model" in shown                  # why, as written
    assert "charges the model for drifting from the frozen SFT model" in shown  # the feedback
    assert "Earns nothing: The KL penalty pushes the model away" in shown
    assert "Earns: RLHF stage 1: collecting preferences" in shown
    assert "The words that count: People … rank … answers" in shown


def test_missing_point_links_open_the_lesson_section(open_tab, qtbot):
    window, ctx, tab = open_tab()
    check(qtbot, tab, PARTIAL["partial-short"] + " It just predicts words, nothing more than that.")
    from PySide6.QtCore import QUrl
    tab.result.anchorClicked.emit(QUrl("studyapp://lessons?lesson=ppo-and-kl#reward-hacking"))
    assert window.current_tab_name() == "lessons"
    assert window.tab_widgets["lessons"].current.slug == "ppo-and-kl"


def test_draft_is_saved_and_back_after_a_restart(open_tab, qtbot):
    window, ctx, tab = open_tab()
    assert not tab.check.isEnabled()                     # nothing to check yet
    qtbot.keyClicks(tab.editor, "A base model only continues text")
    qtbot.waitUntil(lambda: TeachAttempts(ctx.store).draft(tab.rubric.id).startswith("A base"),
                    timeout=3000)
    assert "write at least" in tab.words.text()
    window.close()
    ctx.store.close(backup=False)
    window2, ctx2, tab2 = open_tab()
    assert tab2.editor.toPlainText() == "A base model only continues text"


def test_open_link_shows_an_attempt(open_tab, qtbot):
    window, ctx, tab = open_tab()
    attempts = TeachAttempts(ctx.store)
    old = attempts.add(tab.rubric.id, "old text here", {"coverage": 0.2, "grader": "g", "points": [],
                                                          "band": "Needs another pass"})
    attempts.add(tab.rubric.id, "new text here", {"coverage": 0.5, "grader": "g", "points": []})
    tab.fill_history()
    window.open_link(f"studyapp://teach?attempt={old}")
    assert tab.history.currentRow() == 1
    assert "old text here" in tab.result.toPlainText()


def test_the_teach_tab_does_not_import_torch():
    code = ("import sys, studyapp.app, studyapp.ui.teach_tab, studyapp.ui.progress_tab; "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_a_broken_rubric_is_named_and_the_good_one_still_works(qtbot, tmp_path):
    from studyapp.app import build_context
    from studyapp.config import RESOURCES_DIR
    from studyapp.ui.teach_tab import TeachTab

    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "broken.md").write_text("---\ntitle: Broken\n---\nPrompt.\n\n## A point\nweight: heavy\n")
    ctx = build_context(make_config(tmp_path))
    try:
        tab = TeachTab(ctx.store, ctx.lessons, [RESOURCES_DIR / "rubrics", pack])
        qtbot.addWidget(tab)
        assert "broken.md, line 7: 'weight' must be a positive number" in tab.errors_label.text()
        assert [r.id for r in tab.rubrics] == ["base-to-assistant", "beyond-ppo"]
        assert "three stages of RLHF" in tab.prompt.text()
    finally:
        ctx.store.close(backup=False)


def test_a_grading_failure_is_shown_and_the_text_kept(open_tab, qtbot, monkeypatch):
    from studyapp.ui import teach_tab

    def broken(rubric, text, progress=None):
        raise RuntimeError("the model files are damaged")

    monkeypatch.setattr(teach_tab, "grade_job", broken)
    window, ctx, tab = open_tab()
    check(qtbot, tab, GOOD["good-compact"])
    assert "could not check this" in tab.result.toPlainText()
    assert "the model files are damaged" in tab.result.toPlainText()
    assert tab.editor.toPlainText() == GOOD["good-compact"] and tab.check.isEnabled()
    assert TeachAttempts(ctx.store).history() == []


def test_the_evidence_is_quoted_in_the_learners_own_letters():
    """The tutor reads lower case; the "It says" line quoted "the KL penalty … SFT model" as
    "kl penalty … sft model". Pieces are looked up in the sentence as written."""
    from studyapp.ui.teach_tab import as_written

    sentence = "The KL penalty pushes the model away from the SFT model."
    assert as_written("kl penalty … away … sft model", sentence) == "KL penalty … away … SFT model"
    # A piece the reader rewrote is not in the sentence as such: it stays as read.
    assert as_written("can not … answer", "It can't answer.") == "can not … answer"
    assert as_written("", sentence) == ""
