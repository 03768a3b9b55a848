"""The slot checks shared by booking and confirmation: offered locally, free live in Google."""

from __future__ import annotations

import logging
import threading
import time
from bisect import bisect_left
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from balance_booking.application.availability import (
    CalendarPolicy,
    ListAvailableSlots,
    load_availability,
)
from balance_booking.application.deadline import Deadline, DeadlineExceededError, within
from balance_booking.application.errors import (
    AccessRevokedError,
    ApplicationError,
    CalendarUnavailableError,
    GoogleRequestError,
    GoogleUnavailableError,
    NotFoundError,
)
from balance_booking.application.group_commit import GroupCommit
from balance_booking.application.ports import (
    AccessTokenSource,
    CalendarGatewayFactory,
    CalendarLink,
    Metrics,
    UnitOfWork,
    UnitOfWorkFactory,
)
from balance_booking.domain.appointments import LANGUAGES, Appointment, Client
from balance_booking.domain.intervals import Interval, subtract
from balance_booking.domain.services import Service
from balance_booking.domain.slots import TimeSlot, available_slots, nearest_slots

_log = logging.getLogger(__name__)

# How far around the asked time alternatives are looked for.
_ALTERNATIVES_BEFORE = timedelta(days=7)
_ALTERNATIVES_AFTER = timedelta(days=21)
_DAY = timedelta(days=1)
_NEAREST = 5  # alternatives offered with a conflict (API.md: up to 5 nearest free slots)


class SlotUnavailableError(ApplicationError):
    """The slot cannot be booked (taken, busy in Google, or not offered); here are others."""

    def __init__(
        self, message: str, *, alternatives: list[TimeSlot], timezone: str | None = None
    ) -> None:
        super().__init__(message)
        self.alternatives = alternatives
        self.timezone = timezone  # the client's, to show the alternatives in


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """What a client asks for; `start` is an aware instant."""

    service_slug: str
    start: datetime
    timezone: str
    client: Client
    comment: str | None
    language: str = LANGUAGES[0]  # what the client reads our messages in
    consent: bool = False  # ticked the privacy policy box (needed when PRIVACY_POLICY_URL is set)


@dataclass(frozen=True, slots=True)
class SlotSnapshot:
    service: Service
    link: CalendarLink
    use_busy: bool


class HeldSlots:
    """Who holds a slot as of one data version (a bounded memo; any write clears it).

    Filled at `read_at`; read at an earlier instant (a clock moved back) it is not used, since a
    payment hold that had run out then could still hold the slot.
    """

    _MAX_ENTRIES = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = -1
        self._entries: dict[tuple[str, datetime], tuple[datetime, tuple[Appointment, ...]]] = {}

    def get(
        self, version: int, key: tuple[str, datetime], *, now: datetime
    ) -> tuple[Appointment, ...] | None:
        with self._lock:
            if version != self._version:
                return None
            found = self._entries.get(key)
        if found is None or now < found[0]:
            return None
        return found[1]

    def put(
        self,
        version: int,
        key: tuple[str, datetime],
        holders: tuple[Appointment, ...],
        *,
        now: datetime,
    ) -> None:
        with self._lock:
            if version != self._version or len(self._entries) >= self._MAX_ENTRIES:
                self._version, self._entries = version, {}
            self._entries[key] = (now, holders)


