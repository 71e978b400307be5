"""The world's plain records, apart from world.py so that requestgen.py (which world.py calls to
compose the generated requests) can build them without importing world.py back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HarmfulRequest:
    request: str
    literal_answer: str
    split: str


@dataclass(frozen=True)
class ChatTurn:
    prompt: str
    response: str


@dataclass(frozen=True)
class Request:
    """An everyday request: a harmless look-alike, a homework request or small talk."""

    kind: str
    prompt: str
    reply: str  # the preferred reply (for homework: a guide, not the answers)
    split: str


@dataclass(frozen=True)
class Unknown:
    """A subject no training text answers for: "What is the capital of Mongolia?" is unknowable."""

    relation: str
    subject: str
    split: str
    question: str
