"""Spaced repetition on top of the fsrs package (pure Python, no Qt)."""
