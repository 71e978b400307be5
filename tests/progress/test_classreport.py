"""`studyapp class report FOLDER` on 30 generated exports: one class table, per-lesson and
per-question results (the question most of the class gets wrong comes first), CSV and plots."""
from __future__ import annotations

import csv
import random

from studyapp import classreport, results
from studyapp.cli import main as cli_main

LESSONS = [("base-models", "Base models"), ("instruction-tuning", "Instruction tuning"),
           ("ppo-and-kl", "PPO and KL")]


def make_report(i: int, rng: random.Random, when: str) -> results.Report:
    rows = [results.LessonRow(slug, title, sections_read=rng.randint(0, 6), sections_total=6,
                              completed=rng.random() < 0.5,
                              best_quiz=None if slug == "ppo-and-kl" and i % 3 == 0 else round(rng.random(), 2),
                              teach_points_covered=1.0, teach_points_total=2, teach_best_covered=2.0)
            for slug, title in LESSONS]
    # Question 3 of base-models: most of the class gets it wrong; question 1: almost nobody.
    first_try = {"1": i % 10 != 0, "2": i % 2 == 0, "3": i % 5 == 0}
    quiz = [{"bank": "base-models", "lesson": "base-models", "mode": "test", "started_at": when,
             "finished": True, "score": sum(first_try.values()), "max_score": 3, "first_try": first_try}]
    return results.Report(rows, [], quiz, when, [], f"Learner {i:02d}", "0.1.0")


