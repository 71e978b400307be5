"""Exceptions of the profile store that the app shows to the learner at start-up.

Every StoreError carries a message written for a person, naming the folder or file involved, so
the UI can put `str(error)` in a dialog without rewording it.
"""

from __future__ import annotations


class StoreError(Exception):
    """The profile cannot be opened or written; the message says why and where."""


class ProfileTooNewError(StoreError):
    """The profile was written by a newer studyapp; it is left untouched, never downgraded."""
