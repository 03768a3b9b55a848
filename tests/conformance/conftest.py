"""Fixtures: one live emulator per test module, a fresh registered OAuth client and an authorised
discovery-built Calendar client per test (the emulator is reset before each test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from balance_booking.adapters.gcal_emulator.app import EmulatorConfig, create_emulator_app
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import Resource

from tests.conformance.harness import (
    SCOPE_CALENDAR,
    EmulatorControl,
    OAuthClient,
    calendar_service,
    obtain_credentials,
)
from tests.support.live_server import serve_app


@pytest.fixture(scope="session", autouse=True)
def _oauthlib_accepts_loopback_http() -> Iterator[None]:
    # oauthlib refuses http:// token endpoints unless told otherwise; the emulator is plain
    # http on 127.0.0.1 (protocol doc 2.8). Scope relaxing is NOT set: a token response whose
    # scope differs from the request must keep failing loudly.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
        yield


@pytest.fixture(scope="module")
def emulator_base() -> Iterator[str]:
    with serve_app(create_emulator_app(EmulatorConfig(auto_consent=True))) as base:
        yield base


@pytest.fixture(scope="module")
def control(emulator_base: str) -> Iterator[EmulatorControl]:
    emulator = EmulatorControl(emulator_base)
    yield emulator
    emulator.close()


@pytest.fixture
def oauth_client(emulator_base: str, control: EmulatorControl) -> OAuthClient:
    control.reset()
    client = OAuthClient(base=emulator_base)
    control.register_client(client)
    return client


@pytest.fixture
def credentials(oauth_client: OAuthClient) -> Credentials:
    return obtain_credentials(oauth_client, [SCOPE_CALENDAR])


@pytest.fixture
def calendar(emulator_base: str, credentials: Credentials) -> Resource:
    return calendar_service(emulator_base, credentials)
