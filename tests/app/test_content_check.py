"""`studyapp content check PATH` catches every malformed file of a broken pack, with file and line."""
import subprocess
import sys
from pathlib import Path

from studyapp.config import RESOURCES_DIR
from studyapp.content.check import check_pack

QUIZ_OK = """---
lesson: base-models
title: Pack quiz
---
### 1. single
Which objective does pretraining use?

- [x] Next-token prediction -- Feedback: Yes.
- [ ] Human ratings -- Feedback: That is RLHF.

**Explanation:** Pretraining predicts the next token.
"""

BROKEN = {
    "lessons/01-nofront.md": "# no front matter\n",
    "lessons/02-badorder.md": "---\ntitle: T\norder: soon\n---\n## A\ntext\n",
    "quizzes/no-correct.md": QUIZ_OK.replace("- [x]", "- [ ]"),
    "quizzes/bad-section.md": QUIZ_OK + "**Section:** no-such-section\n",
    "decks/pack.md": "---\ntitle: Pack deck\n---\n\n### A front without a back\n\nLesson: base-models#nowhere\n",
    "rubrics/pack.md": "---\ntitle: Pack rubric\n---\nPrompt text.\n\n## A point with no sentences\ncore: yes\nweight: 2\n",
}


def make_pack(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_built_in_content_is_clean():
    problems, counts = check_pack(RESOURCES_DIR)
    assert problems == [], [str(p) for p in problems]
    assert counts["lessons"] >= 5 and counts["quizzes"] >= 5 and counts["decks"] >= 1 and counts["rubrics"] >= 1


def test_every_broken_file_is_reported_with_its_line(tmp_path):
    pack = make_pack(tmp_path / "pack", BROKEN)
    problems, _ = check_pack(pack)
    named = {p.path.relative_to(pack).as_posix() for p in problems}
    assert named == set(BROKEN), f"missed: {set(BROKEN) - named}"
    assert all(p.line >= 1 for p in problems)


def test_a_good_pack_passes_and_the_command_exits_by_result(tmp_path):
    good = make_pack(tmp_path / "good", {"quizzes/ok.md": QUIZ_OK})
    run = subprocess.run([sys.executable, "-m", "studyapp", "content", "check", str(good)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 problem(s)" in run.stdout
    bad = make_pack(tmp_path / "bad", BROKEN)
    run = subprocess.run([sys.executable, "-m", "studyapp", "content", "check", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert f"{bad / 'lessons/02-badorder.md'}:1:" in run.stdout
