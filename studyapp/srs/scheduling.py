"""The learner's scheduling options, the fsrs Scheduler they make, and card <-> row conversion.

Options live in the profile (the settings key "cards.options") so they follow the learner:
desired retention, learning and relearning steps, daily limits, fuzzing, the day's start hour and,
once the optimizer has run, the fitted FSRS parameters. Nothing here knows Qt.
"""
from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from studyapp.store.settings import Settings
from studyapp.store.timeutil import from_text, to_text

SETTINGS_KEY = "cards.options"
NEW = 0                      # our state for a card never reviewed; fsrs states are 1..3
MATURE_DAYS = 21             # Anki's line between young and mature cards
RATINGS = (Rating.Again, Rating.Hard, Rating.Good, Rating.Easy)
RATING_NAMES = {Rating.Again: "Again", Rating.Hard: "Hard", Rating.Good: "Good", Rating.Easy: "Easy"}
STEP = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Options:
    desired_retention: float = 0.90
    learning_steps: tuple[str, ...] = ("1m", "10m")
    relearning_steps: tuple[str, ...] = ("10m",)
    new_per_day: int = 20
    reviews_per_day: int = 200
    maximum_interval: int = 36500
    enable_fuzzing: bool = True
    day_starts_hour: int = 4          # reviews after midnight still count for "yesterday" until 4
    parameters: tuple[float, ...] | None = None   # fitted by the optimizer; None: fsrs defaults
    optimized_at: str | None = None
    optimized_reviews: int = 0

    def validated(self) -> Options:
        """Raise ValueError naming the first bad option."""
        if not 0.70 <= self.desired_retention <= 0.99:
            raise ValueError("desired retention must be between 0.70 and 0.99")
        for name in ("learning_steps", "relearning_steps"):
            for step in getattr(self, name):
                parse_step(step)
        if not (0 <= self.new_per_day <= 9999 and 0 <= self.reviews_per_day <= 99999):
            raise ValueError("daily limits must be between 0 and 9999 (new) / 99999 (reviews)")
        if not 0 <= self.day_starts_hour <= 23:
            raise ValueError("the day must start at an hour between 0 and 23")
        if not 1 <= self.maximum_interval <= 36500:
            raise ValueError("the maximum interval must be between 1 and 36500 days")
        if self.parameters is not None:
            Scheduler(parameters=self.parameters)   # raises ValueError when out of bounds
        return self

    # ---- persistence ----------------------------------------------------------------------
    @classmethod
    def load(cls, store) -> Options:
        raw = Settings(store).get(SETTINGS_KEY, None) or {}
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        for name in ("learning_steps", "relearning_steps", "parameters"):
            if isinstance(known.get(name), list):
                known[name] = tuple(known[name])
        try:
            return cls(**known).validated()
        except (TypeError, ValueError):
            return cls()   # a hand-edited or older value must not stop reviews

    def save(self, store) -> None:
        Settings(store).set(SETTINGS_KEY, asdict(self.validated()))

    def with_(self, **changes) -> Options:
        return replace(self, **changes).validated()

    # ---- fsrs -----------------------------------------------------------------------------
    def scheduler(self, *, fuzz: bool | None = None) -> Scheduler:
        kwargs = {} if self.parameters is None else {"parameters": self.parameters}
        return Scheduler(
            desired_retention=self.desired_retention,
            learning_steps=[parse_step(s) for s in self.learning_steps],
            relearning_steps=[parse_step(s) for s in self.relearning_steps],
            maximum_interval=self.maximum_interval,
            enable_fuzzing=self.enable_fuzzing if fuzz is None else fuzz,
            **kwargs)


def parse_step(text: str) -> timedelta:
    """'1m', '10m', '1h', '1d', '30s' -> timedelta; ValueError otherwise."""
    match = STEP.match(str(text).strip().lower())
    if not match:
        raise ValueError(f"a step looks like 1m, 10m, 1h or 1d, not {text!r}")
    seconds = float(match.group(1)) * UNIT_SECONDS[match.group(2)]
    if not 1 <= seconds <= 7 * 86400:
        raise ValueError(f"step {text!r} must be between 1 second and 7 days")
    return timedelta(seconds=seconds)


def parse_steps(text: str) -> tuple[str, ...]:
    """'1m 10m' or '1m, 10m' -> ('1m', '10m'), each checked."""
    steps = tuple(part for part in re.split(r"[\s,]+", text.strip()) if part)
    for step in steps:
        parse_step(step)
    return steps


