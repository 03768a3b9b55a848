"""What a time the admin chose collides with, and the dates of a weekly series.

The admin may book inside the minimum notice, beyond the horizon and past the daily limit, but
never onto busy or booked time (API.md "Client self-service and admin bookings"). The test is the
slot engine's own (domain/slots.py): the slot widened by the service's buffers must not overlap a
busy interval or another appointment widened by that appointment's buffers. Here every collision
is named, so a 409 can say which occurrence of a series meets what.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from balance_booking.domain.availability import load_zone, local_to_utc
from balance_booking.domain.intervals import Interval, to_utc
from balance_booking.domain.slots import OccupiedTime

MAX_WEEKLY_OCCURRENCES = 52


class CollisionReason(StrEnum):
    """The codes of API.md "Explainable availability" that apply to a time chosen by hand."""

    PAST = "past"
    BUSY = "busy"  # a busy interval in Google Calendar
    BOOKED = "booked"  # another appointment at the same time
    BUFFER = "buffer"  # only the buffers touch: a neighbour's, or this service's own


@dataclass(frozen=True, slots=True)
class Collision:
    reason: CollisionReason
    interval: Interval | None  # what it collides with (None for the past)


def collisions(
    *,
    slot: Interval,
    buffer_before: timedelta,
    buffer_after: timedelta,
    busy: Sequence[Interval],
    appointments: Sequence[OccupiedTime],
    now: datetime,
) -> list[Collision]:
    """Every reason `slot` (with its service's buffers) cannot be booked by the admin."""
    found: list[Collision] = []
    if slot.start < to_utc(now, "now"):
        found.append(Collision(CollisionReason.PAST, None))
    guarded = slot.expanded(before=buffer_before, after=buffer_after)
    found.extend(
        Collision(CollisionReason.BUSY, interval) for interval in busy if interval.overlaps(guarded)
    )
    for item in appointments:
        blocked = item.blocked
        if not blocked.overlaps(guarded):
            continue
        own = Interval(item.start, item.end)
        reason = CollisionReason.BOOKED if own.overlaps(slot) else CollisionReason.BUFFER
        found.append(Collision(reason, own))
    return found


def weekly_starts(first: datetime, count: int, timezone: str) -> list[datetime]:
    """`count` weekly starts at the wall time of `first` in `timezone`, as UTC instants.

    The wall time is kept across DST changes (10:00 stays 10:00 when the clocks move); a wall
    time that a spring-forward gap skips maps to the first instant after the gap.
    """
    if not 1 <= count <= MAX_WEEKLY_OCCURRENCES:
        raise ValueError(f"a weekly series has 1..{MAX_WEEKLY_OCCURRENCES} occurrences")
    zone = load_zone(timezone)
    local = to_utc(first, "first").astimezone(zone)
    minute = local.hour * 60 + local.minute
    first_utc = to_utc(first, "first")
    starts = [first_utc]
    for week in range(1, count):
        day = local.date() + timedelta(weeks=week)
        starts.append(local_to_utc(day, minute, zone) + timedelta(seconds=local.second))
    return starts
