"""The main window and the lessons tab, driven headless the way a learner uses them."""
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studyapp import config as cfg
from studyapp.app import build_context, create_window
from tests.app.test_lessons_content import GOOD


def make_config(tmp_path: Path, **flags) -> cfg.Config:
    flags.setdefault("data_dir", tmp_path / "profile")
    return cfg.load_config(flags, env={}, site_file=tmp_path / "no-site.toml", user_file=tmp_path / "no-user.toml")


@pytest.fixture
def open_window(qtbot, tmp_path):
    opened = []

    def _open(**flags):
        ctx = build_context(make_config(tmp_path, **flags))
        window = create_window(ctx)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        opened.append((window, ctx))
        return window, ctx

    yield _open
    for window, ctx in opened:
        if ctx.store.conn is not None:
            window.close()
            ctx.store.close(backup=False)


def close(window, ctx):
    window.close()
    ctx.store.close(backup=False)


def test_reading_to_the_end_marks_sections_and_survives_a_restart(open_window, qtbot):
    window, ctx = open_window()
    tab = window.tab_widgets["lessons"]
    lesson = tab.current
    assert lesson.slug == "base-models"
    assert tab.read_bar.value() == 0
    bar = tab.view.verticalScrollBar()
    # Scroll through the whole lesson, pausing as a reader would.
    for value in range(0, bar.maximum() + 400, max(200, tab.view.viewport().height() // 2)):
        bar.setValue(value)
        tab._mark_visible_read()
    assert tab.read_bar.value() == len(lesson.sections)
    assert ctx.progress.lesson_progress()[lesson.slug].completed
    close(window, ctx)

    window2, ctx2 = open_window()
    tab2 = window2.tab_widgets["lessons"]
    assert ctx2.progress.sections_read(lesson.slug) == {s.id for s in lesson.sections}
    assert tab2.lesson_list.item(0).text().startswith("✓ ")
    assert tab2.complete_button.isChecked()
    tab2.complete_button.click()                      # the learner can undo "complete"
    assert not ctx2.progress.lesson_progress()[lesson.slug].completed


def test_sections_not_scrolled_to_are_not_read(open_window):
    window, ctx = open_window()
    tab = window.tab_widgets["lessons"]
    tab._mark_visible_read()
    read = ctx.progress.sections_read(tab.current.slug)
    assert len(read) < len(tab.current.sections)


def test_search_lists_sections_and_opens_the_hit(open_window, qtbot):
    window, _ = open_window()
    tab = window.tab_widgets["lessons"]
    qtbot.keyClicks(tab.search_box, "Bradley-Terry")
    first = tab.lesson_list.item(0)
    assert "›" in first.text()
    tab._item_chosen(first)
    assert tab.current.slug == first.data(Qt.UserRole)
    assert tab.find_box.text() == "Bradley-Terry"


def test_ctrl_f_finds_text_in_the_lesson(open_window, qtbot):
    window, _ = open_window()
    tab = window.tab_widgets["lessons"]
    window._find()
    assert tab.find_bar.isVisible()
    qtbot.keyClicks(tab.find_box, "next-token")
    assert tab.view.textCursor().selectedText().lower() == "next-token"
    tab.find_box.setText("zzzz-not-in-any-lesson")
    assert "background" in tab.find_box.styleSheet()


def test_studyapp_links_switch_tab_and_state(open_window):
    window, _ = open_window()
    tab = window.tab_widgets["lessons"]
    target = tab.lessons[2]
    assert window.open_link(f"studyapp://lessons?lesson={target.slug}#{target.sections[1].id}")
    assert tab.current is target
    assert not window.open_link("studyapp://nosuchtab?x=1")
    assert "nosuchtab" in window.statusBar().currentMessage()


def test_a_broken_lesson_shows_an_error_entry_and_the_rest_work(open_window, tmp_path):
    pack = tmp_path / "pack" / "lessons"
    pack.mkdir(parents=True)
    (pack / "50-broken.md").write_text("---\ntitle: Broken\norder: x\n---\n", encoding="utf-8")
    (pack / "51-extra.md").write_text(GOOD.replace("order: 2", "order: 51"), encoding="utf-8")
    window, _ = open_window(content_dir=tmp_path / "pack")
    tab = window.tab_widgets["lessons"]
    texts = [tab.lesson_list.item(i).text() for i in range(tab.lesson_list.count())]
    assert any("50-broken.md" in t and "line 1" in t for t in texts)
    assert tab.open_lesson("extra")


def test_window_size_last_tab_and_theme_are_remembered(open_window):
    window, ctx = open_window()
    window.resize(1000, 700)
    window.set_theme("dark")
    close(window, ctx)
    window2, ctx2 = open_window()
    assert (window2.width(), window2.height()) == (1000, 700)
    assert window2.theme_actions["dark"].isChecked()
    assert ctx2.settings.get("last_tab") == "lessons"


def test_importing_the_app_does_not_import_torch():
    code = "import sys, studyapp.app, studyapp.ui.main_window; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_screenshot_command_writes_a_png(tmp_path):
    out = tmp_path / "lessons.png"
    run = subprocess.run([sys.executable, "-m", "studyapp", "--data-dir", str(tmp_path / "p"),
                          "screenshot", "--tab", "lessons", "--out", str(out), "--size", "1000x700"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    from PySide6.QtGui import QImage
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1000, 700)
    bad = subprocess.run([sys.executable, "-m", "studyapp", "--data-dir", str(tmp_path / "p"),
                          "screenshot", "--tab", "nope", "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and "lessons" in bad.stderr


def test_unwritable_data_folder_fails_with_a_clear_message(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    run = subprocess.run([sys.executable, "-m", "studyapp", "--data-dir", str(blocker / "sub"),
                          "screenshot", "--tab", "lessons", "--out", str(tmp_path / "x.png")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert str(blocker / "sub") in run.stderr


def test_a_damaged_profile_is_restored_and_the_learner_is_told(open_window, tmp_path):
    window, ctx = open_window()
    ctx.progress.mark_section_read("base-models", "what-pretraining-actually-trains")
    ctx.store.backup_now()
    close(window, ctx)
    profile = tmp_path / "profile" / "profile.sqlite3"
    data = bytearray(profile.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)          # wreck the schema page
    profile.write_bytes(bytes(data))
    window2, ctx2 = open_window()
    text = " ".join(ctx2.messages).lower()
    assert "damaged" in text and "backup" in text
    assert "what-pretraining-actually-trains" in ctx2.progress.sections_read("base-models")
    assert any(p.name.startswith("profile.damaged") for p in profile.parent.iterdir())
