"""Malformed content packs: `studyapp content check` names the file and line of every problem, a
pathological lesson is shown as plain text with a note (never rendered by Markdown), and the app
opens with such a pack as usual."""
import pytest

from studyapp import config as cfg
from studyapp.content import lessons as lessons_mod
from studyapp.content.check import check_pack

FRONT = "---\ntitle: T\norder: 9\n---\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def deep_list(levels):
    return "\n".join("  " * i + "- item" for i in range(levels))


LESSONS = [
    # (id, file text or bytes, line, fragment)
    ("empty", "", 1, "must start with a front-matter block opened by '---'"),
    ("no-front-matter", "# Title\n\ntext\n", 1, "must start with a front-matter block"),
    ("unclosed-front-matter", "---\ntitle: T\norder: 1\n## A\n", 1, "never closed with '---'"),
    ("stray-list-item", "---\n  - item\ntitle: T\n---\n", 2, "a list item must follow a key"),
    ("no-colon", "---\ntitle T\norder: 1\n---\n", 2, "expected 'key: value' in the front matter"),
    ("no-title", "---\norder: 1\n---\n## A\n", 1, "'title' is missing"),
    ("no-order", "---\ntitle: T\n---\n## A\n", 1, "'order' is missing"),
    ("order-text", "---\ntitle: T\norder: soon\n---\n", 1, "'order' must be a whole number, got 'soon'"),
    ("order-float", "---\ntitle: T\norder: 1.5\n---\n", 1, "'order' must be a whole number"),
    ("latin-1", (FRONT + "line\ncaf\xe9\n").encode("latin-1"), 6, "not valid UTF-8"),
    ("utf-16", (FRONT + "text\n").encode("utf-16"), 1, "not valid UTF-8"),
    ("remote-image", FRONT + "text\n![pixel](https://tracker.example/p.gif)\n", 6, "only local images are allowed"),
    ("missing-image", FRONT + "![d](nope.png)\n", 5, "image 'nope.png' cannot be read"),
    ("image-outside", FRONT + "\n\n![d](../../../../etc/hostname)\n", 7, "image '../../../../etc/hostname'"),
    ("text-as-image", FRONT + "![d](fake.png)\n", 5, "is not a PNG, JPEG, GIF or SVG"),
    ("over-a-megabyte", FRONT + "word " * 220_000, 1, "KB, more than the 1024 KB a lesson may have; it is skipped"),
    # Beyond the render budget: loaded, shown as plain text, reported by the check.
    ("6k-brackets", FRONT + "[" * 6000, 1, "plain text: it has 6000 '[' and '<' characters"),
    ("20k-headings", FRONT + "\n".join(f"## h{i}" for i in range(20_000)), 1, "it has 20000 headings"),
    ("link-openers", FRONT + "[a](" * 2000, 1, "plain text: it has 2000 '['"),
    ("image-openers", FRONT + "![" * 3000, 1, "plain text: it has 3000 '['"),
    ("angle-brackets", FRONT + "<a " * 3000, 1, "plain text: it has 3000 '['"),
    ("300-kb", FRONT + ("lorem ipsum " * 10 + "\n\n") * 2600, 1, "KB, more than the 256 KB"),
    ("deep-list", FRONT + deep_list(100), 1, "line 22 is nested 17 levels deep"),
    ("deep-quote", FRONT + ">" * 3000 + " x\n", 1, "line 5 is nested 3000 levels deep"),
    ("deep-tabs", FRONT + "\n".join("\t" * i + "- x" for i in range(40)), 1, "line 14 is nested 18 levels deep"),
]

