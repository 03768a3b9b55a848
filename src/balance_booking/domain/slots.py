"""The slot engine: which start times of a service are free, as UTC instants.

The rules (docs/domain.md has the long form) live once, in ``SlotRules``: the fast sweep
``available_slots`` and the one-start explanation ``explain_start`` (domain/explain.py) both
apply them, so "why is this time not offered" cannot drift from what is offered.

* Candidates sit on a grid anchored at each working window's start (the window expanded to UTC
  for its owner-local date), stepping by ``service.step`` in absolute time, while the whole slot
  fits in the window.
* A candidate is offered iff its start is in the query window, ``>= now + min_notice`` and
  ``< now + max_days_ahead days``; the slot widened by the service's buffers overlaps no busy
  interval and no appointment widened by that appointment's own buffers; and, with a daily limit,
  fewer than ``daily_limit`` appointments of the same service start on the same owner-local date.

Busy time and appointments are merged once (sort + linear merge); the grid is then swept with one
forward-only pointer into the merged list, and a blocked candidate jumps straight to the first
grid point after the blocker. Cost: O(n log n + s + d) for n busy items and appointments,
s candidates and d expanded days; never n x s.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from balance_booking.domain.availability import Availability
from balance_booking.domain.errors import InvalidInterval
from balance_booking.domain.intervals import Interval, merged_bounds, require_aware, to_utc
from balance_booking.domain.services import Service


@dataclass(frozen=True, slots=True, order=True)
class TimeSlot:
    """A bookable ``[start, end)`` in UTC. Render it in the viewer's zone only at the edge."""

    start: datetime
    end: datetime


# The engine builds thousands of TimeSlots per query. A frozen dataclass's __init__ goes through
# object.__setattr__ per field (about twice the cost of the rest of the per-slot work), so the
# engine fills the two slots directly through their descriptors, with values it has already
# computed in UTC.
_new_object = object.__new__
_set_slot_start = TimeSlot.__dict__["start"].__set__
_set_slot_end = TimeSlot.__dict__["end"].__set__

# The sweep's sentinel blocker: later than any candidate, so the pointer needs no bounds check.
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class OccupiedTime:
    """An active appointment as the slot engine sees it, with its own buffers at booking time."""

    start: datetime
    end: datetime
    buffer_before: timedelta
    buffer_after: timedelta
    service_slug: str
    # A payment hold (or, later, a waitlist offer): it blocks like a booking, but an explanation
    # names it differently ("held", not "booked").
    held: bool = False

    def __post_init__(self) -> None:
        start = to_utc(self.start, "start")
        end = to_utc(self.end, "end")
        if end <= start:
            raise InvalidInterval(f"appointment end {end.isoformat()} must be after its start")
        if self.buffer_before < timedelta(0) or self.buffer_after < timedelta(0):
            raise InvalidInterval("appointment buffers must not be negative")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def blocked(self) -> Interval:
        """``[start - buffer_before, end + buffer_after)``: the time no other slot may touch."""
        return Interval(self.start - self.buffer_before, self.end + self.buffer_after)


@dataclass(frozen=True, slots=True)
class BookableStarts:
    """Where a slot of one service may start, seen at one instant: ``[earliest, horizon)``."""

    earliest: datetime  # now + the minimum notice
    horizon: datetime  # now + max_days_ahead days

    def admits(self, start: datetime) -> bool:
        """True if a slot may start at ``start``."""
        return self.earliest <= start < self.horizon


def bookable_starts(service: Service, now: datetime) -> BookableStarts:
    """The minimum notice and the booking horizon of ``service`` applied at ``now``.

    The one place these two rules are decided: the engine and the availability cache use it.
    """
    return BookableStarts(
        earliest=now + service.min_notice, horizon=now + timedelta(days=service.max_days_ahead)
    )


def notice_deadline(service: Service, start: datetime) -> datetime:
    """The last instant at which a slot of ``service`` starting at ``start`` is outside the notice.

    Past it the slot is no longer offered: an answer that lists it changes then.
    """
    return start - service.min_notice


