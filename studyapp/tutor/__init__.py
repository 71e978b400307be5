"""Teach-it-back grading with a local sentence-embedding model (pure Python, no Qt)."""