OTHER = [
    ("quizzes/no-lesson.md", "---\ntitle: Q\n---\n", 1, "the header needs 'lesson: SLUG'"),
    ("quizzes/unknown-lesson.md", "---\nlesson: nope\ntitle: Q\n---\n### 1. single\nWhich?\n\n- [x] A -- Feedback: y\n"
     "- [ ] B -- Feedback: n\n\n**Explanation:** E\n", 2, "no lesson 'nope' is installed"),
    ("quizzes/bad-type.md", "---\nlesson: base-models\ntitle: Q\n---\n### 1. weird\nWhich?\n", 5,
     "unknown question type in '1. weird'"),
    ("quizzes/one-option.md", "---\nlesson: base-models\ntitle: Q\n---\n### 1. single\nWhich?\n\n"
     "- [x] A -- Feedback: y\n\n**Explanation:** E\n", 5, "needs at least two options"),
    ("decks/no-back.md", "---\ntitle: D\n---\n\n### Front?\nKey: k\n", 5, "has no answer"),
    ("decks/bad-link.md", "---\ntitle: D\n---\n\n### Front?\nBack.\nLesson: base-models#nowhere\n", 7,
     "lesson 'base-models' has no section 'nowhere'"),
    ("decks/dup-key.md", "---\ntitle: D\n---\n\n### A?\nB.\nKey: k\n\n### C?\nD.\nKey: k\n", 9,
     "key 'k' is already used on line 5"),
    ("rubrics/no-sentences.md", "---\ntitle: R\n---\nPrompt.\n\n## Point\ncore: yes\nweight: 2\n"
     "lesson: base-models#what-pretraining-actually-trains\n", 6,
     "has 0 reference sentences"),
    ("rubrics/bad-weight.md", "---\ntitle: R\n---\nPrompt.\n\n## Point\ncore: yes\nweight: heavy\n- s.\n", 8,
     "'weight' must be a positive number, got 'heavy'"),
    ("rubrics/empty-prompt.md", "---\ntitle: R\n---\n## Point\ncore: yes\nweight: 1\n- s.\n", 4,
     "the prompt (the text before the first '## ' key point) is empty"),
]


def write_pack(root, files):
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return root


@pytest.fixture
def no_slow_render(monkeypatch):
    """Markdown never sees a body beyond the budget: the check fails loudly if it would."""
    real = lessons_mod.render

    def guarded(body):
        assert lessons_mod.over_budget(body) is None, "a body beyond the render budget reached Markdown"
        return real(body)

    monkeypatch.setattr(lessons_mod, "render", guarded)


@pytest.mark.parametrize("text,line,fragment", [c[1:] for c in LESSONS], ids=[c[0] for c in LESSONS])
def test_a_malformed_lesson_is_reported_with_file_and_line(tmp_path, no_slow_render, text, line, fragment):
    pack = write_pack(tmp_path / "pack", {"lessons/01-bad.md": text, "lessons/02-good.md": FRONT + "## Fine\nok\n",
                                          "lessons/fake.png": "not an image"})
    problems, counts = check_pack(pack)
    mine = [p for p in problems if p.path.name == "01-bad.md"]
    assert len(mine) == 1, [str(p) for p in problems]
    assert mine[0].line == line and fragment in mine[0].message, str(mine[0])
    assert counts["lessons"] >= 1                                   # the good lesson still loads
    assert [p for p in problems if p.path.name == "02-good.md"] == []


@pytest.mark.parametrize("name,text,line,fragment", OTHER, ids=[c[0] for c in OTHER])
def test_a_malformed_quiz_deck_or_rubric_is_reported_with_file_and_line(tmp_path, name, text, line, fragment):
    problems, _ = check_pack(write_pack(tmp_path / "pack", {name: text}))
    assert [(p.path.name, p.line) for p in problems] == [(name.split("/")[1], line)], [str(p) for p in problems]
    assert fragment in problems[0].message


def test_a_lesson_beyond_the_budget_is_shown_as_plain_text_with_a_note(tmp_path, no_slow_render):
    pack = write_pack(tmp_path / "pack", {"lessons/01-brackets.md": FRONT + "[" * 6000})
    [lesson], errors = lessons_mod.load_lessons(pack / "lessons")
    assert errors == [] and lesson.sections == []
    assert lesson.html.startswith("<p><b>Shown as plain text:</b> 01-brackets.md: it has 6000 '['")
    assert "[[[[" in lesson.html                                    # nothing the author wrote is lost


def test_a_render_failure_becomes_plain_text_not_a_crash(tmp_path, monkeypatch):
    pack = write_pack(tmp_path / "pack", {"lessons/01-x.md": FRONT + "## A\ntext\n"})
    [lesson], _ = lessons_mod.load_lessons(pack / "lessons")

    def explode(body):
        raise RecursionError

    monkeypatch.setattr(lessons_mod, "render", explode)
    assert "nested too deeply to lay out" in lesson.html and "text" in lesson.html


