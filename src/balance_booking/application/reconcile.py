"""Reconciliation of our exported events, which every busy-time sync runs: the product wins."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from uuid import UUID

from balance_booking.application.errors import (
    AccessRevokedError,
    GoogleRequestError,
    GoogleUnavailableError,
)
from balance_booking.application.export import (
    EventDrafts,
    is_ours,
    put_back,
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

_GOOGLE_FAILURES = (GoogleUnavailableError, GoogleRequestError, AccessRevokedError)


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

    def execute(self, gateway: CalendarGateway, window: Interval) -> ReconcileSummary:
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
            except (GoogleUnavailableError, AccessRevokedError) as exc:
                failed += 1
                error = str(exc)[:500]
                break  # Google is away: the next sync tries again
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
            if not is_ours(event.event_id, event.appointment_id):
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
        with self.readers() as uow:
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
                draft = self.drafts.draft(uow, appointment, event_id=repair.event_id)
        if not still:
            return False
        if draft is None:
            gateway.delete_event(repair.event_id)
            self.metrics.increment("google_writes", {"operation": "delete", "result": "deleted"})
            event_id = repair.event_id
        else:
            event_id = put_back(gateway, draft, self.metrics, result="restored")
            if event_id != repair.event_id:
                with self.writers() as uow:
                    uow.appointments.set_calendar_event(
                        repair.appointment_id,
                        event_id=event_id,
                        state=CalendarState.CREATED,
                        now=self.clock.now(),
                    )
                    uow.commit()
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
