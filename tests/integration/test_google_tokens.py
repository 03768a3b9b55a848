"""Stored Google tokens: refresh before expiry and on 401, single-flight, revocation, key loss."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy import select

from balance_booking.adapters.db import tables as t
from balance_booking.application.errors import AccessRevokedError
from balance_booking.bootstrap import Container, build_container, rotate_keys
from balance_booking.config import Settings
from tests.conftest import FakeClock
from tests.support.google import (
    INTEGRATION_API,
    NO_WAIT,
    OWNER,
    Emulator,
    connect_calendar,
)

KEY_A = Fernet.generate_key().decode()

pytestmark = [pytest.mark.google(token_encryption_keys=SecretStr(KEY_A)), pytest.mark.reliability]
KEY_B = Fernet.generate_key().decode()


def stored(container: Container) -> tuple[str | None, str | None, str]:
    with container.engine.connect() as connection:
        row = connection.execute(select(t.integrations_google_calendar)).one()
    return row.access_token_enc, row.refresh_token_enc, row.status


def row_updated_at(container: Container) -> object:
    with container.engine.connect() as connection:
        return connection.execute(select(t.integrations_google_calendar.c.updated_at)).scalar_one()


def access_tokens_issued(emulator: Emulator) -> int:
    tokens = emulator.state()["access_tokens"]
    assert isinstance(tokens, list)
    return len(tokens)


def revoked_metric(reason: str) -> float:
    value = REGISTRY.get_sample_value("balance_google_access_revoked_total", {"reason": reason})
    return value or 0.0


def test_expiring_token_is_refreshed_before_use(
    connected: TestClient, container: Container, clock: FakeClock, emulator: Emulator
) -> None:
    gateway = container.gateways(container.tokens)
    first_access = container.tokens.current()
    issued = access_tokens_issued(emulator)
    clock.advance(timedelta(minutes=59, seconds=30))  # inside the one-minute early-refresh margin
    assert gateway.primary_calendar().timezone == "Europe/Moscow"
    assert container.tokens.current() != first_access
    assert access_tokens_issued(emulator) == issued + 1


def test_401_refreshes_once_and_retries(
    connected: TestClient, container: Container, emulator: Emulator
) -> None:
    before = container.tokens.current()
    # Google expires the token early (our clock still thinks it is valid).
    emulator.control.post("/_emulator/clock", json={"advance_seconds": 7200}).raise_for_status()
    try:
        info = container.gateways(container.tokens).primary_calendar()
    finally:
        emulator.control.post("/_emulator/reset")
    assert info.timezone == "Europe/Moscow"
    assert container.tokens.current() != before


@pytest.mark.both_databases
def test_concurrent_refreshes_make_one_call_to_google(
    connected: TestClient, settings: Settings, clock: FakeClock, emulator: Emulator
) -> None:
    stale = None
    issued = access_tokens_issued(emulator)
    containers = [build_container(settings, clock=clock, retry=NO_WAIT) for _ in range(4)]
    try:
        stale = containers[0].tokens.current()
        results: list[str] = []
        errors: list[BaseException] = []

        def refresh(container: Container) -> None:
            try:
                results.append(container.tokens.refreshed(stale or ""))
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=refresh, args=(c,)) for c in containers * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for container in containers:
            container.close()
    assert errors == []
    assert len(results) == 8
    assert len(set(results)) == 1, "every caller got the one refreshed token"
    assert results[0] != stale
    assert access_tokens_issued(emulator) == issued + 1


def test_revoked_grant_means_needs_reauth_without_retry_loop(
    connected: TestClient, container: Container, clock: FakeClock, emulator: Emulator
) -> None:
    emulator.control.post("/_emulator/revoke", json={"email": OWNER}).raise_for_status()
    before = revoked_metric("invalid_grant")
    undecryptable = revoked_metric("undecryptable_token")
    clock.advance(timedelta(hours=2))
    with pytest.raises(AccessRevokedError):
        container.tokens.current()
    assert revoked_metric("invalid_grant") == before + 1
    access, refresh, status = stored(container)
    assert (access, refresh, status) == (None, None, "needs_reauth")
    body = connected.get(INTEGRATION_API).json()
    assert body["status"] == "needs_reauth"
    assert body["account_email"] == OWNER
    # A second use does not call Google again: it fails fast on the stored status, without
    # alerting again (found by the soak: every booking re-marked the row and logged an error).
    updated_at = row_updated_at(container)
    for _ in range(3):
        with pytest.raises(AccessRevokedError):
            container.tokens.current()
    assert revoked_metric("invalid_grant") == before + 1
    assert revoked_metric("undecryptable_token") == undecryptable
    assert row_updated_at(container) == updated_at, "the row is not written again"


def test_a_refused_refresh_does_not_undo_a_reconnect_made_meanwhile(
    connected: TestClient,
    container: Container,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Found by the soak: a worker's refresh with the revoked token was still in flight when the
    # admin reconnected; Google's `invalid_grant` for the old token then wiped the new grant.
    stale = container.tokens.current()
    emulator.control.post("/_emulator/revoke", json={"email": OWNER}).raise_for_status()
    assert container.oauth is not None
    refresh = container.oauth.refresh
    reconnected: list[str] = []

    def admin_reconnects_meanwhile(refresh_token: str) -> Any:
        if not reconnected:
            reconnected.append(connect_calendar(connected))
        return refresh(refresh_token)

    monkeypatch.setattr(container.oauth, "refresh", admin_reconnects_meanwhile)
    with pytest.raises(AccessRevokedError):
        container.tokens.refreshed(stale)
    assert reconnected[0].endswith("result=connected")
    access, refresh_token, status = stored(container)
    assert status == "connected"
    assert access is not None
    assert refresh_token is not None
    assert container.tokens.current() != stale
    assert connected.post(f"{INTEGRATION_API}/sync").status_code == 200


def test_lost_key_means_needs_reauth_not_a_500(
    connected: TestClient, settings: Settings, clock: FakeClock
) -> None:
    other = build_container(
        settings.model_copy(update={"token_encryption_keys": SecretStr(KEY_B)}),
        clock=clock,
        retry=NO_WAIT,
    )
    try:
        with pytest.raises(AccessRevokedError):
            other.tokens.current()
        report = rotate_keys(other)
    finally:
        other.close()
    assert report.rotated == 0
    body = connected.get(INTEGRATION_API)
    assert body.status_code == 200
    assert body.json()["status"] == "needs_reauth"


def test_rotate_keys_reencrypts_under_the_first_key(
    connected: TestClient, container: Container, settings: Settings, clock: FakeClock
) -> None:
    plaintext = container.tokens.current()
    rotating = build_container(
        settings.model_copy(update={"token_encryption_keys": SecretStr(f"{KEY_B},{KEY_A}")}),
        clock=clock,
        retry=NO_WAIT,
    )
    try:
        report = rotate_keys(rotating)
    finally:
        rotating.close()
    assert report.rotated == 3  # access token, refresh token, the (spent) OAuth state's verifier
    assert report.undecryptable == 0
    only_new = build_container(
        settings.model_copy(update={"token_encryption_keys": SecretStr(KEY_B)}),
        clock=clock,
        retry=NO_WAIT,
    )
    try:
        assert only_new.tokens.current() == plaintext
    finally:
        only_new.close()
