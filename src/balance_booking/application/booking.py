"""Booking: BookAppointment with conflict protection, confirm, cancel, holds, waitlist, tracking."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from balance_booking.application.availability import CalendarPolicy, load_availability
from balance_booking.application.errors import (
    AccessRevokedError,
    ApplicationError,
    CalendarUnavailableError,
    ConflictError,
    GoogleRequestError,
    GoogleUnavailableError,
    InvalidRequestError,
    NotFoundError,
    SlotTakenError,
)
from balance_booking.application.messages import add_appointment, save_appointment
from balance_booking.application.ports import (
    AccessTokenSource,
    CalendarEventState,
    CalendarGatewayFactory,
    CalendarLink,
    Clock,
    Metrics,
    StoredResponse,
    UnitOfWork,
    UnitOfWorkFactory,
    WaitlistEntry,
)
from balance_booking.domain.appointments import Appointment, AppointmentStatus, Client
from balance_booking.domain.availability import load_zone
from balance_booking.domain.errors import InvalidTransition
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from balance_booking.domain.slots import TimeSlot, available_slots, nearest_slots

_log = logging.getLogger(__name__)

# How far around the asked time alternatives are looked for.
_ALTERNATIVES_BEFORE = timedelta(days=7)
_ALTERNATIVES_AFTER = timedelta(days=21)
_DAY = timedelta(days=1)


class SlotUnavailableError(ApplicationError):
    """The slot cannot be booked (taken, busy in Google, or not offered); here are others."""

    def __init__(self, message: str, *, alternatives: list[TimeSlot]) -> None:
        super().__init__(message)
        self.alternatives = alternatives


class IdempotencyMismatchError(InvalidRequestError):
    """The Idempotency-Key was used before with a different request body."""


class ManageTokens:
    """Per-appointment secrets for client self-service: derived (HMAC), stored only as a hash.

    Deriving them from the server secret lets an Idempotency-Key replay return the same token
    without ever storing it.
    """

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def token(self, appointment_id: UUID) -> str:
        digest = hmac.new(self._secret, b"manage:" + appointment_id.bytes, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def matches(self, stored_hash: str | None, presented: str) -> bool:
        return stored_hash is not None and hmac.compare_digest(stored_hash, self.hash(presented))


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """What a client asks for; `start` is an aware instant."""

    service_slug: str
    start: datetime
    timezone: str
    client: Client
    comment: str | None


@dataclass(frozen=True, slots=True)
class Booked:
    """A booking as answered: on a replay, status and hold as they were at booking time."""

    appointment: Appointment
    manage_token: str
    replayed: bool


def request_fingerprint(request: BookingRequest) -> str:
    """A stable hash of the request body, to tell replays from reuse of a key."""
    canonical = json.dumps(
        {
            "service_slug": request.service_slug,
            "start": request.start.isoformat(),
            "timezone": request.timezone,
            "client": [request.client.name, request.client.email, request.client.phone],
            "comment": request.comment,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SlotSnapshot:
    service: Service
    link: CalendarLink
    use_busy: bool


class SlotGuard:
    """The checks shared by booking and confirmation: offered locally, free live in Google."""

    def __init__(
        self,
        *,
        readers: UnitOfWorkFactory,
        writers: UnitOfWorkFactory,
        gateways: CalendarGatewayFactory,
        tokens: AccessTokenSource,
        policy: CalendarPolicy,
        default_timezone: str,
        live_check_fallback: timedelta,
        metrics: Metrics,
    ) -> None:
        self._readers = readers
        self._writers = writers
        self._gateways = gateways
        self._tokens = tokens
        self._policy = policy
        self._default_timezone = default_timezone
        self._fallback = live_check_fallback
        self.metrics = metrics

    def snapshot(self, service_slug: str, *, now: datetime) -> SlotSnapshot:
        with self._readers() as uow:
            service = uow.services.get(service_slug)
            if service is None or not service.active:
                raise NotFoundError(f"Unknown service {service_slug!r}.")
            link = uow.integration.calendar_link()
        calendar = self._policy.state(link, now=now)  # 503 when busy data is too old
        return SlotSnapshot(service=service, link=link, use_busy=calendar.status == "ok")

    def slots_around(
        self,
        uow: UnitOfWork,
        snapshot: SlotSnapshot,
        window: Interval,
        *,
        now: datetime,
        extra_busy: list[Interval],
    ) -> list[TimeSlot]:
        context = Interval(window.start - 2 * _DAY, window.end + 2 * _DAY)
        busy = uow.busy.overlapping(context) if snapshot.use_busy else []
        return available_slots(
            service=snapshot.service,
            availability=load_availability(uow, default_timezone=self._default_timezone),
            busy=[*busy, *extra_busy],
            appointments=uow.appointments.occupied_overlapping(context, now=now),
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
    ) -> bool:
        window = Interval(start - _DAY, start + _DAY)
        slots = self.slots_around(uow, snapshot, window, now=now, extra_busy=extra_busy)
        return any(slot.start == start for slot in slots)

    def live_busy(
        self, snapshot: SlotSnapshot, buffered: Interval, *, now: datetime
    ) -> list[Interval]:
        """Google's busy time for the buffered slot right now; the mirror may stand in briefly."""
        if not snapshot.use_busy:
            return []
        # One call covers the slot and the alternatives around it, so a conflict's
        # alternatives already know what Google just said.
        around = alternatives_window(buffered.start, now=now)
        asked = Interval(min(buffered.start, around.start), max(buffered.end, around.end))
        try:
            return self._gateways(self._tokens).busy_intervals(asked)
        except (GoogleUnavailableError, GoogleRequestError, AccessRevokedError) as exc:
            synced = snapshot.link.last_success_at
            if synced is not None and now - synced <= self._fallback:
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
    ) -> SlotUnavailableError:
        window = alternatives_window(request.start, now=now)
        slots = [
            slot
            for slot in self.slots_around(uow, snapshot, window, now=now, extra_busy=extra_busy)
            if slot.start != request.start
        ]
        return SlotUnavailableError(
            "This time is no longer available.", alternatives=nearest_slots(slots, request.start)
        )


