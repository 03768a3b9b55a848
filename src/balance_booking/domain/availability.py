"""Weekly working hours in the owner's time zone, date overrides, and their expansion to UTC."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo, available_timezones

from balance_booking.domain.errors import InvalidSchedule, UnknownTimeZone
from balance_booking.domain.intervals import Interval

MINUTES_PER_DAY = 24 * 60
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The naive twin of _UTC_EPOCH, only ever subtracted from naive wall times.
_NAIVE_EPOCH = _UTC_EPOCH.replace(tzinfo=None)

# Strict "HH:MM" with ASCII digits only: re's \d would also accept other scripts' digits.
_HH_MM = re.compile(r"([0-9]{2}):([0-9]{2})", re.ASCII)

# Names tzdata ships that do not name a place: "localtime" is whatever the server is set to
# (so it would change with the machine) and "Factory" means "local time unknown".
_NOT_PLACES = frozenset({"localtime", "Factory"})


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # The canonical list rather than "try ZoneInfo(name)": the latter would accept directory-ish
    # or case-folded names on some file systems, and its errors differ by failure (ValueError,
    # OSError, KeyError). Scanning TZPATH once costs tens of milliseconds per process.
    return frozenset(available_timezones()) - _NOT_PLACES


@lru_cache(maxsize=512)
def load_zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; UnknownTimeZone for anything else."""
    if not isinstance(name, str) or name not in _known_zones():
        raise UnknownTimeZone(f"unknown time zone: {name!r}")
    return ZoneInfo(name)


def _transition_after_gap(lower: datetime, upper: datetime, zone: ZoneInfo) -> datetime:
    """The offset change between ``lower`` (old offset) and ``upper`` (new offset), in UTC.

    ``lower``/``upper`` are the two readings of one non-existent wall time, so exactly one offset
    change lies between them. zoneinfo does not expose transition instants, so this bisects on
    whole seconds (tzdata's resolution); it runs only for wall times inside a gap.
    """
    after = upper.astimezone(zone).utcoffset()
    low, high = 0, int((upper - lower).total_seconds())
    # Invariant: lower + low seconds still has the old offset, lower + high the new one.
    while high - low > 1:
        middle = (low + high) // 2
        if (lower + timedelta(seconds=middle)).astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return lower + timedelta(seconds=high)


@lru_cache(maxsize=MINUTES_PER_DAY)
def _wall_times(minute: int) -> tuple[time, time]:
    hours, minutes = divmod(minute, 60)
    return time(hours, minutes), time(hours, minutes, fold=1)


