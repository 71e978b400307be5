"""What a quiz bank is made of: options, questions and banks, and how two short answers are
compared (`normalise`). The parsing, the display and the rules of an attempt are in quiz.py, which
re-exports every name here. No Qt here.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from studyapp.content.frontmatter import ContentError

KINDS = {"single": "single", "multiple": "multiple", "truefalse": "truefalse",
         "true/false": "truefalse", "short": "short"}
KIND_NAMES = {"single": "Single choice", "multiple": "Multiple choice",
              "truefalse": "True or false", "short": "Short answer"}
MAX_OPTIONS = 9   # the keys 1-9 pick an option


@dataclass
class Option:
    text: str
    correct: bool
    feedback: str
    line: int


@dataclass
class Question:
    id: str                       # the number in the heading; answers in the profile refer to it
    kind: str                     # single | multiple | truefalse | short
    text: str
    line: int
    options: list[Option] = field(default_factory=list)
    answer: str = ""              # short: the model answer shown after answering
    accept: list[str] = field(default_factory=list)   # short: accepted variants (raw text)
    feedback: str = ""            # short: feedback shown after answering
    explanation: str = ""
    section: str = ""             # a `##` heading id of the bank's lesson, or ""
    check: int | None = None      # which of the course's understanding checks it serves

    @property
    def correct_indices(self) -> frozenset[int]:
        return frozenset(i for i, o in enumerate(self.options) if o.correct)

    def is_correct(self, response: frozenset[int] | set[int] | str) -> bool:
        """A set of option indices for choice questions, a string for short answers."""
        if self.kind == "short":
            given = normalise(str(response))
            return bool(given) and given in {normalise(v) for v in self.accept}
        return frozenset(response) == self.correct_indices

    def as_card(self) -> tuple[str, str]:
        """The flashcard a missed question becomes: the question; the answer and the why."""
        front = self.text if self.kind != "truefalse" else f"True or false? {self.text}"
        return front, f"{self.right_answer_text()}\n\n{self.explanation}"

    def right_answer_text(self) -> str:
        if self.kind == "short":
            return self.answer or (self.accept[0] if self.accept else "")
        return "; ".join(o.text for o in self.options if o.correct)


@dataclass
class Bank:
    id: str            # the file name without .md; attempts in the profile refer to it
    lesson_id: str
    title: str
    path: Path
    questions: list[Question] = field(default_factory=list)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


QuizError = ContentError


# ---------------------------------------------------------------------------------------------
# Short answers

_ARTICLE = re.compile(r"^(the|a|an) ")
_DIGIT_GROUP = re.compile(r"(?<=\d)[,'\u202f\u00a0](?=\d{3}(?!\d))")


def normalise(text: str) -> str:
    """The form two short answers are compared in: "The  5,000x!" -> "5000x".

    Case, accents of width (NFKC), punctuation and runs of spaces are ignored, and so is a
    leading article. Thousands separators are dropped first so "5,000" and "5000" agree, while
    other punctuation becomes a space so "C>B" and "C > B" agree.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DIGIT_GROUP.sub("", text)
    text = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text)
    text = " ".join(text.split())
    return _ARTICLE.sub("", text)