class BookAppointment:
    """Check the slot locally, then live in Google, then insert under the database guard."""

    def __init__(
        self,
        *,
        guard: SlotGuard,
        readers: UnitOfWorkFactory,
        writers: UnitOfWorkFactory,
        clock: Clock,
        hold: timedelta,
        manage_tokens: ManageTokens,
        metrics: Metrics,
    ) -> None:
        self._guard = guard
        self._readers = readers
        self._writers = writers
        self._clock = clock
        self._hold = hold
        self._manage_tokens = manage_tokens
        self._metrics = metrics

    def execute(self, request: BookingRequest, *, idempotency_key: str | None = None) -> Booked:
        try:
            return self._book(request, idempotency_key=idempotency_key)
        except SlotUnavailableError:
            # Recorded after every read transaction has closed: one connection per request.
            record_conflict(
                self._writers, self._metrics, request.service_slug, now=self._clock.now()
            )
            raise

    def _book(self, request: BookingRequest, *, idempotency_key: str | None) -> Booked:
        load_zone(request.timezone)
        fingerprint = request_fingerprint(request)
        if idempotency_key is not None:
            with self._readers() as uow:
                replay = self._replay(uow, idempotency_key, fingerprint)
            if replay is not None:
                return replay
        now = self._clock.now()
        snapshot = self._guard.snapshot(request.service_slug, now=now)
        service = snapshot.service
        slot = Interval(request.start, request.start + service.duration)
        buffered = slot.expanded(before=service.buffer_before, after=service.buffer_after)
        with self._readers() as uow:
            if not self._guard.offered(uow, snapshot, slot.start, now=now, extra_busy=[]):
                # A request with the same key (a retry that reached another thread or process)
                # may have booked this slot since the replay check above: answer as it did.
                if idempotency_key is not None:
                    replay = self._replay(uow, idempotency_key, fingerprint)
                    if replay is not None:
                        return replay
                raise self._guard.conflict(uow, snapshot, request, now=now, extra_busy=[])
        live_busy = self._guard.live_busy(snapshot, buffered, now=now)
        if any(busy.overlaps(buffered) for busy in live_busy):
            with self._readers() as uow:
                raise self._guard.conflict(uow, snapshot, request, now=now, extra_busy=live_busy)
        try:
            return self._insert(request, snapshot, fingerprint, idempotency_key, now=now)
        except SlotTakenError:
            if idempotency_key is not None:
                with self._readers() as uow:
                    replay = self._replay(uow, idempotency_key, fingerprint)
                if replay is not None:
                    return replay
            with self._readers() as uow:
                raise self._guard.conflict(uow, snapshot, request, now=now, extra_busy=[]) from None

    def _insert(
        self,
        request: BookingRequest,
        snapshot: SlotSnapshot,
        fingerprint: str,
        idempotency_key: str | None,
        *,
        now: datetime,
    ) -> Booked:
        with self._writers() as uow:
            # SQLite: BEGIN IMMEDIATE serialises writers, so this re-check and the insert are one
            # step. PostgreSQL: the exclusion constraint catches what a concurrent writer slipped in.
            if idempotency_key is not None:
                replay = self._replay(uow, idempotency_key, fingerprint)
                if replay is not None:
                    return replay
            if not self._guard.offered(uow, snapshot, request.start, now=now, extra_busy=[]):
                raise SlotTakenError("The slot was taken a moment ago.")
            for lapsed in uow.appointments.due_holds(now):
                lapsed.expire(now=now)
                save_appointment(uow, lapsed, now=now)
            appointment = Appointment.book(
                appointment_id=uuid.uuid4(),
                service=snapshot.service,
                start=request.start,
                client=request.client,
                client_timezone=request.timezone,
                comment=request.comment,
                now=now,
                hold=self._hold,
            )
            token = self._manage_tokens.token(appointment.id)
            add_appointment(
                uow, appointment, manage_token_hash=self._manage_tokens.hash(token), now=now
            )
            if idempotency_key is not None:
                uow.idempotency.add(
                    idempotency_key,
                    StoredResponse(
                        request_hash=fingerprint,
                        appointment_id=appointment.id,
                        body=json.dumps(
                            {
                                "status": appointment.status.value,
                                "hold_expires_at": None
                                if appointment.hold_expires_at is None
                                else appointment.hold_expires_at.isoformat(),
                            }
                        ),
                    ),
                    now=now,
                )
            uow.commit()
        self._metrics.increment("bookings", {"status": appointment.status.value})
        _log.info("appointment_booked", extra={"appointment_id": str(appointment.id)})
        return Booked(appointment=appointment, manage_token=token, replayed=False)

    def _replay(self, uow: UnitOfWork, key: str, fingerprint: str) -> Booked | None:
        stored = uow.idempotency.get(key)
        if stored is None:
            return None
        if stored.request_hash != fingerprint:
            raise IdempotencyMismatchError(
                "This Idempotency-Key was used with a different request.", field="Idempotency-Key"
            )
        appointment = uow.appointments.get(stored.appointment_id)
        if appointment is None:
            return None
        original = json.loads(stored.body)
        appointment.status = AppointmentStatus(original["status"])
        hold = original["hold_expires_at"]
        appointment.hold_expires_at = None if hold is None else datetime.fromisoformat(hold)
        token = self._manage_tokens.token(appointment.id)
        return Booked(appointment=appointment, manage_token=token, replayed=True)


