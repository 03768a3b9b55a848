"""GET /api/admin/availability/explain over HTTP, on SQLite and PostgreSQL.

The clock stands at Monday 30 November 2026, 09:00 Moscow; the owner works weekdays 10:00-18:00
Moscow. Holds and bookings are made through the public booking API, busy time and the calendar
state are written as a sync would leave them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container
from tests.conftest import FakeClock
from tests.integration.helpers import WEEKDAYS_10_TO_18, add_busy, connect_calendar

pytestmark = pytest.mark.both_databases

EXPLAIN = "/api/admin/availability/explain"
SLOTS = "/api/public/booking/slots"
BOOK = "/api/public/booking/appointments"
CLIENT = {"name": "Анна Петрова", "email": "anna@example.com", "phone": "+7 900 000-00-00"}
# Sign-in bookkeeping: a bearer request records the token's use; that is the auth layer's write.
AUTH_TABLES = {"admin_api_tokens", "admin_sessions", "admin_users", "admin_login_attempts"}


def msk(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+03:00")


@pytest.fixture
def api(admin: TestClient) -> TestClient:
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
    for body in (
        {"slug": "session", "title": "Сессия", "duration_minutes": 60, "buffer_after_minutes": 15},
        {"slug": "paid", "title": "Платная", "duration_minutes": 60, "requires_payment": True},
    ):
        assert admin.post("/api/admin/services", json=body).status_code == 201, body
    return admin


def explain(api: TestClient, start: str, **params: str) -> dict[str, Any]:
    response = api.get(EXPLAIN, params={"service_slug": "session", "start": start, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def public_starts(api: TestClient, day: str, service: str = "session") -> set[datetime]:
    response = api.get(SLOTS, params={"service_slug": service, "from": day, "to": day})
    assert response.status_code == 200, response.text
    return {datetime.fromisoformat(slot["start"]) for slot in response.json()["slots"]}


def book(api: TestClient, start: str, service: str) -> None:
    body = {"service_slug": service, "start": start, "timezone": "Europe/Moscow", "client": CLIENT}
    response = api.post(BOOK, json=body)
    assert response.status_code == 201, response.text


def test_a_free_start_is_offered_and_listed(api: TestClient) -> None:
    body = explain(api, "2026-12-01T12:00:00+03:00")
    assert body == {
        "offered": True,
        "service_slug": "session",
        "start": "2026-12-01T12:00:00+03:00",
        "end": "2026-12-01T13:00:00+03:00",
        "timezone": "Europe/Moscow",
        "language": "ru",
        "reasons": [],
    }
    assert msk("2026-12-01T12:00:00") in public_starts(api, "2026-12-01")


def test_busy_time_is_named_with_its_interval_in_both_languages(
    api: TestClient, container: Container
) -> None:
    add_busy(container, msk("2026-12-01T11:00:00"), msk("2026-12-01T13:00:00"))
    connect_calendar(container, last_success_at=container.clock.now())
    ru = explain(api, "2026-12-01T12:00:00+03:00")
    assert ru["offered"] is False
    assert ru["reasons"] == [
        {
            "code": "busy",
            "message": "Занято в Google Календаре: 11:00–13:00",
            "interval": {"start": "2026-12-01T11:00:00+03:00", "end": "2026-12-01T13:00:00+03:00"},
        }
    ]
    en = explain(api, "2026-12-01T09:00:00Z", lang="en")
    assert en["language"] == "en"
    assert [r["message"] for r in en["reasons"]] == ["Busy in Google Calendar: 11:00–13:00"]
    # Accept-Language is honoured when no `lang` is given.
    response = api.get(
        EXPLAIN,
        params={"service_slug": "session", "start": "2026-12-01T12:00:00+03:00"},
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert response.json()["reasons"][0]["message"].startswith("Busy in Google Calendar")
    assert msk("2026-12-01T12:00:00") not in public_starts(api, "2026-12-01")


def test_bookings_holds_and_buffers_never_name_the_client(api: TestClient) -> None:
    book(api, "2026-12-02T12:00:00+03:00", "session")  # confirmed, 15 minutes break after
    book(api, "2026-12-02T15:00:00+03:00", "paid")  # a payment hold
    booked = explain(api, "2026-12-02T12:00:00+03:00")
    held = explain(api, "2026-12-02T15:00:00+03:00")
    buffer = explain(api, "2026-12-02T13:00:00+03:00")
    assert [r["code"] for r in booked["reasons"]] == ["booked"]
    assert booked["reasons"][0]["message"] == "Другая запись: 12:00–13:00"
    assert [r["code"] for r in held["reasons"]] == ["held"]
    assert held["reasons"][0]["interval"] == {
        "start": "2026-12-02T15:00:00+03:00",
        "end": "2026-12-02T16:00:00+03:00",
    }
    assert [r["code"] for r in buffer["reasons"]] == ["buffer"]
    for body in (booked, held, buffer):
        text = str(body)
        assert "Анна" not in text
        assert "anna@example.com" not in text
        assert "900" not in text


def test_stale_calendar_and_hidden_service_are_explained(
    api: TestClient, container: Container
) -> None:
    connect_calendar(container, last_success_at=container.clock.now() - timedelta(hours=2))
    assert api.get(SLOTS, params={"service_slug": "session"}).status_code == 503
    stale = explain(api, "2026-12-01T12:00:00+03:00")
    assert [r["code"] for r in stale["reasons"]] == ["calendar_stale"]
    assert "07:00" in stale["reasons"][0]["message"]  # the last sync, 30 November 07:00 Moscow
    assert api.patch("/api/admin/services/session", json={"active": False}).status_code == 200
    hidden = explain(api, "2026-12-01T12:00:00+03:00", lang="en")
    assert [r["code"] for r in hidden["reasons"]] == ["service_inactive", "calendar_stale"]


@pytest.mark.parametrize(
    ("start", "codes"),
    [
        ("2026-11-30T08:00:00+03:00", ["past", "outside_hours"]),
        ("2026-12-01T12:30:00+03:00", ["off_grid"]),
        ("2026-12-05T12:00:00+03:00", ["outside_hours"]),  # a Saturday
        ("2027-03-01T12:00:00+03:00", ["beyond_horizon"]),
        ("2026-12-01T17:30:00+03:00", ["outside_hours", "off_grid"]),
    ],
)
def test_rules_of_the_schedule(api: TestClient, start: str, codes: list[str]) -> None:
    assert [r["code"] for r in explain(api, start)["reasons"]] == codes


def test_explain_agrees_with_the_public_answer_over_a_week(
    api: TestClient, container: Container, clock: FakeClock
) -> None:
    add_busy(container, msk("2026-12-01T11:00:00"), msk("2026-12-01T13:00:00"))
    add_busy(container, msk("2026-12-03T17:30:00"), msk("2026-12-04T10:30:00"))
    connect_calendar(container, last_success_at=clock.now())
    book(api, "2026-12-02T12:00:00+03:00", "session")
    book(api, "2026-12-02T15:00:00+03:00", "paid")
    clock.advance(timedelta(minutes=30))  # 09:30: the 10:00 slots are still ahead
    for day in ("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"):
        listed = public_starts(api, day)
        assert listed
        start = msk(f"{day}T08:00:00")
        while start < msk(f"{day}T20:00:00"):
            body = explain(api, start.isoformat())
            assert body["offered"] == (start in listed), (start, body["reasons"])
            start += timedelta(minutes=30)


def test_unknown_service_bad_start_and_no_credentials(api: TestClient, client: TestClient) -> None:
    unknown = api.get(EXPLAIN, params={"service_slug": "nope", "start": "2026-12-01T12:00:00Z"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    for start in ("tomorrow", "2026-12-01T12:00:00", "2026-12-01", "2026-13-01T12:00:00Z", ""):
        bad = api.get(EXPLAIN, params={"service_slug": "session", "start": start})
        assert bad.status_code == 422, start
        assert bad.json()["error"]["code"] == "invalid_request"
    missing = api.get(EXPLAIN, params={"service_slug": "session"})
    assert missing.status_code == 422
    wrong_lang = api.get(
        EXPLAIN, params={"service_slug": "session", "start": "2026-12-01T12:00:00Z", "lang": "de"}
    )
    assert wrong_lang.status_code == 422
    del client.headers["Authorization"]
    anonymous = client.get(
        EXPLAIN, params={"service_slug": "session", "start": "2026-12-01T12:00:00Z"}
    )
    assert anonymous.status_code == 401


def _snapshot(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    with container.engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in t.metadata.sorted_tables
            if table.name not in AUTH_TABLES
        }


def test_explaining_writes_nothing(api: TestClient, container: Container) -> None:
    book(api, "2026-12-02T15:00:00+03:00", "paid")
    connect_calendar(container, last_success_at=container.clock.now() - timedelta(hours=2))
    before = _snapshot(container)
    for start in ("2026-12-02T15:00:00+03:00", "2026-12-01T12:00:00+03:00", "2026-11-29T12:00:00Z"):
        explain(api, start)
    assert _snapshot(container) == before
