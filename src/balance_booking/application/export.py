"""Export to Google Calendar: what an appointment's event says, creating and deleting it, and
the google_calendar kind of the outbox that runs them.

The product is the source of truth for bookings (spec G5): Google only mirrors them. Every
event id is derived from the appointment id, so every retry is idempotent (docs/export.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar, assert_never
from uuid import UUID

from balance_booking.application.availability import load_availability
from balance_booking.application.errors import (
    AccessRevokedError,
    ApplicationError,
    DeletedEventWriteRefusedError,
    GoogleQuotaExceededError,
    GoogleRequestError,
    GoogleUnavailableError,
    OAuthClientRejectedError,
)
from balance_booking.application.messages import event_of
from balance_booking.application.outbox import Failure, UndeliverableMessageError
from balance_booking.application.ports import (
    AccessTokenSource,
    CalendarGateway,
    CalendarGatewayFactory,
    CalendarState,
    Clock,
    EventDraft,
    IntegrationRecord,
    Metrics,
    OutboxKind,
    OutboxMessage,
    UnitOfWork,
    UnitOfWorkFactory,
)
from balance_booking.domain.appointments import Appointment, AppointmentStatus
from balance_booking.domain.calendar_account import IntegrationStatus
from balance_booking.domain.events import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentExpired,
    AppointmentHeld,
    AppointmentMoved,
)

_log = logging.getLogger(__name__)

ADMIN_SCHEDULE_PATH = "/admin/schedule/"
# The practice as the owner's calendar names it: the owner reads Russian first (issue 19).
PRACTICE_NAME = "Эмоциональный баланс"
# How many fresh ids (`<hex>r1`, `r2`, ...) one put-back tries before giving up for this run.
MAX_REPLACEMENTS = 5
_T = TypeVar("_T")


def event_id_for(appointment_id: UUID) -> str:
    """The client-chosen Google event id: hex is a subset of base32hex, 32 characters."""
    return appointment_id.hex


def replacement_id(appointment_id: UUID, current: str) -> str:
    """The next id when Google refuses to reuse `current`: `<hex>r1`, `<hex>r2`, ..."""
    base = event_id_for(appointment_id)
    suffix = current.removeprefix(base + "r")
    generation = int(suffix) + 1 if current != base and suffix.isdigit() else 1
    return f"{base}r{generation}"


def is_ours(event_id: str, appointment_id: UUID) -> bool:
    """True for the ids this product chooses (not, e.g., instances of a series someone made)."""
    base = event_id_for(appointment_id)
    return event_id == base or (
        event_id.startswith(base + "r") and event_id.removeprefix(base + "r").isdigit()
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class EventDrafts:
    """What an appointment's event says: the service and a short reference, never the client.

    Therapy is sensitive and calendars are often shared: the summary names the service and a
    4-character reference ("Запись: Консультация · #3f2a"), the description names the practice
    and links to the admin page, and nothing else leaves.
    """

    public_base_url: str
    default_timezone: str
    practice_name: str = PRACTICE_NAME

    def draft(self, uow: UnitOfWork, appointment: Appointment, *, event_id: str) -> EventDraft:
        service = uow.services.get(appointment.service_slug)
        title = service.title if service is not None else "Консультация"
        zone = load_availability(uow, default_timezone=self.default_timezone).timezone
        admin_url = self.public_base_url.rstrip("/") + ADMIN_SCHEDULE_PATH
        return EventDraft(
            event_id=event_id,
            appointment_id=appointment.id,
            summary=f"Запись: {title} · #{appointment.id.hex[:4]}",
            description=(
                f"Запись через «{self.practice_name}». "
                f"Подробности — на странице психолога: {admin_url}"
            ),
            start=appointment.start,
            end=appointment.end,
            timezone=zone,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateCalendarEventForAppointment:
    """AppointmentConfirmed -> the event in the owner's calendar, exactly once."""

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    gateways: CalendarGatewayFactory
    tokens: AccessTokenSource
    drafts: EventDrafts
    clock: Clock
    metrics: Metrics

    def execute(self, appointment_id: UUID) -> bool:
        """True when Google was written to; False when there was nothing to do."""
        with self.readers() as uow:
            appointment = uow.appointments.get(appointment_id)
            if appointment is None or appointment.status is not AppointmentStatus.CONFIRMED:
                # Cancelled (its cancel follows in the outbox) or gone: nothing to show.
                _log.info("calendar_event_skipped", extra={"appointment_id": str(appointment_id)})
                return False
            if uow.appointments.calendar_event(appointment_id).state == CalendarState.CREATED:
                return False
            draft = self.drafts.draft(uow, appointment, event_id=event_id_for(appointment_id))
        gateway = self.gateways(self.tokens)
        created = _counted(self.metrics, "insert", partial(gateway.insert_event, draft))
        self.metrics.increment(
            "google_writes",
            {"operation": "insert", "result": "created" if created else "duplicate"},
        )
        record_event(
            self.writers, self.clock, appointment_id, draft.event_id, CalendarState.CREATED
        )
        _log.info(
            "calendar_event_created",
            extra={
                "appointment_id": str(appointment_id),
                "event_id": draft.event_id,
                # 409 duplicate: an earlier attempt created it and its answer was lost.
                "already_existed": not created,
            },
        )
        return True


