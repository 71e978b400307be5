"""The main window and the lessons tab, driven headless the way a learner uses them."""
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt

from tests.app.test_lessons_content import GOOD
from tests.support import make_config


@pytest.fixture
def open_window(main_windows):
    return lambda **flags: main_windows.open(exposed=True, **flags)


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
    said = []
    tab.status.connect(said.append)
    qtbot.keyClicks(tab.search_box, "Bradley-Terry")
    hits = tab.lesson_list.count()
    # In words, not "3 section(s) match" (issue 15: no developer text on screen).
    assert said[-1] == f"{hits} section{'s' if hits != 1 else ''} match{'es' if hits == 1 else ''} “Bradley-Terry”"
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
    # Without --size, the size the app first opens at: a shot that fits a 1366x768 laptop.
    plain = subprocess.run([sys.executable, "-m", "studyapp", "--data-dir", str(tmp_path / "p"),
                            "screenshot", "--tab", "lessons", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    from studyapp.ui.main_window import DEFAULT_SIZE
    from studyapp.ui.screen_fit import FRAME
    image = QImage(str(out))
    assert (image.width(), image.height()) == DEFAULT_SIZE
    assert image.width() <= 1366 and image.height() <= 768 - FRAME
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


# ---- start-up does only what the first picture needs ---------------------------------------


def test_only_the_tab_on_screen_is_built_and_any_other_is_built_when_asked(open_window, qtbot):
    window, ctx = open_window()
    built = [name for name in window.tab_widgets if window.tab_widgets.built(name) is not None]
    assert built == ["lessons"]
    holder = window._holders["claims"]
    assert "Opening" in holder.widget().text()                        # a placeholder until shown
    # A link builds its tab and passes on its parameters.
    assert window.open_link("studyapp://claims?claim=12")
    assert window.current_tab_name() == "claims" and "2px" in window.tab_widgets.built("claims").cards[12].styleSheet()
    # Ctrl+0 (the View menu's shortcut for the tenth tab) builds and shows it.
    from PySide6.QtGui import QAction, QKeySequence
    [ctrl0] = [a for a in window.findChildren(QAction) if a.shortcut() == QKeySequence("Ctrl+0")]
    ctrl0.trigger()
    assert window.current_tab_name() == window.specs[9].name
    assert window.tab_widgets.built(window.specs[9].name) is window._holders[window.specs[9].name].widget()
    # A click on a tab's title builds it too.
    window.tabs.setCurrentWidget(window._holders["quiz"])
    assert window.tab_widgets.built("quiz") is window._holders["quiz"].widget()
    assert ctx.settings.get("last_tab") == "quiz"


def test_a_start_imports_neither_plots_nor_models_before_its_first_frame(tmp_path):
    code = ("import sys, os\n"
            "from studyapp.cli import main\n"
            "code = main(['--data-dir', sys.argv[1]])\n"
            "print('imported:', sorted(m for m in ('pyqtgraph', 'torch', 'transformers') if m in sys.modules))\n"
            "sys.exit(code)\n")
    import os
    env = dict(os.environ, STUDYAPP_QUIT_AFTER_FIRST_PAINT="1", QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "p")], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "first full frame:" in out.stdout and "imported: []" in out.stdout, out.stdout


FIRST_PAINT_PROBE = """
import sys
from studyapp.ui import main_window as M
original = M.MainWindow._after_first_paint

def probe(self):
    lessons = self.tab_widgets.built("lessons")
    print("at first paint:", sorted(m for m in ("sqlite_utils", "markdown") if m in sys.modules),
          "| showing:", lessons.current.title if lessons is not None and lessons.current else None,
          "| lesson text:", lessons is not None and lessons.current.title in lessons.view.toPlainText(), flush=True)
    original(self)

M.MainWindow._after_first_paint = probe
from studyapp.cli import main
sys.exit(main(["--data-dir", sys.argv[1]]))
"""


def test_a_second_start_shows_the_lesson_without_loading_sqlite_utils_or_markdown_first(tmp_path):
    import os
    from studyapp.content.lessons import load_lessons
    env = dict(os.environ, STUDYAPP_QUIT_AFTER_FIRST_PAINT="1", QT_QPA_PLATFORM="offscreen")
    first_lesson = load_lessons(*make_config(tmp_path).content_folders("lessons"))[0][0].title
    runs = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", FIRST_PAINT_PROBE, str(tmp_path / "p")], env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0 and "first full frame:" in out.stdout, out.stderr
        runs.append(out.stdout)
    # The first start ever parses the lessons and creates the profile (both need the libraries);
    # after it, the lesson cache is there and the second start needs neither before its first paint.
    assert (tmp_path / "p" / "cache" / "lessons.json").exists()
    assert f"at first paint: [] | showing: {first_lesson} | lesson text: True" in runs[1], runs[1]


def test_the_window_loads_the_write_library_after_its_first_paint_and_writes_work(open_window, qtbot, tmp_path):
    import sys
    window, ctx = open_window()
    qtbot.waitUntil(lambda: ctx.store._db is not None, timeout=60_000)   # loaded on a thread
    qtbot.waitUntil(lambda: (tmp_path / "profile" / "cache" / "lessons.json").exists(), timeout=60_000)
    assert "sqlite_utils" in sys.modules
    ctx.progress.mark_section_read("base-models", "x")
    assert "x" in ctx.progress.sections_read("base-models")


def test_the_hidden_reward_playground_waits_to_be_shown_before_it_scores(open_window, qtbot):
    from studyapp.ui import worker
    window, ctx = open_window()
    rlhf = window.tab_widgets["rlhf"]            # built, never shown: what a link's target would be
    playground = rlhf.playground
    assert playground._stale and not playground._debounce.isActive() and playground.task is None
    assert not any(t.label == "Scoring answers" for t in worker._live)
    window.open_link("studyapp://rlhf?playground=1")
    assert playground.isVisible()
    qtbot.waitUntil(lambda: playground.rewards is not None, timeout=120_000)
    assert not playground._stale and playground.status.text() == "Scored by the shipped reward model"


@pytest.mark.parametrize("saved, room, expected", [
    ({}, (1366, 728), (1280, 680, False)),             # a 1366x768 laptop with a panel: the default fits
    ({}, (1366, 768), (1280, 680, False)),
    ({}, (1024, 600), (1024, 560, True)),              # a smaller screen: as large as it, maximised
    ({}, (911, 512), (911, 472, True)),                # 1366x768 at 150% scaling
    ({"width": 1600, "height": 1000}, (1366, 728), (1366, 688, False)),   # a saved size larger than the screen
    ({"width": 1000, "height": 700, "maximized": True}, (1920, 1040), (1000, 700, True)),
    ({"width": 1000, "height": 700}, None, (1000, 700, False)),            # no screen to fit (offscreen)
])
def test_the_window_opens_at_a_size_that_fits_the_screen(saved, room, expected):
    from studyapp.ui.main_window import initial_size
    assert initial_size(saved, room) == expected


def test_a_tab_that_fails_to_build_says_so_and_the_rest_work(open_window, monkeypatch):
    from studyapp.ui import claims_tab

    def broken(window):
        raise RuntimeError("report.json is unreadable")

    monkeypatch.setattr(claims_tab, "create_tab", broken)
    window, _ = open_window()
    window.show_tab("claims")
    assert "could not open: report.json is unreadable" in window._holders["claims"].widget().text()
    assert "report.json is unreadable" in window.statusBar().currentMessage()
    assert window.show_tab("quiz") is not None and window.current_tab_name() == "quiz"


def test_the_title_does_not_repeat_the_app_name(open_window):
    """Qt adds the application display name ("studyapp") to a window's title on X11 and
    Windows; a title that named it too read "studyapp — from base model to assistant — studyapp"."""
    window, ctx = open_window()
    assert window.windowTitle() == "From base model to assistant"
    assert "studyapp" not in window.windowTitle().lower()
    close(window, ctx)
