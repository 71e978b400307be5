"""Nothing cut off on a 1366x768 laptop at 150% scaling, checked offscreen.

At 150% a 1366x768 screen is 911x512 logical pixels and the window opens at 911x472 (bench/screens.py
measured it under Xvfb with QT_SCALE_FACTOR=1.5). Fonts keep their size in logical pixels, so the same
window at 100% on the offscreen platform lays the tabs out as a learner at 150% sees them.
"""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication, QListWidget, QScrollArea, QSplitter,
)

from studyapp.ui.tabs import available_tabs
from studyapp.ui.wrapping import wrap_items
from studyapp.wording import count
from tests.support import MainWindows

SCALED = (911, 472)   # the window at 150% on 1366x768, in logical pixels
PLAIN = (1280, 680)   # the window at 100% on 1366x768


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    windows = MainWindows(tmp_path_factory.mktemp("fits"))
    yield windows.open()[0]
    windows.close()


def show(qtbot, window, name, size):
    window.resize(*size)
    tab = window.show_tab(name)
    qtbot.waitUntil(tab.isVisible, timeout=5000)
    QApplication.processEvents()
    assert (window.width(), window.height()) == size
    return tab, window.tabs.currentWidget()


def settle(qtbot, *widgets) -> None:
    """Wait until the widgets' geometries stop changing (three equal looks, events processed
    between): content that arrives from a worker is laid out over several posted layout rounds,
    and one processEvents can catch a page half-way."""
    seen = []

    def still() -> bool:
        QApplication.processEvents()
        seen.append([w.geometry() for w in widgets])
        return len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]

    qtbot.waitUntil(still)


def room(holder) -> int:
    """The width a tab has in its scroll area, leaving room for a vertical scroll bar."""
    return holder.width() - holder.verticalScrollBar().sizeHint().width()


@pytest.mark.parametrize("name", [spec.name for spec in available_tabs()])
def test_no_tab_needs_a_horizontal_scroll_bar_at_150_percent(qtbot, window, name):
    tab, holder = show(qtbot, window, name, SCALED)
    assert tab.minimumSizeHint().width() <= room(holder), \
        f"the {name} tab needs {tab.minimumSizeHint().width()} px; the window gives {room(holder)}"


def test_every_rlhf_stage_fits_at_150_percent(qtbot, window):
    tab, holder = show(qtbot, window, "rlhf", SCALED)
    for stage in (1, 2, 3, 4):
        tab.show_stage(stage)
        QApplication.processEvents()
        area = tab.pages.currentWidget()
        page = area.widget()
        assert page.minimumSizeHint().width() <= area.viewport().width(), f"stage {stage}"
        assert not area.horizontalScrollBar().isVisible(), f"stage {stage}"
    assert tab.stage_buttons[3].isVisible() and tab.stage_buttons[3].geometry().right() < tab.width()
    tab.show_stage(1)


def test_the_epochs_box_counts_in_words(qtbot, window):
    tab, _ = show(qtbot, window, "rlhf", PLAIN)
    tab.training.epochs_box.setValue(1)
    assert tab.training.epochs_box.text() == "1 epoch"
    tab.training.epochs_box.setValue(3)
    assert tab.training.epochs_box.text() == "3 epochs"
    tab.training.epochs_box.setValue(1)


@pytest.mark.parametrize("size", [SCALED, PLAIN])
def test_hhh_answers_get_the_spare_width_and_no_column_is_cut(qtbot, window, size):
    tab, _ = show(qtbot, window, "hhh", size)
    for scenario in tab.scenarios:
        tab.select(scenario.id)
        QApplication.processEvents()
        table = tab.table
        shown = [c for c in range(table.columnCount()) if not table.isColumnHidden(c)]
        used = sum(table.columnWidth(c) for c in shown)
        assert used <= table.viewport().width() + 1, scenario.id           # nothing past the right edge
        assert table.columnWidth(1) >= 150, scenario.id                    # the answer, not a few letters
        assert table.columnWidth(1) == max(table.columnWidth(c) for c in shown)
        reasons_in_table = not table.isColumnHidden(8)
        assert reasons_in_table != tab.reasons.isVisibleTo(tab)           # the reasons are somewhere
    assert not table.isColumnHidden(8) if size == PLAIN else True          # a wide window keeps the column


def test_claims_scroll_inside_the_tab_not_twice(qtbot, window):
    tab, holder = show(qtbot, window, "claims", SCALED)
    QApplication.processEvents()
    assert tab.height() <= holder.viewport().height()    # the window's scroll area has nothing to scroll
    assert tab.scroll.verticalScrollBar().maximum() > 0   # the cards scroll in the tab's own area


@pytest.mark.parametrize("size", [SCALED, PLAIN])
def test_the_flashcard_never_scrolls_sideways(qtbot, window, size):
    tab, _ = show(qtbot, window, "cards", size)
    tab.show_view("study")
    review = tab.review
    if review.card is not None:
        review.flip()
    QApplication.processEvents()
    scroll = review.frame.findChild(QScrollArea)   # the card's own scroll area
    assert scroll is not None and not scroll.horizontalScrollBar().isVisible()


def test_browse_keeps_room_for_question_and_answer(qtbot, window):
    tab, _ = show(qtbot, window, "cards", SCALED)
    tab.show_view("browse")
    qtbot.waitUntil(lambda: tab.browse.model.rowCount() > 0, timeout=10_000)
    QApplication.processEvents()
    table = tab.browse.table
    assert table.columnWidth(0) >= 0.2 * table.viewport().width()
    assert table.columnWidth(1) >= 0.2 * table.viewport().width()
    assert tab.browse.count.text() == count(tab.browse.model.rowCount(), "card")
    tab.show_view("study")


