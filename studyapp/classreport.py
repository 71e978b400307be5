"""A class's results in one place: merge the learners' exports of a folder into tables and plots.

    studyapp class report FOLDER [--out DIR]

FOLDER holds what learners exported from the Progress tab (studyapp-results-NAME-DATE.json or
.csv, any number, any mix). When one learner sent several files, the newest export counts. DIR
(default FOLDER/class-report) receives:

    class-table.csv     one row per learner: reading, best quiz and teach-it-back per lesson
    lessons.csv         per lesson: learners, mean reading, completed, mean best quiz,
                        teach-it-back best and latest (means)
    questions.csv       per quiz question: how many answered it, how many got it wrong at the
                        first try, sorted with the question most of the class gets wrong first
    lessons.svg         the per-lesson means as bars
    questions.svg       the share of the class wrong at the first try, per question (top 25)

Per-question results come from JSON exports only (a CSV export has one row per lesson). Plots
are plain SVG written here (any browser or office suite opens them): no plotting library is
needed for a handful of bars. Pure Python; no Qt.
"""
from __future__ import annotations

import argparse
import csv
import html
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path



@dataclass
class LearnerResults:
    learner: str
    exported_at: str
    app_version: str
    source: str                                     # the file's name
    lessons: dict[str, dict] = field(default_factory=dict)        # slug -> the lesson's record
    first_try: dict[tuple[str, str], bool] = field(default_factory=dict)   # (bank, question) -> right


class ExportError(ValueError):
    """A file in the folder that is not a studyapp export (named in the message)."""


def _number(value) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def read_json(path: Path) -> LearnerResults:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith("studyapp-results/"):
        raise ExportError(f"{path.name}: not a studyapp results export")
    learner = (data.get("learner") or "").strip() or path.stem
    result = LearnerResults(learner, data.get("exported_at", ""), data.get("app_version", ""), path.name)
    for record in data.get("lessons", []):
        if "teach_coverage" in record and "teach_coverage_latest" not in record:    # format /1
            record = dict(record, teach_coverage_latest=record["teach_coverage"])
        result.lessons[record["lesson"]] = record
    # The newest finished attempt per bank decides (attempts are listed newest first).
    seen_banks = set()
    for attempt in data.get("quiz_attempts", []):
        bank = attempt.get("bank")
        if not attempt.get("finished") or bank in seen_banks or not attempt.get("first_try"):
            continue
        seen_banks.add(bank)
        for question, right in attempt["first_try"].items():
            result.first_try[(bank, str(question))] = bool(right)
    return result


def read_csv(path: Path) -> LearnerResults:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "lesson" not in rows[0] or "sections_read" not in rows[0]:
        raise ExportError(f"{path.name}: not a studyapp results export")
    first = rows[0]
    result = LearnerResults((first.get("learner") or "").strip() or path.stem,
                            first.get("exported_at", ""), first.get("app_version", ""), path.name)
    for row in rows:
        result.lessons[row["lesson"]] = row
    return result


def load_folder(folder: Path) -> tuple[list[LearnerResults], list[str]]:
    """Every learner's newest export in the folder, sorted by name; and the files skipped (why)."""
    newest: dict[str, LearnerResults] = {}
    skipped = []
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in (".json", ".csv") or not path.is_file():
            continue
        try:
            result = read_json(path) if path.suffix.lower() == ".json" else read_csv(path)
        except (ExportError, ValueError, KeyError, OSError) as exc:
            skipped.append(str(exc) if isinstance(exc, ExportError) else f"{path.name}: {exc}")
            continue
        key = result.learner.casefold()
        if key not in newest or result.exported_at > newest[key].exported_at:
            newest[key] = result
    return sorted(newest.values(), key=lambda r: r.learner.casefold()), skipped


# ---------------------------------------------------------------------------------------------

def lesson_order(learners: list[LearnerResults]) -> list[tuple[str, str]]:
    """(slug, title) of every lesson, in the order the exports list them."""
    order: dict[str, str] = {}
    for learner in learners:
        for slug, record in learner.lessons.items():
            order.setdefault(slug, record.get("title") or slug)
    return list(order.items())


def _reading(record: dict) -> float | None:
    read, total = _number(record.get("sections_read")), _number(record.get("sections_total"))
    return read / total if read is not None and total else None


