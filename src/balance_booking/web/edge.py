"""The public edge in front of every route (API.md "Public edge"): a body-size limit decided
before anything is buffered, and the security headers on every response. Both pure ASGI."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from balance_booking.web.errors import error_response

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB


def page_csp(form_targets: tuple[str, ...] = ()) -> str:
    """Pages load scripts, styles and data from this origin only (JSON data blocks, <script
    type="application/json">, are never executed, so no inline script is needed); forms post
    here, or redirect to `form_targets` (Google's consent screen after "Connect")."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            " ".join(("form-action 'self'", *form_targets)),
            "frame-ancestors 'none'",
        )
    )


# FastAPI's Swagger page (development only: it is off in prod) loads its assets from a CDN and
# starts them with an inline script.
_SWAGGER_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = "; ".join(
    (
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {_SWAGGER_CDN}",
        f"style-src 'self' {_SWAGGER_CDN}",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        "frame-ancestors 'none'",
    )
)
DOCS_PATH = "/api/docs"


@dataclass(frozen=True, slots=True, kw_only=True)
class EdgeOptions:
    """What the edge needs from the settings."""

    public_base_url: str  # every link the product writes starts here, never at the Host header
    hsts: bool = False  # PUBLIC_BASE_URL is https
    form_targets: tuple[str, ...] = ()  # origins a form may lead to (the OAuth consent page)
    docs: bool = True  # the Swagger page (off in prod)
    metrics_token: str | None = None  # BALANCE_METRICS_TOKEN: /metrics behind a bearer token


class BodyLimitMiddleware:
    """413 `payload_too_large` for a body over `limit` bytes: at once when Content-Length says
    so, else as soon as the streamed body passes the limit; nothing over it is ever held."""

    def __init__(self, app: ASGIApp, *, limit: int = MAX_BODY_BYTES) -> None:
        self._app = app
        self._limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._limit):
            await _too_large(scope, receive, send)
            return
        seen = 0
        started = False
        refused = False

        async def counted() -> Message:
            # Past the limit: answer 413 at once and tell the app the client went away, so it
            # stops reading (frameworks turn errors raised here into their own 400s).
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self._limit:
                    refused = True
                    if not started:
                        await _too_large(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 was the answer; whatever the app says after it is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self._app(scope, counted, watched)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(
        413, "payload_too_large", "The request body is larger than 1 MiB.", headers=_CLOSE
    )
    await response(scope, receive, send)


_CLOSE = {"Connection": "close"}


class SecurityHeadersMiddleware:
    """Every response: nosniff and same-origin referrers; every page (HTML) also a CSP with
    `frame-ancestors 'none'` and X-Frame-Options: DENY; HSTS when served over https."""

    def __init__(self, app: ASGIApp, *, options: EdgeOptions) -> None:
        self._app = app
        self._hsts = options.hsts
        self._page_csp = page_csp(options.form_targets)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        docs = scope["path"] == DOCS_PATH

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                # A page may ask for less (the manage page, whose URL holds a token: none).
                headers.setdefault("Referrer-Policy", "same-origin")
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Content-Security-Policy"] = DOCS_CSP if docs else self._page_csp
                    headers["X-Frame-Options"] = "DENY"
                if self._hsts:
                    headers["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        await self._app(scope, receive, with_headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1").strip())
    return None
