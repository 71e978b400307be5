"""The learner's results, per lesson, for the Progress tab and for a teacher's export.

Per lesson: sections read, completion, the best quiz score, flashcards (total, due, mature) and
teach-it-back coverage (the best attempt and the latest), read from each feature's public API
(store.progress, store.quiz, srs.cards, store.teach: each built on the store). Every export carries the learner's name
(asked once, kept in the profile's settings under LEARNER_KEY), the date and the app version, and
export_filename() gives each learner's file a name of its own, so a teacher can drop a class's
files into one folder and merge them with `studyapp class report FOLDER` (studyapp.classreport). `collect_from_file` reads a profile through a read-only connection of
its own, so a worker can build the report while the app keeps writing. No Qt here.
"""
from __future__ import annotations

import csv
import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

CSV_COLUMNS = ["learner", "exported_at", "app_version", "lesson", "title", "sections_read",
               "sections_total", "completed", "best_quiz", "cards_total", "cards_due", "cards_mature",
               "teach_points_covered", "teach_points_total", "teach_coverage_best",
               "teach_coverage_latest"]
JSON_FORMAT = "studyapp-results/2"   # /1 had no learner, version or per-question answers
LEARNER_KEY = "learner_name"         # the settings key of the learner's name


def app_version() -> str:
    from studyapp import __version__
    return __version__


def learner_name(store) -> str:
    from studyapp.store.settings import Settings
    value = Settings(store).get(LEARNER_KEY, "")
    return value.strip() if isinstance(value, str) else ""


def export_filename(learner: str, when: datetime, kind: str) -> str:
    """studyapp-results-ada-lovelace-2026-11-30-0915.csv: unique per learner and minute."""
    import re
    import unicodedata

    # Accents go (Zoë -> zoe), letters without an ASCII form stay (Ørsted -> ørsted, 李雷 -> 李雷):
    # dropping them made two learners' files differ only by a stray letter, or both "learner".
    plain = "".join(c for c in unicodedata.normalize("NFKD", learner) if not unicodedata.combining(c))
    slug = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFC", plain).casefold()).strip("-")[:40] or "learner"
    return f"studyapp-results-{slug}-{when:%Y-%m-%d-%H%M}.{kind}"


@dataclass
class LessonRow:
    lesson: str
    title: str
    sections_read: int
    sections_total: int
    completed: bool
    best_quiz: float | None = None        # 0..1, finished attempts only
    cards_total: int = 0
    cards_due: int = 0
    cards_mature: int = 0
    teach_points_covered: float = 0.0     # in the latest attempt; partly covered counts half
    teach_points_total: int = 0
    teach_best_covered: float = 0.0       # in the attempt with the best overall coverage

    @property
    def teach_coverage(self) -> float | None:
        """The latest attempt's coverage of this lesson's key points."""
        return self.teach_points_covered / self.teach_points_total if self.teach_points_total else None

    @property
    def teach_best(self) -> float | None:
        """The best attempt's coverage of this lesson's key points."""
        return self.teach_best_covered / self.teach_points_total if self.teach_points_total else None

    @property
    def read_fraction(self) -> float:
        return self.sections_read / self.sections_total if self.sections_total else 0.0

    def as_record(self) -> dict:
        record = asdict(self)
        record["teach_coverage_latest"] = None if self.teach_coverage is None else round(self.teach_coverage, 4)
        record["teach_coverage_best"] = None if self.teach_best is None else round(self.teach_best, 4)
        record["best_quiz"] = None if self.best_quiz is None else round(self.best_quiz, 4)
        return record


@dataclass
class Report:
    lessons: list[LessonRow]
    teach_attempts: list[dict] = field(default_factory=list)
    quiz_attempts: list[dict] = field(default_factory=list)
    made_at: str = ""
    notes: list[str] = field(default_factory=list)   # parts that could not be read
    learner: str = ""
    app_version: str = ""


class ReadOnlyProfile:
    """Enough of a Store for the features' read APIs (each feature is built on it, as on a Store:
    `LessonProgress(profile)`), on its own read-only connection, so the report can be gathered on
    a worker while the GUI thread keeps writing to the profile."""

    def __init__(self, path: Path, clock) -> None:
        from sqlite_utils import Database

        self.path = path
        # as_uri() percent-encodes the path: a profile folder may contain spaces, '?' or '#'.
        self.conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5,
                                    check_same_thread=False)
        self.db = Database(self.conn, execute_plugins=False)
        self.clock = clock

    def now(self) -> datetime:
        return self.clock()

    def now_text(self) -> str:
        from studyapp.store.timeutil import to_text
        return to_text(self.clock())

    def close(self) -> None:
        self.conn.close()


