"""The public services and slots endpoints, every error case of API.md, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from balance_booking.bootstrap import Container
from tests.conftest import FakeClock
from tests.integration.helpers import (
    add_appointment,
    add_busy,
    connect_calendar,
)
from tests.support.booking import SLOTS, open_practice

HOUR_SERVICE = {"slug": "session", "title": "Сессия", "duration_minutes": 60}


@pytest.fixture
def booked(admin: TestClient) -> TestClient:
    """Weekdays 10-18 Moscow and one 60-minute service, set up through the admin API."""
    open_practice(admin, HOUR_SERVICE)
    del admin.headers["Authorization"]
    return admin


def query(client: TestClient, start: str, end: str, tz: str | None = None) -> Response:
    """The `session` service's slots from `start` to `end` (dates or instants), seen from `tz`."""
    params = {"service_slug": "session", "from": start, "to": end}
    return client.get(SLOTS, params=params if tz is None else params | {"tz": tz})


def starts(response_json: dict[str, object]) -> list[str]:
    slots = response_json["slots"]
    assert isinstance(slots, list)
    return [slot["start"] for slot in slots]


def test_services_lists_active_ones_only(admin: TestClient) -> None:
    about = {
        "description": "Первая встреча: знакомство.",
        "price": {"amount": "3500", "currency": "RUB"},
        "format": "online",
        "location": "Ссылка придёт на почту.",
    }
    admin.post("/api/admin/services", json=HOUR_SERVICE | about)
    admin.post("/api/admin/services", json=HOUR_SERVICE | {"slug": "old", "active": False})
    body = admin.get("/api/public/booking/services").json()
    assert body == {
        "services": [
            {
                "slug": "session",
                "title": "Сессия",
                "duration_minutes": 60,
                "requires_payment": False,
                "description": "Первая встреча: знакомство.",
                "description_en": None,
                "price": {"amount": "3500.00", "currency": "RUB"},
                "format": "online",
                "location": "Ссылка придёт на почту.",
            }
        ]
    }


def test_slots_for_one_day_in_the_owner_zone(booked: TestClient) -> None:
    response = query(booked, "2026-12-01", "2026-12-01")
    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "Europe/Moscow"
    assert body["from"] == "2026-12-01T00:00:00+03:00"
    assert body["to"] == "2026-12-02T00:00:00+03:00"
    assert starts(body) == [f"2026-12-01T{h:02d}:00:00+03:00" for h in range(10, 18)]
    assert body["slots"][0]["end"] == "2026-12-01T11:00:00+03:00"
    assert body["calendar"] == {"status": "not_connected", "synced_at": None}


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "UTC"])
def test_viewer_zone_changes_labels_not_instants(booked: TestClient, zone: str) -> None:
    reference = query(booked, "2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z").json()
    viewed = query(booked, "2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z", zone).json()
    assert viewed["timezone"] == zone
    assert [datetime.fromisoformat(s) for s in starts(viewed)] == [
        datetime.fromisoformat(s) for s in starts(reference)
    ]
    for label in starts(viewed):
        instant = datetime.fromisoformat(label)
        assert instant.utcoffset() == instant.astimezone(ZoneInfo(zone)).utcoffset()


def test_kathmandu_labels_carry_the_45_minute_offset(booked: TestClient) -> None:
    body = query(booked, "2026-12-01T07:00:00Z", "2026-12-01T08:00:00Z", "Asia/Kathmandu").json()
    assert starts(body) == ["2026-12-01T12:45:00+05:45"]