PACK_LEVEL = [
    ("duplicate-slug", {"lessons/01-intro.md": FRONT + "## A\n", "lessons/02-intro.md": FRONT + "## B\n"},
     "02-intro.md", 1, "'intro' is also the name of 01-intro.md in this folder; this file is skipped"),
    ("not-markdown", {"lessons/notes.txt": "hello", "lessons/01-a.md": FRONT}, "notes.txt", 0,
     "only .md files are read; this file is skipped"),
    ("nested-folder", {"lessons/extra/01-a.md": FRONT}, "extra", 0, "folders inside lessons/ are not read"),
    ("unknown-folder", {"lesson/01-a.md": FRONT}, "lesson", 0, "the app reads only lessons/, quizzes/"),
]


@pytest.mark.parametrize("files,name,line,fragment", [c[1:] for c in PACK_LEVEL], ids=[c[0] for c in PACK_LEVEL])
def test_what_the_app_would_skip_is_reported(tmp_path, files, name, line, fragment):
    problems, _ = check_pack(write_pack(tmp_path / "pack", files))
    found = [p for p in problems if p.path.name == name]
    assert found and found[0].line == line and fragment in found[0].message, [str(p) for p in problems]


def test_a_pack_lesson_that_drops_sections_built_in_content_links_to_is_reported(tmp_path):
    pack = write_pack(tmp_path / "pack", {"lessons/01-base-models.md": "---\ntitle: Mine\norder: 1\n---\n"
                                                                      "## Only section\ntext\n"})
    problems, _ = check_pack(pack)
    broken = [p for p in problems if p.path.parent.parent == cfg.RESOURCES_DIR]
    kinds = {p.path.parent.name for p in broken}
    assert kinds == {"decks", "quizzes", "rubrics"}, [str(p) for p in problems]
    deck = [p for p in broken if p.path.parent.name == "decks"]
    assert len(deck) >= 5 and all(p.line > 1 for p in deck)
    assert all("01-base-models.md replaces the built-in lesson 'base-models' without this section" in p.message
               for p in broken)


def test_the_app_opens_with_a_pathological_pack(main_windows, tmp_path, no_slow_render):
    pack = write_pack(tmp_path / "pack", {
        "lessons/00-brackets.md": "---\ntitle: Brackets\norder: 0\n---\n" + "[" * 6000,
        "lessons/00-headings.md": "---\ntitle: Headings\norder: 0\n---\n" + "\n".join(f"## h{i}" for i in range(20_000)),
        "lessons/00-deep.md": "---\ntitle: Deep\norder: 0\n---\n" + deep_list(300),
        "lessons/01-intro.md": FRONT + "## A\n", "lessons/02-intro.md": FRONT + "## B\n",
    })
    window, _ = main_windows.open(show=False, content_dir=pack)
    tab = window.tab_widgets["lessons"]
    assert tab.current.title in {"Brackets", "Headings", "Deep"}
    assert "Shown as plain text" in tab.view.toPlainText()
    assert any("02-intro.md could not be loaded" in tab.lesson_list.item(i).text()
               for i in range(tab.lesson_list.count()))
    assert tab.open_lesson("base-models") and tab.spans               # the course itself still works


def test_a_long_lesson_is_laid_out_on_a_worker_and_then_shown(qtbot, main_windows, tmp_path):
    from studyapp.ui.lessons_tab import SYNC_RENDER_CHARS
    body = "".join(f"## Part {i}\n\n" + "Some *dense* `inline` **markup** here. " * 40 + "\n\n" for i in range(30))
    assert SYNC_RENDER_CHARS < len(body) and lessons_mod.over_budget(body) is None
    pack = write_pack(tmp_path / "pack", {"lessons/00-long.md": "---\ntitle: Long\norder: 0\n---\n" + body})
    window, _ = main_windows.open(show=False, content_dir=pack)
    tab = window.tab_widgets["lessons"]
    assert tab.current.title == "Long"
    assert "Laying out Long" in tab.view.toPlainText()          # the window is up before the lesson is
    qtbot.waitUntil(lambda: len(tab.spans) == 30, timeout=60_000)
    assert "Part 29" in tab.view.toPlainText() and "Laying out" not in tab.view.toPlainText()
    assert tab.toc.topLevelItemCount() == 30
