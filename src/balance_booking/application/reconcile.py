"""Reconciliation of our exported events, which every busy-time sync runs: the product wins."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from uuid import UUID

from balance_booking.application.errors import (
    AccessRevokedError,
    GoogleQuotaExceededError,
    GoogleRequestError,
    GoogleUnavailableError,
    OAuthClientRejectedError,
)
from balance_booking.application.export import (
    EventDrafts,
    GoogleWriteHold,
    event_id_for,
    is_ours,
    put_back,
    writes_paused,
)
from balance_booking.application.ports import (
    CalendarEventState,
    CalendarGateway,
    CalendarState,
    Clock,
    Metrics,
    OwnEvent,
    UnitOfWork,
    UnitOfWorkFactory,
)
from balance_booking.domain.appointments import Appointment, AppointmentStatus
from balance_booking.domain.intervals import Interval

_log = logging.getLogger(__name__)

_GOOGLE_FAILURES = (
    GoogleUnavailableError,
    GoogleRequestError,
    AccessRevokedError,
    OAuthClientRejectedError,
)
# Appointments whose export the reconciliation owns: made, or parked after Google refused it
# (the product is the source of truth, so a failed create is made again here).
_RECONCILED = frozenset({CalendarState.CREATED, CalendarState.FAILED})


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
    action: str  # restored | moved_back | removed | recorded (our records only, no write)
    appointment_id: UUID
    event_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ReconcileExportedEvents:
    """Our exported events against confirmed appointments: the product wins.

    One listing of our live events (by private property) per sync; an event deleted in Google
    (missing from the listing) is restored, a moved one is put back, one whose appointment was cancelled
    or expired is removed. At most `max_repairs` writes per run; the rest waits for the next.
    """

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    drafts: EventDrafts
    clock: Clock
    metrics: Metrics
    max_repairs: int = 25
    hold: GoogleWriteHold | None = None  # records quotaExceeded pauses for every writer

    def execute(self, gateway: CalendarGateway, window: Interval) -> ReconcileSummary:
        with self.readers() as uow:
            record = uow.integration.get()
        if writes_paused(record, now=self.clock.now()):
            # Read-only for now (quotaExceeded) or the OAuth client is rejected: no write would
            # pass, and trying spends the limits that keep the calendar read-only.
            return ReconcileSummary(error="Google writes are paused; repairs wait.")
        try:
            events = gateway.own_events(window)
        except _GOOGLE_FAILURES as exc:
            _log.warning("calendar_reconcile_failed", extra={"error": str(exc)[:500]})
            return ReconcileSummary(error=str(exc)[:500])
        with self.readers() as uow:
            confirmed = uow.appointments.confirmed_in(window)
            repairs = self._plan(uow, events, confirmed)
        restored = moved_back = removed = failed = 0
        error: str | None = None
        for repair in repairs[: self.max_repairs]:
            try:
                done = self._apply(gateway, repair)
            except (GoogleUnavailableError, AccessRevokedError, OAuthClientRejectedError) as exc:
                failed += 1
                error = str(exc)[:500]
                if isinstance(exc, GoogleQuotaExceededError) and self.hold is not None:
                    self.hold.pause(exc)
                # Google is away, or read-only for hours (quotaExceeded): stop writing at the
                # first such answer; the next sync tries again.
                break
            except GoogleRequestError as exc:
                failed += 1
                error = str(exc)[:500]
                self.metrics.increment("calendar_reconciled", {"action": "failed"})
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
            if state.state not in _RECONCILED:
                continue  # not exported yet: the outbox is on it
            event_id = state.event_id or event_id_for(appointment.id)
            expected.add(event_id)
            event = by_id.get(event_id)
            if event is None or event.cancelled:
                repairs.append(_Repair("restored", appointment.id, event_id))
            elif (event.start, event.end) != (appointment.start, appointment.end):
                repairs.append(_Repair("moved_back", appointment.id, event_id))
            elif state.state == CalendarState.FAILED:
                # Google has it right after all (e.g. a parked move whose patch went through).
                repairs.append(_Repair("recorded", appointment.id, event_id))
        for event in events:
            if event.cancelled or event.event_id in expected:
                continue
            if not is_ours(event.event_id, event.appointment_id):
                continue
            owner = uow.appointments.get(event.appointment_id)
            if owner is None:
                continue  # not ours to judge (another installation, a restored database)
            if owner.status in {AppointmentStatus.CANCELLED, AppointmentStatus.EXPIRED}:
                repairs.append(_Repair("removed", event.appointment_id, event.event_id))
                continue
            state = uow.appointments.calendar_event(event.appointment_id)
            if state.state not in _RECONCILED:
                continue
            if (state.event_id or event_id_for(event.appointment_id)) == event.event_id:
                # Confirmed, but outside the window we compared: moved here from elsewhere.
                repairs.append(_Repair("moved_back", event.appointment_id, event.event_id))
            else:
                # A second live event for one appointment (a restore whose record was lost).
                repairs.append(_Repair("removed", event.appointment_id, event.event_id))
        return repairs

    def _apply(self, gateway: CalendarGateway, repair: _Repair) -> bool:
        """Re-check the appointment (it may have changed since the plan), then write."""
        with self.readers() as uow:
            appointment = uow.appointments.get(repair.appointment_id)
            if appointment is None:
                return False
            state = uow.appointments.calendar_event(repair.appointment_id)
            if repair.action == "removed":
                still = appointment.status is not AppointmentStatus.CONFIRMED or (
                    state.event_id != repair.event_id
                )
                recorded = True
                draft = None
            else:
                still = (
                    appointment.status is AppointmentStatus.CONFIRMED
                    and state.state in _RECONCILED
                    and (state.event_id or event_id_for(appointment.id)) == repair.event_id
                )
                recorded = (
                    state.state == CalendarState.CREATED and state.event_id == repair.event_id
                )
                draft = self.drafts.draft(uow, appointment, event_id=repair.event_id)
        if not still:
            return False
        if repair.action == "recorded":
            self._record(repair.appointment_id, repair.event_id)
            return False
        if draft is None:
            gateway.delete_event(repair.event_id)
            self.metrics.increment("google_writes", {"operation": "delete", "result": "deleted"})
            event_id = repair.event_id
        else:
            event_id = put_back(gateway, draft, self.metrics, result="restored")
            if event_id != repair.event_id or not recorded:
                self._record(repair.appointment_id, event_id)
        self.metrics.increment("calendar_reconciled", {"action": repair.action})
        _log.info(
            f"calendar_event_{repair.action}",
            extra={
                "appointment_id": str(repair.appointment_id),
                "event_id": repair.event_id,
                "now_event_id": event_id,
            },
        )
        return True

    def _record(self, appointment_id: UUID, event_id: str) -> None:
        with self.writers() as uow:
            uow.appointments.set_calendar_event(
                appointment_id, event_id=event_id, state=CalendarState.CREATED, now=self.clock.now()
            )
            uow.commit()