def test_busy_time_and_appointments_block_slots(booked: TestClient, container: Container) -> None:
    day = datetime(2026, 12, 1, tzinfo=UTC)
    add_busy(container, day.replace(hour=8, minute=30), day.replace(hour=9))  # 11:30-12:00 MSK
    add_appointment(container, service_slug="session", start=day.replace(hour=12), minutes=60)
    add_appointment(
        container,
        service_slug="session",
        start=day.replace(hour=13),
        minutes=60,
        status="cancelled",
    )
    body = query(booked, "2026-12-01", "2026-12-01").json()
    hours = [int(s[11:13]) for s in starts(body)]
    # Busy data is ignored while no calendar is connected; the 15:00 appointment blocks.
    assert hours == [10, 11, 12, 13, 14, 16, 17]
    connect_calendar(container, last_success_at=container.clock.now())
    body = query(booked, "2026-12-01", "2026-12-01").json()
    assert [int(s[11:13]) for s in starts(body)] == [10, 12, 13, 14, 16, 17]
    assert body["calendar"]["status"] == "ok"


def test_stale_calendar_answers_503_with_waitlist(
    booked: TestClient, container: Container, clock: FakeClock
) -> None:
    connect_calendar(container, last_success_at=clock.now() - timedelta(hours=1))
    response = booked.get(SLOTS, params={"service_slug": "session"})
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "calendar_unavailable"
    assert body["waitlist"] is True
    assert int(response.headers["Retry-After"]) == body["retry_after_seconds"] > 0


def test_default_range_is_a_week_from_today(booked: TestClient) -> None:
    body = booked.get(SLOTS, params={"service_slug": "session"}).json()
    assert body["from"] == "2026-11-30T00:00:00+03:00"
    assert body["to"] == "2026-12-07T00:00:00+03:00"
    # Today's 09:00 is past the clock's now (09:00): the first slot is 10:00 today.
    assert starts(body)[0] == "2026-11-30T10:00:00+03:00"
    assert len(starts(body)) == 5 * 8


def test_sixty_two_days_is_the_limit(booked: TestClient) -> None:
    ok = query(booked, "2026-12-01", "2027-01-31")
    assert ok.status_code == 200
    too_long = query(booked, "2026-12-01", "2027-02-01")
    assert too_long.status_code == 422
    assert too_long.json()["error"]["field"] == "to"


def test_range_over_a_dst_change_counts_local_days(booked: TestClient) -> None:
    response = query(booked, "2027-03-01", "2027-05-01", "Europe/Berlin")
    assert response.status_code == 200


def invalid(extra: dict[str, str], field: str, name: str) -> pytest.ParameterSet:
    """A query for the `session` service with `extra` that is refused with 422 on `field`."""
    return pytest.param({"service_slug": "session"} | extra, 422, "invalid_request", field, id=name)


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        pytest.param({}, 422, "invalid_request", "service_slug", id="missing-service"),
        pytest.param({"service_slug": "nope"}, 404, "not_found", None, id="unknown-service"),
        invalid({"from": "2026-13-01"}, "from", "bad-date"),
        invalid({"from": "tomorrow"}, "from", "garbage-from"),
        invalid({"to": "2026-12-01T10:00:00"}, "to", "instant-without-offset"),
        invalid({"tz": "Mars/Olympus"}, "tz", "unknown-tz"),
        invalid({"tz": "../../etc/passwd"}, "tz", "path-tz"),
        invalid({"from": "2026-12-05", "to": "2026-12-01"}, "to", "reversed"),
        invalid(
            {"from": "2026-12-01T10:00:00Z", "to": "2026-12-01T10:00:00Z"},
            "to",
            "empty-instant-range",
        ),
        invalid(
            {"from": "2026-12-01T00:00:00Z", "to": "2027-02-01T00:00:01Z"},
            "to",
            "instants-too-long",
        ),
    ],
)
def test_slot_query_errors(
    booked: TestClient, params: dict[str, str], status: int, code: str, field: str | None
) -> None:
    response = booked.get(SLOTS, params=params)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error.get("field") == field
    assert error["message"]


def test_inactive_service_is_404(admin: TestClient) -> None:
    admin.post("/api/admin/services", json=HOUR_SERVICE | {"active": False})
    response = admin.get(SLOTS, params={"service_slug": "session"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_path_uses_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/public/booking/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_service_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/public/booking/slots" in spec["paths"]
    assert "/api/admin/services/{slug}" in spec["paths"]
    assert "text/plain" in client.get("/metrics").headers["content-type"]
