"""Admin sign-in: the login form, signing in and out, and who the current admin is."""

from __future__ import annotations

import math
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Cookie, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from balance_booking.application.errors import TooManyAttemptsError, UnauthorizedError
from balance_booking.web.audit import AuditedRoute
from balance_booking.web.auth import (
    COOKIE_NAME,
    LOGIN_PATH,
    AdminAuthDep,
    PageAdminDep,
    clear_session_cookie,
    safe_next,
    set_session_cookie,
)
from balance_booking.web.templating import TemplatesDep

router = APIRouter(route_class=AuditedRoute)

# The sign-in page is never cached (it may show an email) and never framed (clickjacking).
_PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}

_UTC = ZoneInfo("UTC")

SessionCookie = Annotated[str | None, Cookie(alias=COOKIE_NAME)]
SignInError = Literal["wrong_credentials", "too_many_attempts"]


def _login_page(
    request: Request,
    templates: TemplatesDep,
    *,
    next_path: str,
    status: int = 200,
    email: str = "",
    error: SignInError | None = None,
    retry_minutes: int = 0,
    headers: dict[str, str] | None = None,
) -> Response:
    # The template words the error in the page's language only (login.html).
    return templates.TemplateResponse(
        request,
        "login.html",
        {
            "next_path": next_path,
            "email": email,
            "error": error,
            "retry_minutes": retry_minutes,
            "admin": None,
        },
        status_code=status,
        headers=_PAGE_HEADERS | (headers or {}),
    )


@router.get(LOGIN_PATH, include_in_schema=False)
def login_form(
    request: Request,
    auth: AdminAuthDep,
    templates: TemplatesDep,
    session_id: SessionCookie = None,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    target = safe_next(next_path)
    if session_id and auth.authenticate_session.execute(session_id) is not None:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, templates, next_path=target)


@router.post(LOGIN_PATH, name="admin.sign_in", include_in_schema=False)
def login(
    *,
    request: Request,
    auth: AdminAuthDep,
    templates: TemplatesDep,
    session_id: SessionCookie = None,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
) -> Response:
    # Not CSRF-protected by a session (there is none yet); see docs/admin-auth.md for why
    # SameSite=Lax and the fresh session id make that acceptable.
    target = safe_next(next_path)
    client_ip = request.client.host if request.client else "unknown"
    try:
        signed_in = auth.login.execute(email=email, password=password, client_ip=client_ip)
    except UnauthorizedError:
        return _login_page(
            request,
            templates,
            next_path=target,
            status=401,
            email=email,
            error="wrong_credentials",
        )
    except TooManyAttemptsError as exc:
        minutes = math.ceil(exc.retry_after_seconds / 60)
        return _login_page(
            request,
            templates,
            next_path=target,
            status=429,
            email=email,
            error="too_many_attempts",
            retry_minutes=minutes,
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )
    if session_id:
        # Signing in again replaces the previous session of this browser.
        auth.logout.execute(session_id)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, signed_in.session_id, auth)
    return response


@router.post("/admin/logout", name="admin.sign_out", include_in_schema=False)
def logout(admin: PageAdminDep, auth: AdminAuthDep, session_id: SessionCookie = None) -> Response:
    if admin.kind == "session" and session_id:
        auth.logout.execute(session_id)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    clear_session_cookie(response, auth)
    return response
