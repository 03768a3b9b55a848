"""Admin sign-in: sessions, cookie flags, CSRF, rate limits, expiry, redirects, request ids."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import argon2
import httpx
import pytest
from fastapi.testclient import TestClient

from balance_booking.adapters.db.migrate import migrate
from balance_booking.adapters.passwords import Argon2PasswordHasher
from balance_booking.application.admin_auth import CreateAdmin, hash_session_id
from balance_booking.bootstrap import Container, build_app, build_container, create_admin
from balance_booking.config import Settings
from balance_booking.web.auth import PageAdminDep
from tests.conftest import FakeClock
from tests.integration.helpers import WEEKDAYS_10_TO_18

EMAIL = "owner@example.com"
PASSWORD = "correct horse battery"
DEFAULT_PAGE = "/admin/settings/integrations"


@pytest.fixture
def owner(container: Container) -> str:
    create_admin(container, email=EMAIL, password=PASSWORD)
    return EMAIL


def login(
    client: TestClient, *, email: str = EMAIL, password: str = PASSWORD, next_path: str = ""
) -> httpx.Response:
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "next": next_path},
        follow_redirects=False,
    )


def set_cookie_header(response: httpx.Response) -> str:
    return response.headers["set-cookie"]


def csrf_token(client: TestClient) -> str:
    body = client.get("/api/admin/session").json()
    assert body["kind"] == "session"
    token: str = body["csrf_token"]
    return token


def test_session_cookie_flow_with_csrf_and_logout(client: TestClient, owner: str) -> None:
    assert client.get("/api/admin/schedule").status_code == 401

    response = login(client, next_path="/admin/schedule/")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/schedule/"
    cookie = set_cookie_header(response)
    assert cookie.startswith("bb_admin=")
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert f"max-age={12 * 3600}" in flags
    assert "secure" not in flags  # the test app's public base URL is http
    session_id = client.cookies["bb_admin"]

    assert client.get("/api/admin/schedule").status_code == 200
    me = client.get("/api/admin/session")
    assert me.json()["label"] == EMAIL
    assert me.headers["cache-control"] == "no-store"

    refused = client.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    wrong = client.put(
        "/api/admin/schedule", json=WEEKDAYS_10_TO_18, headers={"X-CSRF-Token": "not-it"}
    )
    assert wrong.status_code == 403
    token = csrf_token(client)
    accepted = client.put(
        "/api/admin/schedule", json=WEEKDAYS_10_TO_18, headers={"X-CSRF-Token": token}
    )
    assert accepted.status_code == 200
    assert accepted.json()["weekly"]["mon"] == [["10:00", "18:00"]]

    # The logout form carries the token as a form field; without it nothing happens.
    assert client.post("/admin/logout", follow_redirects=False).status_code == 403
    out = client.post("/admin/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/admin/login"
    assert 'bb_admin=""' in set_cookie_header(out) or "max-age=0" in set_cookie_header(out).lower()

    # The server forgot the session: replaying the old cookie value does not work.
    client.cookies.clear()
    client.cookies.set("bb_admin", session_id)
    again = client.get("/api/admin/schedule")
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "unauthorized"


def test_cookie_is_secure_behind_https(database_url: str, tmp_path: Path, clock: FakeClock) -> None:
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        public_base_url="https://booking.example.org",
        _env_file=None,  # type: ignore[call-arg]
    )
    container = build_container(settings, clock=clock)
    try:
        if container.is_sqlite():
            migrate(container.engine)
        create_admin(container, email=EMAIL, password=PASSWORD)
        with TestClient(build_app(container), base_url="https://testserver") as client:
            response = login(client)
            assert response.status_code == 303
            flags = [part.strip().lower() for part in set_cookie_header(response).split(";")]
            assert "secure" in flags
            assert "httponly" in flags
            assert client.get("/api/admin/schedule").status_code == 200
    finally:
        container.close()


def test_bearer_tokens_need_no_csrf(client: TestClient, admin_token: str) -> None:
    response = client.put(
        "/api/admin/schedule",
        json=WEEKDAYS_10_TO_18,
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert response.status_code == 200
    me = client.get("/api/admin/session", headers={"Authorization": f"Bearer {admin_token}"})
    assert me.json() == {
        "kind": "token",
        "label": "token:test",
        "csrf_token": None,
        "expires_at": None,
    }


def test_a_wrong_bearer_token_is_not_rescued_by_a_session(client: TestClient, owner: str) -> None:
    assert login(client).status_code == 303
    response = client.get("/api/admin/schedule", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401


def test_wrong_password_and_unknown_email_look_the_same(client: TestClient, owner: str) -> None:
    wrong = login(client, password="not the password")
    unknown = login(client, email="nobody@example.com")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "set-cookie" not in response.headers
        assert "Неверная почта или пароль." in response.text
        assert "Wrong email or password." not in response.text, "only the page's language"
        assert 'role="alert"' in response.text
    assert client.get("/api/admin/schedule").status_code == 401


def test_the_sign_in_error_speaks_the_page_language_only(client: TestClient, owner: str) -> None:
    english = client.post(
        "/admin/login?lang=en",
        data={"email": EMAIL, "password": "not the password"},
        follow_redirects=False,
    )
    assert english.status_code == 401
    assert "Wrong email or password." in english.text
    assert "Caps Lock" in english.text  # what to do next
    assert "Неверная" not in english.text


def test_emails_are_case_insensitive(client: TestClient, owner: str) -> None:
    assert login(client, email="  Owner@Example.COM ").status_code == 303


def test_failures_slow_down_that_address_and_the_wait_passes(
    client: TestClient, container: Container, owner: str, clock: FakeClock
) -> None:
    for _ in range(5):
        assert login(client, password="wrong password!").status_code == 401
    limited = login(client, password="wrong password!")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    assert "Слишком много неудачных попыток." in limited.text
    assert "попробуйте снова через 1 минуту." in limited.text  # Russian plural forms
    assert "Too many" not in limited.text
    # Even the right password waits, from this address ...
    assert login(client).status_code == 429
    # ... but never from another one.
    with TestClient(build_app(container), client=("192.0.2.44", 50000)) as elsewhere:
        assert login(elsewhere).status_code == 303
    clock.advance(timedelta(seconds=1))
    response = login(client)
    assert response.status_code == 303
    assert client.get("/api/admin/schedule").status_code == 200


def test_session_expires_after_twelve_hours(
    client: TestClient, container: Container, owner: str, clock: FakeClock
) -> None:
    assert login(client).status_code == 303
    session_hash = hash_session_id(client.cookies["bb_admin"])
    clock.advance(timedelta(hours=12) - timedelta(seconds=1))
    assert client.get("/api/admin/schedule").status_code == 200
    clock.advance(timedelta(seconds=1))
    assert client.get("/api/admin/schedule").status_code == 401
    with container.readers() as uow:
        assert uow.admin_sessions.get(session_hash) is None


def test_old_password_hashes_are_upgraded_on_login(
    client: TestClient, container: Container
) -> None:
    weak = Argon2PasswordHasher(argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    CreateAdmin(uow_factory=container.writers, hasher=weak, clock=container.clock).execute(
        email=EMAIL, password=PASSWORD
    )
    with container.readers() as uow:
        before = uow.admin_users.by_email(EMAIL)
    assert before is not None
    assert "m=8,t=1" in before.password_hash
    assert login(client).status_code == 303
    with container.readers() as uow:
        after = uow.admin_users.by_email(EMAIL)
    assert after is not None
    assert after.password_hash.startswith("$argon2id$")
    assert "m=65536,t=3" in after.password_hash
    assert login(client).status_code == 303


@pytest.fixture
def page_client(container: Container) -> Iterator[TestClient]:
    """The app plus one admin page (the real pages come with their own features)."""
    app = build_app(container)

    @app.get("/admin/probe")
    def probe(admin: PageAdminDep) -> dict[str, str]:
        return {"admin": admin.label}

    with TestClient(app) as client:
        yield client


def test_anonymous_page_visit_goes_to_login_and_back(page_client: TestClient, owner: str) -> None:
    response = page_client.get("/admin/probe?tab=a&b=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/probe%3Ftab%3Da%26b%3D1"

    form = page_client.get(response.headers["location"])
    assert form.status_code == 200
    assert 'name="next" value="/admin/probe?tab=a&amp;b=1"' in form.text
    assert '<label for="email">' in form.text
    assert '<label for="password">' in form.text
    assert form.headers["cache-control"] == "no-store"

    signed_in = login(page_client, next_path="/admin/probe?tab=a&b=1")
    assert signed_in.headers["location"] == "/admin/probe?tab=a&b=1"
    assert page_client.get("/admin/probe").json() == {"admin": EMAIL}
    # Signed in already: the login page sends the admin on.
    again = page_client.get("/admin/login?next=/admin/probe", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == "/admin/probe"


def test_expired_session_on_a_page_redirects_and_clears_the_cookie(
    page_client: TestClient, owner: str, clock: FakeClock
) -> None:
    assert login(page_client).status_code == 303
    clock.advance(timedelta(hours=13))
    response = page_client.get("/admin/probe", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/probe"
    assert "bb_admin" in response.headers["set-cookie"]
    assert "bb_admin" not in page_client.cookies


def test_anonymous_logout_goes_to_login(client: TestClient) -> None:
    response = client.post("/admin/logout", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.com",
        "https://evil.com",
        "/\\evil.com",
        "/\t/evil.com",
        "evil.com",
        "javascript:alert(1)",
        "",
    ],
    ids=["scheme-relative", "absolute", "backslash", "tab", "relative-host", "javascript", "none"],
)
def test_open_redirects_land_on_the_default_page(
    client: TestClient, owner: str, next_path: str
) -> None:
    response = login(client, next_path=next_path)
    assert response.status_code == 303
    assert response.headers["location"] == DEFAULT_PAGE


def test_login_page_escapes_what_it_echoes(client: TestClient) -> None:
    page = client.get("/admin/login", params={"next": '/x"><script>alert(1)</script>'})
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert client.get("/static/app.css").status_code == 200


def test_request_ids_are_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    forged = client.get("/healthz", headers={"X-Request-ID": 'x" injected="1'})
    assert forged.headers["x-request-id"] != 'x" injected="1'
