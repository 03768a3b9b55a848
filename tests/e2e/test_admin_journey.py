"""The admin's whole Google connection journey through the pages, and its security edges."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.fernet import Fernet, InvalidToken
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, text, update

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import (
    Container,
    build_app,
    build_container,
    create_admin,
    rotate_keys,
)
from balance_booking.config import Settings
from tests.conftest import FakeClock
from tests.support.google import INTEGRATION_API, NO_WAIT, OWNER, Emulator

PASSWORD = "correct horse battery staple"
PAGE = "/admin/settings/integrations"
KEY_A = Fernet.generate_key().decode()

pytestmark = pytest.mark.google(token_encryption_keys=SecretStr(KEY_A))
KEY_B = Fernet.generate_key().decode()


def sign_in(container: Container, email: str = "admin@example.com") -> TestClient:
    create_admin(container, email=email, password=PASSWORD)
    browser = TestClient(build_app(container))
    response = browser.post(
        "/admin/login",
        data={"email": email, "password": PASSWORD, "next": PAGE},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return browser


def csrf(browser: TestClient) -> str:
    page = browser.get(PAGE)
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def start_connect(browser: TestClient) -> str:
    """Press Connect on the page; returns Google's consent URL."""
    response = browser.post(
        f"{PAGE}/connect", data={"csrf_token": csrf(browser)}, follow_redirects=False
    )
    assert response.status_code == 303
    return str(response.headers["Location"])


def click_allow(consent_url: str) -> str:
    """The person on the emulator's consent page presses Allow; returns the callback path."""
    page = httpx.get(consent_url, timeout=10)
    assert page.status_code == 200
    assert "Эмоциональный баланс" in page.text, "the consent screen names the client"
    form = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert form is not None
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    ticked = re.findall(r'<input type="checkbox" name="scope" value="([^"]+)" checked>', page.text)
    email = re.search(r'<input id="email" name="email"[^>]*value="([^"]*)"', page.text)
    assert email is not None
    assert ticked, "the requested scopes are listed for the person to see"
    origin = consent_url.split("/o/oauth2", maxsplit=1)[0]
    action = form.group(1) if form.group(1).startswith("http") else origin + form.group(1)
    body = [
        *hidden,
        *(("scope", s) for s in ticked),
        ("email", email.group(1)),
        ("action", "allow"),
    ]
    answer = httpx.post(
        action,
        content=urlencode(body),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
        timeout=10,
    )
    assert answer.status_code in {302, 303}, answer.text
    return str(answer.headers["Location"]).removeprefix("http://testserver")


