"""Tests of the flashcards feature (studyapp/srs, the Flashcards tab, decks, import/export)."""
