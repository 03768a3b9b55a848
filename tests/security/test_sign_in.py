"""Wrong passwords from attacker addresses (behind a trusted proxy's X-Forwarded-For) never lock
the real admin out, and refused sign-ins are counted, not stored (API.md "Public edge")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container, build_app, create_admin

pytestmark = pytest.mark.both_databases

EMAIL = "owner@example.com"
PASSWORD = "correct horse battery"
ATTACKERS = [f"198.51.100.{n}" for n in range(1, 6)]


@pytest.fixture
def behind_proxy(container: Container) -> Iterator[TestClient]:
    """The app as uvicorn runs it behind a trusted proxy (FORWARDED_ALLOW_IPS = the proxy)."""
    create_admin(container, email=EMAIL, password=PASSWORD)
    app = ProxyHeadersMiddleware(build_app(container), trusted_hosts="10.0.0.1")
    with TestClient(app, client=("10.0.0.1", 40000)) as client:
        yield client


def sign_in(client: TestClient, *, address: str, password: str) -> int:
    response = client.post(
        "/admin/login",
        data={"email": EMAIL, "password": password, "next": ""},
        headers={"X-Forwarded-For": address},
        follow_redirects=False,
    )
    return response.status_code


@pytest.mark.parametrize(
    "wrong",
    # Each address gets a handful of real (argon2, ~0.1 s) checks before it must wait.
    [5, pytest.param(50, marks=pytest.mark.slow), pytest.param(500, marks=pytest.mark.slow)],
)
def test_wrong_passwords_from_attackers_never_lock_the_admin_out(
    behind_proxy: TestClient, container: Container, wrong: int
) -> None:
    codes = [
        sign_in(behind_proxy, address=ATTACKERS[n % len(ATTACKERS)], password=f"guess {n}!")
        for n in range(wrong)
    ]
    assert set(codes) <= {401, 429}
    if wrong > 5 * len(ATTACKERS):
        assert 429 in codes, "the attackers were slowed down"
    assert sign_in(behind_proxy, address="203.0.113.77", password=PASSWORD) == 303
    with container.engine.connect() as connection:
        attempts = connection.execute(select(func.count()).select_from(t.admin_login_attempts))
        counters = connection.execute(select(func.count()).select_from(t.throttle_counters))
        assert attempts.scalar_one() == 1, "only the success is a row"
        assert counters.scalar_one() <= 2 * len(ATTACKERS)


def test_the_proxy_hop_is_the_address_and_a_forged_one_from_elsewhere_is_not(
    container: Container,
) -> None:
    create_admin(container, email=EMAIL, password=PASSWORD)
    app = ProxyHeadersMiddleware(build_app(container), trusted_hosts="10.0.0.1")
    # A client that is not the proxy cannot choose its address with the header: its failures
    # count against its own address, whatever it claims.
    with TestClient(app, client=("198.51.100.200", 40000)) as direct:
        for n in range(6):
            sign_in(direct, address=f"203.0.113.{n}", password="wrong!")
        assert sign_in(direct, address="203.0.113.99", password=PASSWORD) == 429
    with TestClient(app, client=("10.0.0.1", 40000)) as proxy:
        assert sign_in(proxy, address="203.0.113.99", password=PASSWORD) == 303
