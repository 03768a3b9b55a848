"""ExplainAvailability: why one start time of a service is or is not offered to clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from balance_booking.application.availability import CalendarPolicy, load_availability
from balance_booking.application.busy_view import busy_without_own_events
from balance_booking.application.errors import CalendarUnavailableError, NotFoundError
from balance_booking.application.ports import Clock, UnitOfWorkFactory
from balance_booking.domain.explain import Explanation, explain_start
from balance_booking.domain.intervals import Interval

# Busy time and appointments are read this far around the start: the slot's guarded time
# (buffers and duration are at most a day each) and the owner-local day of the daily limit
# (offsets are within 14 h) both lie inside.
_BEFORE = timedelta(days=2)
_AFTER = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class ExplainResult:
    """The explanation plus what the admin needs to read it: the owner's zone and last sync."""

    explanation: Explanation
    timezone: str
    synced_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ExplainAvailability:
    """Every rule that keeps one start of a service out of the public slots answer (read-only).

    It reads what ListAvailableSlots reads (service, hours, busy mirror, live appointments and
    holds, calendar state) and hands them to the domain's explain_start, which applies the slot
    engine's own rules. Unlike the public answer it also explains hidden services and stale busy
    data instead of refusing them.
    """

    uow_factory: UnitOfWorkFactory
    clock: Clock
    policy: CalendarPolicy
    default_timezone: str

    def execute(self, *, service_slug: str, start: datetime) -> ExplainResult:
        now = self.clock.now()
        context = Interval(start - _BEFORE, start + _AFTER)
        with self.uow_factory() as uow:
            service = uow.services.get(service_slug)
            if service is None:
                raise NotFoundError(f"Unknown service {service_slug!r}.")
            link = uow.integration.calendar_link()
            try:
                use_busy = self.policy.state(link, now=now).status == "ok"
                stale = False
            except CalendarUnavailableError:
                # The public answer is a 503 now; the mirror as of the last sync still says
                # which busy time would block the start once the calendar is fresh again.
                use_busy, stale = True, True
            availability = load_availability(uow, default_timezone=self.default_timezone)
            # Our own events come back from Google as busy time; they are named as bookings
            # (their appointments block the same time and more), never also as "busy".
            busy = busy_without_own_events(uow, context) if use_busy else []
            occupied = uow.appointments.occupied_overlapping(context, now=now)
        explanation = explain_start(
            service=service,
            availability=availability,
            busy=busy,
            appointments=occupied,
            start=start,
            now=now,
            calendar_stale=stale,
        )
        return ExplainResult(
            explanation=explanation,
            timezone=availability.timezone,
            synced_at=link.last_success_at,
        )