@dataclass(frozen=True, kw_only=True, slots=True)
class DeleteCalendarEventForAppointment:
    """A confirmed appointment was cancelled -> its event goes; unknown or deleted = done."""

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    gateways: CalendarGatewayFactory
    tokens: AccessTokenSource
    clock: Clock
    metrics: Metrics

    def execute(self, appointment_id: UUID) -> bool:
        derived = event_id_for(appointment_id)
        with self.readers() as uow:
            known = uow.appointments.get(appointment_id) is not None
            stored = uow.appointments.calendar_event(appointment_id).event_id if known else None
        gateway = self.gateways(self.tokens)
        # The derived id is deleted even when nothing was recorded: a create whose answer was
        # lost may still have made the event.
        for event_id in dict.fromkeys(filter(None, (stored, derived))):
            _counted(self.metrics, "delete", partial(gateway.delete_event, event_id))
            self.metrics.increment("google_writes", {"operation": "delete", "result": "deleted"})
        if known:
            record_event(
                self.writers, self.clock, appointment_id, stored or derived, CalendarState.DELETED
            )
        _log.info(
            "calendar_event_deleted",
            extra={"appointment_id": str(appointment_id), "event_id": stored or derived},
        )
        return True


@dataclass(frozen=True, kw_only=True, slots=True)
class MoveCalendarEventForAppointment:
    """A confirmed appointment moved -> its event moves in place (the same event id, patched).

    An event that was never made (its create is still due, or was parked) is made now at the new
    time; one Google no longer knows is put back (docs/export.md).
    """

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    gateways: CalendarGatewayFactory
    tokens: AccessTokenSource
    drafts: EventDrafts
    clock: Clock
    metrics: Metrics
    create_event: CreateCalendarEventForAppointment

    def execute(self, appointment_id: UUID) -> bool:
        with self.readers() as uow:
            appointment = uow.appointments.get(appointment_id)
            if appointment is None or appointment.status is not AppointmentStatus.CONFIRMED:
                return False  # cancelled since (its delete follows) or gone
            state = uow.appointments.calendar_event(appointment_id)
            if state.state != CalendarState.CREATED:
                draft = None
            else:
                event_id = state.event_id or event_id_for(appointment_id)
                draft = self.drafts.draft(uow, appointment, event_id=event_id)
        if draft is None:
            return self.create_event.execute(appointment_id)
        gateway = self.gateways(self.tokens)
        event_id = _counted(
            self.metrics, "patch", partial(put_back, gateway, draft, self.metrics, result="moved")
        )
        record_event(self.writers, self.clock, appointment_id, event_id, CalendarState.CREATED)
        _log.info(
            "calendar_event_moved",
            extra={"appointment_id": str(appointment_id), "event_id": event_id},
        )
        return True