def class_table(learners: list[LearnerResults]) -> tuple[list[str], list[list]]:
    lessons = lesson_order(learners)
    header = ["learner", "exported_at", "app_version"]
    for slug, _ in lessons:
        header += [f"{slug} reading", f"{slug} best quiz", f"{slug} teach best", f"{slug} teach latest"]
    rows = []
    for learner in learners:
        row = [learner.learner, learner.exported_at, learner.app_version]
        for slug, _ in lessons:
            record = learner.lessons.get(slug, {})
            row += [_reading(record), _number(record.get("best_quiz")),
                    _number(record.get("teach_coverage_best")),
                    _number(record.get("teach_coverage_latest"))]
        rows.append(row)
    return header, rows


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def lesson_summary(learners: list[LearnerResults]) -> list[dict]:
    out = []
    for slug, title in lesson_order(learners):
        records = [l.lessons[slug] for l in learners if slug in l.lessons]
        quiz = [_number(r.get("best_quiz")) for r in records]
        out.append({
            "lesson": slug, "title": title, "learners": len(records),
            "mean_reading": _mean(_reading(r) for r in records),
            "completed": sum(str(r.get("completed")).lower() in ("true", "1") for r in records),
            "quiz_taken": sum(q is not None for q in quiz),
            "mean_best_quiz": _mean(quiz),
            "mean_teach_best": _mean(_number(r.get("teach_coverage_best")) for r in records),
            "mean_teach_latest": _mean(_number(r.get("teach_coverage_latest")) for r in records),
        })
    return out


def learner_summary(learners: list[LearnerResults]) -> list[dict]:
    """One line per learner for the class window: means over the lessons with a result."""
    out = []
    for learner in learners:
        records = list(learner.lessons.values())
        out.append({
            "learner": learner.learner, "exported_at": learner.exported_at,
            "reading": _mean(_reading(r) for r in records),
            "completed": sum(str(r.get("completed")).lower() in ("true", "1") for r in records),
            "lessons": len(records),
            "best_quiz": _mean(_number(r.get("best_quiz")) for r in records),
            "teach_best": _mean(_number(r.get("teach_coverage_best")) for r in records),
            "teach_latest": _mean(_number(r.get("teach_coverage_latest")) for r in records),
        })
    return out


def question_summary(learners: list[LearnerResults], texts: dict[tuple[str, str], str] | None = None) -> list[dict]:
    """Per question, sorted with the one most of the class gets wrong (at the first try) first."""
    texts = texts or {}
    tally: dict[tuple[str, str], list[int]] = {}
    for learner in learners:
        for key, right in learner.first_try.items():
            counts = tally.setdefault(key, [0, 0])
            counts[0] += 1
            counts[1] += not right
    rows = [{"bank": bank, "question": q, "text": texts.get((bank, q), ""), "answered": n,
             "wrong": wrong, "wrong_share": wrong / n}
            for (bank, q), (n, wrong) in tally.items()]
    return sorted(rows, key=lambda r: (-r["wrong_share"], -r["answered"], r["bank"], _qkey(r["question"])))


def _qkey(question: str):
    return (0, int(question)) if question.isdigit() else (1, question)


def question_texts() -> dict[tuple[str, str], str]:
    """(bank, question id) -> the question's text, from the shipped banks (for readable tables)."""
    try:
        from studyapp.config import RESOURCES_DIR
        from studyapp.content.quiz import load_banks
        banks, _ = load_banks(RESOURCES_DIR / "quizzes")
    except Exception:   # the table is still useful with ids alone
        return {}
    return {(b.id, q.id): " ".join(q.text.split()) for b in banks for q in b.questions}


# ---------------------------------------------------------------------------------------------
# Writing

def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([[_cell(v) for v in row] for row in rows])


