"""Injected failures (status, latency, outage, dropped responses), applied as ASGI middleware."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import asdict, dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from balance_booking.emulators.google_calendar.errors import OAuthError, fault_error

CONTROL_PREFIX = "/_emulator"
CALENDAR_PREFIX = "/calendar/v3"

_OAUTH_ERRORS = {
    400: "invalid_request",
    401: "invalid_client",
    403: "access_denied",
    429: "rate_limit_exceeded",
    500: "internal_failure",
    503: "temporarily_unavailable",
}


@dataclass(slots=True)
class Fault:
    id: int
    path_prefix: str | None
    method: str | None
    status: int | None  # None with latency_ms: a slow but otherwise normal answer
    reason: str | None
    retry_after: int | None
    latency_ms: int
    remaining: int | None  # None: every matching call until the faults are cleared
    drop_response: bool  # run the request (commit it) and answer `status` instead of its result

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    """Thread-safe list of pending faults plus the outage switch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1
        self._outage = False

    def add(
        self,
        *,
        path_prefix: str | None,
        method: str | None,
        status: int | None,
        reason: str | None,
        retry_after: int | None,
        latency_ms: int,
        count: int,
        drop_response: bool,
    ) -> Fault:
        with self._lock:
            fault = Fault(
                id=self._next_id,
                path_prefix=path_prefix,
                method=method,
                status=status,
                reason=reason,
                retry_after=retry_after,
                latency_ms=latency_ms,
                remaining=count if count > 0 else None,
                drop_response=drop_response,
            )
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this call, counted as used."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path):
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
            return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._outage = False

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    @property
    def outage(self) -> bool:
        with self._lock:
            return self._outage

    def set_outage(self, *, down: bool) -> None:
        with self._lock:
            self._outage = down


def error_payload(
    path: str, status: int, reason: str | None, retry_after: int | None
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """Calendar paths get Google's API error JSON; OAuth endpoints get the flat OAuth shape."""
    if path.startswith(CALENDAR_PREFIX):
        body: dict[str, Any] = fault_error(status, reason).body()
    else:
        error = reason or _OAUTH_ERRORS.get(status, "server_error")
        body = OAuthError(status, error, "Injected by the emulator").body()
    payload = json.dumps(body, indent=2).encode()
    headers = [
        (b"content-type", b"application/json; charset=UTF-8"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    return payload, headers


class FaultMiddleware:
    """Every route except /_emulator/ passes here; outage answers 503 to all of them."""

    def __init__(self, app: ASGIApp, *, faults: FaultBook) -> None:
        self._app = app
        self._faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith(CONTROL_PREFIX):
            await self._app(scope, receive, send)
            return
        path = str(scope["path"])
        if self._faults.outage:
            await _send_error(send, path, 503, None, None)
            return
        fault = self._faults.take(str(scope["method"]), path)
        if fault is None:
            await self._app(scope, receive, send)
            return
        if fault.latency_ms > 0:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.drop_response:
            # The write happens; the caller only learns that "something failed" (a lost response).
            await self._app(scope, receive, _discard)
            await _send_error(send, path, fault.status or 503, fault.reason, fault.retry_after)
            return
        if fault.status is None:
            await self._app(scope, receive, send)
            return
        await _send_error(send, path, fault.status, fault.reason, fault.retry_after)


async def _discard(message: Message) -> None:
    del message


async def _send_error(
    send: Send, path: str, status: int, reason: str | None, retry_after: int | None
) -> None:
    payload, headers = error_payload(path, status, reason, retry_after)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
