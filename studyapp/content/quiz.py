"""Quiz banks: one markdown file per lesson under resources/quizzes/, parsed and graded here.

A bank is written by hand and looks like this (see resources/quizzes/README.md for every field):

    ---
    lesson: base-models
    title: Why a base model continues your text
    ---
    ### 1. single · check 1
    What is the training objective of pretraining?

    - [ ] Answer questions correctly. -- Feedback: why this is tempting and wrong.
    - [x] Predict the next token. -- Feedback: why it is right.

    **Explanation:** shown after the question is answered.
    **Section:** what-pretraining-actually-trains

Types: `single`, `multiple` (every `[x]` and nothing else), `truefalse`, and `short` (free text
with `**Answer:**`, `**Accept:**` variants separated by `;`, and `**Feedback:**`). A question that
cannot be used becomes a `QuizError` with the file and line and the rest of the bank loads; a
bank whose header is broken is skipped whole. No Qt here: the quiz tab shows what this returns.
"""
from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass
from pathlib import Path

from studyapp.content.frontmatter import Invalid, load_files, read_front_matter
# What a bank is made of (and how a short answer is compared) lives in quiz_items.py; every name
# stays importable from here, the one module the tabs, the checks and the tests use.
from studyapp.content.quiz_items import (  # noqa: F401
    KIND_NAMES, KINDS, MAX_OPTIONS, Bank, Option, Question, QuizError, normalise,
)

HEADING = re.compile(r"^###\s+(.*?)\s*$")
OPTION = re.compile(r"^[-*]\s+\[([ xX])\]\s+(.*)$")
FIELD = re.compile(r"^\*\*([A-Za-z ]+):\*\*\s*(.*)$")
FEEDBACK_SEP = re.compile(r"(?:^|\s+)--\s+Feedback:\s*", re.IGNORECASE)
FIELDS = {"explanation", "section", "answer", "accept", "feedback"}


# ---------------------------------------------------------------------------------------------
# Display

def to_html(text: str) -> str:
    """Escape text and turn the little markup banks use (`code`, **bold**, *italic*) into HTML.

    Deliberately not full markdown: option text such as "4 * 3 / 2" must stay as written.
    """
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*(\S(?:.*?\S)?)\*\*", r"<b>\1</b>", out)
    return re.sub(r"(?<![\w*])\*(\S(?:[^*]*?\S)?)\*(?![\w*])", r"<i>\1</i>", out)


LETTERS = "ABCDEFGHI"   # an option's letter, also its key


def explanation_html(question: Question, link: str = "") -> str:
    """The "why" shown after a question, with a "Read the section" link when one is given."""
    text = f"<b>Why:</b> {to_html(question.explanation)}"
    if link:
        text += f" &nbsp;<a href='{html.escape(link)}'>Read the section →</a>"
    return text


def _answer_html(question: Question, answer: dict | None) -> str:
    if answer is None:
        return "<i>not answered</i>"
    if answer.get("revealed"):
        return "<i>asked to see the answer</i>"
    response = decode(answer)
    if isinstance(response, str):
        return f"“{html.escape(response)}”"
    return "; ".join(to_html(question.options[i].text) for i in sorted(response or ())
                     if i < len(question.options)) or "<i>nothing</i>"


