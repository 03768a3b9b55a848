"""What the contract fuzzing found at the HTTP border, pinned down: NUL characters, undecodable
bodies, coerced JSON types and the 405 `Allow` header (tests/reliability/test_openapi_contract.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

NUL_REQUESTS = [
    pytest.param("GET", "/api/public/booking/slots?service_slug=a%00", None, {}, id="query"),
    pytest.param("PATCH", "/api/admin/services/a%00", {"title": "x"}, {}, id="path"),
    pytest.param(
        "POST",
        "/api/integrations/google-calendar/webhook",
        None,
        {"X-Goog-Channel-ID": "a\x00", "X-Goog-Resource-ID": "b", "X-Goog-Channel-Token": "c"},
        id="header",
    ),
    pytest.param(
        "POST",
        "/api/public/booking/appointments",
        {
            "service_slug": "session",
            "start": "2026-12-01T10:00:00+03:00",
            "timezone": "Europe/Moscow",
            "client": {"name": "Анна", "email": "anna@example.com\x00"},
        },
        {},
        id="nested-body",
    ),
    pytest.param(
        "POST",
        "/api/admin/services",
        {"slug": "session", "title": "Сессия\x00", "duration_minutes": 50},
        {},
        id="body",
    ),
]


@pytest.mark.parametrize(("method", "url", "body", "headers"), NUL_REQUESTS)
def test_a_nul_character_anywhere_is_422_not_a_database_error(
    admin: TestClient, method: str, url: str, body: Any, headers: dict[str, str]
) -> None:
    # PostgreSQL text cannot hold NUL: before the fix these were 500s there (SQLite took them).
    response = admin.request(method, url, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_body_that_is_not_utf8_is_422(admin: TestClient) -> None:
    response = admin.post(
        "/api/public/booking/waitlist",
        content=b'{"name": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": "The body is not valid JSON.",
        "field": "body",
    }


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        pytest.param(
            "PUT", "/api/admin/integrations/google-calendar/settings", {"enabled": 0}, id="bool"
        ),
        pytest.param(
            "POST",
            "/api/admin/services",
            {"slug": "session", "title": "Сессия", "duration_minutes": "50"},
            id="int",
        ),
    ],
)
def test_json_types_are_not_coerced(
    admin: TestClient, method: str, url: str, body: dict[str, object]
) -> None:
    response = admin.request(method, url, json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/admin/schedule", "GET, PUT"),
        ("/api/admin/services", "GET, POST"),
        ("/api/admin/services/session", "DELETE, PATCH"),
    ],
)
def test_405_lists_every_method_of_the_path(admin: TestClient, path: str, allowed: str) -> None:
    # Starlette names only the first route it tried (one route per method in FastAPI).
    response = admin.request("OPTIONS", path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_tracking_answers_202_without_a_body(client: TestClient) -> None:
    response = client.post(
        "/api/public/tracking",
        json={"event": "booking_conflict", "properties": {"service_slug": "session"}},
    )
    assert response.status_code == 202
    assert response.content == b""
    documented = client.get("/openapi.json").json()["paths"]["/api/public/tracking"]["post"]
    assert "content" not in documented["responses"]["202"]


def test_a_nul_character_in_a_page_form_is_422_and_a_clean_form_still_works(
    client: TestClient,
) -> None:
    refused = client.post(
        "/admin/login",
        data={"email": "admin@example.com\x00", "password": "x"},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_request"
    # The form read by the guard reaches the page unchanged: a wrong password is a plain refusal.
    wrong = client.post(
        "/admin/login",
        data={"email": "admin@example.com", "password": "wrong"},
        follow_redirects=False,
    )
    assert wrong.status_code not in {422, 500}
    assert "admin@example.com" in wrong.text
