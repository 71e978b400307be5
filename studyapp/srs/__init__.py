"""Spaced repetition on top of the fsrs package (pure Python, no Qt).

    from studyapp.srs import Cards, Reviewer, Options
    Cards(store).add(front, back, lesson_id=..., section_id=..., origin="quiz")   # -> card id
    Cards(store).lesson_counts()          # {lesson slug: LessonCounts(total, new, due, mature)}
    Reviewer(store).next_card() / .previews(card) / .answer(card_id, rating) / .undo()

cards.py (the cards and shipped-deck sync), review.py (the queue and answering), scheduling.py
(options, fsrs conversion, interval previews), stats.py, csvio.py, apkg.py, optimize.py, cli.py.
Imports here stay light: fsrs loads with review/scheduling, genanki only for an export.
"""
from .cards import Cards, CardRow, LessonCounts
from .review import Reviewer
from .scheduling import Options

__all__ = ["CardRow", "Cards", "LessonCounts", "Options", "Reviewer"]
