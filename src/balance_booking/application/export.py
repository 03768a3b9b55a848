"""Export to Google Calendar: create/delete the event of an appointment, the outbox dispatcher,
and the reconciliation of our exported events that every busy-time sync runs.

The product is the source of truth for bookings (spec G5): Google only mirrors them. Every
event id is derived from the appointment id, so every retry is idempotent (docs/export.md).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from functools import partial
from typing import TypeVar
from uuid import UUID

from balance_booking.application.availability import load_availability
from balance_booking.application.errors import (
    AccessRevokedError,
    ApplicationError,
    GoogleRequestError,
    GoogleUnavailableError,
)
from balance_booking.application.ports import (
    AccessTokenSource,
    CalendarEventState,
    CalendarGateway,
    CalendarGatewayFactory,
    Clock,
    EventDraft,
    IntegrationRecord,
    Metrics,
    OutboxMessage,
    OwnEvent,
    UnitOfWork,
    UnitOfWorkFactory,
)
from balance_booking.domain.appointments import Appointment, AppointmentStatus
from balance_booking.domain.calendar_account import IntegrationStatus
from balance_booking.domain.events import DomainEvent
from balance_booking.domain.intervals import Interval

_log = logging.getLogger(__name__)

ADMIN_SCHEDULE_PATH = "/admin/schedule/"
_GOOGLE_FAILURES = (GoogleUnavailableError, GoogleRequestError, AccessRevokedError)
_T = TypeVar("_T")


class CalendarState(StrEnum):
    """Where an appointment's Google event stands (API.md `calendar_event.state`)."""

    PENDING = "pending"  # not exported yet (or never will be: holds, cancelled before export)
    CREATED = "created"
    FAILED = "failed"  # Google refused for good; the outbox row is parked
    DELETED = "deleted"


def event_id_for(appointment_id: UUID) -> str:
    """The client-chosen Google event id: hex is a subset of base32hex, 32 characters."""
    return appointment_id.hex


def _replacement_id(appointment_id: UUID, current: str) -> str:
    """The next id when Google refuses to reuse `current`: `<hex>r1`, `<hex>r2`, ..."""
    base = event_id_for(appointment_id)
    suffix = current.removeprefix(base + "r")
    generation = int(suffix) + 1 if current != base and suffix.isdigit() else 1
    return f"{base}r{generation}"


def _is_ours(event_id: str, appointment_id: UUID) -> bool:
    """True for the ids this product chooses (not, e.g., instances of a series someone made)."""
    base = event_id_for(appointment_id)
    return event_id == base or (
        event_id.startswith(base + "r") and event_id.removeprefix(base + "r").isdigit()
    )


class EventDrafts:
    """What an appointment's event says: the service and a short reference, never the client.

    Therapy is sensitive and calendars are often shared: the summary names the service and a
    4-character reference, the description links to the admin page, and nothing else leaves.
    """

    def __init__(self, *, public_base_url: str, default_timezone: str) -> None:
        self._admin_url = public_base_url.rstrip("/") + ADMIN_SCHEDULE_PATH
        self._default_timezone = default_timezone

    def draft(self, uow: UnitOfWork, appointment: Appointment, *, event_id: str) -> EventDraft:
        service = uow.services.get(appointment.service_slug)
        title = service.title if service is not None else "Консультация"
        zone = load_availability(uow, default_timezone=self._default_timezone).timezone
        return EventDraft(
            event_id=event_id,
            appointment_id=appointment.id,
            summary=f"{title} · Balance #{appointment.id.hex[:4]}",
            description=f"Запись Balance. Подробности — на странице администратора: {self._admin_url}",
            start=appointment.start,
            end=appointment.end,
            timezone=zone,
        )


