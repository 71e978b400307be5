"""The quiz tab driven the way a learner uses it: keys and clicks, both modes, history, cards."""
import json

import pytest
from PySide6.QtCore import Qt, QUrl

from studyapp import config as cfg
from studyapp.content.lessons import load_lessons
from studyapp.store.quiz import QuizHistory
from studyapp.ui.quiz_tab import QuizTab, create_tab
from tests.support import FakeWindow


@pytest.fixture(scope="module")
def lessons():
    return load_lessons(cfg.RESOURCES_DIR / "lessons")[0]


@pytest.fixture
def tab(qtbot, store, lessons, bank_dir):
    widget = QuizTab(store, lessons, [bank_dir])
    widget.shuffle_options = False     # these tests name options by their place in the bank
    qtbot.addWidget(widget)
    widget.resize(1100, 760)
    widget.show()
    qtbot.waitUntil(lambda: bool(widget.banks), timeout=5000)
    return widget


def cards(store):
    return store.db.execute("SELECT front, lesson_id, section_id, origin FROM card").fetchall()


def press(qtbot, widget, *keys):
    for key in keys:
        qtbot.keyClick(widget, key)


def test_practice_with_keys_and_clicks(qtbot, tab, store):
    assert tab.start_page.banks.count() == 1 and "not taken yet" in tab.start_page.banks.item(0).text()
    qtbot.mouseClick(tab.start_page.practice, Qt.LeftButton)
    qp = tab.question_page
    assert tab.stack.currentWidget() is qp and "Question <b>1</b> of 4" in qp.counter.text()

    press(qtbot, qp, Qt.Key_1, Qt.Key_Return)              # option A: wrong
    assert qp.rows[0].status == "wrong" and qp.rows[0].feedback.isVisible()
    assert "helpfulness" in qp.rows[0].feedback.text()
    assert qp.verdict.text().count("Not quite") and not qp.explanation.isVisible()
    assert qp.reveal_button.isVisible() and qp.go.text() == "Check"
    qtbot.mouseClick(qp.rows[1], Qt.LeftButton)            # option B by mouse
    assert qp.rows[1].picked and qp.rows[0].status == ""   # a new try clears the marks
    qtbot.keyClick(qp, Qt.Key_Return)
    assert qp.rows[1].status == "right" and "at try 2" in qp.verdict.text()
    assert qp.explanation.isVisible()
    assert "studyapp://lessons?lesson=base-models#what-pretraining-actually-trains" in qp.explanation.text()
    assert qp.card_button.isVisible()                      # missed at first: a card can be made
    qtbot.mouseClick(qp.card_button, Qt.LeftButton)
    assert cards(store) == [("What does pretraining optimise?", "base-models",
                             "what-pretraining-actually-trains", "quiz")]
    qtbot.mouseClick(qp.card_button, Qt.LeftButton)        # disabled now: still one card
    assert len(cards(store)) == 1 and not qp.card_button.isEnabled()
    qtbot.keyClick(qp, Qt.Key_Return)                      # next question

    press(qtbot, qp, Qt.Key_A, Qt.Key_Return)              # multiple: one of two right options
    assert "missing" in qp.verdict.text() and qp.rows[2].status == ""
    press(qtbot, qp, Qt.Key_B, Qt.Key_Return)              # A and B picked now
    assert "Right" in qp.verdict.text() and qp.card_button.isVisible()   # missed at first
    qtbot.keyClick(qp, Qt.Key_Return)

    press(qtbot, qp, Qt.Key_2, Qt.Key_Return, Qt.Key_Return)   # true/false: False, then next
    qtbot.keyClicks(qp.answer_box, "instruction")
    qtbot.keyClick(qp.answer_box, Qt.Key_Return)
    qtbot.keyClick(qp.answer_box, Qt.Key_Return)           # the same text again is not a new try
    assert qp.session.tries["4"] == 1 and "Instruction" in qp.short_feedback.text()
    qp.answer_box.clear()
    qtbot.keyClicks(qp.answer_box, "  the PREFIX! ")
    qtbot.keyClick(qp.answer_box, Qt.Key_Return)
    assert "Right" in qp.verdict.text() and qp.go.text() == "See your results"
    qtbot.keyClick(qp, Qt.Key_Return)

    assert tab.stack.currentWidget() is tab.review_page
    assert tab.review_page.heading.text().startswith("1 of 4 right the first time")
    (attempt,) = QuizHistory(store).attempts()
    assert attempt.finished and attempt.score == 1 and attempt.mode == "practice"
    assert QuizHistory(store).best_scores() == {"base-models": 0.25}
    qtbot.mouseClick(tab.review_page.back_button, Qt.LeftButton)
    assert "best 25%" in tab.start_page.banks.item(0).text()
    assert tab.start_page.history.topLevelItem(0).text(2) == "1 / 4  (25%)"