def record_event(
    writers: UnitOfWorkFactory,
    clock: Clock,
    appointment_id: UUID,
    event_id: str,
    state: CalendarState,
) -> None:
    """Write down, after a Google write, which event an appointment has and where it stands."""
    with writers() as uow:
        uow.appointments.set_calendar_event(
            appointment_id, event_id=event_id, state=state, now=clock.now()
        )
        uow.commit()


def put_back(gateway: CalendarGateway, draft: EventDraft, metrics: Metrics, *, result: str) -> str:
    """Make the event say `draft` (patching it, undeleting it if Google allows); if Google has no
    such event, insert it again; if Google refuses to write to it or to reuse its id (it was
    deleted in Google), insert it under a fresh id. Returns the id it now has, which the caller
    records, so a refused write is never tried again. `result` labels a successful patch in the
    google_writes metric."""
    try:
        if gateway.patch_event(draft.event_id, draft):
            metrics.increment("google_writes", {"operation": "patch", "result": result})
            return draft.event_id
        if gateway.insert_event(draft):
            metrics.increment("google_writes", {"operation": "insert", "result": "created"})
            return draft.event_id
        # 404 on patch but 409 on insert: Google remembers the id and refuses it.
    except DeletedEventWriteRefusedError:
        # Deleted in Google: the id is dead for writes (403) and for inserts (409).
        metrics.increment("google_writes", {"operation": "patch", "result": "refused"})
    current = draft.event_id
    for _attempt in range(MAX_REPLACEMENTS):
        current = replacement_id(draft.appointment_id, current)
        fresh = replace(draft, event_id=current)
        if gateway.insert_event(fresh):
            metrics.increment("google_writes", {"operation": "insert", "result": "created"})
            return fresh.event_id
        try:
            # 409: an earlier attempt made it and its answer was lost; make it say the draft.
            if gateway.patch_event(fresh.event_id, fresh):
                metrics.increment("google_writes", {"operation": "patch", "result": result})
                return fresh.event_id
        except DeletedEventWriteRefusedError:
            continue  # that one was deleted in Google too: the next generation
    raise GoogleRequestError(
        f"Google refuses {draft.event_id} and {MAX_REPLACEMENTS} fresh ids after it",
        status=409,
        reason="duplicate",
    )


def writes_paused(record: IntegrationRecord, *, now: datetime) -> bool:
    """Google writes wait: the calendar is read-only after quotaExceeded, or Google rejected our
    OAuth client (a configuration error; a successful refresh clears it)."""
    if record.oauth_client_rejected_at is not None:
        return True
    return record.google_writes_paused_until is not None and record.google_writes_paused_until > now


@dataclass(frozen=True, kw_only=True, slots=True)
class GoogleWriteHold:
    """After 403 quotaExceeded no process writes to Google for `pause` (one row for all)."""

    writers: UnitOfWorkFactory
    clock: Clock
    metrics: Metrics

    def pause(self, error: GoogleQuotaExceededError) -> None:
        now = self.clock.now()
        until = now + (error.retry_after or timedelta(hours=1))
        with self.writers() as uow:
            record = uow.integration.get_for_update()
            if (
                record.google_writes_paused_until is None
                or record.google_writes_paused_until < until
            ):
                record.google_writes_paused_until = until
            uow.integration.save(record, now=now)
            uow.commit()
        self.metrics.increment("google_writes_paused")
        _log.warning("google_writes_paused", extra={"until": until.isoformat()})

    def active(self, record: IntegrationRecord) -> bool:
        return writes_paused(record, now=self.clock.now())


