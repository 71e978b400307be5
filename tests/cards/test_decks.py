"""The shipped deck file format, and how shipped cards enter and follow a profile."""
from __future__ import annotations

from dataclasses import replace

from studyapp.content.decks import load_decks, parse_deck


def test_shipped_decks_hold_every_card_and_link_each_to_a_real_lesson_section(course_decks, known):
    # The one place that counts the shipped cards by hand: a card that goes missing from a deck
    # file (deleted, or merged into its neighbour by a lost '### ' line) fails here. Other tests
    # take the count from the `shipped` fixture. Lessons 1-5 come first (course.md sorts first),
    # so a new learner meets the base-model cards before lesson 6's.
    assert [(d.id, len(d.cards)) for d in course_decks] == [("course", 31), ("methods", 9)]
    for deck in course_decks:
        assert len({c.key for c in deck.cards}) == len(deck.cards)
        for card in deck.cards:
            assert card.section_id in known[card.lesson_id], card.key
    assert {c.lesson_id for c in course_decks[1].cards} == {"beyond-ppo"}


def test_a_bad_card_is_reported_by_line_and_the_rest_loads(tmp_path, known):
    path = tmp_path / "mine.md"
    path.write_text("---\ntitle: Mine\n---\n"
                    "### Good one?\nYes.\nKey: good\n\n"          # lines 4-6
                    "### No key?\nAnswer.\n\n"                     # line 8
                    "### Bad lesson?\nAnswer.\nLesson: nowhere\nKey: bad-lesson\n"   # line 13
                    "### Again good?\nYes.\nLesson: hhh#where-refusals-come-from\nKey: good\n",  # dup key
                    encoding="utf-8")
    deck, errors = parse_deck(path, known)
    assert [c.key for c in deck.cards] == ["good"]
    assert [(e.line, e.message.split(" ")[0]) for e in errors] == [(8, "card"), (13, "unknown"), (15, "key")]
    assert "mine.md, line 8" in str(errors[0])


def test_a_content_pack_deck_replaces_the_built_in_one(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "d.md").write_text("---\ntitle: A\n---\n### Q?\nA.\nKey: q\n")
    (tmp_path / "b" / "d.md").write_text("---\ntitle: B\n---\n### Q?\nB.\nKey: q\n")
    decks, errors = load_decks(tmp_path / "a", tmp_path / "b")
    assert errors == [] and [d.title for d in decks] == ["B"]


def test_sync_is_idempotent_and_follows_shipped_edits_only_on_unedited_cards(cards, course_decks, shipped):
    assert cards.count() == shipped
    assert cards.sync_decks(course_decks) == {"added": 0, "updated": 0}
    deck = course_decks[0]
    first, second, third = deck.cards[:3]
    mine = cards.store.db.execute("SELECT id FROM card WHERE source_key = ?", [f"course:{second.key}"]).fetchone()[0]
    cards.update(mine, back="My own words.")
    gone = cards.store.db.execute("SELECT id FROM card WHERE source_key = ?", [f"course:{third.key}"]).fetchone()[0]
    cards.delete(gone)

    reworded = replace(deck, cards=[replace(c, back=c.back + " (reworded)") for c in deck.cards])
    assert cards.sync_decks([reworded]) == {"added": 0, "updated": len(deck.cards) - 1}
    backs = dict(cards.store.db.execute("SELECT source_key, back FROM card"))
    assert backs[f"course:{first.key}"].endswith("(reworded)")
    assert backs[f"course:{second.key}"] == "My own words."      # the learner's edit wins
    assert cards.get(gone).deleted                                 # a deleted card stays deleted
    assert cards.count() == shipped - 1