def utc(moment: datetime) -> datetime:
    # fsrs insists on tzinfo == timezone.utc, not just any zero offset.
    return moment.astimezone(timezone.utc)


# ---- rows <-> fsrs.Card ---------------------------------------------------------------------
SCHEDULE_COLUMNS = ("state", "step", "stability", "difficulty", "due", "last_review",
                    "interval_days", "reps", "lapses")


@dataclass
class Schedule:
    """A card's scheduling columns, as stored."""
    state: int = NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: str = ""
    last_review: str | None = None
    interval_days: float | None = None
    reps: int = 0
    lapses: int = 0

    @classmethod
    def from_row(cls, row) -> Schedule:
        return cls(**{name: row[name] for name in SCHEDULE_COLUMNS})

    def as_dict(self) -> dict:
        return asdict(self)

    def to_fsrs(self, card_id: int) -> FsrsCard:
        if self.state == NEW:
            # A new card is a fresh fsrs card in Learning, step 0; its due is "now" for fsrs.
            return FsrsCard(card_id=card_id, state=State.Learning, step=0)
        return FsrsCard(card_id=card_id, state=State(self.state), step=self.step,
                        stability=self.stability, difficulty=self.difficulty,
                        due=from_text(self.due), last_review=from_text(self.last_review))

    def after(self, card: FsrsCard, rating: Rating) -> Schedule:
        """The schedule after fsrs returned `card` for this review."""
        interval = (card.due - card.last_review).total_seconds() / 86400
        lapse = rating == Rating.Again and self.state == State.Review
        return Schedule(state=int(card.state), step=card.step, stability=card.stability,
                        difficulty=card.difficulty, due=to_text(card.due),
                        last_review=to_text(card.last_review), interval_days=interval,
                        reps=self.reps + 1, lapses=self.lapses + int(lapse))


@dataclass(frozen=True)
class Preview:
    rating: Rating
    interval: timedelta

    @property
    def label(self) -> str:
        return format_interval(self.interval)


def previews(options: Options, schedule: Schedule, card_id: int, now: datetime) -> list[Preview]:
    """The interval each rating would give, computed without fuzzing (what fsrs would schedule
    before its random spread), so the buttons show stable, explainable numbers."""
    scheduler = options.scheduler(fuzz=False)
    card = schedule.to_fsrs(card_id)
    out = []
    for rating in RATINGS:
        after, _log = scheduler.review_card(card, rating, review_datetime=utc(now))
        out.append(Preview(rating, after.due - utc(now)))
    return out


def format_interval(delta: timedelta) -> str:
    """Short human interval: '<1m', '10m', '3h', '4d', '2.5mo', '1.2y'."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{round(seconds / 60)}m"
    if seconds < 86400:
        return f"{round(seconds / 3600)}h"
    days = seconds / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30.44:.1f}mo".replace(".0mo", "mo")
    return f"{days / 365.25:.1f}y".replace(".0y", "y")


def local_zone() -> tzinfo | None:
    """The learner's time zone as a zoneinfo.ZoneInfo (TZ, else /etc/localtime), or None where
    it has no name we can find (then the C library's local time, which knows DST too, is used)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            target = os.path.realpath("/etc/localtime")
            name = target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""
        except OSError:
            name = ""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return None


def study_day_start(now: datetime, hour: int, *, days: int = 0,
                    zone: tzinfo | None = None) -> datetime:
    """Start (UTC) of the learner's study day holding `now`, or `days` study days after it:
    `hour` o'clock local time on that calendar day.

    Worked out on the local calendar, not as "today's start + 24 h": a day that holds a DST
    change is 23 or 25 hours long, and a fixed offset taken from `now` put the boundary an hour
    off (0 new cards instead of 20 after the spring change). tests/cards/test_study_day.py.
    """
    zone = zone or local_zone()
    local = now.astimezone(zone) if zone else now.astimezone()
    day = local.date() - timedelta(days=1 if local.time() < time(hour) else 0) + timedelta(days=days)
    if zone is not None:
        return utc(datetime.combine(day, time(hour), tzinfo=zone))
    return utc(datetime.combine(day, time(hour)).astimezone())   # naive: local time via mktime


def study_day_end(now: datetime, hour: int, *, zone: tzinfo | None = None) -> datetime:
    """Start (UTC) of the next study day."""
    return study_day_start(now, hour, days=1, zone=zone)
