"""SyncCalendarBusyTimes: replace the busy mirror with Google's freeBusy over the horizon,
and reconcile our own exported events (application/export.py) in the same pass."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from balance_booking.application.errors import (
    AccessRevokedError,
    ApplicationError,
    ConflictError,
    GoogleRequestError,
    GoogleUnavailableError,
)
from balance_booking.application.ports import (
    AccessTokenSource,
    CalendarGatewayFactory,
    Clock,
    Metrics,
    UnitOfWorkFactory,
)
from balance_booking.application.ports.integration import blocking_ids
from balance_booking.application.reconcile import ReconcileExportedEvents, ReconcileSummary
from balance_booking.domain.calendar_account import IntegrationStatus
from balance_booking.domain.intervals import Interval

_log = logging.getLogger(__name__)

DEFAULT_HORIZON_DAYS = 90


class NotConnectedError(ConflictError):
    """There is no usable Google connection to sync with."""


class SyncFailedError(ApplicationError):
    """Google could not be read; the mirror was left as it was."""


@dataclass(frozen=True, slots=True)
class SyncReport:
    """The outcome of one sync."""

    busy_intervals: int
    changed: bool
    duration_ms: int
    reconcile: ReconcileSummary | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SyncCalendarBusyTimes:
    """freeBusy over now .. the furthest bookable day, swapped into the mirror atomically."""

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    gateways: CalendarGatewayFactory
    tokens: AccessTokenSource
    clock: Clock
    metrics: Metrics
    enabled_by_default: bool
    reconcile: ReconcileExportedEvents | None = None

    def execute(self) -> SyncReport:
        started = time.perf_counter()
        now = self.clock.now()
        with self.readers() as uow:
            record = uow.integration.get()
            services = uow.services.list(active_only=True)
        enabled = self.enabled_by_default if record.enabled is None else record.enabled
        if not enabled:
            raise NotConnectedError("The Google Calendar integration is switched off.")
        if record.status != IntegrationStatus.CONNECTED:
            raise NotConnectedError("Google Calendar is not connected.")
        days = max((service.max_days_ahead for service in services), default=DEFAULT_HORIZON_DAYS)
        # One extra day so the last bookable day's buffers are covered too.
        window = Interval(now, now + timedelta(days=days + 1))
        gateway = self.gateways(self.tokens)
        try:
            busy = gateway.busy_intervals(window, blocking_ids(record.blocking_calendar_ids))
        except (GoogleUnavailableError, GoogleRequestError, AccessRevokedError) as exc:
            self._record_failure(str(exc))
            raise SyncFailedError(f"Google Calendar could not be read: {exc}") from exc
        # Bounded (one listing, a capped number of repairs) and never fails the sync: busy time
        # was read, and a failed reconciliation is recorded in its summary instead.
        summary = None if self.reconcile is None else self.reconcile.execute(gateway, window)
        with self.writers() as uow:
            changed = uow.busy.replace_all(busy, source="google_freebusy")
            record = uow.integration.get_for_update()
            record.last_sync_at = now
            record.last_sync_ok = True
            record.last_sync_error = None
            record.last_success_at = now
            if summary is not None:
                record.last_reconcile_at = now
                record.last_reconcile_summary = summary.to_json()
            uow.integration.save(record, now=now)
            uow.commit()
        duration_ms = int((time.perf_counter() - started) * 1000)
        self.metrics.increment("sync_runs", {"result": "ok"})
        _log.info(
            "busy_sync_done",
            extra={"busy_intervals": len(busy), "changed": changed, "duration_ms": duration_ms},
        )
        return SyncReport(
            busy_intervals=len(busy), changed=changed, duration_ms=duration_ms, reconcile=summary
        )

    def _record_failure(self, error: str) -> None:
        now = self.clock.now()
        with self.writers() as uow:
            record = uow.integration.get_for_update()
            record.last_sync_at = now
            record.last_sync_ok = False
            # Revoked access already says why in words (e.g. a Testing-status app's 7 days).
            if record.status != IntegrationStatus.NEEDS_REAUTH or not record.last_sync_error:
                record.last_sync_error = error[:500]
            uow.integration.save(record, now=now)
            uow.commit()
        self.metrics.increment("sync_runs", {"result": "failed"})
        _log.error("busy_sync_failed", extra={"error": error[:500]})
