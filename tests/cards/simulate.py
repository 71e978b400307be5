"""A learner's history, simulated through the real Reviewer with a moving clock.

    python -m tests.cards.simulate /tmp/cd 60      # 60 days of study into the profile at /tmp/cd

Used by the statistics tests and to make screenshots that show more than empty plots. Each
simulated day reviews what is due, forgetting ~10% of review cards, then learns new cards.
"""
from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from studyapp.content.decks import load_decks
from studyapp.srs.cards import Cards
from studyapp.srs.review import Reviewer
from studyapp.store import open_profile

REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def simulate(data_dir: Path, days: int = 60, extra_cards: int = 120, seed: int = 1,
             end: datetime | None = None) -> None:
    rng = random.Random(seed)
    end = end or datetime.now(timezone.utc)
    clock = Clock(end - timedelta(days=days))
    store = open_profile(Path(data_dir), clock=clock).store
    cards = Cards(store)
    decks, _ = load_decks(REPO / "resources" / "decks")
    cards.sync_decks(decks)
    if extra_cards:
        cards.add_many([{"front": f"Practice question {i}", "back": f"Answer {i}", "deck_id": "practice"}
                        for i in range(extra_cards)], origin="import")
    for day in range(days):
        clock.now = end - timedelta(days=days - day) + timedelta(hours=rng.uniform(0, 3))
        reviewer = Reviewer(store)
        for _ in range(400):
            card = reviewer.next_card()
            if card is None:
                break
            forget = 0.12 if card.schedule.state == 2 else 0.25
            roll = rng.random()
            rating = 1 if roll < forget else 2 if roll < forget + 0.1 else 4 if roll > 0.95 else 3
            reviewer.answer(card.id, rating, duration_ms=rng.randint(2000, 15000))
            clock.now += timedelta(seconds=rng.randint(5, 40))
    store.close(backup=False)


if __name__ == "__main__":
    simulate(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 60)
