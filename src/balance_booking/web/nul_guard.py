"""Refuse NUL characters in the path, query string, headers and form bodies before routing."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from balance_booking.web.errors import error_response

_FORM = b"application/x-www-form-urlencoded"
_MULTIPART = b"multipart/form-data"


class RejectNulMiddleware:
    """422 `invalid_request` for a NUL character outside a JSON body (those: `schemas.Strict`).

    A NUL is never valid input here, and PostgreSQL text cannot hold one: a lookup or insert with
    it fails in the driver, which would surface as a 500. Pure ASGI, a few byte scans a request;
    form bodies (url-encoded or multipart; the body limit in front keeps them under 1 MiB) are
    collected chunk by chunk, scanned once, and handed on unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if _has_nul(scope):
            await _refuse(scope, receive, send)
            return
        kind = _form_kind(scope)
        if kind is None:
            await self._app(scope, receive, send)
            return
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        # In a url-encoded body a NUL arrives escaped; in a multipart one, as the byte itself.
        if b"\x00" in body or (kind == _FORM and b"%00" in body):
            await _refuse(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self._app(scope, replay, send)


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(422, "invalid_request", "NUL characters are not allowed.")
    await response(scope, receive, send)


def _form_kind(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"content-type":
            lowered = value.lower()
            return next((kind for kind in (_FORM, _MULTIPART) if lowered.startswith(kind)), None)
    return None


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope["query_string"]
    return (
        "\x00" in scope["path"]
        or b"%00" in query
        or b"\x00" in query
        or any(b"\x00" in value for _name, value in scope["headers"])
    )