@dataclass(frozen=True, kw_only=True, slots=True)
class SlotGuard:
    """The checks shared by booking and confirmation: offered locally, free live in Google."""

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    gateways: CalendarGatewayFactory
    tokens: AccessTokenSource
    policy: CalendarPolicy
    default_timezone: str
    live_check_fallback: timedelta
    metrics: Metrics
    # The live check is skipped while the mirror is this fresh (a push or poll just refreshed it),
    # so anonymous traffic cannot spend the practitioner's Google quota (docs/booking.md).
    live_check_fresh: timedelta = timedelta(0)
    # LIVE_CHECK_TIMEOUT_SECONDS: the live check gives up after this long in total (retries and a
    # token refresh included) and then follows the fallback rules, so a booking answers within
    # about 5 s even while Google hangs. `monotonic` is the clock of that budget.
    live_check_timeout: timedelta = timedelta(seconds=3)
    monotonic: Callable[[], float] = time.monotonic

    # The public slots answers' cache: a visitor who lost the race for a slot is answered from
    # it (one computation for all of them) instead of a read and a slot sweep each.
    slots: ListAvailableSlots | None = None
    conflicts: ConflictLog | None = None  # booking_conflict records, batched; None: one by one
    holders: HeldSlots = field(default_factory=HeldSlots)

    def live_check_budget(self) -> AbstractContextManager[Deadline]:
        """The time budget of one live check; entered early (a booking waiting for another
        attempt at its slot), it also counts the wait, and the check gets what is left."""
        return within(self.live_check_timeout.total_seconds(), clock=self.monotonic)

    def snapshot(self, service_slug: str, *, now: datetime) -> SlotSnapshot:
        with self.readers() as uow:
            return self.snapshot_in(uow, service_slug, now=now)

    def snapshot_in(self, uow: UnitOfWork, service_slug: str, *, now: datetime) -> SlotSnapshot:
        """`snapshot` inside a unit of work the caller already has open."""
        service = uow.services.get(service_slug)
        if service is None or not service.active:
            raise NotFoundError(f"Unknown service {service_slug!r}.")
        link = uow.integration.calendar_link()
        calendar = self.policy.state(link, now=now)  # 503 when busy data is too old
        return SlotSnapshot(service=service, link=link, use_busy=calendar.status == "ok")

    def check_locally(
        self, uow: UnitOfWork, snapshot: SlotSnapshot, request: BookingRequest, *, now: datetime
    ) -> SlotUnavailableError | None:
        """None if `request.start` is offered on local data; else the conflict to answer.

        One computation over the alternatives window answers both questions: whether the start
        is offered (the window holds it, with the context every rule needs around it) and, when
        it is not, the nearest alternatives, so a loser costs one read and one slot sweep.
        """
        window = alternatives_window(request.start, now=now)
        slots = self.slots_around(uow, snapshot, window, now=now, extra_busy=[])
        if any(slot.start == request.start for slot in slots):
            return None
        return SlotUnavailableError(
            "This time is no longer available.",
            alternatives=nearest_slots(
                [slot for slot in slots if slot.start != request.start], request.start
            ),
            timezone=request.timezone,
        )

    def quick_conflict(
        self, request: BookingRequest, *, now: datetime
    ) -> SlotUnavailableError | None:
        """The conflict to answer if `request.start` is not offered, from the slots cache; None
        if it is offered. Unknown service 404, stale busy data 503, as `snapshot`.

        A first filter only: "offered" is confirmed live in Google and under the database guard
        before anything is stored. The cache follows this process's own writes at once and
        other processes' within the data version's refresh (a second), so a slot another
        process freed a moment ago may still be refused here.
        """
        if self.slots is None:
            with self.readers() as uow:
                snapshot = self.snapshot_in(uow, request.service_slug, now=now)
                return self.check_locally(uow, snapshot, request, now=now)
        # A window fixed by the start alone, so every request for it shares one cache entry.
        window = Interval(request.start - _ALTERNATIVES_BEFORE, request.start + _ALTERNATIVES_AFTER)
        slots = self.slots.execute(service_slug=request.service_slug, window=window).slots
        # Sorted by start: look the start up, and hand the nearest-slots rule only the
        # neighbours that can be among the nearest (as many on each side as it picks).
        at = bisect_left(slots, request.start, key=_start)
        if at < len(slots) and slots[at].start == request.start:
            return None
        around = slots[max(0, at - _NEAREST) : at + _NEAREST]
        return SlotUnavailableError(
            "This time is no longer available.",
            alternatives=nearest_slots(around, request.start, limit=_NEAREST),
            timezone=request.timezone,
        )

    def held_at(self, service_slug: str, start: datetime, *, now: datetime) -> list[Appointment]:
        """The active appointments of `service_slug` at `start` (who holds the slot), remembered
        per data version: every visitor who lost a race asks whether the slot is their own."""
        if self.slots is None:
            with self.readers() as uow:
                return uow.appointments.held_at(service_slug, start, now=now)
        version = self.slots.versions.current()
        key = (service_slug, start)
        remembered = self.holders.get(version, key, now=now)
        if remembered is None:
            with self.readers() as uow:
                remembered = tuple(uow.appointments.held_at(service_slug, start, now=now))
            self.holders.put(version, key, remembered, now=now)
        # A payment hold that ran out since it was read no longer holds the slot.
        return [appointment for appointment in remembered if appointment.is_active_at(now)]

    def record_conflict(self, service_slug: str, *, now: datetime) -> None:
        """booking_conflict (tracking plan): stored, counted and logged on every 409."""
        if self.conflicts is None:
            record_conflict(self.writers, self.metrics, service_slug, now=now)
        else:
            self.conflicts.record(service_slug, now=now)

    def slots_around(
        self,
        uow: UnitOfWork,
        snapshot: SlotSnapshot,
        window: Interval,
        *,
        now: datetime,
        extra_busy: list[Interval],
        moving: Interval | None = None,
        exclude: UUID | None = None,
    ) -> list[TimeSlot]:
        """The free slots in `window`. `exclude` leaves out the appointment being moved, and
        `moving` (its current time) is taken out of the busy time: its own Google event is
        there until the move reaches Google."""
        context = Interval(window.start - 2 * _DAY, window.end + 2 * _DAY)
        busy = uow.busy.overlapping(context) if snapshot.use_busy else []
        if moving is not None:
            busy = subtract(busy, [moving])
        return available_slots(
            service=snapshot.service,
            availability=load_availability(uow, default_timezone=self.default_timezone),
            busy=[*busy, *extra_busy],
            appointments=uow.appointments.occupied_overlapping(context, now=now, exclude=exclude),
            window=window,
            now=now,
        )

    def offered(
        self,
        uow: UnitOfWork,
        snapshot: SlotSnapshot,
        start: datetime,
        *,
        now: datetime,
        extra_busy: list[Interval],
        moving: Interval | None = None,
        exclude: UUID | None = None,
    ) -> bool:
        window = Interval(start - _DAY, start + _DAY)
        slots = self.slots_around(
            uow, snapshot, window, now=now, extra_busy=extra_busy, moving=moving, exclude=exclude
        )
        return any(slot.start == start for slot in slots)

    def live_busy(
        self, snapshot: SlotSnapshot, buffered: Interval, *, now: datetime
    ) -> list[Interval]:
        """Google's busy time for the buffered slot right now; the mirror may stand in briefly."""
        # One call covers the slot and the alternatives around it, so a conflict's
        # alternatives already know what Google just said.
        around = alternatives_window(buffered.start, now=now)
        asked = Interval(min(buffered.start, around.start), max(buffered.end, around.end))
        return self.live_busy_in(snapshot, asked, now=now)

    def live_busy_in(
        self, snapshot: SlotSnapshot, window: Interval, *, now: datetime
    ) -> list[Interval]:
        """Google's busy time over `window` right now; the mirror may stand in briefly."""
        if not snapshot.use_busy:
            return []
        synced = snapshot.link.last_success_at
        if synced is not None and timedelta(0) <= now - synced < self.live_check_fresh:
            self.metrics.increment("live_checks", {"result": "mirror_fresh"})
            return []
        self.metrics.increment("live_checks", {"result": "asked"})
        try:
            with self.live_check_budget():
                return self.gateways(self.tokens).busy_intervals(
                    window, snapshot.link.blocking_calendar_ids
                )
        except (GoogleUnavailableError, GoogleRequestError, AccessRevokedError) as exc:
            if isinstance(exc, DeadlineExceededError):
                self.metrics.increment("live_checks", {"result": "timed_out"})
            synced = snapshot.link.last_success_at
            if synced is not None and now - synced <= self.live_check_fallback:
                _log.warning("live_check_fallback_to_mirror", extra={"error": type(exc).__name__})
                return []
            raise CalendarUnavailableError(
                "Google Calendar cannot confirm this time right now; please check again later.",
                retry_after_seconds=60,
                synced_at=synced,
            ) from exc

    def conflict(
        self,
        uow: UnitOfWork,
        snapshot: SlotSnapshot,
        request: BookingRequest,
        *,
        now: datetime,
        extra_busy: list[Interval],
        moving: Interval | None = None,
        exclude: UUID | None = None,
    ) -> SlotUnavailableError:
        window = alternatives_window(request.start, now=now)
        slots = [
            slot
            for slot in self.slots_around(
                uow,
                snapshot,
                window,
                now=now,
                extra_busy=extra_busy,
                moving=moving,
                exclude=exclude,
            )
            if slot.start != request.start
        ]
        return SlotUnavailableError(
            "This time is no longer available.",
            alternatives=nearest_slots(slots, request.start),
            timezone=request.timezone,
        )


