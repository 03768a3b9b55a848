"""The product wired to a live Google Calendar emulator, for integration and e2e tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
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
        self.control.post(
            "/_emulator/clients",
            json={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [PUBLIC_BASE + CALLBACK],
                "name": "Эмоциональный баланс",
            },
        ).raise_for_status()

    def state(self) -> dict[str, object]:
        body: dict[str, object] = self.control.get("/_emulator/state").json()
        return body


@contextmanager
def running_emulator() -> Iterator[Emulator]:
    app = create_emulator_app(EmulatorConfig(auto_consent=True))
    with serve_app(app) as base, httpx.Client(base_url=base, timeout=10) as control:
        yield Emulator(base=base, control=control)


def google_settings(database_url: str, tmp_path: Path, emulator: Emulator) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        public_base_url=PUBLIC_BASE,
        google_emulator_url=emulator.base,
        google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET,
        _env_file=None,  # type: ignore[call-arg]
    )


def consent(authorization_url: str) -> str:
    """Follow Google's consent step (auto-consent) and return the callback path with its query."""
    response = httpx.get(authorization_url, follow_redirects=False, timeout=10)
    assert response.status_code in {302, 303}, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == PUBLIC_BASE
    return f"{location.path}?{location.query}"


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def connect_calendar(admin: TestClient) -> str:
    """Run the whole OAuth dance as an authenticated admin client; returns the final redirect."""
    started = admin.post(f"{INTEGRATION_API}/connect")
    assert started.status_code == 200, started.text
    callback = admin.get(consent(started.json()["authorization_url"]), follow_redirects=False)
    assert callback.status_code == 303, callback.text
    return str(callback.headers["Location"])
