"""Quiz banks: parsing, errors with file and line, grading, and the shipped banks."""
from pathlib import Path

import pytest

from studyapp import config as cfg
from studyapp.content import quiz as qz
from studyapp.content.lessons import load_lessons

from .conftest import SMALL_BANK

SHIPPED = cfg.RESOURCES_DIR / "quizzes"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_small_bank_parses_every_type(bank_dir):
    banks, errors = qz.load_banks(bank_dir)
    assert errors == []
    (bank,) = banks
    assert (bank.id, bank.lesson_id, bank.title) == ("small", "base-models", "A small quiz")
    assert [q.kind for q in bank.questions] == ["single", "multiple", "truefalse", "short"]
    single, multiple, truefalse, short = bank.questions
    assert single.check == 1 and multiple.check is None
    assert single.correct_indices == {1} and multiple.correct_indices == {0, 1}
    assert single.options[0].feedback == "Nothing measures helpfulness in pretraining."
    assert single.section == "what-pretraining-actually-trains" and multiple.section == ""
    assert short.accept == ["prefix", "a text prefix", "prefixes"]
    assert short.line == SMALL_BANK.splitlines().index("### 4. short") + 1


def test_grading_of_each_type(bank_dir):
    single, multiple, truefalse, short = qz.load_banks(bank_dir)[0][0].questions
    assert single.is_correct({1}) and not single.is_correct({0}) and not single.is_correct(set())
    assert multiple.is_correct({0, 1})
    assert not multiple.is_correct({0}) and not multiple.is_correct({0, 1, 2})
    assert truefalse.is_correct({1}) and not truefalse.is_correct({0})
    assert short.is_correct("  The PREFIX. ") and short.is_correct("a text-prefix")
    assert not short.is_correct("instruction") and not short.is_correct("  ")


@pytest.mark.parametrize("given, expected", [
    ("  The  Prefix! ", "prefix"),
    ("5,000", "5000"), ("5 000", "5 000"), ("about 5,000x", "about 5000x"),
    ("C>B", "c b"), ("C > B", "c b"), ("Bradley-Terry", "bradley terry"),
    ("ＰＲＥＦＩＸ", "prefix"),              # full-width letters (NFKC)
    ("an SFT model", "sft model"), ("theory", "theory"),   # only a whole leading article goes
    ("1.5", "1 5"),
])
def test_normalise(given, expected):
    assert qz.normalise(given) == expected


def test_bad_questions_are_reported_with_file_and_line_and_the_rest_loads(tmp_path):
    text = SMALL_BANK.replace("- [x] Next-token prediction. -- Feedback: Right, that is the only objective.",
                              "- [x] Next-token prediction.")                 # no feedback
    text = text.replace("### 2. multiple", "### 2. essay")                     # unknown type
    text = text.replace("- [x] False -- Feedback", "- [ ] False -- Feedback")  # no right option
    text += "\n### 4. single\nA duplicate number?\n\n- [x] a -- Feedback: x\n- [ ] b -- Feedback: y\n\n**Explanation:** e\n"
    text += "\n### 5. short\nNo feedback here.\n\n**Answer:** x\n**Explanation:** e\n"
    text += "\n### 6. single\nNo explanation.\n\n- [x] a -- Feedback: x\n- [ ] b -- Feedback: y\n"
    path = write(tmp_path, "broken.md", text)
    banks, errors = qz.load_banks(tmp_path)
    lines = text.splitlines()
    where = {e.line: e.message for e in errors}
    assert all(e.path == path for e in errors)
    assert lines.index("- [x] Next-token prediction.") + 1 in where
    assert "feedback" in where[lines.index("- [x] Next-token prediction.") + 1]
    assert "unknown question type" in where[lines.index("### 2. essay") + 1]
    assert "exactly one [x]" in where[lines.index("### 3. truefalse · check 1") + 1]
    assert "already used" in where[lines.index("### 4. single") + 1]
    assert "**Feedback:**" in where[lines.index("### 5. short") + 1]
    assert "**Explanation:**" in where[lines.index("### 6. single") + 1]
    assert len(errors) == 6
    assert [q.id for q in banks[0].questions] == ["4"]     # the good short question survives
    assert str(errors[0]).startswith(f"broken.md, line {errors[0].line}: ")


