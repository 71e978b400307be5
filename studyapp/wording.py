"""Counts in words a learner reads: "1 card", "3 cards", never "card(s)"."""
from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun in the number it takes: count(1, "card") -> "1 card", count(0, "card") -> "0 cards"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
