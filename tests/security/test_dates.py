"""Every date and instant a request can carry, from year 1 to 9999 in any offset: 422 when the
product cannot reason about it, never a 500 (API.md "Public edge")."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.helpers import WEEKDAYS_10_TO_18

OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
INSTANTS = st.builds(
    lambda moment, offset: moment.replace(tzinfo=offset).isoformat(timespec="seconds"),
    # Naive bounds: hypothesis draws naive wall times; the offset is added above.
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),  # noqa: DTZ001
    OFFSETS,
)
DATES = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
EDGES = st.sampled_from(
    [
        "0001-01-01",
        "9999-12-31",
        "0001-01-01T00:00:00+03:00",
        "9999-12-31T23:59:59-12:00",
        "9999-12-31T23:59:59+14:00",
        "1899-12-31T23:59:59Z",
    ]
)
VALUES = st.one_of(EDGES, DATES, INSTANTS)
RUNS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def api(admin: TestClient) -> TestClient:
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
    service = {"slug": "session", "title": "Сессия", "duration_minutes": 50}
    assert admin.post("/api/admin/services", json=service).status_code == 201
    return admin


def _no_500(answer: Any) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code == 422:
        assert answer.json()["error"]["code"] == "invalid_request"


@RUNS
@given(start=VALUES, end=VALUES)
def test_query_ranges(api: TestClient, start: str, end: str) -> None:
    for path, extra in (
        ("/api/public/booking/slots", {"service_slug": "session"}),
        ("/api/admin/appointments", {}),
        ("/api/admin/busy", {}),
    ):
        _no_500(api.get(path, params={"from": start, "to": end} | extra))
        _no_500(api.get(path, params={"from": start} | extra))


@RUNS
@given(start=VALUES, preferred=VALUES)
def test_bodies(api: TestClient, start: str, preferred: str) -> None:
    client = {"name": "Анна", "email": "anna@example.com"}
    booked = api.post(
        "/api/public/booking/appointments",
        json={"service_slug": "session", "start": start, "timezone": "UTC", "client": client},
    )
    _no_500(booked)
    _no_500(
        api.post(
            "/api/public/booking/waitlist",
            json={
                "service_slug": "session",
                "name": "Анна",
                "email": "anna@example.com",
                "timezone": "UTC",
                "preferred_from": preferred,
                "preferred_to": start,
            },
        )
    )
    _no_500(
        api.post(
            "/api/admin/appointments",
            json={
                "service_slug": "session",
                "start": start,
                "timezone": "UTC",
                "client": {"name": "Phone"},
                "repeat": {"weekly": 52},
            },
        )
    )
    _no_500(
        api.put(
            "/api/admin/schedule",
            json=WEEKDAYS_10_TO_18 | {"overrides": [{"date": preferred[:10], "intervals": []}]},
        )
    )


def test_the_edges_of_the_calendar_are_422_not_500(api: TestClient) -> None:
    slots = api.get(
        "/api/public/booking/slots",
        params={"service_slug": "session", "from": "9999-12-31", "to": "9999-12-31"},
    )
    assert slots.status_code == 422
    booked = api.post(
        "/api/public/booking/appointments",
        json={
            "service_slug": "session",
            "start": "0001-01-01T00:00:00+03:00",
            "timezone": "UTC",
            "client": {"name": "Анна", "email": "anna@example.com"},
        },
    )
    assert booked.status_code == 422
