"""A bookable kind of session: how long it lasts and how its slots are laid out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from balance_booking.domain.errors import InvalidService

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}", re.ASCII)
_MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)
_MIN_DURATION = timedelta(minutes=5)
_TITLE_MAX = 200
_MAX_DAYS_AHEAD = 730
_CUTOFF_MAX = timedelta(days=30)


def _check_title(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidService(f"{name} must be a non-empty string")
    if len(value) > _TITLE_MAX:
        raise InvalidService(f"{name} must be at most {_TITLE_MAX} characters")


def _check_minutes(name: str, value: object, *, low: timedelta, high: timedelta) -> None:
    if not isinstance(value, timedelta):
        raise InvalidService(f"{name} must be a timedelta, got {type(value).__name__}")
    # Whole minutes: the admin API speaks minutes, and a grid off the minute would render as
    # start times nobody can read ("10:00:30").
    if not low <= value <= high or value % _MINUTE:
        raise InvalidService(f"{name} must be whole minutes between {low} and {high}, got {value}")


def _is_int(value: object) -> bool:
    # bool is an int subclass; "max_days_ahead=True" is a bug, not a day count.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Service:
    """A session type. ``slot_step`` None means slots follow each other (step = duration)."""

    slug: str
    title: str
    duration: timedelta
    title_en: str | None = None
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    slot_step: timedelta | None = None
    min_notice: timedelta = timedelta(0)
    max_days_ahead: int = 90
    daily_limit: int | None = None
    requires_payment: bool = False
    active: bool = True
    # Clients may cancel or move until this long before the start (0: until the start).
    change_cutoff: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if not isinstance(self.slug, str) or _SLUG.fullmatch(self.slug) is None:
            raise InvalidService(
                f"slug must be 1-63 of a-z, 0-9 and '-', starting with a letter or digit: {self.slug!r}"
            )
        _check_title("title", self.title)
        if self.title_en is not None:
            _check_title("title_en", self.title_en)
        _check_minutes("duration", self.duration, low=_MIN_DURATION, high=_DAY)
        _check_minutes("buffer_before", self.buffer_before, low=timedelta(0), high=_DAY)
        _check_minutes("buffer_after", self.buffer_after, low=timedelta(0), high=_DAY)
        if self.slot_step is not None:
            # The 24 h ceiling is not a limit in practice: a working window is at most one local
            # day, so any longer step already yields one slot per window.
            _check_minutes("slot_step", self.slot_step, low=_MIN_DURATION, high=_DAY)
        if not isinstance(self.min_notice, timedelta) or self.min_notice < timedelta(0):
            raise InvalidService(f"min_notice must be a timedelta >= 0, got {self.min_notice!r}")
        _check_minutes("change_cutoff", self.change_cutoff, low=timedelta(0), high=_CUTOFF_MAX)
        if not _is_int(self.max_days_ahead) or not 1 <= self.max_days_ahead <= _MAX_DAYS_AHEAD:
            raise InvalidService(
                f"max_days_ahead must be an int in 1..{_MAX_DAYS_AHEAD}, got {self.max_days_ahead!r}"
            )
        if self.daily_limit is not None and (not _is_int(self.daily_limit) or self.daily_limit < 1):
            raise InvalidService(
                f"daily_limit must be None or an int >= 1, got {self.daily_limit!r}"
            )

    @property
    def step(self) -> timedelta:
        """The distance between two candidate starts in a working window."""
        return self.duration if self.slot_step is None else self.slot_step

    def change_deadline(self, start: datetime) -> datetime:
        """The last instant a client may still cancel or move an appointment starting at `start`."""
        return start - self.change_cutoff