def review_html(bank: Bank, attempt, *, colours: dict[str, str], link_for=lambda q: "",
                cards_made: frozenset[str] | set[str] = frozenset()) -> str:
    """Every question of an attempt: the learner's answer, the right one, the feedback on the
    options chosen and the right ones, the explanation, and a card:ID link for each miss.

    `attempt` is a store.quiz.Attempt (question_ids, mode, tries()); colours has right, wrong and
    muted. A question removed from the bank since the attempt is named, not silently dropped.
    (HTML for QTextBrowser, like the lessons' render(); the quiz tab shows it.)
    """
    right, wrong, muted = colours["right"], colours["wrong"], colours["muted"]
    parts = []
    for number, qid in enumerate(attempt.question_ids, start=1):
        q, tries = bank.question(qid), attempt.tries(qid)
        if q is None:
            parts.append(f"<h3>{number}. (question {html.escape(qid)} is no longer in this quiz)</h3>")
            continue
        first = tries[0] if tries else None
        ok = bool(first and first.correct)
        mark = f"<span style='color:{right}'>✓</span>" if ok else f"<span style='color:{wrong}'>✗</span>"
        parts.append(f"<h3>{mark} {number}. {to_html(q.text)}</h3>")
        note = ""
        if attempt.mode == "practice" and len(tries) > 1:
            done = f"right at try {len(tries)}" if tries[-1].correct else f"{len(tries)} tries"
            note = f" <span style='color:{muted}'>({done})</span>"
        parts.append(f"<p><b>Your answer:</b> {_answer_html(q, first.answer if first else None)}{note}</p>")
        if not ok:
            parts.append(f"<p><b style='color:{right}'>Right answer:</b> {to_html(q.right_answer_text())}</p>")
        chosen = decode(first.answer) if first else None
        items = [to_html(q.feedback)] if q.kind == "short" else []
        for i, option in enumerate(q.options):
            picked = isinstance(chosen, frozenset) and i in chosen
            if picked or option.correct:
                # No letter: options are shuffled per attempt, so the bank's letter is not the
                # one the learner saw (the option picked with key A was named "D").
                tint = right if option.correct else wrong
                label = ("You chose, right" if option.correct else "You chose") if picked else "Right option"
                items.append(f"<span style='color:{tint}'><b>{label}:</b></span> "
                             f"{to_html(option.text)} — <i>{to_html(option.feedback)}</i>")
        parts.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
        parts.append(f"<p>{explanation_html(q, link_for(q))}</p>")
        if not ok:
            parts.append(f"<p><span style='color:{muted}'>Flashcard made ✓</span></p>" if qid in cards_made
                         else f"<p><a href='card:{html.escape(qid)}'>Make a flashcard</a></p>")
        parts.append("<hr>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# Parsing

def _parse_heading(rest: str, line: int) -> tuple[str, str, int | None]:
    """'1. single · check 1' -> ('1', 'single', 1)."""
    parts = [p.strip() for p in re.split(r"[·|]", rest) if p.strip()]
    if not parts:
        raise Invalid(line, "a question heading needs a type: '### 1. single'")
    head = re.match(r"^(?:(\w[\w-]*)[.)]\s+)?(\S+)$", parts[0])
    if not head or head.group(2).lower() not in KINDS:
        raise Invalid(line, f"unknown question type in {rest!r}; use one of "
                             "single, multiple, truefalse, short")
    check = None
    for part in parts[1:]:
        tag = re.match(r"^check\s+(\d+|-)$", part, re.IGNORECASE)
        if not tag:
            raise Invalid(line, f"unknown tag {part!r} in the heading (expected 'check N')")
        check = None if tag.group(1) == "-" else int(tag.group(1))
    return head.group(1) or "", KINDS[head.group(2).lower()], check


def _parse_question(block: list[tuple[int, str]], number: int) -> Question:
    """block: (line number, text) pairs from the heading up to the next heading."""
    head_line, heading = block[0]
    qid, kind, check = _parse_heading(HEADING.match(heading).group(1), head_line)
    question = Question(id=qid or str(number), kind=kind, text="", line=head_line, check=check)
    text_lines: list[str] = []
    target: tuple[str, object] | None = None   # where a continuation line goes
    fields: dict[str, str] = {}
    for line_no, raw in block[1:]:
        line = raw.strip()
        if not line:
            target = None   # a blank line ends a wrapped option or field
            if text_lines and not question.options and not fields:
                text_lines.append("")
            continue
        option = OPTION.match(line)
        found = FIELD.match(line)
        if option:
            if kind == "short":
                raise Invalid(line_no, "a short-answer question has no options; "
                                        "use **Answer:**, **Accept:** and **Feedback:**")
            parts = FEEDBACK_SEP.split(option.group(2), maxsplit=1)
            opt = Option(text=parts[0].strip(), correct=option.group(1) != " ",
                         feedback=parts[1].strip() if len(parts) > 1 else "", line=line_no)
            question.options.append(opt)
            target = ("option", opt)
        elif found and found.group(1).strip().lower() in FIELDS:
            name = found.group(1).strip().lower()
            if name in fields:
                raise Invalid(line_no, f"**{found.group(1).strip()}:** is given twice")
            fields[name] = found.group(2).strip()
            target = ("field", name)
        elif found:
            raise Invalid(line_no, f"unknown field **{found.group(1)}:**; use one of "
                                    + ", ".join(f"**{f.capitalize()}:**" for f in sorted(FIELDS)))
        elif target and target[0] == "option":   # a long option wrapped onto the next line
            opt = target[1]
            parts = FEEDBACK_SEP.split(line, maxsplit=1)
            if opt.feedback or len(parts) > 1:
                opt.feedback = (opt.feedback + " " + parts[-1]).strip()
                if len(parts) > 1:
                    opt.text = (opt.text + " " + parts[0]).strip()
            else:
                opt.text += " " + line
        elif target and target[0] == "field":
            fields[target[1]] += " " + line
        elif question.options or fields:
            raise Invalid(line_no, f"unexpected text after the options: {line[:60]!r}")
        else:
            text_lines.append(line)
    question.text = "\n".join(text_lines).strip()
    question.explanation = fields.get("explanation", "")
    question.section = fields.get("section", "").lstrip("#").strip()
    _finish(question, fields, head_line)
    return question


def _finish(q: Question, fields: dict[str, str], line: int) -> None:
    """Check that the question can be asked and graded; fill in the short-answer fields."""
    if not q.text:
        raise Invalid(line, "the question has no text under its heading")
    if not q.explanation:
        raise Invalid(line, "the question has no **Explanation:** (shown after it is answered)")
    if q.kind == "short":
        q.answer = fields.get("answer", "")
        q.feedback = fields.get("feedback", "")
        q.accept = [v.strip() for v in fields.get("accept", "").split(";") if v.strip()]
        if q.answer:
            q.accept.insert(0, q.answer)
        if not q.accept:
            raise Invalid(line, "a short-answer question needs **Answer:** or **Accept:**")
        if not q.feedback:
            raise Invalid(line, "a short-answer question needs **Feedback:**")
        return
    for name in ("answer", "accept", "feedback"):
        if name in fields:
            raise Invalid(line, f"**{name.capitalize()}:** belongs to short-answer questions; "
                                 "a choice question gives feedback on each option after ' -- Feedback:'")
    if len(q.options) < 2:
        raise Invalid(line, "a choice question needs at least two options '- [ ]' / '- [x]'")
    if len(q.options) > MAX_OPTIONS:
        raise Invalid(q.options[MAX_OPTIONS].line, f"at most {MAX_OPTIONS} options (keys 1-9)")
    for opt in q.options:
        if not opt.feedback:
            raise Invalid(opt.line, "the option has no feedback; end it with ' -- Feedback: ...'")
        if not opt.text:
            raise Invalid(opt.line, "the option has no text")
    right = len(q.correct_indices)
    if q.kind == "multiple" and right == 0:
        raise Invalid(line, "a multiple-choice question needs at least one [x] option")
    if q.kind in ("single", "truefalse") and right != 1:
        raise Invalid(line, f"a {q.kind} question needs exactly one [x] option, it has {right}")
    if q.kind == "truefalse" and sorted(o.text.lower() for o in q.options) != ["false", "true"]:
        raise Invalid(line, "a truefalse question has exactly the options True and False")


def parse_bank(path: Path) -> tuple[Bank, list[QuizError]]:
    """Parse one bank; broken questions become errors. Raises Invalid when the header is bad."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(raw[:exc.start].count(b"\n") + 1,
                       "the file is not valid UTF-8 text (save it as UTF-8)") from None
    lines = text.splitlines()
    meta, start = read_front_matter(lines)
    lesson = meta.get("lesson", "").strip()
    if not lesson:
        raise Invalid(1, "the header needs 'lesson: SLUG' (the lesson file name without number)")
    bank = Bank(id=path.stem, lesson_id=lesson, title=meta.get("title") or f"Quiz on {lesson}",
                path=path)
    errors: list[QuizError] = []
    blocks: list[list[tuple[int, str]]] = []
    in_fence = False
    for index in range(start, len(lines)):
        line = lines[index]
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence and HEADING.match(line):
            blocks.append([(index + 1, line)])
        elif blocks:
            blocks[-1].append((index + 1, line))
        # Anything before the first question (a title, a note to other teachers) is not shown.
    seen: dict[str, int] = {}
    for number, block in enumerate(blocks, start=1):
        try:
            question = _parse_question(block, number)
        except Invalid as exc:
            errors.append(QuizError(path, exc.line, str(exc)))
            continue
        if question.id in seen:
            errors.append(QuizError(path, question.line, f"question number {question.id} is "
                                    f"already used on line {seen[question.id]}"))
            continue
        seen[question.id] = question.line
        bank.questions.append(question)
    if not blocks:
        errors.append(QuizError(path, len(lines) or 1, "the bank has no questions ('### 1. single')"))
    return bank, errors


def load_banks(*folders: Path) -> tuple[list[Bank], list[QuizError]]:
    """Every bank of the folders with at least one usable question (see frontmatter.load_files)."""
    def parse(path: Path):
        bank, errors = parse_bank(path)
        return (bank if bank.questions else None), errors
    return load_files(folders, parse, key=lambda bank: bank.id)


def check_sections(banks: list[Bank], sections: dict[str, set[str]]) -> list[QuizError]:
    """Questions naming a lesson or section that does not exist; sections: {lesson: {ids}}.

    The question still loads (only its "Read the section" link is dropped), so a renamed heading
    does not take questions away from learners.
    """
    errors = []
    for bank in banks:
        known = sections.get(bank.lesson_id)
        if known is None:
            errors.append(QuizError(bank.path, 2, f"no lesson {bank.lesson_id!r} is installed"))
            continue
        for q in bank.questions:
            if q.section and q.section not in known:
                errors.append(QuizError(bank.path, q.line, f"question {q.id}: lesson "
                                        f"{bank.lesson_id!r} has no section {q.section!r}"))
                q.section = ""
    return errors


# ---------------------------------------------------------------------------------------------
# A quiz being taken: the rules of both modes, with no screen

def encode(question: Question, response: frozenset[int] | str) -> dict:
    """The JSON form of a response, as the profile keeps it."""
    if question.kind == "short":
        return {"text": str(response)}
    return {"choices": sorted(response)}


def decode(answer: dict) -> frozenset[int] | str | None:
    if "text" in answer:
        return str(answer["text"])
    if "choices" in answer:
        return frozenset(int(i) for i in answer["choices"])
    return None   # {"revealed": true}: the learner asked to see the answer


@dataclass
class Outcome:
    correct: bool
    try_no: int
    done: bool          # the question is over: answered right, revealed, or (test) answered


class QuizSession:
    """Practice: a question is over once answered right (or revealed); every try is recorded.
    Test: one answer per question, nothing is graded on screen until the end.

    `recorder` is anything with start/record_answer/finish like store.quiz.QuizHistory; the
    attempt opens at the first answer, so a quiz opened and left untouched leaves no trace.

    Options are shown in a new order each attempt (`display_order`), so where the right answer
    sits teaches nothing; answers are still recorded as the bank's option indices, so feedback
    and history stay attached to the right option. True/false keeps True before False.
    `shuffle=False` or a `seed` make the order fixed (tests, a teacher's printed copy).
    """

    def __init__(self, bank: Bank, mode: str, recorder=None, *, shuffle: bool = True,
                 seed: int | None = None):
        if mode not in ("practice", "test"):
            raise ValueError(f"unknown mode {mode!r}")
        self.bank, self.mode, self.recorder = bank, mode, recorder
        self.questions = list(bank.questions)
        rng = random.Random(seed)
        self.orders: dict[str, list[int]] = {}
        for q in self.questions:
            order = list(range(len(q.options)))
            if shuffle and q.kind in ("single", "multiple"):
                rng.shuffle(order)
            self.orders[q.id] = order
        self.index = 0
        self.attempt_id: int | None = None
        self.tries: dict[str, int] = {}
        self.first_correct: dict[str, bool] = {}
        self.last: dict[str, frozenset[int] | str | None] = {}
        self.over: set[str] = set()
        self.score: float | None = None

    @property
    def current(self) -> Question:
        return self.questions[self.index]

    def display_order(self, question: Question | None = None) -> list[int]:
        """The bank's option indices in the order they are shown in this attempt."""
        question = question or self.current
        return self.orders.get(question.id, list(range(len(question.options))))

    @property
    def is_last(self) -> bool:
        return self.index >= len(self.questions) - 1

    @property
    def finished(self) -> bool:
        return self.score is not None

    def right_so_far(self) -> int:
        return sum(self.first_correct.values())

    def _record(self, question: Question, answer: dict, correct: bool) -> int:
        if self.recorder is None:
            return self.tries.get(question.id, 0) + 1
        if self.attempt_id is None:
            self.attempt_id = self.recorder.start(self.bank.id, self.bank.lesson_id, self.mode,
                                                  [q.id for q in self.questions])
        return self.recorder.record_answer(self.attempt_id, question.id, answer, correct)

    def submit(self, response: frozenset[int] | str) -> Outcome:
        question = self.current
        if question.id in self.over:
            raise RuntimeError(f"question {question.id} is already over")
        correct = question.is_correct(response)
        try_no = self._record(question, encode(question, response), correct)
        self.tries[question.id] = try_no
        self.first_correct.setdefault(question.id, correct)
        self.last[question.id] = response
        if correct or self.mode == "test":
            self.over.add(question.id)
        return Outcome(correct, try_no, question.id in self.over)

    def reveal(self) -> Outcome:
        """Practice only: give up on the question; it counts as not known."""
        question = self.current
        if self.mode != "practice" or question.id in self.over:
            raise RuntimeError("only an open practice question can be revealed")
        try_no = self._record(question, {"revealed": True}, False)
        self.tries[question.id] = try_no
        self.first_correct.setdefault(question.id, False)
        self.over.add(question.id)
        return Outcome(False, try_no, True)

    def next(self) -> bool:
        """Move on; False when there is no next question."""
        if self.is_last:
            return False
        self.index += 1
        return True

    def finish(self) -> float:
        """Close the attempt; the fraction right at the first try (0..1)."""
        if self.recorder is not None and self.attempt_id is not None:
            self.score = self.recorder.finish(self.attempt_id)
        else:
            self.score = self.right_so_far() / len(self.questions) if self.questions else 0.0
        return self.score