def _ceil_steps(distance: timedelta, step: timedelta) -> int:
    """The smallest k >= 0 with k * step >= distance."""
    if distance <= timedelta(0):
        return 0
    return -(-distance // step)


def full_days(
    service: Service, appointments: Iterable[OccupiedTime], zone: tzinfo
) -> frozenset[date]:
    """The owner-local dates on which ``service`` has reached its daily limit (none without one).

    Appointments of the same service count on the owner-local date they start.
    """
    if service.daily_limit is None:
        return frozenset()
    per_day = Counter(
        item.start.astimezone(zone).date()
        for item in appointments
        if item.service_slug == service.slug
    )
    return frozenset(day for day, count in per_day.items() if count >= service.daily_limit)


def guard_overlaps(
    guarded: tuple[datetime, datetime], blocker_start: datetime, blocker_end: datetime
) -> bool:
    """True if a blocker ``[blocker_start, blocker_end)`` takes the slot's guarded time."""
    return blocker_start < guarded[1] and guarded[0] < blocker_end


@dataclass(frozen=True, slots=True)
class SlotRules:
    """Every rule deciding whether a slot of one service starting at an instant is offered.

    Built once per question (``slot_rules``) from the service, the working hours, the active
    appointments and the clock. A start ``t`` is offered iff:

    * ``bookable.admits(t)``: not inside the minimum notice, not beyond the horizon;
    * ``t`` lies on the grid of a working window ``(day, anchor, end)`` from ``spans``:
      ``on_grid(anchor, t)`` and ``anchor <= t <= last_start(end)``;
    * that window's local ``day`` is not in ``full_days`` (the daily limit);
    * ``guard(t)`` overlaps no busy interval and no appointment's blocked time
      (``guard_overlaps``).

    ``available_slots`` sweeps these over a range; ``explain_start`` applies them to one start.
    """

    service: Service
    availability: Availability
    bookable: BookableStarts
    full_days: frozenset[date]
    # A slot starting at t guards [t - guard_before, t + guard_reach): its buffers and itself.
    guard_before: timedelta
    guard_reach: timedelta

    def guard(self, start: datetime) -> tuple[datetime, datetime]:
        """``[start - buffer_before, start + duration + buffer_after)`` as a pair of instants."""
        return start - self.guard_before, start + self.guard_reach

    def spans(self, first_day: date, last_day: date) -> Iterator[tuple[date, datetime, datetime]]:
        """The working windows of local dates ``first_day..last_day``: (day, anchor, end) in UTC."""
        return self.availability.dated_spans(first_day, last_day)

    def last_start(self, working_end: datetime) -> datetime:
        """The latest start whose whole slot fits before ``working_end``."""
        return working_end - self.service.duration

    def first_on_grid(self, anchor: datetime, low: datetime) -> datetime:
        """The first grid point ``anchor + k * step`` (k >= 0) at or after ``low``."""
        step = self.service.step
        return anchor if anchor >= low else anchor + _ceil_steps(low - anchor, step) * step

    def on_grid(self, anchor: datetime, start: datetime) -> bool:
        """True if ``start`` is ``anchor + k * step`` for some k >= 0."""
        return start >= anchor and (start - anchor) % self.service.step == timedelta(0)

    def day_full(self, local_day: date) -> bool:
        """True if the daily limit is reached on the owner-local date ``local_day``."""
        return local_day in self.full_days


def slot_rules(
    *,
    service: Service,
    availability: Availability,
    appointments: Iterable[OccupiedTime],
    now: datetime,
) -> SlotRules:
    """The rules of ``service`` at ``now`` (see SlotRules)."""
    now = to_utc(now, "now")
    return SlotRules(
        service=service,
        availability=availability,
        bookable=bookable_starts(service, now),
        full_days=full_days(service, appointments, availability.zone),
        guard_before=service.buffer_before,
        guard_reach=service.duration + service.buffer_after,
    )


def available_slots(
    *,
    service: Service,
    availability: Availability,
    busy: Sequence[Interval],
    appointments: Sequence[OccupiedTime],
    window: Interval,
    now: datetime,
) -> list[TimeSlot]:
    """The free slots of ``service`` whose start lies in ``window``, sorted by start, in UTC."""
    rules = slot_rules(
        service=service, availability=availability, appointments=appointments, now=now
    )
    duration = service.duration
    step = service.step
    # The guard of SlotRules, unpacked: the sweep below is the hot path and works on the two
    # offsets directly (guard(t) == (t - before, t + reach)).
    before = rules.guard_before
    reach = rules.guard_reach

    bookable = rules.bookable
    low = max(window.start, bookable.earliest)
    high = min(window.end, bookable.horizon)
    if low >= high:
        return []

    block_starts, block_ends = merged_bounds([*busy, *(item.blocked for item in appointments)])
    block_starts.append(_END_OF_TIME)
    block_ends.append(_END_OF_TIME)

    # One local day of margin on each side anchors windows that straddle the query edges (a
    # window starting the evening before, in the owner's zone, may hold slots starting in range).
    zone = availability.zone
    one_day = timedelta(days=1)
    first_day = (low - one_day).astimezone(zone).date()
    last_day = (high + one_day).astimezone(zone).date()

    slots: list[TimeSlot] = []
    append = slots.append
    pointer = 0
    latest_start = high - timedelta.resolution
    for local_day, anchor, working_end in rules.spans(first_day, last_day):
        # Every instant of a window lies on the window's own local date, so that date decides
        # the daily limit for all of its candidates.
        if rules.day_full(local_day) or working_end <= low or anchor >= high:
            continue
        last_start = min(rules.last_start(working_end), latest_start)
        start = rules.first_on_grid(anchor, low)
        while start <= last_start:
            guarded_start = start - before
            # Candidates only move forward in time, so blockers that end before this guarded
            # start can never matter again: the pointer never moves back.
            while block_ends[pointer] <= guarded_start:
                pointer += 1
            blocker_start = block_starts[pointer]
            if blocker_start < start + reach:
                # Blocked (guard_overlaps): jump to the first grid point whose guarded start
                # clears the blocker, i.e. anchor + k * step with
                # k = ceil((blocker end + before - anchor) / step).
                start = anchor - ((anchor - block_ends[pointer] - before) // step) * step
                continue
            # Every following candidate whose guarded end stays before that blocker is free.
            run_last = min(last_start, blocker_start - reach)
            while start <= run_last:
                # TimeSlot filled in place (see _new_object above): runs once per offered slot.
                slot = _new_object(TimeSlot)
                _set_slot_start(slot, start)
                _set_slot_end(slot, start + duration)
                append(slot)
                start += step
    return slots


def nearest_slots(slots: Sequence[TimeSlot], target: datetime, limit: int = 5) -> list[TimeSlot]:
    """The ``limit`` slots whose start is closest to ``target`` (ties: earlier), sorted by start."""
    target = require_aware(target, "target").astimezone(UTC)
    if limit <= 0:
        return []
    chosen = heapq.nsmallest(limit, slots, key=lambda slot: (abs(slot.start - target), slot.start))
    return sorted(chosen, key=lambda slot: (slot.start, slot.end))