def test_test_mode_grades_once_then_reviews_and_history_reopens_it(qtbot, tab, store):
    qtbot.mouseClick(tab.start_page.test, Qt.LeftButton)
    qp = tab.question_page
    press(qtbot, qp, Qt.Key_B)
    assert qp.go.text() == "Next question →"
    qtbot.keyClick(qp, Qt.Key_Return)                      # right, but nothing is shown
    assert qp.session.index == 1 and not qp.feedback.isVisible()
    press(qtbot, qp, Qt.Key_1, Qt.Key_Return)              # multiple, one right option missing
    press(qtbot, qp, Qt.Key_Return)                        # nothing picked: Enter does nothing
    assert qp.session.index == 2 and not qp.go.isEnabled()
    press(qtbot, qp, Qt.Key_2, Qt.Key_Return)
    qtbot.keyClicks(qp.answer_box, "prefixes")
    assert qp.go.text() == "Finish and see results"
    qtbot.keyClick(qp.answer_box, Qt.Key_Return)

    review = tab.review_page
    assert tab.stack.currentWidget() is review
    assert review.heading.text().startswith("3 of 4 right ·")
    page = review.view.toPlainText()
    assert "Right answer: Worksheets.; Quiz sheets." in page and "Your answer: “prefixes”" in page
    assert "They state facts in sentences." not in page     # feedback only for chosen/right ones
    assert "Make a flashcard" in page
    review.view.anchorClicked.emit(QUrl("card:2"))          # the review's link for question 2
    assert cards(store)[0][0] == "Which documents list questions one after another?"
    assert "Flashcard made" in review.view.toPlainText()
    assert QuizHistory(store).best_by_bank() == {"small": 0.75}

    qtbot.mouseClick(review.back_button, Qt.LeftButton)
    item = tab.start_page.history.topLevelItem(0)
    assert item.text(1) == "Test" and item.text(2) == "3 / 4  (75%)"
    tab.start_page.history.itemActivated.emit(item, 0)     # double-click / Enter on the row
    assert tab.stack.currentWidget() is review and "3 of 4" in review.heading.text()


def test_leaving_keeps_an_unfinished_attempt_and_links_open_a_quiz(qtbot, tab, store):
    tab.open_link({"lesson": "base-models", "mode": "practice"}, "")
    qp = tab.question_page
    assert tab.stack.currentWidget() is qp and qp.session.mode == "practice"
    press(qtbot, qp, Qt.Key_2, Qt.Key_Return, Qt.Key_Escape)
    assert tab.stack.currentWidget() is tab.start_page
    assert tab.start_page.history.topLevelItem(0).text(3) == "not finished"
    assert QuizHistory(store).best_scores() == {}
    with qtbot.waitSignal(tab.status) as said:
        tab.open_link({"lesson": "no-such-lesson"}, "")
    assert "no quiz" in said.args[0]


def test_create_tab_reads_the_shipped_banks_and_routes_links(qtbot, store, lessons, tmp_path):
    config = cfg.load_config({"data_dir": tmp_path / "p"}, env={}, site_file=tmp_path / "s.toml",
                             user_file=tmp_path / "u.toml")
    window = FakeWindow.of(store, config, lessons)
    widget = create_tab(window)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: bool(widget.banks), timeout=5000)
    assert widget.load_errors == []
    assert [b.lesson_id for b in widget.banks] == ["base-models", "instruction-tuning",
                                                   "preferences-and-rewards", "ppo-and-kl", "hhh", "beyond-ppo"]
    widget.question_page.open_section.emit("studyapp://lessons?lesson=hhh#summary")
    assert window.links == ["studyapp://lessons?lesson=hhh#summary"]


