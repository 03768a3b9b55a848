"""Push-notification test helpers: a counting emulator, a delivery sink, OAuth over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from balance_booking.emulators.google_calendar.app import EmulatorConfig, create_emulator_app
from tests.support.google import (
    Emulator,
    connect_as,  # noqa: F401 - its callers import it from here
)
from tests.support.live_server import serve_app

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class FreeBusyLog:
    """Every freeBusy call the emulator answered: (monotonic time, wall time, timeMin)."""

    calls: list[tuple[float, datetime, datetime]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, time_min: datetime) -> None:
        with self._lock:
            self.calls.append((time.monotonic(), datetime.now(UTC), time_min))

    def sync_times(self) -> list[float]:
        """Monotonic start of each sync: a sync's first freeBusy chunk starts at its "now".

        Later chunks of the same sync start weeks ahead, so they are not counted (processes
        with a real clock only).
        """
        with self._lock:
            calls = list(self.calls)
        return [at for at, wall, time_min in calls if abs((time_min - wall).total_seconds()) < 60]


def count_freebusy(app: ASGIApp, log: FreeBusyLog) -> ASGIApp:
    """Wrap the emulator so every POST .../freeBusy is logged with its timeMin."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and str(scope["path"]).endswith("/freeBusy")
        ):
            await app(scope, receive, send)
            return
        body = bytearray()

        async def keep(message_source: Receive = receive) -> Message:
            message = await message_source()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        await app(scope, keep, send)
        try:
            time_min = datetime.fromisoformat(json.loads(body)["timeMin"])
        except (ValueError, KeyError):
            return
        log.record(time_min)

    return wrapped


@contextmanager
def counted_emulator() -> Iterator[tuple[Emulator, FreeBusyLog]]:
    """A live emulator of its own whose freeBusy calls are logged."""
    log = FreeBusyLog()
    app = count_freebusy(create_emulator_app(EmulatorConfig(auto_consent=True)), log)
    with serve_app(app) as base, httpx.Client(base_url=base, timeout=10) as control:
        yield Emulator(base=base, control=control), log


@dataclass
class Sink:
    """A loopback receiver that answers 200 to anything and keeps the headers of each POST."""

    base: str
    received: list[dict[str, str]] = field(default_factory=list)

    def pushes(self, state: str | None = None) -> list[dict[str, str]]:
        return [
            h
            for h in list(self.received)
            if state is None or h.get("x-goog-resource-state") == state
        ]


@contextmanager
def running_sink() -> Iterator[Sink]:
    received: list[dict[str, str]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] == "POST":
            received.append(headers)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with serve_app(app) as base:
        yield Sink(base=base, received=received)


def register_client(emulator: Emulator, public_base: str) -> None:
    """(Re-)register the test OAuth client with `public_base`'s callback as its redirect URI."""
    emulator.register_client(public_base)


def channels(emulator: Emulator) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = emulator.state()["channels"]  # type: ignore[assignment]
    return found


def wait_for(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
