"""A brute-force slot oracle: the rules of docs/domain.md written the slow, obvious way.

It shares no code with the engine beyond the input types: wall times are turned into instants by
trying every candidate offset (and, inside a gap, by scanning minute by minute), and every
candidate is checked against every busy interval and every appointment. The property tests and
the benchmark (`bench/slot_engine.py`) compare the engine with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from balance_booking.domain.availability import Availability, LocalWindow
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from balance_booking.domain.slots import OccupiedTime, TimeSlot

# Every UTC offset in use since the 1980s is a whole quarter hour between -12:00 and +14:00.
_OFFSETS = [timedelta(minutes=15 * quarter) for quarter in range(-12 * 4, 14 * 4 + 1)]
_MINUTE = timedelta(minutes=1)


def _wall(instant: datetime, zone: ZoneInfo) -> tuple[int, ...]:
    local = instant.astimezone(zone)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


def oracle_local_to_utc(local_date: date, minute: int, zone: ZoneInfo) -> datetime:
    """Wall time -> UTC by search: the earliest instant showing that wall time, or after a gap
    the first instant whose wall clock has passed it."""
    naive = datetime.combine(local_date, time()) + timedelta(minutes=minute)
    wall = (naive.year, naive.month, naive.day, naive.hour, naive.minute, naive.second)
    as_if_utc = naive.replace(tzinfo=UTC)
    showing = [as_if_utc - offset for offset in _OFFSETS if _wall(as_if_utc - offset, zone) == wall]
    if showing:
        return min(showing)
    instant = as_if_utc - _OFFSETS[-1]
    while _wall(instant, zone) <= wall:
        instant += _MINUTE
    return instant


def _oracle_windows(availability: Availability, day: date) -> tuple[LocalWindow, ...]:
    """A vacation day has no hours; else the date's override, else its weekday's hours."""
    if any(vacation.first <= day <= vacation.last for vacation in availability.vacations):
        return ()
    if day in availability.overrides:
        return availability.overrides[day]
    return availability.weekly.get(day.weekday(), ())


def oracle_slots(
    *,
    service: Service,
    availability: Availability,
    busy: Sequence[Interval],
    appointments: Sequence[OccupiedTime],
    window: Interval,
    now: datetime,
) -> list[TimeSlot]:
    zone = ZoneInfo(availability.timezone)
    now = now.astimezone(UTC)
    blocked = [(item.start, item.end) for item in busy] + [
        (item.start - item.buffer_before, item.end + item.buffer_after) for item in appointments
    ]
    same_service_days = [
        item.start.astimezone(zone).date()
        for item in appointments
        if item.service_slug == service.slug
    ]

    def offered(start: datetime) -> bool:
        if not window.start <= start < window.end:
            return False
        if start < now + service.min_notice:
            return False
        if start >= now + timedelta(days=service.max_days_ahead):
            return False
        guarded_start = start - service.buffer_before
        guarded_end = start + service.duration + service.buffer_after
        for busy_start, busy_end in blocked:
            if busy_start < guarded_end and guarded_start < busy_end:
                return False
        if service.daily_limit is not None:
            day = start.astimezone(zone).date()
            if same_service_days.count(day) >= service.daily_limit:
                return False
        return True

    # Local dates two days either side of the window's UTC dates: offsets are within +-14 h, so
    # this covers every window that could hold a slot starting in range.
    found: set[TimeSlot] = set()
    day = (window.start - timedelta(days=2)).date()
    while day <= (window.end + timedelta(days=2)).date():
        for local in _oracle_windows(availability, day):
            start = oracle_local_to_utc(day, local.start_minute, zone)
            end = oracle_local_to_utc(day, local.end_minute, zone)
            candidate = start
            while candidate + service.duration <= end:
                if offered(candidate):
                    found.add(TimeSlot(candidate, candidate + service.duration))
                candidate += service.step
        day += timedelta(days=1)
    return sorted(found)