def _counted(metrics: Metrics, operation: str, call: Callable[[], _T]) -> _T:
    """Run one Google write; a failure is counted under its kind and re-raised."""
    try:
        return call()
    except GoogleUnavailableError:
        metrics.increment("google_writes", {"operation": operation, "result": "unavailable"})
        raise
    except AccessRevokedError:
        metrics.increment("google_writes", {"operation": operation, "result": "revoked"})
        raise
    except GoogleRequestError:
        metrics.increment("google_writes", {"operation": operation, "result": "refused"})
        raise


@dataclass(frozen=True, kw_only=True, slots=True)
class GoogleCalendarMessages:
    """The google_calendar kind of the outbox: appointment events -> the owner's calendar.

    Its messages wait while the integration is off, disconnected or revoked; Google being away
    or access being withdrawn is transient, any other refusal parks the row and marks the
    appointment's event `failed`. After a batch that wrote to Google, busy time is re-synced.
    """

    kind = OutboxKind.GOOGLE_CALENDAR

    create_event: CreateCalendarEventForAppointment
    delete_event: DeleteCalendarEventForAppointment
    move_event: MoveCalendarEventForAppointment
    resync: Callable[[], object]
    enabled_by_default: bool
    # Never given up on: every write is idempotent, and the admin sees a pending event meanwhile.
    give_up_after: timedelta | None = None
    # Records quotaExceeded pauses; None: not recorded (the rows still back off for hours).
    hold: GoogleWriteHold | None = None

    def can_run(self, uow: UnitOfWork) -> bool:
        record = uow.integration.get()
        enabled = self.enabled_by_default if record.enabled is None else record.enabled
        if record.oauth_client_rejected_at is not None:
            return False  # held, never parked: a refresh that succeeds again releases them
        if self.hold is not None and self.hold.active(record):
            return False  # quotaExceeded: the calendar is read-only for a while
        return enabled and record.status == IntegrationStatus.CONNECTED

    def handle(self, message: OutboxMessage) -> bool:
        """True when Google was written to."""
        try:
            return self._handle(message)
        except GoogleQuotaExceededError as exc:
            if self.hold is not None:
                self.hold.pause(exc)
            raise

    def _handle(self, message: OutboxMessage) -> bool:
        event = event_of(message)
        match event:
            case AppointmentConfirmed():
                return self.create_event.execute(event.appointment_id)
            case AppointmentCancelled():
                if not event.was_confirmed:
                    return False  # a payment hold never reached the calendar
                return self.delete_event.execute(event.appointment_id)
            case AppointmentMoved():
                if not event.was_confirmed:
                    return False  # a payment hold has no event to move
                return self.move_event.execute(event.appointment_id)
            case AppointmentExpired() | AppointmentHeld():
                return False  # likewise: only confirmed appointments are exported
            case None:
                raise UndeliverableMessageError(f"unreadable outbox row of type {message.topic}")
            case _:
                assert_never(event)

    def classify(self, error: ApplicationError) -> Failure:
        # quotaExceeded is a GoogleUnavailableError that asks for hours (its retry_after); a
        # rejected OAuth client is a configuration error: hold, never park.
        if isinstance(
            error, GoogleUnavailableError | AccessRevokedError | OAuthClientRejectedError
        ):
            return Failure.TRANSIENT
        return Failure.PERMANENT

    def on_park(self, uow: UnitOfWork, message: OutboxMessage, *, now: datetime) -> None:
        appointment_id = message.appointment_id
        if appointment_id is None or uow.appointments.get(appointment_id) is None:
            return
        state = uow.appointments.calendar_event(appointment_id)
        uow.appointments.set_calendar_event(
            appointment_id, event_id=state.event_id, state=CalendarState.FAILED, now=now
        )

    def after_batch(self) -> None:
        # Our own writes change Google's busy time: refresh the mirror and reconcile now.
        try:
            self.resync()
        except ApplicationError as exc:
            _log.info("resync_after_export_refused", extra={"error": str(exc)[:200]})
