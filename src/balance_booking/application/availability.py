"""Use cases around availability: ListAvailableSlots and the calendar state it depends on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from balance_booking.application.errors import (
    CalendarUnavailableError,
    InvalidRequestError,
    NotFoundError,
)
from balance_booking.application.ports import (
    CachedAvailability,
    CalendarLink,
    Clock,
    DataVersionReader,
    Metrics,
    SlotsCache,
    UnitOfWork,
    UnitOfWorkFactory,
)
from balance_booking.domain.availability import Availability
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from balance_booking.domain.slots import TimeSlot, available_slots

# The public API allows 62 local days; a day of slack keeps DST days inside this safety cap.
MAX_RANGE = timedelta(days=63)
# Busy time and appointments are read this far around the asked range so that buffers and the
# per-day limit see neighbours just outside it.
_CONTEXT = timedelta(days=2)

CalendarStatus = Literal["ok", "not_connected", "disabled"]


@dataclass(frozen=True, slots=True)
class CalendarState:
    """How far the busy mirror can be trusted right now."""

    status: CalendarStatus
    synced_at: datetime | None


@dataclass(frozen=True, slots=True)
class CalendarPolicy:
    """The rules that turn the integration row into a CalendarState."""

    enabled_by_default: bool
    stale_after: timedelta
    retry_after_seconds: int

    def state(self, link: CalendarLink, *, now: datetime) -> CalendarState:
        """Decide whether busy data is usable; refuse (503) rather than silently ignore it."""
        enabled = (
            self.enabled_by_default if link.enabled_override is None else link.enabled_override
        )
        if not enabled:
            return CalendarState(status="disabled", synced_at=None)
        if not link.connected:
            return CalendarState(status="not_connected", synced_at=None)
        if link.last_success_at is None or now - link.last_success_at > self.stale_after:
            raise CalendarUnavailableError(
                "Calendar data is out of date; please check again later.",
                retry_after_seconds=self.retry_after_seconds,
                synced_at=link.last_success_at,
            )
        return CalendarState(status="ok", synced_at=link.last_success_at)


@dataclass(frozen=True, slots=True)
class SlotsResult:
    """The answer of ListAvailableSlots: instants in UTC; the caller renders them."""

    service: Service
    availability: Availability
    slots: list[TimeSlot]
    calendar: CalendarState


def load_availability(uow: UnitOfWork, *, default_timezone: str) -> Availability:
    """The stored schedule, or an empty one before the owner sets hours.

    The owner's zone defaults to the connected calendar's zone, else the configured default.
    """
    stored = uow.schedule.get()
    if stored is not None:
        return stored
    zone = uow.integration.calendar_link().timezone or default_timezone
    return Availability(timezone=zone, weekly={}, overrides={})


class ListAvailableSlots:
    """Free slots of one service in a UTC range, from rules, busy time and appointments."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        policy: CalendarPolicy,
        default_timezone: str,
        versions: DataVersionReader,
        cache: SlotsCache,
        metrics: Metrics,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._policy = policy
        self._default_timezone = default_timezone
        self._versions = versions
        self._cache = cache
        self._metrics = metrics

    def execute(self, *, service_slug: str, window: Interval) -> SlotsResult:
        if window.duration > MAX_RANGE:
            raise InvalidRequestError("The range is too long.", field="to")
        now = self._clock.now()
        # Read the version before computing: a change racing with us leaves an entry tagged with
        # the older version, which the next reader discards.
        version = self._versions.current()
        key = (service_slug, window.start, window.end)
        cached = self._cache.get(key)
        if (
            cached is not None
            and cached.version == version
            and (cached.valid_until is None or now < cached.valid_until)
        ):
            self._metrics.increment("slots_cache", {"result": "hit"})
            return self._answer(cached, now=now)
        self._metrics.increment("slots_cache", {"result": "miss"})
        with self._uow_factory() as uow:
            service = uow.services.get(service_slug)
            if service is None or not service.active:
                raise NotFoundError(f"Unknown service {service_slug!r}.")
            link = uow.integration.calendar_link()
            calendar = self._policy.state(link, now=now)
            availability = load_availability(uow, default_timezone=self._default_timezone)
            context = Interval(window.start - _CONTEXT, window.end + _CONTEXT)
            busy = uow.busy.overlapping(context) if calendar.status == "ok" else []
            occupied = uow.appointments.occupied_overlapping(context, now=now)
            valid_until = uow.appointments.next_hold_expiry(context, now=now)
        # Computed from `now`; later hits only drop slots that notice or horizon rule out since.
        slots = available_slots(
            service=service,
            availability=availability,
            busy=busy,
            appointments=occupied,
            window=window,
            now=now,
        )
        entry = CachedAvailability(
            version=version,
            service=service,
            availability=availability,
            link=link,
            slots=tuple(slots),
            valid_until=valid_until,
        )
        self._cache.put(key, entry)
        return SlotsResult(
            service=service, availability=availability, slots=slots, calendar=calendar
        )

    def _answer(self, cached: CachedAvailability, *, now: datetime) -> SlotsResult:
        calendar = self._policy.state(cached.link, now=now)
        service = cached.service
        earliest = now + service.min_notice
        horizon = now + timedelta(days=service.max_days_ahead)
        slots = [slot for slot in cached.slots if earliest <= slot.start < horizon]
        return SlotsResult(
            service=service, availability=cached.availability, slots=slots, calendar=calendar
        )


class ListPublicServices:
    """The active services clients may book."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def execute(self) -> list[Service]:
        with self._uow_factory() as uow:
            return uow.services.list(active_only=True)


class GetOwnerTimezone:
    """The owner's IANA zone: the default `tz` of public queries."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory, default_timezone: str) -> None:
        self._uow_factory = uow_factory
        self._default_timezone = default_timezone

    def execute(self) -> str:
        with self._uow_factory() as uow:
            return load_availability(uow, default_timezone=self._default_timezone).timezone