def _teach_points(store, best: bool = False) -> dict[str, list[float]]:
    """{lesson slug: [credit of each key point taught there]}, from each rubric's newest attempt
    or (best=True) from its attempt with the highest coverage."""
    from studyapp.store.teach import TeachAttempts

    credit = {"covered": 1.0, "partly": 0.5}
    teach = TeachAttempts(store)
    if best:
        chosen = {}
        for attempt in teach.history(limit=10_000):
            if attempt.rubric_id not in chosen or attempt.coverage > chosen[attempt.rubric_id].coverage:
                chosen[attempt.rubric_id] = attempt
        points = [p for a in chosen.values() for p in a.result.get("points", [])]
    else:
        points = list(teach.latest_by_point().values())
    per_lesson: dict[str, list[float]] = {}
    for point in points:
        for slug in point.get("lessons", []):
            per_lesson.setdefault(slug, []).append(credit.get(point.get("status"), 0.0))
    return per_lesson


def collect(store, lessons) -> Report:
    """Gather the learner's results per lesson; a feature that cannot be read adds a note."""
    from studyapp.store.teach import TeachAttempts
    from studyapp.store.timeutil import to_text

    notes: list[str] = []
    from studyapp.store.progress import LessonProgress
    progress = LessonProgress(store).lesson_progress()
    best: dict[str, float] = {}
    quiz_attempts: list[dict] = []
    try:
        from studyapp.store.quiz import QuizHistory
        history = QuizHistory(store)
        best = history.best_scores()
        for a in history.attempts(limit=10_000):
            full = history.attempt(a.id) if a.finished else None
            # Right at the first try, per question: what the class report counts as known.
            first = {x.question_id: x.correct for x in (full.answers if full else []) if x.try_no == 1}
            quiz_attempts.append({"bank": a.bank_id, "lesson": a.lesson_id, "mode": a.mode,
                                  "started_at": to_text(a.started_at) if a.started_at else None,
                                  "finished": a.finished, "score": a.score, "max_score": a.max_score,
                                  "first_try": first})
    except (ImportError, sqlite3.Error) as exc:
        notes.append(f"quiz results: {exc}")
    counts = {}
    try:
        from studyapp.srs.cards import Cards
        counts = Cards(store).lesson_counts()
    except (ImportError, sqlite3.Error) as exc:
        notes.append(f"flashcards: {exc}")
    teach = _teach_points(store)
    teach_best = _teach_points(store, best=True)
    rows = []
    for lesson in lessons:
        done = progress.get(lesson.slug)
        section_ids = {s.id for s in lesson.sections}
        cards = counts.get(lesson.slug)
        points = teach.get(lesson.slug, [])
        rows.append(LessonRow(
            lesson.slug, lesson.title,
            len(done.sections_read & section_ids) if done else 0, len(section_ids),
            bool(done and done.completed), best.get(lesson.slug),
            cards.total if cards else 0, cards.due if cards else 0, cards.mature if cards else 0,
            sum(points), len(points), sum(teach_best.get(lesson.slug, [])) if points else 0.0))
    teach_attempts = []
    for attempt in TeachAttempts(store).history(limit=10_000):
        points = attempt.result.get("points", [])
        teach_attempts.append({
            "rubric": attempt.rubric_id, "created_at": to_text(attempt.created_at),
            "coverage": attempt.coverage, "band": attempt.result.get("band", ""),
            "covered": [p["id"] for p in points if p.get("status") == "covered"],
            "partly": [p["id"] for p in points if p.get("status") == "partly"],
            "missing": [p["id"] for p in points if p.get("status") == "missing"],
            "words": len(attempt.text.split()), "grader": attempt.grader})
    learner = ""
    try:
        learner = learner_name(store)
    except sqlite3.Error as exc:
        notes.append(f"learner name: {exc}")
    return Report(rows, teach_attempts, quiz_attempts, to_text(store.now()), notes, learner,
                  app_version())


def collect_from_file(path: Path, clock, lessons) -> Report:
    """collect() on a read-only connection of its own (for a worker thread)."""
    profile = ReadOnlyProfile(path, clock)
    try:
        return collect(profile, lessons)
    finally:
        profile.close()


def export_csv(report: Report, path: Path) -> None:
    """One row per lesson, the columns of CSV_COLUMNS; empty cells where there is no result."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in report.lessons:
            record = row.as_record() | {"learner": report.learner, "exported_at": report.made_at,
                                        "app_version": report.app_version}
            writer.writerow({k: ("" if record.get(k) is None else record.get(k)) for k in CSV_COLUMNS})


def export_json(report: Report, path: Path, profile: str = "") -> None:
    """Everything: per-lesson rows, every teach-it-back and quiz attempt (without texts)."""
    data = {"format": JSON_FORMAT, "learner": report.learner, "app_version": report.app_version,
            "profile": profile, "exported_at": report.made_at,
            "lessons": [r.as_record() for r in report.lessons],
            "teach_attempts": report.teach_attempts, "quiz_attempts": report.quiz_attempts}
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
