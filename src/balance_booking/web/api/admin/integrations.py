"""/api/admin/integrations/google-calendar: connect, callback, status, sync, flag, disconnect."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field, StringConstraints

from balance_booking.application.errors import (
    AccessRevokedError,
    GoogleRequestError,
    GoogleUnavailableError,
    InvalidOAuthStateError,
)
from balance_booking.application.integration import CalendarChoice
from balance_booking.application.sync import NotConnectedError, SyncFailedError
from balance_booking.web.audit import AuditedRoute
from balance_booking.web.auth import AdminPrincipal
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.errors import ApiError
from balance_booking.web.schemas import (
    ConnectOut,
    ErrorBody,
    IntegrationOut,
    ReconcileOut,
    SettingsIn,
    Strict,
    SyncOut,
)

router = APIRouter(
    prefix="/api/admin/integrations/google-calendar", tags=["admin"], route_class=AuditedRoute
)

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid admin credentials"},
}


@router.get("", response_model=IntegrationOut, responses=_ERRORS)
def status(_admin: AdminDep, services: ServicesDep) -> IntegrationOut:
    return IntegrationOut.from_view(services.integration_status.execute())


@router.post(
    "/connect",
    name="google.connect",
    response_model=ConnectOut,
    responses=_ERRORS | {409: {"model": ErrorBody, "description": "OAuth client not configured"}},
)
def connect(admin: AdminDep, services: ServicesDep) -> ConnectOut:
    url = services.start_connection.execute(session_hash=_session_hash(admin))
    return ConnectOut(authorization_url=url)


@router.get(
    "/callback",
    name="google.connect_complete",
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


@router.post(
    "/sync",
    name="google.sync",
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


@router.post(
    "/disconnect", name="google.disconnect", response_model=IntegrationOut, responses=_ERRORS
)
def disconnect(_admin: AdminDep, services: ServicesDep) -> IntegrationOut:
    return IntegrationOut.from_view(services.disconnect.execute())


@router.put("/settings", name="google.settings", response_model=IntegrationOut, responses=_ERRORS)
def settings(body: SettingsIn, _admin: AdminDep, services: ServicesDep) -> IntegrationOut:
    return IntegrationOut.from_view(services.set_integration_enabled.execute(enabled=body.enabled))


def _session_hash(admin: AdminPrincipal) -> str | None:
    # OAuth state is bound to the browser session that started it; API tokens have none.
    return admin.session.session_hash if admin.session is not None else None


class CalendarOut(BaseModel):
    id: str
    summary: str
    primary: bool
    blocks_time: bool


class CalendarsOut(BaseModel):
    calendars: list[CalendarOut]


class BlockingIn(Strict):
    blocking_calendar_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=255)]] = (
        Field(max_length=50)
    )


def _calendars_out(choices: list[CalendarChoice]) -> CalendarsOut:
    return CalendarsOut(
        calendars=[
            CalendarOut(
                id=c.calendar_id, summary=c.summary, primary=c.primary, blocks_time=c.blocks_time
            )
            for c in choices
        ]
    )


_CALENDAR_ERRORS: dict[int | str, dict[str, object]] = _ERRORS | {
    409: {"model": ErrorBody, "description": "Not connected"},
    502: {"model": ErrorBody, "description": "Google Calendar could not be read"},
}


@router.get("/calendars", response_model=CalendarsOut, responses=_CALENDAR_ERRORS)
def calendars(_admin: AdminDep, services: ServicesDep) -> CalendarsOut:
    """The owner's calendars and which of them block time (the primary one by default)."""
    return _calendars_out(_google(services.blocking_calendars.listing))


@router.put(
    "/calendars", name="google.calendars", response_model=CalendarsOut, responses=_CALENDAR_ERRORS
)
def choose_calendars(body: BlockingIn, _admin: AdminDep, services: ServicesDep) -> CalendarsOut:
    """Busy time is read from every calendar chosen here; bookings still go to the primary."""
    chosen = _google(lambda: services.blocking_calendars.choose(body.blocking_calendar_ids))
    # The mirror follows the choice at once (a failure is recorded and shown; the poll retries).
    with contextlib.suppress(NotConnectedError, SyncFailedError):
        services.sync.execute()
    return _calendars_out(chosen)


def _google(call: Callable[[], list[CalendarChoice]]) -> list[CalendarChoice]:
    try:
        return call()
    except (GoogleRequestError, GoogleUnavailableError, AccessRevokedError) as exc:
        raise ApiError(502, "calendar_error", str(exc)) from exc