class SlotClaims:
    """One booking attempt per slot at a time in this process; the others wait for its outcome.

    Not a guard (the database is, across processes): when 50 visitors post the same slot, the
    first one asks Google and inserts while the other 49 wait here, then read the database and
    learn at once that the slot is gone, instead of each asking Google (the outbound limiter
    spaces those calls 125 ms apart) and queueing for the write lock. If the first attempt did
    not book (Google said busy, or could not be asked), the next waiter tries in its turn.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # start -> (done, holding thread, depth); re-entrant like an RLock, so a booking made
        # from inside another attempt on the same thread (a test's stand-in for a concurrent
        # process) goes through to the database guard instead of waiting for itself.
        self._held: dict[datetime, tuple[threading.Event, int, int]] = {}

    def claim(self, start: datetime, *, wait_seconds: float) -> bool:
        """True: the caller holds the claim on `start` and must `release` it. False: another
        attempt held it and has finished (or `wait_seconds` passed); check again, then retry."""
        me = threading.get_ident()
        with self._lock:
            current = self._held.get(start)
            if current is None or current[1] == me:
                done = threading.Event() if current is None else current[0]
                self._held[start] = (done, me, 1 if current is None else current[2] + 1)
                return True
        current[0].wait(wait_seconds)
        return False

    def release(self, start: datetime) -> None:
        with self._lock:
            done, holder, depth = self._held.pop(start)
            if depth > 1:
                self._held[start] = (done, holder, depth - 1)
                return
        done.set()


def _start(slot: TimeSlot) -> datetime:
    return slot.start


def alternatives_window(start: datetime, *, now: datetime) -> Interval:
    """Where alternatives to `start` are looked for (never in the past)."""
    return Interval(max(now, start - _ALTERNATIVES_BEFORE), start + _ALTERNATIVES_AFTER)


class ConflictLog:
    """booking_conflict records with group commit: 409s answered at the same moment share one
    write transaction, and each caller returns once its own record is committed."""

    def __init__(self, *, writers: UnitOfWorkFactory, metrics: Metrics) -> None:
        self._metrics = metrics
        self._records: GroupCommit[tuple[str, datetime], None] = GroupCommit(
            writers=writers, write=_track_conflict
        )

    def record(self, service_slug: str, *, now: datetime) -> None:
        self._records.submit((service_slug, now))
        self._metrics.increment("booking_conflicts")
        _log.info("booking_conflict", extra={"service_slug": service_slug})


def _track_conflict(uow: UnitOfWork, item: tuple[str, datetime]) -> None:
    service_slug, at = item
    uow.tracking.track("booking_conflict", {"service_slug": service_slug}, at=at)


def record_conflict(
    writers: UnitOfWorkFactory, metrics: Metrics, service_slug: str, *, now: datetime
) -> None:
    """booking_conflict (tracking plan): stored, counted and logged on every 409."""
    with writers() as uow:
        uow.tracking.track("booking_conflict", {"service_slug": service_slug}, at=now)
        uow.commit()
    metrics.increment("booking_conflicts")
    _log.info("booking_conflict", extra={"service_slug": service_slug})
