"""Admin API for the Google Calendar integration (connect, callback, status, flag, disconnect)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, StrictBool

from balance_booking.application.errors import InvalidOAuthStateError
from balance_booking.application.integration import IntegrationStatusView
from balance_booking.application.reconcile import ReconcileSummary
from balance_booking.application.sync import NotConnectedError, SyncFailedError
from balance_booking.web.auth import AdminPrincipal
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.errors import ApiError
from balance_booking.web.schemas import ErrorBody, Strict

router = APIRouter(prefix="/api/admin/integrations/google-calendar", tags=["admin"])

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid admin credentials"},
}
_UTC = ZoneInfo("UTC")


class PushOut(BaseModel):
    active: bool
    expires_at: str | None


class ReconcileOut(BaseModel):
    """What a sync did to our exported events (extension of API.md; docs/export.md)."""

    at: str | None
    checked: int
    restored: int
    moved_back: int
    removed: int
    failed: int
    error: str | None

    @classmethod
    def from_summary(cls, summary: ReconcileSummary, *, at: str | None) -> ReconcileOut:
        return cls(
            at=at,
            checked=summary.checked,
            restored=summary.restored,
            moved_back=summary.moved_back,
            removed=summary.removed,
            failed=summary.failed,
            error=summary.error,
        )


class IntegrationOut(BaseModel):
    enabled: bool
    status: str
    account_email: str | None
    calendar_id: str | None
    timezone: str | None
    last_sync_at: str | None
    last_sync_ok: bool | None
    last_error: str | None
    next_sync_at: str | None
    busy_intervals: int
    push: PushOut
    reconcile: ReconcileOut | None = None

    @classmethod
    def from_view(cls, view: IntegrationStatusView) -> IntegrationOut:
        def instant(value: datetime | None) -> str | None:
            return None if value is None else value.astimezone(_UTC).isoformat(timespec="seconds")

        return cls(
            enabled=view.enabled,
            status=view.status,
            account_email=view.account_email,
            calendar_id=view.calendar_id,
            timezone=view.timezone,
            last_sync_at=instant(view.last_sync_at),
            last_sync_ok=view.last_sync_ok,
            last_error=view.last_error,
            next_sync_at=instant(view.next_sync_at),
            busy_intervals=view.busy_intervals,
            push=PushOut(active=view.push_active, expires_at=instant(view.push_expires_at)),
            reconcile=None
            if view.reconcile is None
            else ReconcileOut.from_summary(view.reconcile, at=instant(view.last_reconcile_at)),
        )


class ConnectOut(BaseModel):
    authorization_url: str


class SettingsIn(Strict):
    enabled: StrictBool


@router.get("", response_model=IntegrationOut, responses=_ERRORS)
def status(_admin: AdminDep, services: ServicesDep) -> IntegrationOut:
    return IntegrationOut.from_view(services.integration_status.execute())


@router.post(
    "/connect",
    response_model=ConnectOut,
    responses=_ERRORS | {409: {"model": ErrorBody, "description": "OAuth client not configured"}},
)
def connect(admin: AdminDep, services: ServicesDep) -> ConnectOut:
    url = services.start_connection.execute(session_hash=_session_hash(admin))
    return ConnectOut(authorization_url=url)


@router.get(
    "/callback",
    status_code=303,
    response_class=RedirectResponse,
    responses=_ERRORS | {400: {"model": ErrorBody, "description": "Bad, reused or expired state"}},
)
def callback(
    admin: AdminDep,
    services: ServicesDep,
    state: Annotated[str | None, Query(max_length=512)] = None,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> RedirectResponse:
    try:
        outcome = services.complete_connection.execute(
            state=state, code=code, error=error, session_hash=_session_hash(admin)
        )
    except InvalidOAuthStateError as exc:
        raise ApiError(400, "invalid_state", str(exc), field="state") from exc
    if outcome.kind == "connected":
        # Push starts with the connection rather than at the next hourly renewal check, on a
        # new channel (a reconnect may be another account); a failure is logged and the
        # connection stands (polling covers it, the job retries).
        services.ensure_push.execute(renew=True)
        # Busy data right away: without it public slots would answer 503 until the next poll.
        with contextlib.suppress(NotConnectedError, SyncFailedError):
            services.sync.execute()  # a failure is recorded and shown; the poll retries
    query = {"result": outcome.kind} | ({"detail": outcome.detail} if outcome.detail else {})
    return RedirectResponse(f"/admin/settings/integrations?{urlencode(query)}", status_code=303)


class SyncOut(BaseModel):
    status: str
    busy_intervals: int
    changed: bool
    duration_ms: int
    reconcile: ReconcileOut | None = None


@router.post(
    "/sync",
    response_model=SyncOut,
    responses=_ERRORS
    | {
        409: {"model": ErrorBody, "description": "Not connected (or switched off)"},
        502: {"model": ErrorBody, "description": "Google Calendar could not be read"},
    },
)
def sync_now(_admin: AdminDep, services: ServicesDep) -> SyncOut:
    try:
        report = services.sync.execute()
    except NotConnectedError as exc:
        raise ApiError(409, "not_connected", str(exc)) from exc
    except SyncFailedError as exc:
        raise ApiError(502, "calendar_error", str(exc)) from exc
    return SyncOut(
        status="ok",
        busy_intervals=report.busy_intervals,
        changed=report.changed,
        duration_ms=report.duration_ms,
        reconcile=None
        if report.reconcile is None
        else ReconcileOut.from_summary(report.reconcile, at=None),
    )


@router.post("/disconnect", response_model=IntegrationOut, responses=_ERRORS)
def disconnect(_admin: AdminDep, services: ServicesDep) -> IntegrationOut:
    return IntegrationOut.from_view(services.disconnect.execute())


@router.put("/settings", response_model=IntegrationOut, responses=_ERRORS)
def settings(body: SettingsIn, _admin: AdminDep, services: ServicesDep) -> IntegrationOut:
    return IntegrationOut.from_view(services.set_integration_enabled.execute(enabled=body.enabled))


def _session_hash(admin: AdminPrincipal) -> str | None:
    # OAuth state is bound to the browser session that started it; API tokens have none.
    return admin.session.session_hash if admin.session is not None else None
