"""Admin API tokens have a lifecycle (API.md "Public edge"): listed without their secrets, with
their last use and expiry; a revoked or expired token is 401."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from balance_booking.bootstrap import Container, create_admin_token
from tests.conftest import FakeClock

pytestmark = pytest.mark.both_databases


def test_tokens_are_listed_revoked_and_expire(
    client: TestClient, container: Container, clock: FakeClock
) -> None:
    keeper = create_admin_token(container, name="keeper")
    spare = create_admin_token(container, name="spare", lifetime=None)
    short = create_admin_token(container, name="short", lifetime=timedelta(days=1))
    as_keeper = {"Authorization": f"Bearer {keeper}"}
    assert (
        client.get("/api/admin/tokens", headers={"Authorization": f"Bearer {short}"}).status_code
        == 200
    )
    clock.advance(timedelta(minutes=5))
    listed = client.get("/api/admin/tokens", headers=as_keeper)
    assert listed.status_code == 200
    tokens = listed.json()["tokens"]
    assert [t["name"] for t in tokens] == ["keeper", "spare", "short"]
    assert set(tokens[0]) == {"id", "name", "created_at", "last_used_at", "expires_at"}
    assert tokens[0]["last_used_at"] is not None
    assert tokens[1]["expires_at"] is None
    assert tokens[1]["last_used_at"] is None
    assert tokens[0]["expires_at"].startswith("2027-02-28")  # 90 days by default
    for secret in (keeper, spare, short):
        assert secret not in listed.text
    spare_id = tokens[1]["id"]
    assert client.delete(f"/api/admin/tokens/{spare_id}", headers=as_keeper).status_code == 204
    assert (
        client.get("/api/admin/tokens", headers={"Authorization": f"Bearer {spare}"}).status_code
        == 401
    )
    assert client.delete(f"/api/admin/tokens/{spare_id}", headers=as_keeper).status_code == 404
    clock.advance(timedelta(days=1))
    expired = client.get("/api/admin/schedule", headers={"Authorization": f"Bearer {short}"})
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "unauthorized"
    assert client.get("/api/admin/schedule", headers=as_keeper).status_code == 200


def test_the_integrations_page_lists_tokens_and_revokes_one(
    client: TestClient, container: Container
) -> None:
    from balance_booking.bootstrap import create_admin  # noqa: PLC0415

    create_admin(container, email="owner@example.com", password="correct horse battery")
    secret = create_admin_token(container, name="payments-script")
    signed_in = client.post(
        "/admin/login",
        data={"email": "owner@example.com", "password": "correct horse battery"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    page = client.get("/admin/settings/integrations", headers={"Accept-Language": "ru"})
    assert "payments-script" in page.text
    assert "ещё не использовался" in page.text
    assert secret not in page.text
    token_id = client.get("/api/admin/tokens").json()["tokens"][0]["id"]
    csrf = client.get("/api/admin/session").json()["csrf_token"]
    revoked = client.post(
        f"/admin/settings/integrations/tokens/{token_id}/revoke",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert "result=token_revoked" in revoked.headers["location"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/admin/schedule", headers=bearer).status_code == 401
