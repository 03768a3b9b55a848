"""Booking: BookAppointment with conflict protection, confirm, cancel, expiring holds, listing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID

from balance_booking.application.errors import (
    AlreadyBookedError,
    BookingLimitReachedError,
    ChangeWindowClosedError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    SlotTakenError,
)
from balance_booking.application.messages import Messages
from balance_booking.application.ports import (
    CalendarEventState,
    Clock,
    ConsentRecord,
    Metrics,
    StoredResponse,
    UnitOfWork,
    UnitOfWorkFactory,
)
from balance_booking.application.privacy import ConsentPolicy
from balance_booking.application.slot_guard import (
    BookingRequest,
    SlotClaims,
    SlotGuard,
    SlotSnapshot,
    SlotUnavailableError,
)
from balance_booking.domain.appointments import Appointment, AppointmentStatus
from balance_booking.domain.availability import load_zone
from balance_booking.domain.errors import InvalidTransition
from balance_booking.domain.intervals import Interval

_log = logging.getLogger(__name__)


# How long a booking waits for another attempt at the same slot before looking again itself;
# the attempt it waits for is bounded by LIVE_CHECK_TIMEOUT_SECONDS, so this is only a backstop.
_CLAIM_WAIT_S = 30.0

# A client who books their own slot again gets the confirmation again, at most this often.
RESEND_EVERY = timedelta(minutes=10)
ALREADY_BOOKED = "You are already booked for this time."

CHANGE_WINDOW_CLOSED = (
    "This appointment can no longer be changed online; please contact the practitioner."
)


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
class Booked:
    """A booking as answered: on a replay, status and hold as they were at booking time."""

    appointment: Appointment
    manage_token: str
    replayed: bool


def _normalised(email: str | None) -> str | None:
    """An e-mail address as compared for "the same person": trimmed, case-folded."""
    if email is None or not email.strip():
        return None
    return email.strip().casefold()


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


@dataclass(frozen=True, kw_only=True, slots=True)
class BookAppointment:
    """Check the slot locally, then live in Google, then insert under the database guard."""

    guard: SlotGuard
    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    clock: Clock
    messages: Messages
    hold: timedelta
    manage_tokens: ManageTokens
    metrics: Metrics
    # Future active bookings one e-mail address (or phone) may hold; None: no cap.
    max_active_per_client: int | None = None
    consent: ConsentPolicy = field(default_factory=ConsentPolicy)  # PRIVACY_POLICY_URL
    claims: SlotClaims = field(default_factory=SlotClaims)

    def execute(self, request: BookingRequest, *, idempotency_key: str | None = None) -> Booked:
        try:
            return self._book(request, idempotency_key=idempotency_key)
        except SlotUnavailableError:
            # The slot may be refused because the client holds it already (a retry after a lost
            # answer, or the page closed while it waited): say so, never "someone else took it".
            already = self._already_booked(request, now=self.clock.now())
            if already is not None:
                raise already from None
            # Recorded after every read transaction has closed: one connection per request.
            self.guard.record_conflict(request.service_slug, now=self.clock.now())
            raise

    def _already_booked(
        self, request: BookingRequest, *, now: datetime
    ) -> AlreadyBookedError | None:
        """The answer for a client asking for the slot they hold (same e-mail, compared
        case-insensitively, same service and start; confirmed or a running payment hold), with
        the confirmation e-mail queued again at most once per RESEND_EVERY; else None."""
        email = _normalised(request.client.email)
        if email is None:
            return None
        held = [
            appointment
            for appointment in self.guard.held_at(request.service_slug, request.start, now=now)
            if _normalised(appointment.client.email) == email
        ]
        if not held:
            return None
        appointment = held[0]
        resent = self.messages.mail.enabled
        if resent:
            with self.writers() as uow:
                if uow.appointments.claim_confirmation_resend(
                    appointment.id, now=now, every=RESEND_EVERY
                ):
                    self.messages.resend_confirmation(uow, appointment, now=now)
                    uow.commit()
        self.metrics.increment("already_booked")
        _log.info("booking_already_held", extra={"appointment_id": str(appointment.id)})
        return AlreadyBookedError(ALREADY_BOOKED, email_resent=resent)

    def _book(self, request: BookingRequest, *, idempotency_key: str | None) -> Booked:
        consent = self.consent.record(consent=request.consent, now=self.clock.now())
        load_zone(request.timezone)
        fingerprint = request_fingerprint(request)
        now = self.clock.now()
        replayed = self._check_locally(request, fingerprint, idempotency_key, now=now)
        if replayed is not None:
            return replayed
        # One attempt per slot at a time in this process (SlotClaims): a visitor who lost the
        # race learns it from the database the moment the winner has committed, without asking
        # Google. Nothing here holds a database lock while Google is asked. The live check's
        # time budget starts here, so the wait for another attempt counts against it: a visitor
        # queued behind a hanging check gets the fallback at once instead of a second wait.
        with self.guard.live_check_budget():
            while not self.claims.claim(request.start, wait_seconds=_CLAIM_WAIT_S):
                replayed = self._check_locally(request, fingerprint, idempotency_key, now=now)
                if replayed is not None:
                    return replayed
            try:
                # Read afresh by the one attempt that goes on to Google and the database.
                snapshot = self.guard.snapshot(request.service_slug, now=now)
                return self._book_claimed(
                    request, snapshot, fingerprint, idempotency_key, consent=consent, now=now
                )
            finally:
                self.claims.release(request.start)

    def _check_locally(
        self,
        request: BookingRequest,
        fingerprint: str,
        idempotency_key: str | None,
        *,
        now: datetime,
    ) -> Booked | None:
        """An Idempotency-Key replay, else None if the slot is offered on local data; raises the
        conflict (with alternatives) if it is not.

        Whether it is offered comes from the slots cache, so the visitors who lost a race are
        answered from one computation.
        """
        if idempotency_key is not None:
            with self.readers() as uow:
                replay = self._replay(uow, idempotency_key, fingerprint)
            if replay is not None:
                return replay
        conflict = self.guard.quick_conflict(request, now=now)
        if conflict is None:
            return None
        # A request with the same key (a retry that reached another thread or process) may
        # have booked this slot since the replay look above: answer as it did.
        if idempotency_key is not None:
            with self.readers() as uow:
                replay = self._replay(uow, idempotency_key, fingerprint)
            if replay is not None:
                return replay
        raise conflict

    def _book_claimed(
        self,
        request: BookingRequest,
        snapshot: SlotSnapshot,
        fingerprint: str,
        idempotency_key: str | None,
        *,
        consent: ConsentRecord | None,
        now: datetime,
    ) -> Booked:
        """Live in Google, then the insert under the database guard (the caller holds the claim)."""
        service = snapshot.service
        slot = Interval(request.start, request.start + service.duration)
        buffered = slot.expanded(before=service.buffer_before, after=service.buffer_after)
        live_busy = self.guard.live_busy(snapshot, buffered, now=now)
        if any(busy.overlaps(buffered) for busy in live_busy):
            with self.readers() as uow:
                raise self.guard.conflict(uow, snapshot, request, now=now, extra_busy=live_busy)
        try:
            return self._insert(
                request, snapshot, fingerprint, idempotency_key, consent=consent, now=now
            )
        except SlotTakenError:
            with self.readers() as uow:
                if idempotency_key is not None:
                    replay = self._replay(uow, idempotency_key, fingerprint)
                    if replay is not None:
                        return replay
                raise self.guard.conflict(uow, snapshot, request, now=now, extra_busy=[]) from None

    def _insert(
        self,
        request: BookingRequest,
        snapshot: SlotSnapshot,
        fingerprint: str,
        idempotency_key: str | None,
        *,
        consent: ConsentRecord | None,
        now: datetime,
    ) -> Booked:
        with self.writers() as uow:
            # SQLite: BEGIN IMMEDIATE serialises writers, so this re-check and the insert are one
            # step. PostgreSQL: the exclusion constraint catches what a concurrent writer slipped in.
            if idempotency_key is not None:
                replay = self._replay(uow, idempotency_key, fingerprint)
                if replay is not None:
                    return replay
            if not self.guard.offered(uow, snapshot, request.start, now=now, extra_busy=[]):
                raise SlotTakenError("The slot was taken a moment ago.")
            self._refuse_over_cap(uow, request, now=now)
            for lapsed in uow.appointments.due_holds(now):
                lapsed.expire(now=now)
                self.messages.save_appointment(uow, lapsed, now=now)
            appointment = Appointment.book(
                appointment_id=uuid.uuid4(),
                service=snapshot.service,
                start=request.start,
                client=request.client,
                client_timezone=request.timezone,
                comment=request.comment,
                now=now,
                hold=self.hold,
                language=request.language,
            )
            token = self.manage_tokens.token(appointment.id)
            self.messages.add_appointment(
                uow, appointment, manage_token_hash=self.manage_tokens.hash(token), now=now
            )
            if consent is not None:
                uow.client_data.add_consent(replace(consent, appointment_id=appointment.id))
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
        self.metrics.increment("bookings", {"status": appointment.status.value})
        _log.info("appointment_booked", extra={"appointment_id": str(appointment.id)})
        return Booked(appointment=appointment, manage_token=token, replayed=False)

    def _refuse_over_cap(self, uow: UnitOfWork, request: BookingRequest, *, now: datetime) -> None:
        if self.max_active_per_client is None:
            return
        held = uow.appointments.active_future_count(
            email=request.client.email, phone=request.client.phone, now=now
        )
        if held >= self.max_active_per_client:
            self.metrics.increment("rate_limited", {"scope": "bookings_per_client"})
            raise BookingLimitReachedError(
                "You already have the most upcoming appointments one person can book online; "
                "please contact the practitioner to book more."
            )

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
        hold = json.loads(stored.body)["hold_expires_at"]
        answered = appointment.as_booked(
            hold_expires_at=None if hold is None else datetime.fromisoformat(hold)
        )
        token = self.manage_tokens.token(appointment.id)
        return Booked(appointment=answered, manage_token=token, replayed=True)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConfirmAppointment:
    """Admin/payment confirmation of a held appointment, re-checked live in Google."""

    guard: SlotGuard
    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    clock: Clock
    messages: Messages

    def execute(self, appointment_id: UUID) -> Appointment:
        now = self.clock.now()
        guard = self.guard
        with self.readers() as uow:
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
            with self.readers() as uow:
                conflict = guard.conflict(uow, snapshot, request, now=now, extra_busy=live)
            guard.record_conflict(appointment.service_slug, now=now)
            raise conflict
        with self.writers() as uow:
            current = uow.appointments.get_for_update(appointment_id)
            if current is None:
                raise NotFoundError("Unknown appointment.")
            try:
                current.confirm(now=now)
            except InvalidTransition as exc:
                raise ConflictError(str(exc)) from exc
            self.messages.save_appointment(uow, current, now=now)
            uow.commit()
        return current


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelAppointment:
    """Cancel by the client (manage token) or by the admin; the Google event follows via the outbox."""

    writers: UnitOfWorkFactory
    clock: Clock
    messages: Messages
    manage_tokens: ManageTokens

    def execute(self, appointment_id: UUID, *, token: str | None) -> Appointment:
        """`token=None` means the admin; a wrong token looks exactly like an unknown id (404)."""
        now = self.clock.now()
        with self.writers() as uow:
            if token is not None:
                stored = uow.appointments.manage_token_hash(appointment_id)
                if not self.manage_tokens.matches(stored, token):
                    raise NotFoundError("Unknown appointment.")
            appointment = uow.appointments.get_for_update(appointment_id)
            if appointment is None:
                raise NotFoundError("Unknown appointment.")
            if appointment.status is AppointmentStatus.CANCELLED:
                return appointment  # cancelling twice is harmless
            service = uow.services.get(appointment.service_slug)
            if (
                token is not None
                and service is not None
                and appointment.is_active
                and not appointment.client_may_change(service, now=now)
            ):
                raise ChangeWindowClosedError(CHANGE_WINDOW_CLOSED)
            try:
                appointment.cancel(now=now)
            except InvalidTransition as exc:
                raise ConflictError(str(exc)) from exc
            self.messages.save_appointment(uow, appointment, now=now)
            uow.commit()
        return appointment


@dataclass(frozen=True, kw_only=True, slots=True)
class GetAppointment:
    """The client's view of their appointment (manage token required)."""

    readers: UnitOfWorkFactory
    manage_tokens: ManageTokens

    def execute(self, appointment_id: UUID, *, token: str) -> Appointment:
        with self.readers() as uow:
            stored = uow.appointments.manage_token_hash(appointment_id)
            appointment = uow.appointments.get(appointment_id)
        if appointment is None or not self.manage_tokens.matches(stored, token):
            raise NotFoundError("Unknown appointment.")
        return appointment


@dataclass(frozen=True, kw_only=True, slots=True)
class ExpireHolds:
    """Release payment holds that ran out (the slot frees up)."""

    writers: UnitOfWorkFactory
    clock: Clock
    messages: Messages

    def execute(self) -> int:
        now = self.clock.now()
        with self.writers() as uow:
            due = uow.appointments.due_holds(now)
            for appointment in due:
                appointment.expire(now=now)
                self.messages.save_appointment(uow, appointment, now=now)
            uow.commit()
        return len(due)


@dataclass(frozen=True, kw_only=True, slots=True)
class ListAppointments:
    """The admin's list of appointments with their Google event state."""

    readers: UnitOfWorkFactory

    def execute(
        self, window: Interval, *, status: str | None
    ) -> list[tuple[Appointment, CalendarEventState]]:
        with self.readers() as uow:
            return uow.appointments.listing(window, status=status)
