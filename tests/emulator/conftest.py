"""One emulator server for the whole directory, reset before every test, and a Calendar API
client on it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from balance_booking.emulators.google_calendar.app import EmulatorConfig, create_emulator_app
from tests.emulator.helpers import CAL, Emulator
from tests.support.live_server import serve_app

FAST_PUSH = EmulatorConfig(
    auto_consent=True,
    push_retry_delays_seconds=(0.05, 0.1, 0.2),
    push_timeout_seconds=2.0,
)


@pytest.fixture(scope="session")
def emulator_base() -> Iterator[str]:
    with serve_app(create_emulator_app(FAST_PUSH)) as base:
        yield base


@pytest.fixture
def emu(emulator_base: str) -> Iterator[Emulator]:
    with httpx.Client(base_url=emulator_base, timeout=10) as http:
        http.post("/_emulator/reset").raise_for_status()
        yield Emulator(base=emulator_base, http=http)


@pytest.fixture
def api(emu: Emulator) -> Iterator[httpx.Client]:
    """/calendar/v3 with a token for the full calendar scope."""
    tokens = emu.tokens([CAL])
    with emu.api(tokens["access_token"]) as client:
        yield client
