"""The Flashcards tab driven like a learner: keys, previews on the buttons, undo, delete, stats."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studyapp import config as cfg
from studyapp.srs.review import Reviewer
from studyapp.srs.scheduling import Options
from studyapp.ui.cards_tab import CardsTab
from tests.support import FakeWindow


@pytest.fixture
def tab(qtbot, store, lessons, tmp_path):
    window = FakeWindow.of(store, cfg.load_config({"data_dir": tmp_path / "profile"}, env={}), lessons)
    widget = CardsTab(window)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    widget.window_ = window
    return widget


def log_count(store) -> int:
    return store.db.execute("SELECT count(*) FROM review_log").fetchone()[0]


def test_shipped_deck_is_in_the_profile_and_the_first_card_shows(tab, shipped):
    assert tab.cards.count() == shipped
    assert tab.review.card is not None and "base model" in tab.review.question.text()
    assert tab.review.answer.isHidden()


def test_review_session_with_keys_previews_and_undo(tab, qtbot, store):
    page = tab.review
    first = page.card
    expected = [p.label for p in Reviewer(store).previews(first)]
    qtbot.keyClick(page, Qt.Key_3)                 # rating before the flip does nothing
    assert log_count(store) == 0
    qtbot.keyClick(page, Qt.Key_Space)
    assert page.flipped and page.answer.isVisible()
    labels = [page.rate_buttons[r].text().split("\n")[1] for r in (1, 2, 3, 4)]
    assert labels == expected
    assert "From the lesson" in page.lesson_label.text()

    qtbot.keyClick(page, Qt.Key_3)                 # Good: committed, next card shown
    assert log_count(store) == 1 and page.card.id != first.id and not page.flipped
    qtbot.keyClick(page, Qt.Key_Space)
    qtbot.keyClick(page, Qt.Key_1)                 # Again
    assert log_count(store) == 2
    qtbot.keyClick(page, Qt.Key_U)                 # undo the Again
    assert log_count(store) == 1
    qtbot.keyClick(page, Qt.Key_Z, Qt.ControlModifier)   # and the Good
    assert log_count(store) == 0 and page.card.id == first.id
    assert tab.cards.get(first.id).schedule.state == 0


def test_lesson_link_opens_the_section(tab, qtbot):
    qtbot.keyClick(tab.review, Qt.Key_Space)
    card = tab.review.card
    tab.review.lesson_label.linkActivated.emit(f"{card.lesson_id}#{card.section_id}")
    assert tab.window_.links == [f"studyapp://lessons?lesson={card.lesson_id}#{card.section_id}"]


def test_daily_new_limit_ends_the_session(tab, qtbot, store):
    Options(new_per_day=2, learning_steps=()).save(store)
    tab.review.start(None, Options.load(store))
    for _ in range(2):
        qtbot.keyClick(tab.review, Qt.Key_Space)
        qtbot.keyClick(tab.review, Qt.Key_4)
    assert tab.review.card is None
    assert "All done" in tab.review.question.text() and "limit of 2 new" in tab.review.answer.text()


def test_delete_with_undo(tab, store, shipped):
    card = tab.review.card
    tab.delete_card(card.id)
    assert tab.cards.count() == shipped - 1 and tab.review.card.id != card.id
    assert tab.undo_bar.isVisible()
    tab.undo_delete()
    assert tab.cards.count() == shipped and not tab.undo_bar.isVisible()


def test_browse_and_statistics_fill_from_workers(tab, qtbot, store, shipped, course_decks):
    tab.show_view("browse")
    qtbot.waitUntil(lambda: tab.browse.model.rowCount() == shipped, timeout=5000)
    matching = [c for d in course_decks for c in d.cards if "bradley" in (c.front + c.back).lower()]
    assert 0 < len(matching) < shipped                # the search must narrow the list
    tab.browse.search.setText("Bradley")
    qtbot.waitUntil(lambda: tab.browse.model.rowCount() == len(matching), timeout=5000)

    qtbot.keyClick(tab.review, Qt.Key_Space)       # one review so the plots have a bar
    qtbot.keyClick(tab.review, Qt.Key_3)
    with qtbot.waitSignal(_stats_ready(tab), timeout=10000):
        tab.show_view("stats")
    stats = tab.stats_page.stats
    assert stats.learned[-1] == 1 and stats.counts["total"] == shipped
    assert tab.stats_page.tiles["today"][0].text() == "1"


def _stats_ready(tab):
    tab._ensure_stats()
    return tab.stats_page.ready


def test_options_dialog_saves_and_says_why_optimize_is_off(tab, qtbot, store):
    from studyapp.ui.cards_dialogs import OptionsDialog
    dialog = OptionsDialog(tab, store, Options.load(store))
    qtbot.addWidget(dialog)
    assert not dialog.optimize_button.isEnabled()
    assert "it needs 400" in dialog.optimizer_note.text() or "needs 400 reviews" in dialog.optimizer_note.text()
    dialog.retention.setValue(0.95)
    dialog.learning.setText("2m, 20m")
    dialog.accept()
    saved = Options.load(store)
    assert saved.desired_retention == 0.95 and saved.learning_steps == ("2m", "20m")


def test_optimizer_is_offered_only_with_the_extra_and_enough_reviews(store, monkeypatch):
    from studyapp.srs import optimize
    monkeypatch.setattr(optimize, "extra_installed", lambda: False)
    ready, reason = optimize.availability(store)
    assert not ready and 'pip install "fsrs[optimizer]"' in reason
    monkeypatch.setattr(optimize, "extra_installed", lambda: True)
    assert optimize.availability(store) == (False, "The optimizer needs 400 reviews to learn from; you have 0.")
    monkeypatch.setattr(optimize, "MIN_REVIEWS", 0)
    assert optimize.availability(store)[0]


def test_add_card_through_the_dialog_links_a_lesson_section(tab, qtbot, store):
    from PySide6.QtWidgets import QApplication
    from studyapp.ui.cards_dialogs import CardDialog
    tab.add_card()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CardDialog) and w.isVisible())
    dialog.accept()                                   # empty: refused, with a message
    assert dialog.isVisible() and dialog.error.isVisible()
    dialog.front.setPlainText("Why clip the ratio?")
    dialog.back.setPlainText("So one update cannot move a probability far.")
    dialog.lesson.setCurrentIndex(dialog.lesson.findData("ppo-and-kl"))
    dialog.section.setCurrentIndex(dialog.section.findData("ppo-clipping-many-small-steps"))
    dialog.accept()
    (row,) = tab.cards.search("Why clip")
    assert (row["deck_id"], row["lesson_id"], row["section_id"]) == \
        ("my-cards", "ppo-and-kl", "ppo-clipping-many-small-steps")
    assert tab.window_.statuses[-1].startswith("Card added")
