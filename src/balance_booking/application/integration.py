"""The Google Calendar integration for the admin: its status, the on/off switch, disconnecting."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Literal, assert_never

from balance_booking.application.errors import (
    ApplicationError,
    ConflictError,
    GoogleRequestError,
    InvalidRequestError,
    UndecryptableTokenError,
)
from balance_booking.application.ports import (
    AccessTokenSource,
    CalendarEntry,
    CalendarGatewayFactory,
    Clock,
    IntegrationRecord,
    OAuthClient,
    TokenCipher,
    UnitOfWork,
    UnitOfWorkFactory,
)
from balance_booking.application.ports.calendar import PRIMARY_CALENDAR
from balance_booking.application.ports.integration import blocking_ids
from balance_booking.application.reconcile import ReconcileSummary
from balance_booking.application.tokens import StaticTokens
from balance_booking.domain.calendar_account import IntegrationStatus

_log = logging.getLogger(__name__)

# Warn the admin this long before a time-limited grant ends (issue 18: "a day before").
EXPIRY_WARNING = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class IntegrationStatusView:
    """GET /api/admin/integrations/google-calendar."""

    enabled: bool
    status: IntegrationStatus
    account_email: str | None
    calendar_id: str | None
    timezone: str | None
    last_sync_at: datetime | None
    last_sync_ok: bool | None
    last_error: str | None
    next_sync_at: datetime | None
    busy_intervals: int
    push_active: bool
    push_expires_at: datetime | None
    last_reconcile_at: datetime | None = None
    reconcile: ReconcileSummary | None = None  # what the last sync did to our exported events
    # When the grant itself ends (time-limited access only, e.g. an app in Testing status).
    refresh_token_expires_at: datetime | None = None
    refresh_expiry_warning: bool = False  # it ends within a day: reconnect before then
    oauth_client_rejected: bool = False  # Google rejected our client id/secret: writes held
    writes_paused_until: datetime | None = None  # quotaExceeded: no writes to Google until then
    blocking_calendars: int = 1  # calendars whose busy time blocks slots


@dataclass(frozen=True, kw_only=True, slots=True)
class GetIntegrationStatus:
    """The integration status the admin sees."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    enabled_by_default: bool
    sync_interval: timedelta

    def execute(self) -> IntegrationStatusView:
        with self.uow_factory() as uow:
            return self.view(uow)

    def view(self, uow: UnitOfWork) -> IntegrationStatusView:
        record = uow.integration.get()
        now = self.clock.now()
        connected = record.status == IntegrationStatus.CONNECTED
        next_sync = None
        if connected:
            next_sync = (
                now if record.last_sync_at is None else record.last_sync_at + self.sync_interval
            )
        push_active = (
            record.push_channel_id is not None
            and record.push_expires_at is not None
            and record.push_expires_at > now
        )
        return IntegrationStatusView(
            enabled=self.enabled_by_default if record.enabled is None else record.enabled,
            status=record.status,
            account_email=record.account_email,
            calendar_id=record.calendar_id,
            timezone=record.timezone,
            last_sync_at=record.last_sync_at,
            last_sync_ok=record.last_sync_ok,
            last_error=record.last_sync_error,
            next_sync_at=next_sync,
            busy_intervals=uow.integration.busy_count(),
            push_active=push_active,
            push_expires_at=record.push_expires_at if push_active else None,
            last_reconcile_at=record.last_reconcile_at,
            reconcile=ReconcileSummary.from_json(record.last_reconcile_summary),
            refresh_token_expires_at=record.refresh_token_expires_at if connected else None,
            refresh_expiry_warning=connected
            and record.refresh_token_expires_at is not None
            and record.refresh_token_expires_at - now <= EXPIRY_WARNING,
            oauth_client_rejected=record.oauth_client_rejected_at is not None,
            writes_paused_until=record.google_writes_paused_until
            if record.google_writes_paused_until is not None
            and record.google_writes_paused_until > now
            else None,
            blocking_calendars=len((record.blocking_calendar_ids or "primary").split()),
        )


