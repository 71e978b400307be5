"""Lesson files: front matter, rendering for Qt, sections, search, and clear errors."""
from pathlib import Path

from studyapp.config import RESOURCES_DIR
from studyapp.content.lessons import load_lessons, search

GOOD = """---
title: A test lesson
order: 2
objectives:
  - Say why
  - Say how
---
Intro.

## First part

Bradley-Terry turns two scores into a probability.

!!! warning "Misconception"
    Adding a constant changes nothing.

```text
## not a section
```

## Second part

| a | b |
|---|---|
| 1 | 2 |
"""


def lesson_dir(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return tmp_path


def test_good_lesson_parses_renders_and_has_sections(tmp_path):
    lessons, errors = load_lessons(lesson_dir(tmp_path, {"02-test.md": GOOD}))
    assert errors == []
    lesson = lessons[0]
    assert (lesson.slug, lesson.title, lesson.order) == ("test", "A test lesson", 2)
    assert lesson.objectives == ["Say why", "Say how"]
    assert [s.id for s in lesson.sections] == ["first-part", "second-part"]
    assert '<a name="first-part">' in lesson.html            # anchors for scrollToAnchor
    assert "<table" in lesson.html and "<th>a</th>" in lesson.html
    assert 'class="admonition warning"' in lesson.html and "bgcolor" in lesson.html


def test_broken_lessons_name_file_and_line_and_the_rest_load(tmp_path):
    folder = lesson_dir(tmp_path, {
        "01-good.md": GOOD,
        "02-nofront.md": "# just text\n",
        "03-badkey.md": "---\ntitle: X\norder: 3\nthis line is wrong\n---\nbody\n",
        "04-order.md": "---\ntitle: X\norder: first\n---\nbody\n",
        "05-latin1.md": "---\ntitle: X\norder: 5\n---\nline two\ncaf\xe9\n".encode("latin-1"),
        "06-image.md": "---\ntitle: X\norder: 6\n---\n\ntext\n![diagram](missing.png)\n",
        "07-badimage.md": "---\ntitle: X\norder: 7\n---\n![diagram](notimage.png)\n",
        "notimage.png": "this is text",
    })
    lessons, errors = load_lessons(folder)
    assert [l.slug for l in lessons] == ["good"]
    found = {e.path.name: e for e in errors}
    assert set(found) == {"02-nofront.md", "03-badkey.md", "04-order.md", "05-latin1.md", "06-image.md", "07-badimage.md"}
    assert found["03-badkey.md"].line == 4
    assert found["05-latin1.md"].line == 6 and "UTF-8" in found["05-latin1.md"].message
    assert found["06-image.md"].line == 7 and "missing.png" in found["06-image.md"].message
    assert "not a PNG" in found["07-badimage.md"].message
    assert "03-badkey.md, line 4" in str(found["03-badkey.md"])


def test_a_content_pack_lesson_overrides_the_built_in_one(tmp_path):
    base, pack = tmp_path / "a", tmp_path / "b"
    base.mkdir()
    pack.mkdir()
    lesson_dir(base, {"02-test.md": GOOD})
    lesson_dir(pack, {"02-test.md": GOOD.replace("A test lesson", "The teacher's version")})
    lessons, _ = load_lessons(base, pack)
    assert [l.title for l in lessons] == ["The teacher's version"]


def test_search_finds_sections_with_all_words(tmp_path):
    lessons, _ = load_lessons(lesson_dir(tmp_path, {"02-test.md": GOOD}))
    hits = search(lessons, "bradley probability")
    assert [(h.slug, h.section_id) for h in hits] == [("test", "first-part")]
    assert "Bradley-Terry" in hits[0].snippet
    assert search(lessons, "misconception constant")[0].section_id == "first-part"
    assert search(lessons, "bradley table-that-is-not-there") == []


def test_shipped_lessons_load_cleanly_and_cover_the_course():
    lessons, errors = load_lessons(RESOURCES_DIR / "lessons")
    assert errors == [], [str(e) for e in errors]
    assert len([l for l in lessons if l.slug != "glossary"]) >= 4
    assert any(l.slug == "glossary" for l in lessons)
    text = " ".join(l.body.lower() for l in lessons)
    for concept in ["next-token", "self-instruct", "later layers", "bradley-terry", "sigmoid",
                    "clip", "kl", "reward hacking", "i understand your concern", "helpful",
                    "honest", "harmless", "refus", "5000", "1e-5", "reward model"]:
        assert concept in text, f"no lesson teaches {concept!r}"
    for lesson in lessons:
        assert lesson.sections, f"{lesson.slug} has no ## sections"


def test_nested_lists_indented_by_two_spaces_render_as_written(tmp_path):
    text = ("---\ntitle: Steps\norder: 1\n---\n## Steps\n\n1. Collect pairs\n  - rank 2-4 answers\n"
            "  - make pairs\n2. Train the reward model\n3. Run PPO\n")
    [lesson], _ = load_lessons(lesson_dir(tmp_path, {"01-steps.md": text}))
    html = lesson.html
    assert "<ol>\n<li>Collect pairs<ul>\n<li>rank 2-4 answers</li>\n<li>make pairs</li>\n</ul>" in html
    assert html.count("<ol>") == 1 and "<li>Run PPO</li>" in html   # numbering not restarted


def test_a_lesson_is_rendered_when_first_shown_with_the_same_section_ids(tmp_path, monkeypatch):
    import studyapp.content.lessons as lessons_mod
    calls = []
    real = lessons_mod.render
    monkeypatch.setattr(lessons_mod, "render", lambda body: (calls.append(body), real(body))[1])
    folder = tmp_path / "lessons"                          # the shipped lessons without their render cache
    folder.mkdir()
    for path in (RESOURCES_DIR / "lessons").glob("*.md"):
        (folder / path.name).write_bytes(path.read_bytes())
    lessons, _ = load_lessons(folder)
    assert all(len(body) < 2000 for body in calls)        # loading renders headings only
    calls.clear()
    for lesson in lessons:
        full = [t["id"] for t in lessons_mod._flatten(real(lesson.body)[1]) if t["level"] == 2]
        assert [s.id for s in lesson.sections] == full
        assert all(f'<a name="{i}">' in lesson.html for i in full)
    assert len(calls) == len(lessons)
    lessons[0].html
    assert len(calls) == len(lessons)                      # rendered once, then kept


def test_two_lessons_with_one_slug_in_a_folder_are_reported(tmp_path):
    folder = lesson_dir(tmp_path, {"01-intro.md": GOOD, "02-intro.md": GOOD.replace("A test", "Another")})
    lessons, errors = load_lessons(folder)
    assert [l.title for l in lessons] == ["A test lesson"]
    [error] = errors
    assert error.path.name == "02-intro.md" and "'intro' is also the name of 01-intro.md" in error.message


def test_the_lesson_cache_gives_the_same_lessons_without_rendering_and_follows_edits(tmp_path, monkeypatch):
    import os
    import studyapp.content.lessons as lessons_mod
    folder = lesson_dir(tmp_path, {"01-a.md": GOOD, "02-b.md": GOOD.replace("order: 1", "order: 2")
                                   .replace("title: ", "title: Second ")})
    cache = tmp_path / "cache" / "lessons.json"
    parsed, _ = load_lessons(folder, cache=cache)              # no cache yet: parsed
    assert lessons_mod.save_cache(parsed, cache) and not lessons_mod.save_cache(parsed, cache)   # unchanged: no write
    calls = []
    monkeypatch.setattr(lessons_mod, "render", lambda body: calls.append(body))
    cached, errors = load_lessons(folder, cache=cache)
    assert calls == [] and errors == []                        # nothing parsed or rendered
    assert [(l.slug, l.title, l.order, l.objectives, l.summary, l.body, l.sections, l.note, l.html)
            for l in cached] == [(l.slug, l.title, l.order, l.objectives, l.summary, l.body, l.sections, l.note,
                                  l.html) for l in parsed]
    monkeypatch.undo()
    edited = folder / "02-b.md"
    edited.write_text(edited.read_text().replace("title: Second", "title: Edited"))
    os.utime(edited, ns=(edited.stat().st_atime_ns, edited.stat().st_mtime_ns + 10**9))
    assert [l.title.split()[0] for l in load_lessons(folder, cache=cache)[0]][1] == "Edited"
    cache.write_text("{not json")                              # a damaged cache: the files are parsed
    assert [l.title for l in load_lessons(folder, cache=cache)[0]] == [l.title for l in load_lessons(folder)[0]]


def test_a_folders_shipped_cache_serves_unchanged_files_without_markdown_and_not_edited_ones(tmp_path, monkeypatch):
    """A lesson folder copied elsewhere (as an installer does: new paths, new times) still opens from
    its shipped cache, with the same lessons a parse gives; an edited file is parsed afresh."""
    import shutil

    import studyapp.content.lessons as lessons_mod
    (tmp_path / "made").mkdir()
    made = lesson_dir(tmp_path / "made", {"01-a.md": GOOD, "02-b.md": GOOD.replace("title: ", "title: Second ")})
    assert lessons_mod.write_shipped_cache(made) and not lessons_mod.write_shipped_cache(made)   # unchanged: no write
    folder = tmp_path / "installed"
    shutil.copytree(made, folder)                              # other paths; copytree keeps times, so:
    for path in folder.glob("*.md"):
        path.touch()
    calls = []
    monkeypatch.setattr(lessons_mod, "render", lambda body: calls.append(body))
    monkeypatch.setattr(lessons_mod, "parse_lesson", lambda path: calls.append(path))
    served, errors = load_lessons(folder)
    assert calls == [] and errors == []                        # nothing parsed or rendered
    monkeypatch.undo()
    fresh = [lessons_mod.parse_lesson(p) for p in sorted(folder.glob("*.md"))]
    assert [(l.slug, l.title, l.order, l.objectives, l.summary, l.body, l.sections, l.note, l.html, l.path)
            for l in served] == [(l.slug, l.title, l.order, l.objectives, l.summary, l.body, l.sections, l.note,
                                  l.html, l.path) for l in sorted(fresh, key=lambda l: (l.order, l.title))]
    edited = folder / "02-b.md"
    edited.write_text(edited.read_text().replace("title: Second", "title: Edited"))
    assert [l.title for l in load_lessons(folder)[0]] == ["A test lesson", "Edited A test lesson"]


def test_the_shipped_lessons_render_cache_is_current():
    """resources/lessons ships its rendered cache, so a first start needs no Markdown; after editing
    a lesson (or the renderer), rewrite it: python -m studyapp.content.lessons"""
    import json

    from studyapp.content.lessons import SHIPPED_CACHE, shipped_cache_entries
    folder = RESOURCES_DIR / "lessons"
    shipped = json.loads((folder / SHIPPED_CACHE).read_text(encoding="utf-8"))["lessons"]
    assert shipped == shipped_cache_entries(folder), \
        "stale: run  python -m studyapp.content.lessons"