def alternatives_window(start: datetime, *, now: datetime) -> Interval:
    """Where alternatives to `start` are looked for (never in the past)."""
    return Interval(max(now, start - _ALTERNATIVES_BEFORE), start + _ALTERNATIVES_AFTER)


def record_conflict(
    writers: UnitOfWorkFactory, metrics: Metrics, service_slug: str, *, now: datetime
) -> None:
    """booking_conflict (tracking plan): stored, counted and logged on every 409."""
    with writers() as uow:
        uow.tracking.track("booking_conflict", {"service_slug": service_slug}, at=now)
        uow.commit()
    metrics.increment("booking_conflicts")
    _log.info("booking_conflict", extra={"service_slug": service_slug})


class ConfirmAppointment:
    """Admin/payment confirmation of a held appointment, re-checked live in Google."""

    def __init__(
        self,
        *,
        guard: SlotGuard,
        readers: UnitOfWorkFactory,
        writers: UnitOfWorkFactory,
        clock: Clock,
    ) -> None:
        self._guard = guard
        self._readers = readers
        self._writers = writers
        self._clock = clock

    def execute(self, appointment_id: UUID) -> Appointment:
        now = self._clock.now()
        guard = self._guard
        with self._readers() as uow:
            appointment = uow.appointments.get(appointment_id)
        if appointment is None:
            raise NotFoundError("Unknown appointment.")
        if appointment.status is not AppointmentStatus.PENDING_PAYMENT:
            raise ConflictError(f"The appointment is {appointment.status}, not pending payment.")
        snapshot = guard.snapshot(appointment.service_slug, now=now)
        buffered = appointment.occupied.blocked
        live = guard.live_busy(snapshot, buffered, now=now)
        if any(busy.overlaps(buffered) for busy in live):
            request = BookingRequest(
                service_slug=appointment.service_slug,
                start=appointment.start,
                timezone=appointment.client_timezone,
                client=appointment.client,
                comment=appointment.comment,
            )
            with self._readers() as uow:
                conflict = guard.conflict(uow, snapshot, request, now=now, extra_busy=live)
            record_conflict(self._writers, guard.metrics, appointment.service_slug, now=now)
            raise conflict
        with self._writers() as uow:
            current = uow.appointments.get_for_update(appointment_id)
            if current is None:
                raise NotFoundError("Unknown appointment.")
            try:
                current.confirm(now=now)
            except InvalidTransition as exc:
                raise ConflictError(str(exc)) from exc
            save_appointment(uow, current, now=now)
            uow.commit()
        return current