# Why the admin pages warn that the booking page does not see Google busy time.
CalendarWarningKind = Literal["disconnected", "switched_off", "needs_reauth", "error"]


@dataclass(frozen=True, slots=True)
class CalendarWarning:
    """The warning every admin page shows (docs/pages.md, "The Google warning")."""

    kind: CalendarWarningKind


@dataclass(frozen=True, kw_only=True, slots=True)
class GetCalendarWarning:
    """Whether clients are being offered time without Google busy time in a practice that used
    Google; None when there is nothing to warn about (three small reads, one transaction)."""

    uow_factory: UnitOfWorkFactory
    enabled_by_default: bool

    def execute(self) -> CalendarWarning | None:
        with self.uow_factory() as uow:
            record = uow.integration.get()
            kind = self._kind(record)
            if kind is None or not uow.services.list(active_only=True):
                return None
            hours = uow.schedule.get()
            if hours is None or not (any(hours.weekly.values()) or any(hours.overrides.values())):
                return None  # nothing is offered publicly
            return CalendarWarning(kind)

    def _kind(self, record: IntegrationRecord) -> CalendarWarningKind | None:
        # A practice that never connected Google is not nagged: the account stays recorded
        # after a disconnect, so "used once" survives it.
        used = record.account_email is not None or record.consented_at is not None
        enabled = self.enabled_by_default if record.enabled is None else record.enabled
        if not used and record.status == IntegrationStatus.DISCONNECTED:
            return None
        if not enabled:
            return "switched_off"
        match record.status:
            case IntegrationStatus.DISCONNECTED:
                return "disconnected"
            case IntegrationStatus.NEEDS_REAUTH:
                return "needs_reauth"
            case IntegrationStatus.ERROR:
                return "error"
            case IntegrationStatus.CONNECTED:
                return None
            case unreachable:
                assert_never(unreachable)