class CreateCalendarEventForAppointment:
    """AppointmentConfirmed -> the event in the owner's calendar, exactly once."""

    def __init__(
        self,
        *,
        readers: UnitOfWorkFactory,
        writers: UnitOfWorkFactory,
        gateways: CalendarGatewayFactory,
        tokens: AccessTokenSource,
        drafts: EventDrafts,
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self._readers = readers
        self._writers = writers
        self._gateways = gateways
        self._tokens = tokens
        self._drafts = drafts
        self._clock = clock
        self._metrics = metrics

    def execute(self, appointment_id: UUID) -> bool:
        """True when Google was written to; False when there was nothing to do."""
        with self._readers() as uow:
            appointment = uow.appointments.get(appointment_id)
            if appointment is None or appointment.status is not AppointmentStatus.CONFIRMED:
                # Cancelled (its cancel follows in the outbox) or gone: nothing to show.
                _log.info("calendar_event_skipped", extra={"appointment_id": str(appointment_id)})
                return False
            if uow.appointments.calendar_event(appointment_id).state == CalendarState.CREATED:
                return False
            draft = self._drafts.draft(uow, appointment, event_id=event_id_for(appointment_id))
        gateway = self._gateways(self._tokens)
        created = _counted(self._metrics, "insert", partial(gateway.insert_event, draft))
        self._metrics.increment(
            "google_writes",
            {"operation": "insert", "result": "created" if created else "duplicate"},
        )
        with self._writers() as uow:
            uow.appointments.set_calendar_event(
                appointment_id,
                event_id=draft.event_id,
                state=CalendarState.CREATED,
                now=self._clock.now(),
            )
            uow.commit()
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


class DeleteCalendarEventForAppointment:
    """A confirmed appointment was cancelled -> its event goes; unknown or deleted = done."""

    def __init__(
        self,
        *,
        readers: UnitOfWorkFactory,
        writers: UnitOfWorkFactory,
        gateways: CalendarGatewayFactory,
        tokens: AccessTokenSource,
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self._readers = readers
        self._writers = writers
        self._gateways = gateways
        self._tokens = tokens
        self._clock = clock
        self._metrics = metrics

    def execute(self, appointment_id: UUID) -> bool:
        derived = event_id_for(appointment_id)
        with self._readers() as uow:
            known = uow.appointments.get(appointment_id) is not None
            stored = uow.appointments.calendar_event(appointment_id).event_id if known else None
        gateway = self._gateways(self._tokens)
        # The derived id is deleted even when nothing was recorded: a create whose answer was
        # lost may still have made the event.
        for event_id in dict.fromkeys(filter(None, (stored, derived))):
            _counted(self._metrics, "delete", partial(gateway.delete_event, event_id))
            self._metrics.increment("google_writes", {"operation": "delete", "result": "deleted"})
        if known:
            with self._writers() as uow:
                uow.appointments.set_calendar_event(
                    appointment_id,
                    event_id=stored or derived,
                    state=CalendarState.DELETED,
                    now=self._clock.now(),
                )
                uow.commit()
        _log.info(
            "calendar_event_deleted",
            extra={"appointment_id": str(appointment_id), "event_id": stored or derived},
        )
        return True


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


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """What one dispatcher run did."""

    claimed: int = 0
    done: int = 0
    retried: int = 0
    parked: int = 0
    released: int = 0
    wrote_to_google: bool = False


@dataclass(frozen=True, slots=True)
class Backoff:
    """Google's truncated exponential backoff with jitter: min(2**n + random, cap) seconds."""

    cap: timedelta = timedelta(seconds=64)
    jitter: Callable[[], float] = random.random

    def delay(self, failures_before: int) -> timedelta:
        seconds = min(2.0 ** min(failures_before, 30) + self.jitter(), self.cap.total_seconds())
        return timedelta(seconds=seconds)


EventHandler = Callable[[DomainEvent], bool]


class OutboxDispatcher:
    """Claims due outbox rows (with a lease), runs their handler, marks, retries or parks them.

    Transient failures (Google unreachable, access revoked) retry later with backoff and end the
    batch, since the next row would most likely fail the same way; permanent refusals park the
    row, mark the appointment's event `failed`, log an error and count `outbox_parked`. No
    transaction is open while Google is called.
    """

    def __init__(
        self,
        *,
        readers: UnitOfWorkFactory,
        writers: UnitOfWorkFactory,
        handle: EventHandler,
        resync: Callable[[], object],
        clock: Clock,
        metrics: Metrics,
        enabled_by_default: bool,
        batch_size: int = 20,
        lease: timedelta = timedelta(minutes=5),
        backoff: Backoff | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._readers = readers
        self._writers = writers
        self._handle = handle
        self._resync = resync
        self._clock = clock
        self._metrics = metrics
        self._enabled_by_default = enabled_by_default
        self._batch_size = batch_size
        self._lease = lease
        self._backoff = backoff or Backoff()
        self._monotonic = monotonic

    def execute(self) -> DispatchReport:
        with self._readers() as uow:
            record = uow.integration.get()
            backlog = uow.outbox.backlog()
        self._metrics.gauge("outbox_backlog", backlog)
        if backlog == 0 or not self._usable(record):
            # Disconnected, revoked or switched off: rows wait (no attempts spent) for a reconnect.
            return DispatchReport()
        with self._writers() as uow:
            claimed = uow.outbox.claim_due(
                now=self._clock.now(), limit=self._batch_size, lease=self._lease
            )
            uow.commit()
        started = self._monotonic()
        done = retried = parked = 0
        wrote = False
        untried: list[OutboxMessage] = []
        for index, message in enumerate(claimed):
            # Stop well inside the lease so no other worker takes a row we are still working on.
            if self._monotonic() - started > self._lease.total_seconds() / 2:
                untried = claimed[index:]
                break
            outcome = self._deliver(message)
            if outcome == "retry":
                retried += 1
                untried = claimed[index + 1 :]
                break
            if outcome == "parked":
                parked += 1
            else:
                done += 1
                wrote = wrote or outcome == "wrote"
        if untried:
            with self._writers() as uow:
                uow.outbox.release([m.message_id for m in untried], now=self._clock.now())
                uow.commit()
        if wrote:
            # Our own writes change Google's busy time: refresh the mirror and reconcile now.
            try:
                self._resync()
            except ApplicationError as exc:
                _log.info("resync_after_export_refused", extra={"error": str(exc)[:200]})
        return DispatchReport(
            claimed=len(claimed),
            done=done,
            retried=retried,
            parked=parked,
            released=len(untried),
            wrote_to_google=wrote,
        )

    def _usable(self, record: IntegrationRecord) -> bool:
        enabled = self._enabled_by_default if record.enabled is None else record.enabled
        return enabled and record.status == IntegrationStatus.CONNECTED

    def _deliver(self, message: OutboxMessage) -> str:
        """'wrote' | 'nothing' | 'retry' | 'parked'."""
        if message.event is None:
            self._park(message, f"unreadable outbox row of type {message.event_type}")
            return "parked"
        try:
            wrote = self._handle(message.event)
        except (GoogleUnavailableError, AccessRevokedError) as exc:
            now = self._clock.now()
            at = now + self._backoff.delay(message.attempts)
            with self._writers() as uow:
                uow.outbox.retry_later(message.message_id, at=at, error=str(exc), now=now)
                uow.commit()
            _log.warning(
                "outbox_retry_later",
                extra={
                    "message_id": message.message_id,
                    "event": message.event_type,
                    "attempts": message.attempts + 1,
                    "next_attempt_at": at.isoformat(),
                    "error": str(exc)[:500],
                },
            )
            return "retry"
        except ApplicationError as exc:
            self._park(message, str(exc))
            return "parked"
        with self._writers() as uow:
            uow.outbox.mark_done(message.message_id, now=self._clock.now())
            uow.commit()
        return "wrote" if wrote else "nothing"

    def _park(self, message: OutboxMessage, error: str) -> None:
        now = self._clock.now()
        with self._writers() as uow:
            uow.outbox.park(message.message_id, error=error, now=now)
            if uow.appointments.get(message.appointment_id) is not None:
                state = uow.appointments.calendar_event(message.appointment_id)
                uow.appointments.set_calendar_event(
                    message.appointment_id,
                    event_id=state.event_id,
                    state=CalendarState.FAILED,
                    now=now,
                )
            uow.commit()
        self._metrics.increment("outbox_parked", {"event": message.event_type})
        _log.error(
            "outbox_parked",
            extra={
                "message_id": message.message_id,
                "event": message.event_type,
                "appointment_id": str(message.appointment_id),
                "error": error[:500],
            },
        )


@dataclass(frozen=True, slots=True)
class ReconcileSummary:
    """What one reconciliation did; shown on the admin page with the sync status."""

    checked: int = 0
    restored: int = 0
    moved_back: int = 0
    removed: int = 0
    failed: int = 0
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "checked": self.checked,
                "restored": self.restored,
                "moved_back": self.moved_back,
                "removed": self.removed,
                "failed": self.failed,
                "error": self.error,
            }
        )

    @classmethod
    def from_json(cls, text: str | None) -> ReconcileSummary | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                checked=int(data.get("checked", 0)),
                restored=int(data.get("restored", 0)),
                moved_back=int(data.get("moved_back", 0)),
                removed=int(data.get("removed", 0)),
                failed=int(data.get("failed", 0)),
                error=data.get("error"),
            )
        except (ValueError, TypeError, AttributeError):
            return None


