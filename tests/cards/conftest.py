"""Fixtures for the flashcard tests: a profile on a clock the test moves, with the shipped decks."""
from __future__ import annotations

from pathlib import Path

import pytest

from studyapp.content.decks import load_decks
from studyapp.content.lessons import load_lessons
from studyapp.srs.cards import Cards
from studyapp.store import open_profile
from tests.support import FakeClock

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def lessons():
    found, errors = load_lessons(REPO / "resources" / "lessons")
    assert not errors
    return found


@pytest.fixture(scope="session")
def known(lessons) -> dict[str, set[str]]:
    return {l.slug: {s.id for s in l.sections} for l in lessons}


@pytest.fixture(scope="session")
def course_decks(known):
    decks, errors = load_decks(REPO / "resources" / "decks", known=known)
    assert errors == []
    return decks


@pytest.fixture(scope="session")
def shipped(course_decks) -> int:
    """How many cards the shipped decks hold, as the deck loader reads them (test_decks pins it)."""
    return sum(len(deck.cards) for deck in course_decks)


@pytest.fixture
def store(tmp_path, clock):
    opened = open_profile(tmp_path / "profile", clock=clock)
    yield opened.store
    opened.store.close(backup=False)


@pytest.fixture
def cards(store, course_decks) -> Cards:
    cards = Cards(store)
    cards.sync_decks(course_decks)
    return cards