def test_broken_questions_are_listed_on_the_start_page(qtbot, store, lessons, bank_dir):
    (bank_dir / "broken.md").write_text("---\nlesson: hhh\n---\n### 1. single\nNo options.\n\n"
                                        "**Explanation:** e\n", encoding="utf-8")
    widget = QuizTab(store, lessons, [bank_dir])
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: bool(widget.banks), timeout=5000)
    assert [b.id for b in widget.banks] == ["small"]        # the good bank still loads
    assert widget.start_page.errors.isVisible()
    assert "broken.md, line 4: a choice question needs at least two options" in widget.start_page.errors.text()


@pytest.mark.parametrize("part", ["heading", "text"])
def test_a_mode_card_starts_the_quiz_when_its_text_is_clicked(qtbot, tab, part):
    card = tab.start_page.practice
    child = getattr(card, part)
    assert child.isVisible() and child.parent() is card
    qtbot.mouseClick(child, Qt.LeftButton)          # on the label inside, not on the card's margin
    assert tab.stack.currentWidget() is tab.question_page
    assert tab.session.mode == "practice"


def test_options_are_shuffled_per_attempt_and_keep_their_feedback(qtbot, tab, store):
    tab.shuffle_options = True
    orders = set()
    for _ in range(12):
        qtbot.mouseClick(tab.start_page.test, Qt.LeftButton)
        qp = tab.question_page
        orders.add(tuple(row.index for row in qp.rows))
        qtbot.keyClick(qp, Qt.Key_Escape)
    assert len(orders) > 1                           # 3 options: 6 orders, 12 attempts
    qtbot.mouseClick(tab.start_page.practice, Qt.LeftButton)
    qp = tab.question_page
    shown = [row.option.text for row in qp.rows]
    assert sorted(shown) == sorted(o.text for o in tab.bank.questions[0].options)
    right = next(p for p, row in enumerate(qp.rows) if row.option.correct)
    qtbot.keyClick(qp, str(right + 1))               # the key names the place on screen
    qtbot.keyClick(qp, Qt.Key_Return)
    row = qp.rows[right]
    assert row.status == "right" and "only objective" in row.feedback.text()
    assert row.badge.text() == "ABC"[right]
    # Recorded as the bank's option index (option 2 is the right one), whatever its place on screen.
    answer = store.db.execute("SELECT answer FROM quiz_answer ORDER BY answered_at DESC, try_no DESC LIMIT 1").fetchone()[0]
    assert json.loads(answer) == {"choices": [1]}


def test_the_review_names_options_without_the_banks_letters(qtbot, tab):
    """Options are shuffled per attempt, so the bank's letter of an option is not the one the
    learner saw: the review named the option picked with key A "D (you chose)". It names them
    by what they are (you chose / right option) and their text, with no letter."""
    tab.shuffle_options = True
    for _ in range(20):   # an attempt where the first place on screen is not the bank's option A
        qtbot.mouseClick(tab.start_page.test, Qt.LeftButton)
        qp = tab.question_page
        if qp.rows[0].index != 0:
            break
        qtbot.keyClick(qp, Qt.Key_Escape)
    assert qp.rows[0].index != 0
    chosen = qp.rows[0].option.text
    press(qtbot, qp, Qt.Key_A, Qt.Key_Return)              # the option shown at place A
    press(qtbot, qp, Qt.Key_1, Qt.Key_Return, Qt.Key_1, Qt.Key_Return)
    qtbot.keyClicks(qp.answer_box, "prefixes")
    qtbot.keyClick(qp.answer_box, Qt.Key_Return)
    page = tab.review_page.view.toPlainText()
    assert f"You chose: {chosen}" in page or f"You chose, right: {chosen}" in page
    assert not [line for line in page.splitlines()
                if line.lstrip("• ").startswith(tuple(f"{letter} (" for letter in "ABCDEFGHI"))]