@dataclass(frozen=True, kw_only=True, slots=True)
class SetIntegrationEnabled:
    """The gcal_integration_enabled flag (admin toggle over the environment default)."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    status: GetIntegrationStatus

    def execute(self, *, enabled: bool) -> IntegrationStatusView:
        with self.uow_factory() as uow:
            record = uow.integration.get_for_update()
            record.enabled = enabled
            uow.integration.save(record, now=self.clock.now())
            uow.commit()
            return self.status.view(uow)


@dataclass(frozen=True, kw_only=True, slots=True)
class DisconnectGoogleCalendar:
    """Revoke at Google, stop the push channel, delete the tokens; keep the settings."""

    uow_factory: UnitOfWorkFactory
    oauth: OAuthClient | None
    gateways: CalendarGatewayFactory
    cipher: TokenCipher
    clock: Clock
    status: GetIntegrationStatus
    # The stored tokens, refreshed when expired: channels.stop with a dead access token would
    # fail and leave the channel delivering. None: the stored access token as it is.
    tokens: AccessTokenSource | None = None

    def execute(self) -> IntegrationStatusView:
        with self.uow_factory() as uow:
            record = uow.integration.get()
        access = self._plain(record.access_token_enc)
        refresh = self._plain(record.refresh_token_enc)
        if access and record.push_channel_id and record.push_resource_id:
            source = (
                self.tokens
                if self.tokens is not None and record.status == IntegrationStatus.CONNECTED
                else StaticTokens(access)
            )
            try:
                self.gateways(source).stop_channel(
                    channel_id=record.push_channel_id, resource_id=record.push_resource_id
                )
            except ApplicationError:
                _log.warning("google_channel_stop_failed")
            # A refresh above may have replaced the access token; revoke the live grant.
            with self.uow_factory() as uow:
                latest = uow.integration.get()
            access = self._plain(latest.access_token_enc) or access
            refresh = self._plain(latest.refresh_token_enc) or refresh
        if self.oauth is not None and (refresh or access):
            try:
                self.oauth.revoke(refresh or access or "")
            except ApplicationError:
                # The tokens are deleted below anyway; the admin can also revoke in Google.
                _log.warning("google_revoke_failed")
        with self.uow_factory() as uow:
            record = uow.integration.get_for_update()
            record.status = IntegrationStatus.DISCONNECTED
            record.access_token_enc = None
            record.refresh_token_enc = None
            record.token_expires_at = None
            record.refresh_lease_until = None
            record.push_channel_id = None
            record.push_resource_id = None
            record.push_expires_at = None
            record.last_success_at = None
            record.refresh_token_expires_at = None
            record.oauth_client_rejected_at = None
            record.google_writes_paused_until = None
            uow.busy.clear()
            uow.integration.save(record, now=self.clock.now())
            uow.commit()
            return self.status.view(uow)

    def _plain(self, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return self.cipher.decrypt(value)
        except UndecryptableTokenError:
            return None  # nothing to revoke with; the row is cleared below anyway


@dataclass(frozen=True, slots=True)
class CalendarChoice:
    """One of the owner's calendars, and whether its busy time blocks slots."""

    calendar_id: str
    summary: str
    primary: bool
    blocks_time: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class BlockingCalendars:
    """Which of the owner's calendars block time (API.md "Google fidelity, round 2").

    Many practitioners keep a personal and a work calendar: busy time is read from every calendar
    chosen here (the primary one by default), bookings are still written to the primary one.
    Listing needs the optional calendar.calendarlist.readonly permission; without it the list is
    the primary calendar alone."""

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    gateways: CalendarGatewayFactory
    tokens: AccessTokenSource
    clock: Clock

    def listing(self) -> list[CalendarChoice]:
        with self.readers() as uow:
            record = uow.integration.get()
        if record.status != IntegrationStatus.CONNECTED:
            raise ConflictError("Google Calendar is not connected.")
        chosen = set(blocking_ids(record.blocking_calendar_ids))
        try:
            entries = self.gateways(self.tokens).calendars()
        except GoogleRequestError as exc:
            if exc.status != HTTPStatus.FORBIDDEN:
                raise
            # Connected before the calendar list was asked for (or the box was unticked).
            entries = []
        if not any(entry.primary for entry in entries):
            primary = CalendarEntry(PRIMARY_CALENDAR, record.account_email or "", primary=True)
            entries = [primary, *entries]
        return [
            CalendarChoice(
                calendar_id=entry.calendar_id,
                summary=entry.summary,
                primary=entry.primary,
                blocks_time=(PRIMARY_CALENDAR if entry.primary else entry.calendar_id) in chosen,
            )
            for entry in entries
        ]

    def choose(self, calendar_ids: list[str]) -> list[CalendarChoice]:
        """Store the blocking calendars (at least one, all from the list); the next sync reads
        busy time from them. Unknown ids are refused (422)."""
        if not calendar_ids:
            raise InvalidRequestError(
                "Choose at least one calendar.", field="blocking_calendar_ids"
            )
        listed = self.listing()
        known = {c.calendar_id: c for c in listed}
        # "primary" (Google's alias) names the main calendar too.
        known.setdefault(PRIMARY_CALENDAR, next(c for c in listed if c.primary))
        unknown = sorted(set(calendar_ids) - known.keys())
        if unknown:
            raise InvalidRequestError(
                f"Unknown calendar(s): {', '.join(unknown)}.", field="blocking_calendar_ids"
            )
        # The primary calendar is stored as "primary": Google's alias, stable across renames.
        stored = sorted({PRIMARY_CALENDAR if known[cid].primary else cid for cid in calendar_ids})
        with self.writers() as uow:
            record = uow.integration.get_for_update()
            record.blocking_calendar_ids = " ".join(stored)
            uow.integration.save(record, now=self.clock.now())
            uow.commit()
        return self.listing()