def test_a_bank_without_header_is_skipped_with_line_1(tmp_path):
    write(tmp_path, "noheader.md", "### 1. single\nQ?\n")
    write(tmp_path, "nolesson.md", "---\ntitle: T\n---\n### 1. single\nQ?\n")
    (tmp_path / "latin1.md").write_bytes("---\nlesson: x\n---\n### 1. short\ncaf\xe9\n".encode("latin-1"))
    banks, errors = qz.load_banks(tmp_path)
    assert banks == []
    messages = {e.path.name: (e.line, e.message) for e in errors}
    assert messages["noheader.md"][0] == 1 and "'---'" in messages["noheader.md"][1]
    assert "lesson:" in messages["nolesson.md"][1]
    assert messages["latin1.md"] == (5, "the file is not valid UTF-8 text (save it as UTF-8)")


def test_unknown_sections_are_reported_and_the_link_dropped(bank_dir):
    banks, _ = qz.load_banks(bank_dir)
    errors = qz.check_sections(banks, {"base-models": {"what-pretraining-actually-trains"}})
    assert [e.line for e in errors] == [q.line for q in banks[0].questions if q.id in ("3", "4")]
    assert banks[0].questions[2].section == ""
    assert qz.check_sections(banks, {})[0].message == "no lesson 'base-models' is installed"


def test_a_content_pack_bank_replaces_the_built_in_one(tmp_path, bank_dir):
    pack = tmp_path / "pack"
    pack.mkdir()
    write(pack, "small.md", SMALL_BANK.replace("title: A small quiz", "title: Replaced"))
    banks, _ = qz.load_banks(bank_dir, pack)
    assert [b.title for b in banks] == ["Replaced"]


def test_session_rules_in_both_modes(bank_dir):
    bank = qz.load_banks(bank_dir)[0][0]
    practice = qz.QuizSession(bank, "practice")
    assert practice.submit(frozenset({0})) == qz.Outcome(False, 1, False)
    assert practice.submit(frozenset({1})) == qz.Outcome(True, 2, True)
    assert practice.next() and practice.reveal().done
    test = qz.QuizSession(bank, "test")
    assert test.submit(frozenset({0})) == qz.Outcome(False, 1, True)   # one answer, then over
    with pytest.raises(RuntimeError):
        test.submit(frozenset({1}))


def test_shipped_banks_load_cleanly_and_cover_the_five_checks():
    lessons, _ = load_lessons(cfg.RESOURCES_DIR / "lessons")
    banks, errors = qz.load_banks(SHIPPED)
    errors += qz.check_sections(banks, {l.slug: {s.id for s in l.sections} for l in lessons})
    assert errors == []
    assert sorted(b.lesson_id for b in banks) == sorted(
        ["base-models", "instruction-tuning", "preferences-and-rewards", "ppo-and-kl", "hhh", "beyond-ppo"])
    checks = {q.check for b in banks for q in b.questions}
    assert {1, 2, 3, 4, 5} <= checks
    for bank in banks:
        assert len(bank.questions) == 16
        assert {q.kind for q in bank.questions} >= {"single", "truefalse", "short", "multiple"}
        for q in bank.questions:
            assert q.section, f"{bank.id} question {q.id} names no section"
            if q.kind == "short":   # the model answer must itself be accepted
                assert q.is_correct(q.answer)


def test_no_bank_gives_the_answer_away_by_its_length():
    """Test-wise learners pick the longest option. In every shipped bank the right option of a
    single-choice question is the (strictly) longest no more often than chance would have it:
    the sum over its questions of 1 / number of options, rounded up."""
    import math

    from studyapp.config import RESOURCES_DIR
    from studyapp.content.quiz import load_banks

    banks, errors = load_banks(RESOURCES_DIR / "quizzes")
    assert errors == [] and len(banks) >= 5
    for bank in banks:
        singles = [q for q in bank.questions if q.kind == "single"]
        longest = []
        for q in singles:
            lengths = [len(o.text) for o in q.options]
            right = lengths[next(i for i, o in enumerate(q.options) if o.correct)]
            if right == max(lengths) and lengths.count(right) == 1:
                longest.append(q.id)
        chance = sum(1 / len(q.options) for q in singles)
        assert len(longest) <= math.ceil(chance), (bank.id, longest, chance)
