"""Refuse NUL characters in the path, query string and headers before routing."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from balance_booking.web.errors import error_response


class RejectNulMiddleware:
    """422 `invalid_request` for a NUL character outside the body (JSON bodies: `schemas.Strict`).

    A NUL is never valid input here, and PostgreSQL text cannot hold one: a lookup or insert with
    it fails in the driver, which would surface as a 500. Pure ASGI, a few byte scans a request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            response = error_response(422, "invalid_request", "NUL characters are not allowed.")
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope["query_string"]
    return (
        "\x00" in scope["path"]
        or b"%00" in query
        or b"\x00" in query
        or any(b"\x00" in value for _name, value in scope["headers"])
    )