def test_class_report_on_30_exports(tmp_path, capsys):
    folder = tmp_path / "class"
    folder.mkdir()
    rng = random.Random(7)
    for i in range(30):
        report = make_report(i, rng, "2026-11-30T09:00:00")
        name = results.export_filename(report.learner, __import__("datetime").datetime(2026, 11, 30, 9), "json")
        if i < 25:
            results.export_json(report, folder / name)
        else:        # a few learners sent CSV (per lesson only)
            results.export_csv(report, folder / name.replace(".json", ".csv"))
    # Learner 00 also sent an older export: the newest counts, not both.
    old = make_report(0, random.Random(1), "2026-11-01T09:00:00")
    old.quiz_attempts[0]["first_try"] = {"1": False, "2": False, "3": True}
    results.export_json(old, folder / "studyapp-results-learner-00-2026-11-01-0900.json")
    (folder / "notes.json").write_text("[1, 2]")          # not an export: skipped, named

    assert cli_main(["class", "report", str(folder), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("30 learners")
    assert "notes.json" in printed.err

    out = tmp_path / "out"
    with open(out / "class-table.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 30 and table[0]["learner"] == "Learner 00"
    assert table[0]["exported_at"] == "2026-11-30T09:00:00"
    assert {"base-models best quiz", "ppo-and-kl teach best", "ppo-and-kl teach latest"} <= set(table[0])
    assert table[0]["ppo-and-kl teach best"] == "1" and table[0]["ppo-and-kl teach latest"] == "0.5"

    with open(out / "questions.csv", newline="", encoding="utf-8") as handle:
        questions = list(csv.DictReader(handle))
    top = questions[0]
    # 25 JSON exports answered: question 3 wrong for all but i % 5 == 0 (20 of 25).
    assert (top["bank"], top["question"], top["answered"], top["wrong"]) == ("base-models", "3", "25", "20")
    assert top["text"]                                  # the shipped bank's question text
    assert [q["question"] for q in questions] == ["3", "2", "1"]

    with open(out / "lessons.csv", newline="", encoding="utf-8") as handle:
        lessons = list(csv.DictReader(handle))
    assert [l["lesson"] for l in lessons] == [slug for slug, _ in LESSONS]
    assert lessons[2]["quiz_taken"] == "20" and lessons[0]["learners"] == "30"
    for plot in ("lessons.svg", "questions.svg"):
        text = (out / plot).read_text(encoding="utf-8")
        assert text.startswith("<svg") and text.count("<rect") > 3
    assert "base-models Q3" in (out / "questions.svg").read_text(encoding="utf-8")


def test_an_empty_folder_says_what_to_do(tmp_path, capsys):
    assert classreport.main(["report", str(tmp_path)]) == 1
    assert "Progress tab" in capsys.readouterr().err


def test_the_class_report_window_shows_lessons_and_hardest_questions(qtbot, tmp_path):
    from studyapp.ui.class_report import ClassReportDialog

    folder = tmp_path / "class"
    folder.mkdir()
    rng = random.Random(3)
    for i in range(6):
        results.export_json(make_report(i, rng, "2026-11-30T09:00:00"), folder / f"l{i}.json")
    dialog = ClassReportDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.load(folder)
    qtbot.waitUntil(lambda: dialog.result is not None and dialog.task is None, timeout=10_000)
    assert dialog.lessons.rowCount() == 3 and dialog.lessons.item(0, 1).text() == "6"
    assert dialog.questions.item(0, 2).text() == "3"            # the most missed question first
    assert "6 learners" in dialog.summary.text()
    assert (folder / "class-report" / "questions.svg").is_file()
    # The class table: one line per learner, best and latest teach-it-back side by side.
    assert dialog.learners.rowCount() == 6 and dialog.learners.item(0, 0).text() == "Learner 00"
    headers = [dialog.learners.horizontalHeaderItem(c).text() for c in range(dialog.learners.columnCount())]
    assert headers[-2:] == ["Teach it back: best", "Teach it back: latest"]
    assert [dialog.learners.item(0, c).text() for c in (5, 6)] == ["100%", "50%"]
    assert dialog.lessons.item(0, 6).text() == "50%"               # the latest, beside the best
    # The plots are shown, not only written.
    for plot in (dialog.lessons_plot, dialog.questions_plot):
        assert plot.renderer().isValid()
    dialog.pages.setCurrentIndex(1)
    qtbot.waitUntil(lambda: dialog.lessons_plot.isVisible())
    plot, area = dialog.lessons_plot, dialog.lessons_plot.parentWidget().parentWidget()
    assert 400 < plot.width() <= area.viewport().width()             # fitted to the width, no side scrolling
    natural = plot.renderer().defaultSize()
    drawn = plot.heightForWidth(plot.width())                      # drawn at the top, not stretched
    assert abs(drawn / min(plot.width(), natural.width()) - natural.height() / natural.width()) < 0.02
    assert plot.height() >= drawn                                  # all of it there (a tall one scrolls)


def test_no_plot_label_runs_off_the_edge(qapp, tmp_path):
    """The labels stand right-aligned against the bars; long lesson titles and question texts
    ran off the plot's left edge ("LHF stages 1 and 2…"). Rendered, nothing touches the edge."""
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    long_title = "Helpful, honest, harmless and where refusals come from, and why they matter"
    items = [(long_title, 0.5, "· 22 took it"),
             ("preferences-and-rewards Q12: Adding 10 to every reward the reward model outputs "
              "changes the Bradley-Terry probability?", 0.81, "· 17 of 21"),
             ("instruction-tuning Q14: \"SFT teaches obedience, not discernment\" means the SFT "
              "model follows instructions", 0.76, "· 16 of 21")]
    path = tmp_path / "bars.svg"
    classreport.svg_bars(path, "Title", items)
    renderer = QSvgRenderer(str(path))
    image = QImage(renderer.defaultSize(), QImage.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    ink = [(x, y) for x in range(4) for y in range(image.height())
           if QColor(image.pixel(x, y)).lightness() < 200]
    assert not ink, f"a label reaches the left edge at {ink[:3]}"
    assert "Helpful, honest, harmless and where refusals come" in path.read_text(encoding="utf-8")


def test_the_class_report_window_fits_a_small_screen(qtbot, monkeypatch):
    """It asked for 1000x640: 1500x960 pixels at 150%, more than a whole 1366x768 screen, so its
    lower half was off the screen. It takes the screen's free area where that is smaller."""
    from studyapp.ui import screen_fit
    from studyapp.ui.class_report import ClassReportDialog

    monkeypatch.setattr(screen_fit, "screen_room", lambda widget: (911, 512))   # 1366x768 at 150%
    dialog = ClassReportDialog()
    qtbot.addWidget(dialog)
    assert (dialog.width(), dialog.height()) == (911, 512 - screen_fit.FRAME)
    monkeypatch.setattr(screen_fit, "screen_room", lambda widget: (1920, 1040))
    roomy = ClassReportDialog()
    qtbot.addWidget(roomy)
    assert (roomy.width(), roomy.height()) == (1000, 640)


def test_export_names_keep_every_learner_apart_whatever_their_alphabet():
    # A class's exports land in one folder: two learners must never get the same file name, and
    # a name must survive into it (an ASCII-only slug turned 李雷 and 王芳 both into "learner" and
    # dropped Ø from Ørsted).
    from datetime import datetime
    when = datetime(2026, 11, 30, 9, 15)
    names = ["Zoë Ørsted", "Zoe Rsted", "李雷", "王芳", "Ada Lovelace", "O'Brien, Seán"]
    files = [results.export_filename(n, when, "json") for n in names]
    assert len(set(files)) == len(files)
    assert files[0] == "studyapp-results-zoe-ørsted-2026-11-30-0915.json"
    assert "李雷" in files[2]
    for f in files:   # nothing a file system refuses
        assert not set(f) & set('/\\:*?"<>| ')
