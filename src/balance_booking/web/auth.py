"""Admin authentication for the web layer: bearer API tokens or the session cookie plus CSRF."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from balance_booking.application.admin import AuthenticateAdminToken
from balance_booking.application.admin_auth import AuthenticateSession, Login, Logout
from balance_booking.application.audit import identify
from balance_booking.application.ports import AdminSession
from balance_booking.web.errors import ApiError

COOKIE_NAME = "bb_admin"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LOGIN_PATH = "/admin/login"
DEFAULT_AFTER_LOGIN = "/admin/settings/integrations"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_MAX_NEXT_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class AdminAuthServices:
    """Sign-in use cases and cookie settings, built by bootstrap."""

    login: Login
    logout: Logout
    authenticate_session: AuthenticateSession
    authenticate_token: AuthenticateAdminToken
    session_ttl: timedelta
    cookie_secure: bool  # True when the public base URL is https


@dataclass(frozen=True, slots=True)
class AdminPrincipal:
    """Who is calling: an API token (no CSRF needed) or a signed-in admin's browser session."""

    kind: Literal["token", "session"]
    label: str
    session: AdminSession | None = field(default=None, repr=False)


class LoginRequired(Exception):  # noqa: N818 - a signal for the redirect handler, not a failure
    """An admin page was asked for without valid credentials: redirect to the sign-in page."""

    def __init__(self, next_path: str | None, *, clear_cookie: bool) -> None:
        super().__init__("admin sign-in required")
        self.next_path = next_path
        self.clear_cookie = clear_cookie


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a same-site path only, never another origin."""
    if (
        not value
        or len(value) > _MAX_NEXT_LENGTH
        or not value.startswith("/")
        or value.startswith("//")
        # Browsers read "\" as "/" and drop tabs and newlines, so "/\evil" and "/\t/evil" are
        # other origins in disguise.
        or "\\" in value
        or any(ord(char) < 0x21 or ord(char) == 0x7F for char in value)
    ):
        return DEFAULT_AFTER_LOGIN
    return value


def login_url(next_path: str | None) -> str:
    if next_path is None or safe_next(next_path) != next_path:
        return LOGIN_PATH
    return f"{LOGIN_PATH}?next={quote(next_path, safe='/')}"


def set_session_cookie(response: Response, session_id: str, auth: AdminAuthServices) -> None:
    response.set_cookie(
        COOKIE_NAME,
        session_id,
        max_age=int(auth.session_ttl.total_seconds()),
        path="/",
        secure=auth.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, auth: AdminAuthServices) -> None:
    response.delete_cookie(
        COOKIE_NAME, path="/", secure=auth.cookie_secure, httponly=True, samesite="lax"
    )


def admin_auth(request: Request) -> AdminAuthServices:
    auth: AdminAuthServices = request.app.state.services.admin_auth
    return auth


async def _admin_auth(request: Request) -> AdminAuthServices:
    # A coroutine: a plain function dependency would cost a thread-pool hop (see web/deps.py).
    return admin_auth(request)


AdminAuthDep = Annotated[AdminAuthServices, Depends(_admin_auth)]

_bearer = HTTPBearer(auto_error=False, description="Admin API token from `create-admin-token`")
_cookie = APIKeyCookie(
    name=COOKIE_NAME,
    auto_error=False,
    description=f"Admin session from /admin/login; unsafe methods need the {CSRF_HEADER} header",
)


async def _form_csrf_token(request: Request) -> str | None:
    """The csrf_token field of an HTML form post made with the session cookie, if any."""
    if (
        request.method in SAFE_METHODS
        or CSRF_HEADER in request.headers
        or "authorization" in request.headers
        or COOKIE_NAME not in request.cookies
    ):
        return None
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type not in _FORM_TYPES:
        return None
    # Parsed once per request: Starlette caches it for the endpoint's own Form() fields.
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def _authenticate(
    request: Request,
    auth: AdminAuthServices,
    credentials: HTTPAuthorizationCredentials | None,
    session_id: str | None,
    form_token: str | None,
) -> AdminPrincipal | None:
    if credentials is not None:
        # A presented token decides alone: a wrong one is not rescued by a cookie.
        token = auth.authenticate_token.execute(credentials.credentials)
        return None if token is None else AdminPrincipal(kind="token", label=f"token:{token.name}")
    if not session_id:
        return None
    session = auth.authenticate_session.execute(session_id)
    if session is None:
        return None
    if request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER) or form_token or ""
        if not hmac.compare_digest(presented.encode(), session.csrf_token.encode()):
            raise ApiError(
                403,
                "csrf_failed",
                f"Missing or wrong CSRF token (send the {CSRF_HEADER} header or the "
                f"{CSRF_FIELD} form field).",
            )
    return AdminPrincipal(kind="session", label=session.email, session=session)


def _admin(
    request: Request,
    auth: AdminAuthDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session_id: Annotated[str | None, Depends(_cookie)],
    form_token: Annotated[str | None, Depends(_form_csrf_token)],
) -> AdminPrincipal:
    principal = _authenticate(request, auth, credentials, session_id, form_token)
    if principal is None:
        message = (
            "Admin credentials required."
            if credentials is None and not session_id
            else "Invalid or expired admin credentials."
        )
        raise ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})
    identify(principal.label)
    return principal


def _page_admin(
    request: Request,
    auth: AdminAuthDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session_id: Annotated[str | None, Depends(_cookie)],
    form_token: Annotated[str | None, Depends(_form_csrf_token)],
) -> AdminPrincipal:
    principal = _authenticate(request, auth, credentials, session_id, form_token)
    if principal is None:
        # Come back here after signing in, but only to pages one can GET.
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(
            here if request.method in {"GET", "HEAD"} else None, clear_cookie=bool(session_id)
        )
    identify(principal.label)
    return principal


AdminDep = Annotated[AdminPrincipal, Depends(_admin)]
"""JSON API: a bearer token or the session cookie; 401 otherwise."""

PageAdminDep = Annotated[AdminPrincipal, Depends(_page_admin)]
"""HTML pages: like AdminDep, but anonymous visitors are sent to the sign-in page (303)."""


def install_auth_handlers(app: FastAPI) -> None:
    """Turn LoginRequired into the redirect to the sign-in page."""

    @app.exception_handler(LoginRequired)
    def _login_required(request: Request, exc: LoginRequired) -> Response:
        response = RedirectResponse(login_url(exc.next_path), status_code=303)
        if exc.clear_cookie:
            clear_session_cookie(response, admin_auth(request))
        return response
