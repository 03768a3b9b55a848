"""The product wired to a live Google Calendar emulator, for integration and e2e tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient

from balance_booking.adapters.google_calendar.transport import RetryPolicy
from balance_booking.config import Settings
from balance_booking.emulators.google_calendar.app import EmulatorConfig, create_emulator_app
from tests.support.live_server import serve_app

CLIENT_ID = "balance-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret-value"
PUBLIC_BASE = "http://testserver"
INTEGRATION_API = "/api/admin/integrations/google-calendar"
CALLBACK = INTEGRATION_API + "/callback"
OWNER = "owner@example.com"

# Tests must not sleep through Google's backoff; the policy still bounds the attempts.
NO_WAIT = RetryPolicy(attempts=3, sleep=lambda _seconds: None, jitter=lambda: 0.0)


@dataclass(frozen=True)
class Emulator:
    """A running emulator and a control client for it."""

    base: str
    control: httpx.Client

    def reset(self) -> None:
        self.control.post("/_emulator/reset").raise_for_status()
        self.register_client(PUBLIC_BASE)

    def register_client(
        self,
        public_base: str,
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
    ) -> None:
        """(Re-)register an OAuth client with `public_base`'s callback as its redirect URI."""
        self.control.post(
            "/_emulator/clients",
            json={
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uris": [public_base + CALLBACK],
                "name": "Эмоциональный баланс",
            },
        ).raise_for_status()

    def state(self) -> dict[str, object]:
        body: dict[str, object] = self.control.get("/_emulator/state").json()
        return body

    def add_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Put `event` into the owner's calendar as the owner would; returns what Google stored."""
        response = self.control.post("/_emulator/events", json={"event": event})
        response.raise_for_status()
        stored: dict[str, Any] = response.json()
        return stored

    def add_busy(self, start: datetime | str, end: datetime | str, **extra: Any) -> dict[str, Any]:
        """An event from `start` to `end` (ISO strings or aware datetimes), `extra` fields added."""
        return self.add_event(
            {"start": {"dateTime": _iso(start)}, "end": {"dateTime": _iso(end)}} | extra
        )

    def add_hour(self, start: datetime, **extra: Any) -> dict[str, Any]:
        """A one-hour event starting at `start`."""
        return self.add_busy(start, start + timedelta(hours=1), **extra)

    def delete_event(self, event_id: str) -> None:
        self.control.delete(f"/_emulator/events/{event_id}").raise_for_status()

    def events(self, calendar: str = OWNER) -> list[dict[str, Any]]:
        """Every event in `calendar` (the owner's primary one), deleted ones included."""
        by_calendar: dict[str, list[dict[str, Any]]] = self.state()["events"]  # type: ignore[assignment]
        return by_calendar.get(calendar, [])

    def fault(self, **spec: object) -> None:
        """Arm a fault (path_prefix, method, status, reason, latency_ms, drop_response, count...)."""
        self.control.post("/_emulator/faults", json=spec).raise_for_status()

    def faults_left(self) -> list[dict[str, Any]]:
        """The armed faults, each with its `remaining` count."""
        left: list[dict[str, Any]] = self.control.get("/_emulator/faults").json()["faults"]
        return left

    def clear_faults(self) -> None:
        """Disarm every fault (this also ends an outage)."""
        self.control.delete("/_emulator/faults").raise_for_status()

    def set_outage(self, *, down: bool) -> None:
        self.control.post("/_emulator/outage", json={"down": down}).raise_for_status()

    @contextmanager
    def outage(self) -> Iterator[None]:
        """Google answers nothing inside the block."""
        self.set_outage(down=True)
        try:
            yield
        finally:
            self.set_outage(down=False)


def _iso(moment: datetime | str) -> str:
    return moment if isinstance(moment, str) else moment.isoformat()


@contextmanager
def running_emulator() -> Iterator[Emulator]:
    app = create_emulator_app(EmulatorConfig(auto_consent=True))
    with serve_app(app) as base, httpx.Client(base_url=base, timeout=10) as control:
        yield Emulator(base=base, control=control)


def google_settings(
    database_url: str,
    tmp_path: Path,
    emulator: Emulator,
    *,
    public_base: str = PUBLIC_BASE,
    client_id: str = CLIENT_ID,
    client_secret: str = CLIENT_SECRET,
) -> Settings:
    """Settings on `database_url` wired to `emulator`, with the app public at `public_base`."""
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        public_base_url=public_base,
        google_emulator_url=emulator.base,
        google_client_id=client_id,
        google_client_secret=client_secret,
        _env_file=None,  # type: ignore[call-arg]
    )


def consent(authorization_url: str, public_base: str = PUBLIC_BASE) -> str:
    """Follow Google's consent step (auto-consent) and return the callback path with its query."""
    response = httpx.get(authorization_url, follow_redirects=False, timeout=10)
    assert response.status_code in {302, 303}, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == public_base
    return f"{location.path}?{location.query}"


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def connect_as(
    admin: httpx.Client,
    public_base: str,
    *,
    finish_with: httpx.Client | None = None,
) -> str:
    """The OAuth dance for an app whose public base is `public_base`; returns the redirect.

    `admin` is an authenticated admin client (a TestClient or a real one). `finish_with`
    delivers Google's redirect to the callback through another client (another process of the
    same installation); by default the one that started the flow.
    """
    started = admin.post(f"{INTEGRATION_API}/connect")
    assert started.status_code == 200, started.text
    callback = (finish_with or admin).get(
        consent(started.json()["authorization_url"], public_base), follow_redirects=False
    )
    assert callback.status_code == 303, callback.text
    return str(callback.headers["Location"])


def connect_calendar(admin: TestClient) -> str:
    """Run the whole OAuth dance as an authenticated admin client; returns the final redirect."""
    return connect_as(admin, PUBLIC_BASE)
