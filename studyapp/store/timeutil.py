"""Timestamps of the store: one clock type and one text format, used by every table.

Times are stored as UTC ISO-8601 text with milliseconds ("2026-11-27T14:02:05.123Z") so they sort
as strings and read well in a database browser. The clock is injectable so tests can move time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def to_text(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def from_text(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def for_people(moment: datetime) -> str:
    """Local wall-clock time to the minute, as a learner would say it."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def for_filenames(moment: datetime) -> str:
    """Compact UTC stamp that sorts correctly inside file names."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S") + f"{moment.microsecond // 1000:03d}Z"
