"""Why one start time of a service is or is not offered: every rule that excludes it.

``explain_start`` applies the rules of ``SlotRules`` (domain/slots.py) to a single start, the
same rules ``available_slots`` sweeps over a range, and names each one that fails together with
the interval responsible where there is one. The contract: no reasons iff the start is in the
slot engine's answer (API.md "Explainable availability"); the property tests hold it to that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from balance_booking.domain.availability import MINUTES_PER_DAY, Availability, local_to_utc
from balance_booking.domain.intervals import Interval, to_utc
from balance_booking.domain.services import Service
from balance_booking.domain.slots import OccupiedTime, SlotRules, guard_overlaps, slot_rules


class ReasonCode(StrEnum):
    """The codes of API.md "Explainable availability", in the order reasons are listed."""

    SERVICE_INACTIVE = "service_inactive"  # hidden from clients: the public answer is a 404
    CALENDAR_STALE = "calendar_stale"  # busy data too old: the public answer is a 503
    PAST = "past"
    MIN_NOTICE = "min_notice"
    BEYOND_HORIZON = "beyond_horizon"
    DAY_OFF = "day_off"  # a date override without hours, or a vacation day
    OUTSIDE_HOURS = "outside_hours"  # not in a working window, or the slot runs past its end
    OFF_GRID = "off_grid"  # inside a window but not on its slot step
    DAILY_LIMIT = "daily_limit"
    BUSY = "busy"  # a busy interval of Google Calendar
    BOOKED = "booked"  # another appointment's own time overlaps the slot
    HELD = "held"  # a payment hold's own time overlaps the slot
    BUFFER = "buffer"  # only buffers touch: a neighbour's, or this service's own


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that excludes the start, and the interval responsible where there is one.

    The interval is: the busy block (busy); the other appointment's own time (booked, held,
    buffer); the working window the start lies in (off_grid, and outside_hours when the slot
    runs past the window's end); ``[now, now + min_notice)`` (min_notice); the whole vacation,
    local midnight to local midnight (day_off on a vacation day). None otherwise.
    """

    code: ReasonCode
    interval: Interval | None = None


@dataclass(frozen=True, slots=True)
class Explanation:
    """The verdict on one start: offered iff there are no reasons."""

    service: Service
    start: datetime
    end: datetime
    reasons: tuple[Reason, ...]
    now: datetime
    horizon: datetime  # starts at or after it are beyond the booking horizon

    @property
    def offered(self) -> bool:
        return not self.reasons

    @property
    def codes(self) -> list[ReasonCode]:
        return [reason.code for reason in self.reasons]


def _vacation_span(availability: Availability, local_day: date) -> Interval | None:
    """The whole vacation holding ``local_day``, from its first local midnight to the one after
    its last day, in UTC; None for a special day without hours."""
    vacation = availability.vacation_on(local_day)
    if vacation is None:
        return None
    zone = availability.zone
    return Interval(
        local_to_utc(vacation.first, 0, zone), local_to_utc(vacation.last, MINUTES_PER_DAY, zone)
    )


def _hours_reasons(rules: SlotRules, start: datetime) -> list[Reason]:
    """Working hours, grid and daily limit: the rules tied to the window the start lies in."""
    availability = rules.availability
    zone = availability.zone
    local_day = start.astimezone(zone).date()
    one_day = timedelta(days=1)
    # Windows are disjoint, so at most one contains the start; its own local date is the one
    # the engine applies the daily limit to.
    home = next(
        (
            (day, anchor, end)
            for day, anchor, end in rules.spans(local_day - one_day, local_day + one_day)
            if anchor <= start < end
        ),
        None,
    )
    if home is None:
        if availability.day_off(local_day):
            found = [Reason(ReasonCode.DAY_OFF, _vacation_span(availability, local_day))]
        else:
            found = [Reason(ReasonCode.OUTSIDE_HOURS)]
        if rules.day_full(local_day):
            found.append(Reason(ReasonCode.DAILY_LIMIT))
        return found
    day, anchor, end = home
    window = Interval(anchor, end)
    found = []
    if start > rules.last_start(end):
        found.append(Reason(ReasonCode.OUTSIDE_HOURS, window))
    if not rules.on_grid(anchor, start):
        found.append(Reason(ReasonCode.OFF_GRID, window))
    if rules.day_full(day):
        found.append(Reason(ReasonCode.DAILY_LIMIT))
    return found


def _blocker_reasons(
    rules: SlotRules,
    start: datetime,
    busy: Sequence[Interval],
    appointments: Sequence[OccupiedTime],
) -> list[Reason]:
    """Busy time and other appointments that take the slot's guarded time, in time order."""
    guarded = rules.guard(start)
    slot = Interval(start, start + rules.service.duration)
    found: list[tuple[Interval, Reason]] = [
        (block, Reason(ReasonCode.BUSY, block))
        for block in busy
        if guard_overlaps(guarded, block.start, block.end)
    ]
    for item in appointments:
        blocked = item.blocked
        if not guard_overlaps(guarded, blocked.start, blocked.end):
            continue
        own = Interval(item.start, item.end)
        if not own.overlaps(slot):
            code = ReasonCode.BUFFER
        elif item.held:
            code = ReasonCode.HELD
        else:
            code = ReasonCode.BOOKED
        found.append((own, Reason(code, own)))
    found.sort(key=lambda pair: (pair[0].start, pair[0].end))
    return [reason for _, reason in found]


def explain_start(
    *,
    service: Service,
    availability: Availability,
    busy: Sequence[Interval],
    appointments: Sequence[OccupiedTime],
    start: datetime,
    now: datetime,
    calendar_stale: bool = False,
) -> Explanation:
    """Every rule that keeps a slot of ``service`` starting at ``start`` out of the answer.

    ``busy`` and ``appointments`` are what the slot engine would be given; ``calendar_stale``
    says the public answer is refused (503) because the busy data is too old.
    """
    start = to_utc(start, "start")
    now = to_utc(now, "now")
    rules = slot_rules(
        service=service, availability=availability, appointments=appointments, now=now
    )
    bookable = rules.bookable
    reasons: list[Reason] = []
    if not service.active:
        reasons.append(Reason(ReasonCode.SERVICE_INACTIVE))
    if calendar_stale:
        reasons.append(Reason(ReasonCode.CALENDAR_STALE))
    # The minimum notice rule is bookable.admits' lower bound; a start already past is named
    # as such rather than as "too short notice".
    if start < now:
        reasons.append(Reason(ReasonCode.PAST))
    elif start < bookable.earliest:
        reasons.append(Reason(ReasonCode.MIN_NOTICE, Interval(now, bookable.earliest)))
    if start >= bookable.horizon:
        reasons.append(Reason(ReasonCode.BEYOND_HORIZON))
    reasons.extend(_hours_reasons(rules, start))
    reasons.extend(_blocker_reasons(rules, start, busy, appointments))
    return Explanation(
        service=service,
        start=start,
        end=start + service.duration,
        reasons=tuple(reasons),
        now=now,
        horizon=bookable.horizon,
    )