def test_login_connect_consent_status_reconnect_disconnect(
    container: Container, emulator: Emulator
) -> None:
    emulator.control.post("/_emulator/consent", json={"action": "manual"}).raise_for_status()
    browser = sign_in(container)
    callback = click_allow(start_connect(browser))
    done = browser.get(callback, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["Location"] == f"{PAGE}?result=connected"
    page = browser.get(done.headers["Location"])
    assert "Календарь подключён" in page.text
    assert OWNER in page.text
    assert "Europe/Moscow" in page.text
    status = browser.get(INTEGRATION_API).json()
    assert (status["status"], status["account_email"], status["timezone"]) == (
        "connected",
        OWNER,
        "Europe/Moscow",
    )

    assert (
        browser.get(click_allow(start_connect(browser)), follow_redirects=False).status_code == 303
    )
    assert browser.get(INTEGRATION_API).json()["status"] == "connected"

    # Without the dialog's confirmation the page only asks (issue 19): nothing is disconnected.
    asked = browser.post(
        f"{PAGE}/disconnect", data={"csrf_token": csrf(browser)}, follow_redirects=False
    )
    assert asked.status_code == 303
    assert asked.headers["Location"] == f"{PAGE}?confirm=disconnect#disconnect-dialog"
    assert browser.get(INTEGRATION_API).json()["status"] == "connected"
    question = browser.get(f"{PAGE}?confirm=disconnect", headers={"Accept-Language": "ru"})
    assert '<dialog id="disconnect-dialog"' in question.text
    assert "в том числе время, занятое в Google Календаре" in question.text

    gone = browser.post(
        f"{PAGE}/disconnect",
        data={"csrf_token": csrf(browser), "confirm": "yes"},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert gone.headers["Location"] == f"{PAGE}?result=disconnected"
    assert browser.get(INTEGRATION_API).json()["status"] == "disconnected"
    refresh_tokens = emulator.state()["refresh_tokens"]
    assert isinstance(refresh_tokens, list)
    assert all(token["revoked"] for token in refresh_tokens), "the emulator shows the grant revoked"
    emulator.control.delete("/_emulator/consent")


def test_state_from_another_admin_session_is_refused(
    container: Container, emulator: Emulator
) -> None:
    first = sign_in(container, "first@example.com")
    second = sign_in(container, "second@example.com")
    callback = httpx.get(start_connect(first), follow_redirects=False, timeout=10).headers[
        "Location"
    ]
    stolen = second.get(callback.removeprefix("http://testserver"), follow_redirects=False)
    assert stolen.status_code == 400
    assert stolen.json()["error"]["code"] == "invalid_state"
    assert second.get(INTEGRATION_API).json()["status"] == "disconnected"


def test_pkce_verifier_mismatch_is_refused_by_google(
    container: Container, emulator: Emulator
) -> None:
    browser = sign_in(container)
    consent_url = start_connect(browser)
    # Swap the stored verifier: the code exchange then presents a verifier Google never saw.
    forged = container.cipher.encrypt("x" * 64)
    with container.engine.begin() as connection:
        connection.execute(update(t.oauth_states).values(code_verifier_enc=forged))
    callback = httpx.get(consent_url, follow_redirects=False, timeout=10).headers["Location"]
    done = browser.get(callback.removeprefix("http://testserver"), follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["Location"].startswith(f"{PAGE}?result=failed")
    assert "invalid_grant" in done.headers["Location"]
    assert browser.get(INTEGRATION_API).json()["status"] == "disconnected"


def test_cookie_post_without_csrf_is_refused(container: Container) -> None:
    browser = sign_in(container)
    assert browser.post(f"{PAGE}/connect", follow_redirects=False).status_code == 403
    assert browser.post(f"{INTEGRATION_API}/connect").status_code == 403


def test_no_token_in_logs_or_database(
    container: Container, emulator: Emulator, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    browser = sign_in(container)
    callback = httpx.get(start_connect(browser), follow_redirects=False, timeout=10).headers[
        "Location"
    ]
    assert (
        browser.get(callback.removeprefix("http://testserver"), follow_redirects=False).status_code
        == 303
    )
    assert (
        browser.post(f"{INTEGRATION_API}/sync", headers={"X-CSRF-Token": csrf(browser)}).status_code
        == 200
    )
    state = emulator.state()
    secrets = [str(tok["token"]) for tok in state["access_tokens"]] + [  # type: ignore[union-attr]
        str(tok["token"])
        for tok in state["refresh_tokens"]  # type: ignore[union-attr]
    ]
    assert secrets
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "google_calendar_connected" in logged, "the scan saw the flow's log records"
    assert "HTTP Request: POST" in logged, "and the HTTP client's, at DEBUG"
    for secret in secrets:
        assert secret not in logged
    assert not re.search(r"ya29\.[A-Za-z0-9_-]{8,}|1//[A-Za-z0-9_-]{8,}", logged)
    with container.engine.connect() as connection:
        dump = []
        for table in t.metadata.sorted_tables:
            dump.extend(str(row) for row in connection.execute(select(table)))
    everything = "\n".join(dump)
    for secret in secrets:
        assert secret not in everything
    if container.is_sqlite():
        raw = Path(container.engine.url.database or "").read_bytes()
        wal = Path(f"{container.engine.url.database}-wal")
        raw += wal.read_bytes() if wal.exists() else b""
        for secret in secrets:
            assert secret.encode() not in raw


def test_rotation_leaves_no_ciphertext_under_the_old_key(
    container: Container, emulator: Emulator, settings: Settings, clock: FakeClock
) -> None:
    browser = sign_in(container)
    callback = httpx.get(start_connect(browser), follow_redirects=False, timeout=10).headers[
        "Location"
    ]
    browser.get(callback.removeprefix("http://testserver"), follow_redirects=False)
    rotating = build_container(
        settings.model_copy(update={"token_encryption_keys": SecretStr(f"{KEY_B},{KEY_A}")}),
        clock=clock,
        retry=NO_WAIT,
    )
    try:
        rotate_keys(rotating)
    finally:
        rotating.close()
    with container.engine.connect() as connection:
        row = connection.execute(select(t.integrations_google_calendar)).one()
        verifiers = (
            connection.execute(text("SELECT code_verifier_enc FROM oauth_states")).scalars().all()
        )
    ciphertexts = [row.access_token_enc, row.refresh_token_enc, *verifiers]
    old, new = Fernet(KEY_A.encode()), Fernet(KEY_B.encode())
    for value in ciphertexts:
        with pytest.raises(InvalidToken):
            old.decrypt(value.encode())
        new.decrypt(value.encode())
    only_b = build_container(
        settings.model_copy(update={"token_encryption_keys": SecretStr(KEY_B)}),
        clock=clock,
        retry=NO_WAIT,
    )
    try:
        assert only_b.tokens.current()
    finally:
        only_b.close()
