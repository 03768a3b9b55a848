"""/admin/settings/integrations: the Google Calendar connection, as a plain server-rendered page."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from balance_booking.application.errors import ApplicationError
from balance_booking.application.integration import CalendarChoice
from balance_booking.domain.calendar_account import IntegrationStatus
from balance_booking.web.audit import AuditedRoute
from balance_booking.web.auth import PageAdminDep
from balance_booking.web.deps import ServicesDep
from balance_booking.web.google_errors import classify
from balance_booking.web.i18n import request_language
from balance_booking.web.templating import TemplatesDep

router = APIRouter(
    prefix="/admin/settings/integrations", include_in_schema=False, route_class=AuditedRoute
)
PAGE = "/admin/settings/integrations"

# The callback's `result` as the admin reads it (Russian first, then English).
RESULTS = {
    "connected": ("ok", "Календарь подключён.", "Calendar connected."),
    "denied": ("warn", "Доступ не предоставлен в Google.", "Access was declined in Google."),
    "partial": (
        "warn",
        "Google выдал не все нужные разрешения — ничего не сохранено. Подключите снова и отметьте все пункты.",
        "Google granted only some of the permissions — nothing was stored. Connect again and tick every box.",
    ),
    "failed": ("error", "Не удалось подключить календарь.", "The calendar could not be connected."),
    "disconnected": ("ok", "Календарь отключён.", "Calendar disconnected."),
    "synced": ("ok", "Синхронизация выполнена.", "Synced."),
    "sync_failed": ("error", "Синхронизация не удалась.", "The sync failed."),
    "saved": ("ok", "Сохранено.", "Saved."),
    "retried": ("ok", "Сообщение отправится ещё раз.", "The message will be tried again."),
    "token_revoked": (
        "ok",
        "Токен отозван: программы, которые им пользовались, больше не войдут.",
        "The token is revoked: programs using it are signed out.",
    ),
    "token_missing": (
        "warn",
        "Такого токена нет: возможно, он уже отозван.",
        "There is no such token: it may be revoked already.",
    ),
    "retry_failed": (
        "warn",
        "Это сообщение уже не ждёт повтора.",
        "That message is no longer parked.",
    ),
}


# What each OAuth scope lets the product do, as the practitioner reads it (Russian, English).
PERMISSIONS = {
    "https://www.googleapis.com/auth/calendar.events.owned": (
        "создавать и изменять события в ваших календарях",
        "create and change events in your calendars",
    ),
    "https://www.googleapis.com/auth/calendar.events": (
        "создавать и изменять события в календаре",
        "create and change events in the calendar",
    ),
    "https://www.googleapis.com/auth/calendar.freebusy": (
        "видеть, когда вы заняты",
        "see when you are busy",
    ),
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly": (
        "видеть список ваших календарей",
        "see the list of your calendars",
    ),
    "https://www.googleapis.com/auth/calendar.readonly": (
        "просматривать ваши календари",
        "see your calendars",
    ),
    "https://www.googleapis.com/auth/calendar": (
        "управлять вашими календарями",
        "manage your calendars",
    ),
    "email": ("видеть адрес почты аккаунта", "see the account's e-mail address"),
    "https://www.googleapis.com/auth/userinfo.email": (
        "видеть адрес почты аккаунта",
        "see the account's e-mail address",
    ),
    "openid": ("узнавать, какой это аккаунт Google", "know which Google account it is"),
}
# A permission the page has no words for is never shown as its URL.
OTHER_PERMISSION = ("ещё одно разрешение Google", "another Google permission")
# The results whose detail is an error text from Google (the others carry none, or scopes).
_PROBLEM_RESULTS = frozenset({"denied", "failed", "sync_failed"})


def _missing_permissions(detail: str | None, *, lang: str, connected: bool) -> str | None:
    """The `partial` result's detail in words: which permission was unticked, and whether the
    connection that already worked was kept."""
    if not detail:
        return None
    index = 0 if lang == "ru" else 1
    names = list(
        dict.fromkeys(PERMISSIONS.get(scope, OTHER_PERMISSION)[index] for scope in detail.split())
    )
    if lang == "ru":
        text = "Не отмечено разрешение: " + "; ".join(names) + "."
        kept = " Прежнее подключение продолжает работать."
    else:
        text = "Not ticked: " + "; ".join(names) + "."
        kept = " The connection that was already working keeps working."
    return text + (kept if connected else "")


def _when(value: datetime | None, zone: str | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone or "UTC")).strftime("%d.%m.%Y %H:%M %Z")


@router.get("", response_class=HTMLResponse)
def integrations_page(
    request: Request,
    *,
    admin: PageAdminDep,
    services: ServicesDep,
    templates: TemplatesDep,
    result: Annotated[str | None, Query(max_length=32)] = None,
    detail: Annotated[str | None, Query(max_length=300)] = None,
    confirm: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    status = services.integration_status.execute()
    zone = status.timezone
    connected = status.status == IntegrationStatus.CONNECTED
    return templates.TemplateResponse(
        request,
        "integrations.html",
        {
            "admin": admin,
            "status": status,
            "result": RESULTS.get(result or ""),
            # Google's words stay out of the main text: a partial grant names the permissions,
            # an error becomes a kind of problem (web/google_errors.py) with the raw in details.
            "detail": _missing_permissions(
                detail, lang=request_language(request), connected=connected
            )
            if result == "partial"
            else None,
            "result_problem": classify(detail) if result in _PROBLEM_RESULTS else None,
            "problem": classify(status.last_error),
            "reconcile_problem": classify(status.reconcile.error if status.reconcile else None),
            "ask_disconnect": confirm == "disconnect"
            and status.status != IntegrationStatus.DISCONNECTED,
            "last_sync": _when(status.last_sync_at, zone),
            "next_sync": _when(status.next_sync_at, zone),
            "push_expires": _when(status.push_expires_at, zone),
            "email": services.email_status.execute(),
            "parked": services.list_parked.execute(),
            "tokens": services.list_tokens.execute(),
            "calendars": _calendars(services) if status.status == "connected" else None,
        },
    )


def _back(result: str, detail: str | None = None) -> RedirectResponse:
    query = {"result": result} | ({"detail": detail[:200]} if detail else {})
    return RedirectResponse(f"{PAGE}?{urlencode(query)}", status_code=303)


@router.post("/connect", name="google.connect")
def connect(admin: PageAdminDep, services: ServicesDep) -> Response:
    session_hash = admin.session.session_hash if admin.session is not None else None
    try:
        url = services.start_connection.execute(session_hash=session_hash)
    except ApplicationError as exc:
        return _back("failed", str(exc))
    return RedirectResponse(url, status_code=303)


def _calendars(services: ServicesDep) -> list[CalendarChoice] | None:
    """The owner's calendars for the "block time" choice; None while Google cannot tell."""
    try:
        return services.blocking_calendars.listing()
    except ApplicationError:
        return None


