"""Connecting Google Calendar end to end against the emulator: connect, reconnect, disconnect."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container, build_app, create_admin
from tests.support.google import (
    CLIENT_ID,
    OWNER,
    Emulator,
    connect_calendar,
    consent,
    query_of,
)

pytestmark = pytest.mark.google()


API = "/api/admin/integrations/google-calendar"


def test_authorization_url_asks_for_the_minimum(admin: TestClient, emulator: Emulator) -> None:
    url = admin.post(f"{API}/connect").json()["authorization_url"]
    assert url.startswith(f"{emulator.base}/o/oauth2/v2/auth?")
    query = query_of(url)
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://testserver" + API + "/callback"
    assert query["access_type"] == "offline"
    assert query["prompt"] == "consent"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43
    assert set(query["scope"].split()) == {
        "https://www.googleapis.com/auth/calendar.events.owned",
        "https://www.googleapis.com/auth/calendar.freebusy",
        # Optional: the calendar list, to choose which calendars block time (docs/sync.md).
        "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
        "openid",
        "email",
    }


def test_connect_reconnect_disconnect(
    admin: TestClient, emulator: Emulator, container: Container
) -> None:
    before = admin.get(API).json()
    assert before["status"] == "disconnected"
    assert before["enabled"] is True

    assert connect_calendar(admin) == "/admin/settings/integrations?result=connected"
    status = admin.get(API).json()
    assert status["status"] == "connected"
    assert status["account_email"] == OWNER
    assert status["timezone"] == "Europe/Moscow"
    assert status["calendar_id"] == "primary"
    assert status["push"] == {"active": False, "expires_at": None}

    with container.engine.connect() as connection:
        row = connection.execute(select(t.integrations_google_calendar)).one()
    live = [token for token in emulator.state()["refresh_tokens"] if not token["revoked"]]  # type: ignore[union-attr,index]
    assert len(live) == 1
    # Stored encrypted: the plaintext refresh token appears nowhere in the row.
    assert live[0]["token"] not in str(row)
    assert row.refresh_token_enc
    assert row.access_token_enc

    assert connect_calendar(admin) == "/admin/settings/integrations?result=connected"
    assert admin.get(API).json()["status"] == "connected"

    disconnected = admin.post(f"{API}/disconnect").json()
    assert disconnected["status"] == "disconnected"
    assert disconnected["account_email"] == OWNER  # settings are kept
    refresh_tokens = emulator.state()["refresh_tokens"]
    assert isinstance(refresh_tokens, list)
    assert refresh_tokens
    assert all(token["revoked"] for token in refresh_tokens)
    with container.engine.connect() as connection:
        row = connection.execute(select(t.integrations_google_calendar)).one()
    assert row.refresh_token_enc is None
    assert row.access_token_enc is None


def test_access_denied_stores_nothing(admin: TestClient, emulator: Emulator) -> None:
    emulator.control.post("/_emulator/consent", json={"action": "deny"}).raise_for_status()
    try:
        assert connect_calendar(admin).startswith("/admin/settings/integrations?result=denied")
    finally:
        emulator.control.delete("/_emulator/consent")
    assert admin.get(API).json()["status"] == "disconnected"


def test_partial_grant_is_refused_and_revoked(admin: TestClient, emulator: Emulator) -> None:
    emulator.control.post(
        "/_emulator/consent",
        json={
            "action": "allow",
            "scopes": ["https://www.googleapis.com/auth/calendar.freebusy", "openid", "email"],
        },
    ).raise_for_status()
    try:
        location = connect_calendar(admin)
    finally:
        emulator.control.delete("/_emulator/consent")
    assert location.startswith("/admin/settings/integrations?result=partial")
    assert "calendar.events.owned" in query_of(location)["detail"]
    assert admin.get(API).json()["status"] == "disconnected"


def test_a_partial_re_consent_keeps_the_working_connection_and_names_the_permission(
    admin: TestClient, emulator: Emulator, container: Container
) -> None:
    assert connect_calendar(admin).endswith("result=connected")
    emulator.control.post(
        "/_emulator/consent",
        json={
            "action": "allow",
            "scopes": ["https://www.googleapis.com/auth/calendar.freebusy", "openid", "email"],
        },
    ).raise_for_status()
    try:
        location = connect_calendar(admin)
    finally:
        emulator.control.delete("/_emulator/consent")
    assert location.startswith("/admin/settings/integrations?result=partial")
    status = admin.get(API).json()
    assert status["status"] == "connected"
    assert admin.post(f"{API}/sync").status_code == 200, "the old grant still works"
    # The page, as the signed-in practitioner sees it after the redirect.
    create_admin(container, email="owner@example.com", password="correct horse battery")
    with TestClient(build_app(container)) as browser:
        signed_in = browser.post(
            "/admin/login",
            data={"email": "owner@example.com", "password": "correct horse battery"},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        page = browser.get(location, headers={"Accept-Language": "ru"})
    assert page.status_code == 200
    assert "Не отмечено разрешение: создавать и изменять события в ваших календарях." in page.text
    assert "Прежнее подключение продолжает работать." in page.text
    assert "googleapis.com/auth" not in page.text, "no raw scope URL"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("", id="missing-state"),
        pytest.param("?state=forged-state-value&code=abc", id="forged-state"),
    ],
)
def test_bad_state_is_400_and_stores_nothing(admin: TestClient, query: str) -> None:
    response = admin.get(f"{API}/callback{query}", follow_redirects=False)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_state"
    assert admin.get(API).json()["status"] == "disconnected"


def test_replayed_state_is_400(admin: TestClient) -> None:
    callback = consent(admin.post(f"{API}/connect").json()["authorization_url"])
    assert admin.get(callback, follow_redirects=False).status_code == 303
    replay = admin.get(callback, follow_redirects=False)
    assert replay.status_code == 400
    assert replay.json()["error"]["code"] == "invalid_state"


def test_expired_state_is_400(admin: TestClient, clock: object) -> None:
    from datetime import timedelta  # noqa: PLC0415

    callback = consent(admin.post(f"{API}/connect").json()["authorization_url"])
    clock.advance(timedelta(minutes=11))  # type: ignore[attr-defined]
    response = admin.get(callback, follow_redirects=False)
    assert response.status_code == 400
    assert admin.get(API).json()["status"] == "disconnected"


def test_feature_flag_toggle(admin: TestClient) -> None:
    assert admin.put(f"{API}/settings", json={"enabled": False}).json()["enabled"] is False
    assert admin.get(API).json()["enabled"] is False
    assert admin.put(f"{API}/settings", json={"enabled": True}).json()["enabled"] is True
