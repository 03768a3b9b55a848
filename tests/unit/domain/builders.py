"""Small constructors that keep the table-driven tests readable."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from balance_booking.domain.availability import Availability, LocalWindow, Vacation
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from balance_booking.domain.slots import OccupiedTime

EVERY_DAY = range(7)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


def iv(start: datetime, end: datetime) -> Interval:
    return Interval(start, end)


def windows(*pairs: tuple[str, str]) -> tuple[LocalWindow, ...]:
    return tuple(LocalWindow.parse(start, end) for start, end in pairs)


def schedule(
    timezone: str,
    *pairs: tuple[str, str],
    days: range | tuple[int, ...] = EVERY_DAY,
    overrides: Mapping[date, tuple[LocalWindow, ...]] | None = None,
    vacations: tuple[Vacation, ...] = (),
) -> Availability:
    """The same windows on each of ``days`` (default: every day of the week)."""
    return Availability(
        timezone=timezone,
        weekly={day: windows(*pairs) for day in days},
        overrides=dict(overrides or {}),
        vacations=vacations,
    )


def service(**changes: Any) -> Service:
    """A 60-minute service with no buffers, notice or limit, open a year ahead, plus ``changes``."""
    fields: dict[str, Any] = {
        "slug": "session",
        "title": "Сессия",
        "duration": minutes(60),
        "max_days_ahead": 365,
    }
    fields.update(changes)
    return Service(**fields)


def occupied(
    start: datetime,
    end: datetime,
    *,
    before: int = 0,
    after: int = 0,
    slug: str = "session",
) -> OccupiedTime:
    return OccupiedTime(start, end, minutes(before), minutes(after), slug)


def naive(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A naive datetime, for the tests that prove naive ones are refused."""
    return datetime(year, month, day, hour, minute)  # noqa: DTZ001