def test_counts_in_words():
    assert [count(n, "card") for n in (0, 1, 2, 1234)] == ["0 cards", "1 card", "2 cards", "1,234 cards"]
    assert count(1, "reply", "replies") == "1 reply" and count(2, "reply", "replies") == "2 replies"


QUIZ_TITLES = ["1. Why a base model continues your text", "2. Instruction tuning (SFT) teaches obedience",
               "3. RLHF stages 1 and 2, preferences and the reward model", "4. RLHF stage 3, PPO and the KL penalty",
               "5. Helpful, honest, harmless and where refusals come from"]


def drawn_short(lists: QListWidget) -> list[tuple]:
    """Items drawn in less room than the list laid out for them, or wider than the list: where Qt
    drew a wrapped title in a one-title-line rectangle and lost the last line behind "…"."""
    gap, width = 2 * lists.spacing(), lists.viewport().width() - 2 * lists.spacing()
    out = []
    for row in range(lists.count()):
        rect = lists.visualItemRect(lists.item(row))
        if rect.width() > width:
            out.append((row, "wider than the list", rect.width(), width))
        if row + 1 < lists.count():
            laid_out = lists.visualItemRect(lists.item(row + 1)).top() - rect.top() - gap
            if rect.height() < laid_out:
                out.append((row, "drawn shorter than laid out", rect.height(), laid_out))
    return out


def test_wrapped_list_items_keep_every_line_at_any_width(qtbot):
    """Qt measured the first quiz unwrapped when its one-line width was a pixel over the list's
    (252 px at 150%) and drew three lines in a two-line rectangle, the last one lost behind "…"."""
    lists = wrap_items(QListWidget(spacing=3))
    qtbot.addWidget(lists)
    lists.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)   # as the quiz list
    for title in QUIZ_TITLES:
        lists.addItem(f"{title}\n16 questions · not taken yet")
    lists.setCurrentRow(0)
    lists.show()
    widest = max(lists.fontMetrics().horizontalAdvance(t) for t in QUIZ_TITLES)
    short = []
    for width in range(widest - 80, widest + 40):
        lists.resize(width, 600)
        QApplication.processEvents()
        short += [(width, *problem) for problem in drawn_short(lists)]
    assert short == []


def test_the_quiz_list_wraps_at_its_real_width(qtbot, window):
    tab, _ = show(qtbot, window, "quiz", SCALED)
    banks = tab.start_page.banks
    qtbot.waitUntil(lambda: banks.count() > 0, timeout=10_000)
    for width in range(220, 420, 7):     # the splitter moved, as a learner may
        tab.start_page.findChild(QSplitter).setSizes([width, 900])
        QApplication.processEvents()
        assert drawn_short(banks) == [], width


@pytest.mark.parametrize("size", [SCALED, PLAIN])
def test_flashcard_statistics_fit_without_overlapping(qtbot, window, size):
    tab, holder = show(qtbot, window, "cards", size)
    tab.show_view("stats")
    stats = tab.stats_page
    qtbot.waitUntil(lambda: stats.stats is not None, timeout=10_000)
    # The charts and the wrapped explanation take their heights over a few rounds of posted layout
    # requests after the figures arrive: judge the layout a learner sees, once it stops moving.
    settle(qtbot, stats, stats.forecast, stats.explain, stats.retention, stats.status)
    if size == PLAIN:
        assert tab.height() <= holder.viewport().height()          # 1366x768 at 100%: no scrolling
    explain, forecast, retention = stats.explain, stats.forecast, stats.retention
    assert explain.geometry().top() >= forecast.geometry().bottom()
    assert explain.height() >= explain.heightForWidth(explain.width())   # the whole explanation shows
    assert stats.status.geometry().top() >= retention.geometry().bottom()
    tab.show_view("study")


@pytest.mark.parametrize("size", [SCALED, PLAIN])
def test_no_lesson_scrolls_sideways(qtbot, window, size):
    """Code blocks (the loss-mask table of lesson 2, the PPO objective of lesson 4) are 70-90
    monospace characters: at 150% they made the whole lesson scroll sideways; they wrap. And
    a table with more text than room came out one pixel too wide at any size (lesson 5)."""
    tab, _holder = show(qtbot, window, "lessons", size)
    wide = []
    for lesson in tab.lessons:
        tab.open_lesson(lesson.slug)
        qtbot.waitUntil(lambda: tab.current is lesson and bool(tab.spans) or lesson.note)
        settle(qtbot, tab.view, tab.view.horizontalScrollBar())
        bar = tab.view.horizontalScrollBar()
        if bar.maximum() > 0:
            wide.append((lesson.slug, bar.maximum()))
    assert not wide, f"lessons wider than the view by (px): {wide}"


@pytest.mark.parametrize("size", [SCALED, PLAIN])
def test_the_beta_sweep_texts_are_not_drawn_over_by_its_chart(qtbot, window, size):
    """At 150% the sweep's note was squeezed below its wrapped height and its first line lay
    under the chart. Every wrapped text gets the height of its lines, and sits clear of the chart."""
    tab, _holder = show(qtbot, window, "ppo", size)
    view = tab.overopt
    tab.views.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.plot_widget is not None or view.problem)

    def laid_out() -> bool:   # the layout settles over a few posted events
        tall = all(l.height() >= l.heightForWidth(l.width()) for l in (view.title, view.legend, view.note)
                   if l.text())
        if view.plot_widget is None:
            return tall
        chart = view.plot_widget.geometry()
        return (tall and chart.bottom() < view.note.geometry().top()
                and chart.top() > view.legend.geometry().bottom())

    qtbot.waitUntil(laid_out)