class CancelAppointment:
    """Cancel by the client (manage token) or by the admin; the Google event follows via the outbox."""

    def __init__(
        self, *, writers: UnitOfWorkFactory, clock: Clock, manage_tokens: ManageTokens
    ) -> None:
        self._writers = writers
        self._clock = clock
        self._manage_tokens = manage_tokens

    def execute(self, appointment_id: UUID, *, token: str | None) -> Appointment:
        """`token=None` means the admin; a wrong token looks exactly like an unknown id (404)."""
        now = self._clock.now()
        with self._writers() as uow:
            if token is not None:
                stored = uow.appointments.manage_token_hash(appointment_id)
                if not self._manage_tokens.matches(stored, token):
                    raise NotFoundError("Unknown appointment.")
            appointment = uow.appointments.get_for_update(appointment_id)
            if appointment is None:
                raise NotFoundError("Unknown appointment.")
            if appointment.status is AppointmentStatus.CANCELLED:
                return appointment  # cancelling twice is harmless
            try:
                appointment.cancel(now=now)
            except InvalidTransition as exc:
                raise ConflictError(str(exc)) from exc
            save_appointment(uow, appointment, now=now)
            uow.commit()
        return appointment


class GetAppointment:
    """The client's view of their appointment (manage token required)."""

    def __init__(self, *, readers: UnitOfWorkFactory, manage_tokens: ManageTokens) -> None:
        self._readers = readers
        self._manage_tokens = manage_tokens

    def execute(self, appointment_id: UUID, *, token: str) -> Appointment:
        with self._readers() as uow:
            stored = uow.appointments.manage_token_hash(appointment_id)
            appointment = uow.appointments.get(appointment_id)
        if appointment is None or not self._manage_tokens.matches(stored, token):
            raise NotFoundError("Unknown appointment.")
        return appointment


class ExpireHolds:
    """Release payment holds that ran out (the slot frees up)."""

    def __init__(self, *, writers: UnitOfWorkFactory, clock: Clock) -> None:
        self._writers = writers
        self._clock = clock

    def execute(self) -> int:
        now = self._clock.now()
        with self._writers() as uow:
            due = uow.appointments.due_holds(now)
            for appointment in due:
                appointment.expire(now=now)
                save_appointment(uow, appointment, now=now)
            uow.commit()
        return len(due)


class ListAppointments:
    """The admin's list of appointments with their Google event state."""

    def __init__(self, *, readers: UnitOfWorkFactory) -> None:
        self._readers = readers

    def execute(
        self, window: Interval, *, status: str | None
    ) -> list[tuple[Appointment, CalendarEventState]]:
        with self._readers() as uow:
            return uow.appointments.listing(window, status=status)


class JoinWaitlist:
    """A client asks to hear when a slot frees up (offered when Google cannot be reached)."""

    def __init__(self, *, writers: UnitOfWorkFactory, clock: Clock) -> None:
        self._writers = writers
        self._clock = clock

    def execute(
        self,
        *,
        service_slug: str,
        client: Client,
        timezone: str,
        preferred: Interval | None,
        comment: str | None,
    ) -> UUID:
        load_zone(timezone)
        entry = WaitlistEntry(
            entry_id=uuid.uuid4(),
            service_slug=service_slug,
            name=client.name,
            email=client.email,
            phone=client.phone,
            timezone=timezone,
            preferred_from=None if preferred is None else preferred.start,
            preferred_to=None if preferred is None else preferred.end,
            comment=comment,
            created_at=self._clock.now(),
        )
        with self._writers() as uow:
            if uow.services.get(service_slug) is None:
                raise NotFoundError(f"Unknown service {service_slug!r}.")
            uow.waitlist.add(entry)
            uow.commit()
        return entry.entry_id


class ListWaitlist:
    """The waitlist for the admin."""

    def __init__(self, *, readers: UnitOfWorkFactory) -> None:
        self._readers = readers

    def execute(self) -> list[WaitlistEntry]:
        with self._readers() as uow:
            return uow.waitlist.list()


TRACKING_PLAN: dict[str, frozenset[str]] = {
    "booking_slot_selected": frozenset({"slot_start_at", "timezone", "service_slug"}),
    "booking_conflict": frozenset({"service_slug"}),
}


class TrackEvent:
    """Store a product-analytics event if the tracking plan knows it."""

    def __init__(self, *, writers: UnitOfWorkFactory, clock: Clock) -> None:
        self._writers = writers
        self._clock = clock

    def execute(self, event: str, properties: dict[str, str]) -> None:
        required = TRACKING_PLAN.get(event)
        if required is None:
            raise InvalidRequestError(f"Unknown event {event!r}.", field="event")
        missing = sorted(required - properties.keys())
        if missing:
            raise InvalidRequestError(
                f"Missing properties: {', '.join(missing)}.", field="properties"
            )
        with self._writers() as uow:
            uow.tracking.track(
                event, {key: properties[key] for key in sorted(required)}, at=self._clock.now()
            )
            uow.commit()
        _log.info("tracking_event", extra={"event": event})
