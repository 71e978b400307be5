"""CSV import (all rows or none, bad rows by line), CSV round trip, Anki .apkg, the CLI."""
from __future__ import annotations

import sqlite3
import zipfile

from studyapp.srs.apkg import MODEL_ID, deck_number, export_apkg
from studyapp.srs.csvio import export_csv, import_csv

BAD = (
    'front,back,lesson,section\n'
    'Fine question,Fine answer,base-models,summary\n'          # line 2: good
    '"A question\nover two lines",An answer,,\n'                  # lines 3-4: good
    ',No front,,\n'                                               # line 5: empty front
    'Q,A,no-such-lesson,\n'                                       # line 6: unknown lesson
    'Q,A,,summary\n'                                              # line 7: section without lesson
    'Q,A\n'                                                       # line 8: too few fields
    'Q,A,hhh,no-such-section\n'                                   # line 9: unknown section
)


def test_import_with_bad_rows_imports_nothing_and_names_the_lines(cards, tmp_path, known):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    before = cards.count()
    report = import_csv(cards, path, known)
    assert not report.ok and report.added == []
    assert [line for line, _ in report.errors] == [5, 6, 7, 8, 9]
    assert "front is empty" in report.errors[0][1] and "no-such-lesson" in report.errors[1][1]
    assert cards.count() == before
    assert report.text().startswith("Nothing was imported: 5 problems.")


def test_import_rejects_unknown_columns_and_bad_encoding(cards, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("front,answer\nQ,A\n")
    report = import_csv(cards, path)
    assert report.errors[0][0] == 1 and "'answer'" in report.errors[0][1]
    path.write_bytes(b"front,back\nQ,A\n\xff\xfe,x\n")
    assert import_csv(cards, path).errors[0][0] == 3


def test_csv_round_trip(cards, tmp_path, known, store, shipped):
    own = cards.add("What is `beta`?", 'The KL weight, "quoted", with, commas\nand a second line.',
                    lesson_id="ppo-and-kl", section_id="the-kl-penalty-stay-near-the-sft-model")
    out = tmp_path / "cards.csv"
    assert export_csv(cards, out) == shipped + 1
    before = cards.search("", limit=100)
    for row in before:
        cards.delete(row["id"])
    assert cards.count() == 0
    report = import_csv(cards, out, known)
    assert report.ok and len(report.added) == shipped + 1
    key = lambda r: (r["front"], r["back"], r["deck_id"], r["lesson_id"], r["section_id"])
    assert sorted(map(key, cards.search("", limit=100))) == sorted(map(key, before))
    assert cards.get(own).back.endswith("second line.")


def test_apkg_export_holds_every_note_with_stable_ids(cards, tmp_path, shipped):
    cards.add("My own <card>", "**Bold** answer")
    out = tmp_path / "cards.apkg"
    assert export_apkg(cards, out) == shipped + 1
    with zipfile.ZipFile(out) as package:
        assert "collection.anki2" in package.namelist()
        package.extract("collection.anki2", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki2")
    try:
        notes = db.execute("SELECT guid, mid, flds, tags FROM notes").fetchall()
        assert len(notes) == shipped + 1 and {n[1] for n in notes} == {MODEL_ID}
        fields = [n[2].split("\x1f") for n in notes]
        assert ["My own &lt;card&gt;", "<strong>Bold</strong> answer", ""] in fields
        assert any("next token" in f[1].lower() or "next-token" in f[1].lower() for f in fields)
        assert db.execute("SELECT count(*) FROM cards").fetchone()[0] == shipped + 1
        guids = {n[0] for n in notes}
    finally:
        db.close()
    assert len(guids) == shipped + 1
    assert deck_number("course") == deck_number("course") != deck_number("my-cards")
    # A second export gives the same note ids, so Anki updates instead of duplicating.
    export_apkg(cards, tmp_path / "again.apkg")
    with zipfile.ZipFile(tmp_path / "again.apkg") as package:
        (tmp_path / "again").mkdir()
        package.extract("collection.anki2", tmp_path / "again")
    db = sqlite3.connect(tmp_path / "again" / "collection.anki2")
    try:
        assert {r[0] for r in db.execute("SELECT guid FROM notes")} == guids
    finally:
        db.close()


def test_cli_import_and_export(tmp_path, monkeypatch, capsys, shipped):
    from studyapp.cli import main
    monkeypatch.setenv("STUDYAPP_HOME", str(tmp_path / "home"))
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD, encoding="utf-8")
    assert main(["cards", "import", str(bad)]) == 1
    assert "line 5:" in capsys.readouterr().err
    good = tmp_path / "good.csv"
    good.write_text("front,back,deck\nQ1,A1,extra\nQ2,A2,\n", encoding="utf-8")
    assert main(["cards", "import", str(good)]) == 0
    out = tmp_path / "all.csv"
    assert main(["--data-dir", str(tmp_path / "home"), "cards", "export", "--format", "csv", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Q1,A1,extra" in text and "Q2,A2,my-cards" in text
    import csv
    assert len(list(csv.reader(text.splitlines(keepends=True)))) == 1 + shipped + 2
    assert main(["cards", "export", "--format", "apkg", "--out", str(tmp_path / "all.apkg")]) == 0
    assert zipfile.is_zipfile(tmp_path / "all.apkg")
