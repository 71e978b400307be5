"""A first-ever start (an empty data folder: no profile, no lesson cache) as a learner sees it.

The window opens on the first lesson; what its first picture does not need (caching the rendered
lessons for the next start, bringing the shipped decks into the new profile) runs after the first
frame, off the GUI thread (issue 16). Once that ends the course's cards are there; the Flashcards
tab opened before then says the cards are on their way and shows them when they are in; closing
the window in the middle exits cleanly, a crash in the middle leaves no half-added deck, and the
next start adds the cards.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from studyapp import app as A
from studyapp.content.decks import load_decks
from studyapp.store import LATEST_VERSION
from studyapp.ui import main_window, worker
from tests.support import make_config

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("first_start_driver.py")
# What an unclean exit leaves on stderr (Qt's abort, an exception in a slot, a closed profile).
BAD = ("QThread: Destroyed", "Traceback", "AttributeError", "Aborted", "Fatal Python error")


def shipped_cards(config, lessons) -> int:
    known = {lesson.slug: {s.id for s in lesson.sections} for lesson in lessons}
    decks, errors = load_decks(*config.content_folders("decks"), known=known)
    assert errors == []
    return sum(len(deck.cards) for deck in decks)


def profile_facts(data: Path) -> tuple[int, str, int, int]:
    """(schema version, integrity_check, cards, decks) of the profile, read from outside the app."""
    conn = sqlite3.connect(data / "profile.sqlite3")
    try:
        return (conn.execute("PRAGMA user_version").fetchone()[0],
                conn.execute("PRAGMA integrity_check").fetchone()[0],
                conn.execute("SELECT count(*) FROM card").fetchone()[0],
                conn.execute("SELECT count(*) FROM deck").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def start(qtbot, tmp_path):
    """Start the app as `studyapp` does (studyapp.app._open_window: on an empty folder, the lessons
    load on a thread while the profile is created) and show its window."""
    opened = []

    def _start():
        config = make_config(tmp_path)
        app, ctx, window = A._open_window(config)
        qtbot.addWidget(window)
        opened.append((window, ctx))
        window.show()
        qtbot.waitExposed(window)
        return config, ctx, window

    yield _start
    for window, ctx in opened:
        if ctx.store.conn is not None:
            window.close()
            ctx.store.close(backup=False)


def test_a_first_start_opens_on_the_first_lesson_and_then_has_the_course_cards(start, tmp_path, qtbot):
    assert not (tmp_path / "profile").exists()
    config, ctx, window = start()
    lessons = window.tab_widgets.built("lessons")
    assert window.current_tab_name() == "lessons" and lessons.current is ctx.lessons[0]
    assert ctx.lessons[0].title in lessons.view.toPlainText()
    # The work left until after the first frame ends: the lessons are kept for the next start and
    # the shipped decks are in the new profile, without the Flashcards tab having been opened.
    qtbot.waitUntil(lambda: config.lesson_cache_path.exists() and window.deck_sync is not None
                    and window.deck_sync.done and worker.running("decks") is None, timeout=120_000)
    expected = shipped_cards(config, ctx.lessons)
    version, integrity, cards_in, decks_in = profile_facts(config.data_path)
    assert (version, integrity) == (LATEST_VERSION, "ok") and cards_in == expected > 0 and decks_in >= 1
    assert window.tab_widgets.built("cards") is None
    cards = window.show_tab("cards")
    assert cards.deck_box.itemText(0).endswith(f"{expected} cards")
    assert cards.review.card is not None   # the study page shows the first new card


@pytest.mark.parametrize("when", ["before the sync is due", "while the sync runs"])
def test_the_flashcards_tab_opened_before_the_cards_are_in_says_so_then_shows_them(start, qtbot, monkeypatch, when):
    gate = threading.Event()
    real = main_window._sync_shipped_decks

    def held(*args, cancel):
        gate.wait()
        return real(*args, cancel=cancel)

    monkeypatch.setattr(main_window, "_sync_shipped_decks", held)
    try:
        config, ctx, window = start()
        if when == "before the sync is due":   # the learner clicks Flashcards as soon as the window is up
            qtbot.waitUntil(lambda: window._painted, timeout=120_000)
            assert window.deck_sync is None
        else:
            qtbot.waitUntil(lambda: worker.running("decks") is not None, timeout=120_000)
        cards = window.show_tab("cards")
        assert worker.running("decks") is not None
        assert cards.waiting_for_decks and cards.loading.isVisible() and not cards.pages.isVisible()
        assert "Adding the course's flashcards" in cards.loading.text() and not cards.isEnabled()
        gate.set()
        qtbot.waitUntil(lambda: not cards.waiting_for_decks, timeout=120_000)
    finally:
        gate.set()
    expected = shipped_cards(config, ctx.lessons)
    assert not cards.loading.isVisible() and cards.pages.isVisible() and cards.isEnabled()
    assert cards.deck_box.itemText(0).endswith(f"{expected} cards") and cards.review.card is not None


def run_driver(moment: str, data: Path, *, kill_on: str | None = None) -> tuple[int, str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, str(DRIVER), moment, str(data)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if kill_on is None:
            out, err = child.communicate(timeout=600)
            return child.returncode, out, err
        lines = []
        for line in child.stdout:
            lines.append(line)
            if kill_on in line:
                os.kill(child.pid, signal.SIGKILL)
                break
        child.wait(timeout=600)
        return child.returncode, "".join(lines) + child.stdout.read(), child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_closing_a_first_start_while_its_cards_are_added_exits_cleanly_and_the_next_start_adds_them(
        start, tmp_path, qtbot):
    code, out, err = run_driver("close-while-adding", tmp_path / "profile")
    assert code == 0, f"exit code {code}\n{out[-3000:]}\n{err[-3000:]}"
    assert "event: closing while the shipped decks are being added" in out and "event: run_gui returned 0" in out
    for bad in BAD:
        assert bad not in err, err[-3000:]
    # The sync was cancelled before it wrote: a complete, empty profile, no deck half-added.
    assert profile_facts(tmp_path / "profile") == (LATEST_VERSION, "ok", 0, 0)

    config, ctx, window = start()   # the next start
    qtbot.waitUntil(lambda: window.deck_sync is not None and window.deck_sync.done, timeout=120_000)
    assert profile_facts(config.data_path)[2] == shipped_cards(config, ctx.lessons) > 0


def test_a_crash_half_way_through_adding_the_cards_leaves_none_and_the_next_start_adds_them(
        start, tmp_path, qtbot):
    code, out, _err = run_driver("kill-while-adding", tmp_path / "profile", kill_on="event: cards half added")
    assert code == -signal.SIGKILL and "event: cards half added" in out, out[-3000:]
    # The five cards written were in an uncommitted transaction: the profile holds none of them.
    assert profile_facts(tmp_path / "profile") == (LATEST_VERSION, "ok", 0, 0)

    config, ctx, window = start()   # the next start
    qtbot.waitUntil(lambda: window.deck_sync is not None and window.deck_sync.done, timeout=120_000)
    assert profile_facts(config.data_path)[2] == shipped_cards(config, ctx.lessons) > 0
    cards = window.show_tab("cards")
    assert cards.deck_box.itemText(0).endswith(f"{profile_facts(config.data_path)[2]} cards")