@router.post("/calendars", name="google.calendars")
def choose_calendars(
    _admin: PageAdminDep,
    services: ServicesDep,
    calendar: Annotated[list[str] | None, Form(max_length=50)] = None,
) -> Response:
    try:
        services.blocking_calendars.choose(calendar or [])
    except ApplicationError as exc:
        return _back("failed", str(exc))
    with contextlib.suppress(ApplicationError):
        services.sync.execute()  # the mirror follows the choice at once
    return _back("saved")


@router.post("/disconnect", name="google.disconnect")
def disconnect(
    _admin: PageAdminDep,
    services: ServicesDep,
    confirm: Annotated[str | None, Form(max_length=8)] = None,
) -> Response:
    """Only a confirmed request disconnects; any other shows the question first (the page's
    dialog sends `confirm=yes`; without JavaScript the button lands on the question)."""
    if confirm != "yes":
        return RedirectResponse(f"{PAGE}?confirm=disconnect#disconnect-dialog", status_code=303)
    services.disconnect.execute()
    return _back("disconnected")


@router.post("/sync", name="google.sync")
def sync(_admin: PageAdminDep, services: ServicesDep) -> Response:
    try:
        services.sync.execute()
    except ApplicationError as exc:
        return _back("sync_failed", str(exc))
    return _back("synced")


@router.post("/enabled", name="google.settings")
def set_enabled(
    _admin: PageAdminDep, services: ServicesDep, enabled: Annotated[str, Form()] = "off"
) -> Response:
    services.set_integration_enabled.execute(enabled=enabled == "on")
    return _back("saved")


@router.post("/tokens/{token_id}/revoke", name="token.revoke")
def revoke_token(token_id: int, _admin: PageAdminDep, services: ServicesDep) -> Response:
    try:
        services.revoke_token.execute(token_id)
    except ApplicationError:
        return _back("token_missing")
    return _back("token_revoked")


@router.post("/outbox/{message_id}/retry", name="outbox.retry")
def retry_parked(message_id: int, _admin: PageAdminDep, services: ServicesDep) -> Response:
    try:
        services.retry_parked.execute(message_id)
    except ApplicationError:
        return _back("retry_failed")
    return _back("retried")