def local_to_utc(local_date: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall time ``local_date`` + ``minute`` minutes in ``zone``.

    ``minute`` may be 1440 (the next day's 00:00). A wall time inside a spring-forward gap maps to
    the transition instant (the first instant after the gap); an ambiguous one in a fall-back
    overlap maps to its first occurrence (fold=0).
    """
    if not 0 <= minute <= MINUTES_PER_DAY:
        raise InvalidSchedule(f"minute must be 0..{MINUTES_PER_DAY}, got {minute}")
    if minute == MINUTES_PER_DAY:
        local_date, minute = local_date + timedelta(days=1), 0
    # The slot engine calls this twice per working day it expands, so it avoids
    # datetime.replace() and tz-aware constructors (each costs more than the rest together):
    # naive wall times with cached time objects, then plain timedelta arithmetic from the epoch.
    plain, folded = _wall_times(minute)
    wall = datetime.combine(local_date, plain)
    first = zone.utcoffset(wall)
    second = zone.utcoffset(datetime.combine(local_date, folded))
    if first is None or second is None:  # pragma: no cover - a ZoneInfo always has an offset
        raise InvalidSchedule(f"zone {zone.key} gives no UTC offset for {wall.isoformat()}")
    # PEP 495: fold=0 reads a wall time with the offset in force *before* a transition, fold=1
    # with the one after. Equal offsets: an ordinary time. First larger: a fall-back overlap,
    # and fold=0 is its first occurrence. First smaller: a spring-forward gap.
    if first >= second:
        return _UTC_EPOCH + (wall - _NAIVE_EPOCH - first)
    return _transition_after_gap(
        _UTC_EPOCH + (wall - _NAIVE_EPOCH - second),
        _UTC_EPOCH + (wall - _NAIVE_EPOCH - first),
        zone,
    )


def _format_minute(minute: int) -> str:
    hours, minutes = divmod(minute, 60)
    return f"{hours:02d}:{minutes:02d}"


@dataclass(frozen=True, slots=True)
class LocalWindow:
    """Working hours within one local day: minutes since local midnight, ``[start, end)``."""

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        for name in ("start_minute", "end_minute"):
            value = getattr(self, name)
            # bool is an int subclass; True as "minute 1" is a caller bug, not a time.
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidSchedule(f"{name} must be an int, got {value!r}")
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise InvalidSchedule(
                f"window {self.start_minute}..{self.end_minute} must satisfy "
                f"0 <= start < end <= {MINUTES_PER_DAY}"
            )

    @classmethod
    def parse(cls, start: str, end: str) -> LocalWindow:
        """Build from "HH:MM" strings; ``end`` may be "24:00" (the end of the day)."""
        return cls(
            _parse_minute(start, "start", allow_end_of_day=False),
            _parse_minute(end, "end", allow_end_of_day=True),
        )

    def format(self) -> tuple[str, str]:
        """The window as ("HH:MM", "HH:MM"), the inverse of ``parse``."""
        return _format_minute(self.start_minute), _format_minute(self.end_minute)


def _parse_minute(text: str, name: str, *, allow_end_of_day: bool) -> int:
    match = _HH_MM.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidSchedule(f"{name} time must be HH:MM, got {text!r}")
    hours, minutes = int(match[1]), int(match[2])
    if allow_end_of_day and (hours, minutes) == (24, 0):
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise InvalidSchedule(f"{name} time out of range: {text!r}")
    return hours * 60 + minutes


def _normalise_day(label: str, windows: object) -> tuple[LocalWindow, ...]:
    """Validate one day's windows: sorted, not overlapping; touching ones are joined."""
    if not isinstance(windows, tuple | list):
        raise InvalidSchedule(f"{label}: windows must be a tuple of LocalWindow")
    result: list[LocalWindow] = []
    for window in windows:
        if not isinstance(window, LocalWindow):
            raise InvalidSchedule(f"{label}: {window!r} is not a LocalWindow")
        if result and window.start_minute < result[-1].end_minute:
            raise InvalidSchedule(
                f"{label}: windows must be sorted and must not overlap "
                f"({'-'.join(result[-1].format())} then {'-'.join(window.format())})"
            )
        if result and window.start_minute == result[-1].end_minute:
            # 09:00-12:00 + 12:00-18:00 is the same working time as 09:00-18:00; keeping them
            # apart would restart the slot grid at 12:00 for no reason anyone wrote down.
            result[-1] = LocalWindow(result[-1].start_minute, window.end_minute)
        else:
            result.append(window)
    return tuple(result)


# A vacation longer than a year is a typo (2027 for 2026), not a plan.
MAX_VACATION_DAYS = 366


@dataclass(frozen=True, slots=True, order=True)
class Vacation:
    """Days off from ``first`` to ``last``, both included, as owner-local dates."""

    first: date
    last: date

    def __post_init__(self) -> None:
        for name in ("first", "last"):
            value = getattr(self, name)
            # datetime is a date subclass; a datetime bound would never equal a date.
            if not isinstance(value, date) or isinstance(value, datetime):
                raise InvalidSchedule(f"vacation {name} must be a date, got {value!r}")
        if self.last < self.first:
            raise InvalidSchedule(
                f"vacation ends ({self.last.isoformat()}) before it starts "
                f"({self.first.isoformat()})"
            )
        if (self.last - self.first).days + 1 > MAX_VACATION_DAYS:
            raise InvalidSchedule(f"a vacation may last at most {MAX_VACATION_DAYS} days")

    def covers(self, day: date) -> bool:
        """True if ``day`` is one of the vacation's days."""
        return self.first <= day <= self.last

    def days(self) -> Iterator[date]:
        """Each date of the vacation, in order."""
        day = self.first
        while day <= self.last:
            yield day
            day += timedelta(days=1)


_Key = TypeVar("_Key")


def _empty_mapping() -> Mapping[_Key, tuple[LocalWindow, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Availability:
    """The owner's working hours: weekly windows plus per-date replacements, in one IANA zone.

    ``weekly`` maps 0=Monday..6=Sunday to that weekday's windows (a missing weekday has no
    hours). ``overrides`` maps a local date to windows that replace the weekly ones for that date;
    an empty tuple is a day off. Windows of a day must be sorted and must not overlap; touching
    windows are joined into one. ``vacations`` are date ranges whose every day is a day off; a
    vacation wins over an override of one of its days (a day inside a vacation has no hours).
    """

    timezone: str
    weekly: Mapping[int, tuple[LocalWindow, ...]] = field(default_factory=_empty_mapping)
    overrides: Mapping[date, tuple[LocalWindow, ...]] = field(default_factory=_empty_mapping)
    vacations: tuple[Vacation, ...] = ()
    # overrides with every vacation day added as a day off: what the rules read, per date.
    _days: Mapping[date, tuple[LocalWindow, ...]] = field(
        init=False, repr=False, compare=False, default_factory=_empty_mapping
    )

    def __post_init__(self) -> None:
        load_zone(self.timezone)
        weekly: dict[int, tuple[LocalWindow, ...]] = {}
        for weekday, windows in self.weekly.items():
            if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
                raise InvalidSchedule(f"weekday must be 0 (Monday) .. 6 (Sunday), got {weekday!r}")
            weekly[weekday] = _normalise_day(f"weekday {weekday}", windows)
        overrides: dict[date, tuple[LocalWindow, ...]] = {}
        for day, windows in self.overrides.items():
            # datetime is a date subclass; a datetime key would never match a date lookup.
            if not isinstance(day, date) or isinstance(day, datetime):
                raise InvalidSchedule(f"override key must be a date, got {day!r}")
            overrides[day] = _normalise_day(day.isoformat(), windows)
        if not isinstance(self.vacations, tuple | list):
            raise InvalidSchedule("vacations must be a tuple of Vacation")
        for vacation in self.vacations:
            if not isinstance(vacation, Vacation):
                raise InvalidSchedule(f"{vacation!r} is not a Vacation")
        vacations = tuple(sorted(set(self.vacations)))
        days = dict(overrides)
        for vacation in vacations:
            days.update(dict.fromkeys(vacation.days(), ()))
        # Read-only copies: the checks above must stay true after the caller's dicts change.
        object.__setattr__(self, "weekly", MappingProxyType(weekly))
        object.__setattr__(self, "overrides", MappingProxyType(overrides))
        object.__setattr__(self, "vacations", vacations)
        object.__setattr__(self, "_days", MappingProxyType(days))

    @property
    def zone(self) -> ZoneInfo:
        return load_zone(self.timezone)

    def windows_for(self, local_date: date) -> tuple[LocalWindow, ...]:
        """The windows that apply on ``local_date``: none in a vacation, else its override if
        any, else its weekday's."""
        override = self._days.get(local_date)
        if override is not None:
            return override
        return self.weekly.get(local_date.weekday(), ())

    def day_off(self, local_date: date) -> bool:
        """True if ``local_date`` is a day off: a vacation day or an override without hours."""
        return self._days.get(local_date) == ()

    def vacation_on(self, local_date: date) -> Vacation | None:
        """The (first) vacation that ``local_date`` belongs to, if any."""
        return next((v for v in self.vacations if v.covers(local_date)), None)

    def dated_spans(self, first: date, last: date) -> Iterator[tuple[date, datetime, datetime]]:
        """``(local date, UTC start, UTC end)`` of each window of each date ``first..last``.

        In order, disjoint (they may touch). A window lying wholly inside a spring-forward gap
        collapses to nothing and is left out. Tuples rather than Intervals: the slot engine
        expands a year of days per query and needs no validation of values it derived itself.
        """
        zone = self.zone
        overrides = self._days
        weekly = self.weekly
        day = first
        one_day = timedelta(days=1)
        while day <= last:
            # windows_for() inlined: this loop runs for every day of a year-long query.
            windows = overrides.get(day)
            if windows is None:
                windows = weekly.get(day.weekday(), ())
            for window in windows:
                start = local_to_utc(day, window.start_minute, zone)
                end = local_to_utc(day, window.end_minute, zone)
                if start < end:
                    yield day, start, end
            day += one_day

    def working_intervals(self, first: date, last: date) -> list[Interval]:
        """UTC intervals of working time for each local date ``first..last`` (inclusive), unclipped."""
        return [Interval(start, end) for _, start, end in self.dated_spans(first, last)]