def svg_bars(path: Path, title: str, items: list[tuple[str, float | None, str]]) -> None:
    """Horizontal bars, one per (label, value 0..1, note), with the value as a percentage."""
    row_h, label_w, bar_w, top = 26, 440, 420, 48
    # Labels are right-aligned against the bars, so a long one ran off the left edge ("LHF stages
    # 1 and 2", "eferences-and-rewards Q12"): cut to what fits at 8.2 px a character, a wide
    # sans-serif's widest average at 13 px (DejaVu Sans: 6.2-7.1 on the shipped titles and questions).
    fits = int((label_w - 20) / 8.2)
    height = top + row_h * max(len(items), 1) + 20
    width = label_w + bar_w + 140
    # The background in numbers: Qt's SVG renderer drew width='100%' as a 100-pixel square.
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' font-family='sans-serif' font-size='13'>",
             f"<rect width='{width}' height='{height}' fill='white'/>",
             f"<text x='12' y='28' font-size='17' font-weight='bold'>{html.escape(title)}</text>"]
    for i, (label, value, note) in enumerate(items):
        y = top + i * row_h
        short = label if len(label) <= fits else label[:fits - 1].rstrip() + "…"
        parts.append(f"<text x='{label_w - 8}' y='{y + 17}' text-anchor='end'>{html.escape(short)}</text>")
        parts.append(f"<rect x='{label_w}' y='{y + 4}' width='{bar_w}' height='{row_h - 8}' fill='#eceff1'/>")
        if value is not None:
            parts.append(f"<rect x='{label_w}' y='{y + 4}' width='{bar_w * max(0.0, min(1.0, value)):.1f}' "
                         f"height='{row_h - 8}' fill='#3f7fd1'/>")
        text = "–" if value is None else f"{round(100 * value)}%"
        parts.append(f"<text x='{label_w + bar_w + 8}' y='{y + 17}'>{html.escape(text + (' ' + note if note else ''))}</text>")
    parts.append("</svg>")
    path.write_text("\n".join(parts), encoding="utf-8")


def write_report(folder: Path, out: Path | None = None) -> dict:
    """Everything in the module docstring; returns what was written and counted."""
    learners, skipped = load_folder(folder)
    out = Path(out) if out else Path(folder) / "class-report"
    out.mkdir(parents=True, exist_ok=True)
    header, rows = class_table(learners)
    write_csv(out / "class-table.csv", header, rows)
    lessons = lesson_summary(learners)
    keys = ["lesson", "title", "learners", "mean_reading", "completed", "quiz_taken",
            "mean_best_quiz", "mean_teach_best", "mean_teach_latest"]
    write_csv(out / "lessons.csv", keys, [[row[k] for k in keys] for row in lessons])
    questions = question_summary(learners, question_texts())
    qkeys = ["bank", "question", "answered", "wrong", "wrong_share", "text"]
    write_csv(out / "questions.csv", qkeys, [[row[k] for k in qkeys] for row in questions])
    svg_bars(out / "lessons.svg", f"Mean best quiz score per lesson ({len(learners)} learners)",
             [(row["title"], row["mean_best_quiz"], f"· {row['quiz_taken']} took it") for row in lessons])
    svg_bars(out / "questions.svg", "Share of the class wrong at the first try (most missed first)",
             [(f"{row['bank']} Q{row['question']}: {row['text']}" if row["text"] else
               f"{row['bank']} Q{row['question']}", row["wrong_share"], f"· {row['wrong']} of {row['answered']}")
              for row in questions[:25]])
    return {"out": out, "learners": learners, "skipped": skipped, "lessons": lessons,
            "questions": questions, "class": learner_summary(learners)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="studyapp class",
                                     description="A class's results: merge learners' exports.")
    sub = parser.add_subparsers(dest="command", required=True)
    report = sub.add_parser("report", help="merge the exports of FOLDER into tables and plots")
    report.add_argument("folder", type=Path, help="folder with the learners' exported .json/.csv files")
    report.add_argument("--out", type=Path, help="where to write (default FOLDER/class-report)")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"studyapp class report: {args.folder} is not a folder", file=sys.stderr)
        return 2
    done = write_report(args.folder, args.out)
    learners = done["learners"]
    if not learners:
        print(f"No studyapp exports in {args.folder} (learners export them from the Progress tab).",
              file=sys.stderr)
        return 1
    print(f"{len(learners)} learner{'s' if len(learners) != 1 else ''}: "
          + ", ".join(l.learner for l in learners))
    print(f"{'Lesson':34} {'learners':>8} {'reading':>8} {'done':>5} {'quiz':>6} {'teach best':>10} {'latest':>6}")
    pct = lambda v: "–" if v is None else f"{round(100 * v)}%"
    for row in done["lessons"]:
        print(f"{row['title'][:34]:34} {row['learners']:>8} {pct(row['mean_reading']):>8} "
              f"{row['completed']:>5} {pct(row['mean_best_quiz']):>6} {pct(row['mean_teach_best']):>10} "
              f"{pct(row['mean_teach_latest']):>6}")
    hard = [q for q in done["questions"] if q["wrong_share"] > 0.5]
    print(f"Questions most of the class got wrong at the first try: {len(hard)}")
    for q in hard[:10]:
        print(f"  {pct(q['wrong_share']):>5}  {q['bank']} Q{q['question']}  {q['text'][:70]}")
    for line in done["skipped"]:
        print(f"skipped {line}", file=sys.stderr)
    print(f"Tables and plots written to {done['out']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
