"""Fixtures: one live emulator per test module, a fresh registered OAuth client and an authorised
discovery-built Calendar client per test (the emulator is reset before each test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import Resource

from tests.conformance.harness import (
    SCOPE_CALENDAR,
    EmulatorControl,
    OAuthClient,
    obtain_credentials,
    serve_emulator,
)


@pytest.fixture(scope="module", autouse=True)
def _oauthlib_accepts_loopback_http() -> Iterator[None]:
    # oauthlib refuses http:// token endpoints unless told otherwise; the emulator is plain
    # http on 127.0.0.1 (protocol doc 2.8). Module scope keeps the switch out of other test
    # directories. Scope relaxing is NOT set: a token response whose scope differs from the
    # request must keep failing loudly.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
        yield


@pytest.fixture(scope="module")
def emulator_base() -> Iterator[str]:
    with serve_emulator() as base:
        yield base


@pytest.fixture(scope="module")
def control(emulator_base: str) -> Iterator[EmulatorControl]:
    emulator = EmulatorControl(emulator_base)
    yield emulator
    emulator.close()


@pytest.fixture
def oauth_client(control: EmulatorControl) -> Iterator[OAuthClient]:
    client = control.new_client()
    yield client
    client.close()


@pytest.fixture
def credentials(oauth_client: OAuthClient) -> Credentials:
    return obtain_credentials(oauth_client, [SCOPE_CALENDAR])


@pytest.fixture
def calendar(oauth_client: OAuthClient, credentials: Credentials) -> Resource:
    return oauth_client.calendar(credentials)