@dataclass(frozen=True, slots=True)
class _Repair:
    action: str  # restored | moved_back | removed
    appointment_id: UUID
    event_id: str


class ReconcileExportedEvents:
    """Our exported events against confirmed appointments: the product wins.

    One listing of our live events (by private property) per sync; an event deleted in Google
    (missing from the listing) is restored, a moved one is put back, one whose appointment was cancelled
    or expired is removed. At most `max_repairs` writes per run; the rest waits for the next.
    """

    def __init__(
        self,
        *,
        readers: UnitOfWorkFactory,
        writers: UnitOfWorkFactory,
        drafts: EventDrafts,
        clock: Clock,
        metrics: Metrics,
        max_repairs: int = 25,
    ) -> None:
        self._readers = readers
        self._writers = writers
        self._drafts = drafts
        self._clock = clock
        self._metrics = metrics
        self._max_repairs = max_repairs

    def execute(self, gateway: CalendarGateway, window: Interval) -> ReconcileSummary:
        try:
            events = gateway.own_events(window)
        except _GOOGLE_FAILURES as exc:
            _log.warning("calendar_reconcile_failed", extra={"error": str(exc)[:500]})
            return ReconcileSummary(error=str(exc)[:500])
        with self._readers() as uow:
            confirmed = uow.appointments.confirmed_in(window)
            repairs = self._plan(uow, events, confirmed)
        restored = moved_back = removed = failed = 0
        error: str | None = None
        for repair in repairs[: self._max_repairs]:
            try:
                done = self._apply(gateway, repair)
            except (GoogleUnavailableError, AccessRevokedError) as exc:
                failed += 1
                error = str(exc)[:500]
                break  # Google is away: the next sync tries again
            except GoogleRequestError as exc:
                failed += 1
                error = str(exc)[:500]
                self._metrics.increment("calendar_reconciled", {"action": "failed"})
                _log.warning(
                    "calendar_reconcile_refused",
                    extra={"appointment_id": str(repair.appointment_id), "error": error},
                )
                continue
            if not done:
                continue
            restored += repair.action == "restored"
            moved_back += repair.action == "moved_back"
            removed += repair.action == "removed"
        return ReconcileSummary(
            checked=len(confirmed),
            restored=restored,
            moved_back=moved_back,
            removed=removed,
            failed=failed,
            error=error,
        )

    def _plan(
        self,
        uow: UnitOfWork,
        events: list[OwnEvent],
        confirmed: list[tuple[Appointment, CalendarEventState]],
    ) -> list[_Repair]:
        by_id = {event.event_id: event for event in events}
        repairs: list[_Repair] = []
        expected: set[str] = set()
        for appointment, state in confirmed:
            if state.state != CalendarState.CREATED or state.event_id is None:
                continue  # not exported yet (the outbox is on it) or parked
            expected.add(state.event_id)
            event = by_id.get(state.event_id)
            if event is None or event.cancelled:
                repairs.append(_Repair("restored", appointment.id, state.event_id))
            elif (event.start, event.end) != (appointment.start, appointment.end):
                repairs.append(_Repair("moved_back", appointment.id, state.event_id))
        for event in events:
            if event.cancelled or event.event_id in expected:
                continue
            if not _is_ours(event.event_id, event.appointment_id):
                continue
            owner = uow.appointments.get(event.appointment_id)
            if owner is None:
                continue  # not ours to judge (another installation, a restored database)
            if owner.status in {AppointmentStatus.CANCELLED, AppointmentStatus.EXPIRED}:
                repairs.append(_Repair("removed", event.appointment_id, event.event_id))
                continue
            state = uow.appointments.calendar_event(event.appointment_id)
            if state.state != CalendarState.CREATED:
                continue
            if state.event_id == event.event_id:
                # Confirmed, but outside the window we compared: moved here from elsewhere.
                repairs.append(_Repair("moved_back", event.appointment_id, event.event_id))
            else:
                # A second live event for one appointment (a restore whose record was lost).
                repairs.append(_Repair("removed", event.appointment_id, event.event_id))
        return repairs

    def _apply(self, gateway: CalendarGateway, repair: _Repair) -> bool:
        """Re-check the appointment (it may have changed since the plan), then write."""
        with self._readers() as uow:
            appointment = uow.appointments.get(repair.appointment_id)
            if appointment is None:
                return False
            state = uow.appointments.calendar_event(repair.appointment_id)
            if repair.action == "removed":
                still = appointment.status is not AppointmentStatus.CONFIRMED or (
                    state.event_id != repair.event_id
                )
                draft = None
            else:
                still = (
                    appointment.status is AppointmentStatus.CONFIRMED
                    and state.state == CalendarState.CREATED
                    and state.event_id == repair.event_id
                )
                draft = self._drafts.draft(uow, appointment, event_id=repair.event_id)
        if not still:
            return False
        if draft is None:
            gateway.delete_event(repair.event_id)
            self._metrics.increment("google_writes", {"operation": "delete", "result": "deleted"})
            event_id = repair.event_id
        else:
            event_id = self._put_back(gateway, draft)
            if event_id != repair.event_id:
                with self._writers() as uow:
                    uow.appointments.set_calendar_event(
                        repair.appointment_id,
                        event_id=event_id,
                        state=CalendarState.CREATED,
                        now=self._clock.now(),
                    )
                    uow.commit()
        self._metrics.increment("calendar_reconciled", {"action": repair.action})
        _log.info(
            f"calendar_event_{repair.action}",
            extra={
                "appointment_id": str(repair.appointment_id),
                "event_id": repair.event_id,
                "now_event_id": event_id,
            },
        )
        return True

    def _put_back(self, gateway: CalendarGateway, draft: EventDraft) -> str:
        """Patch the event back (undeleting it); if Google has no such event, insert it again,
        under a new id when Google will not reuse the old one. Returns the id it now has."""
        if gateway.patch_event(draft.event_id, draft):
            self._metrics.increment("google_writes", {"operation": "patch", "result": "restored"})
            return draft.event_id
        if gateway.insert_event(draft):
            self._metrics.increment("google_writes", {"operation": "insert", "result": "created"})
            return draft.event_id
        # 404 on patch but 409 on insert: Google remembers the id and refuses it.
        fresh = replace(draft, event_id=_replacement_id(draft.appointment_id, draft.event_id))
        if not gateway.insert_event(fresh) and not gateway.patch_event(fresh.event_id, fresh):
            raise GoogleRequestError(
                f"Google refuses both {draft.event_id} and {fresh.event_id}",
                status=409,
                reason="duplicate",
            )
        self._metrics.increment("google_writes", {"operation": "insert", "result": "created"})
        return fresh.event_id
