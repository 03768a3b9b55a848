"""Booking through the public API: confirm, hold, cancel, conflicts, idempotency, validation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container
from tests.conftest import FakeClock
from tests.integration.helpers import WEEKDAYS_10_TO_18

BOOK = "/api/public/booking/appointments"
SLOTS = "/api/public/booking/slots"
DAY = {"from": "2026-12-01", "to": "2026-12-01"}


def services(admin: TestClient) -> None:
    admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18)
    for body in (
        {"slug": "session", "title": "Сессия", "duration_minutes": 50, "slot_step_minutes": 60},
        {"slug": "long", "title": "Долгая", "duration_minutes": 90, "slot_step_minutes": 30},
        {
            "slug": "buffered",
            "title": "С перерывом",
            "duration_minutes": 50,
            "slot_step_minutes": 60,
            "buffer_after_minutes": 15,
        },
        {
            "slug": "paid",
            "title": "Платная",
            "duration_minutes": 50,
            "slot_step_minutes": 60,
            "requires_payment": True,
        },
    ):
        assert admin.post("/api/admin/services", json=body).status_code == 201


@pytest.fixture
def api(admin: TestClient, admin_token: str) -> TestClient:
    services(admin)
    return admin


def booking(start: str = "2026-12-01T12:00:00+03:00", **extra: Any) -> dict[str, Any]:
    return {
        "service_slug": "session",
        "start": start,
        "timezone": "Asia/Kolkata",
        "client": {
            "name": "Анна Петрова",
            "email": "anna@example.com",
            "phone": "+7 900 000-00-00",
        },
        "comment": "Первый раз",
    } | extra


def free_hours(client: TestClient, service: str = "session") -> list[str]:
    body = client.get(SLOTS, params=DAY | {"service_slug": service}).json()
    return [slot["start"][11:16] for slot in body["slots"]]


def test_book_confirmed_then_cancel_with_the_manage_link(api: TestClient) -> None:
    response = api.post(BOOK, json=booking())
    assert response.status_code == 201
    appointment = response.json()["appointment"]
    assert appointment["status"] == "confirmed"
    assert appointment["start"] == "2026-12-01T14:30:00+05:30"
    assert appointment["end"] == "2026-12-01T15:20:00+05:30"
    assert appointment["timezone"] == "Asia/Kolkata"
    assert appointment["hold_expires_at"] is None
    token = appointment["manage_token"]
    assert len(token) >= 40
    assert "12:00" not in free_hours(api)

    seen = api.get(f"{BOOK}/{appointment['id']}", params={"token": token})
    assert seen.status_code == 200
    assert seen.json()["appointment"]["manage_token"] is None
    assert api.get(f"{BOOK}/{appointment['id']}", params={"token": "wrong"}).status_code == 404
    assert (
        api.post(f"{BOOK}/{appointment['id']}/cancel", json={"token": "wrong"}).status_code == 404
    )

    cancelled = api.post(f"{BOOK}/{appointment['id']}/cancel", json={"token": token})
    assert cancelled.status_code == 200
    assert cancelled.json()["appointment"]["status"] == "cancelled"
    assert "12:00" in free_hours(api)


def test_the_same_slot_twice_is_409_with_alternatives_and_tracked(
    api: TestClient, container: Container
) -> None:
    assert api.post(BOOK, json=booking()).status_code == 201
    second = api.post(BOOK, json=booking(client={"name": "Б", "email": "b@example.com"}))
    assert second.status_code == 409
    body = second.json()
    assert body["error"]["code"] == "slot_unavailable"
    alternatives = [slot["start"] for slot in body["alternatives"]]
    assert len(alternatives) == 5
    # The five nearest to 14:30 in the client's zone, in time order (09:00 Moscow is closed).
    assert alternatives == [f"2026-12-01T{h}:30:00+05:30" for h in (12, 13, 15, 16, 17)]
    with container.engine.connect() as connection:
        rows = connection.execute(
            select(t.tracking_events.c.event, t.tracking_events.c.properties)
        ).all()
    assert [(row.event, row.properties) for row in rows] == [
        ("booking_conflict", '{"service_slug": "session"}')
    ]
    with container.engine.connect() as connection:
        count = len(connection.execute(select(t.appointments.c.id)).all())
    assert count == 1, "nothing stored for the conflict"


@pytest.mark.parametrize(
    ("first", "second", "conflicts"),
    [
        pytest.param(("session", "12:00"), ("long", "11:30"), True, id="longer-service-overlaps"),
        pytest.param(("session", "12:00"), ("long", "10:30"), False, id="long-ends-at-start"),
        pytest.param(("buffered", "12:00"), ("session", "13:00"), True, id="buffer-after-overlaps"),
        pytest.param(("session", "12:00"), ("session", "13:00"), False, id="back-to-back"),
        pytest.param(
            ("buffered", "11:00"), ("session", "12:00"), True, id="buffer-reaches-next-hour"
        ),
    ],
)
def test_overlaps_with_durations_and_buffers(
    api: TestClient, first: tuple[str, str], second: tuple[str, str], conflicts: bool
) -> None:
    def request(service: str, at: str) -> dict[str, Any]:
        return booking(start=f"2026-12-01T{at}:00+03:00", service_slug=service)

    assert api.post(BOOK, json=request(*first)).status_code == 201
    expected = 409 if conflicts else 201
    assert api.post(BOOK, json=request(*second)).status_code == expected


def test_a_time_the_slots_api_would_not_offer_is_409(api: TestClient) -> None:
    for start in (
        "2026-12-01T12:07:00+03:00",
        "2026-12-01T09:00:00+03:00",
        "2026-11-30T08:00:00+03:00",
    ):
        response = api.post(BOOK, json=booking(start=start))
        assert response.status_code == 409, start
        assert response.json()["alternatives"], start


@pytest.mark.reliability
def test_payment_hold_blocks_then_expires_by_itself(
    api: TestClient, clock: FakeClock, container: Container
) -> None:
    held = api.post(BOOK, json=booking(service_slug="paid")).json()["appointment"]
    assert held["status"] == "pending_payment"
    assert held["hold_expires_at"] == "2026-11-30T11:45:00+05:30"  # 15 minutes after 09:00 MSK
    assert "12:00" not in free_hours(api, "paid")
    clock.advance(timedelta(minutes=16))
    assert "12:00" in free_hours(api, "paid"), "a lapsed hold stops blocking at once"
    from balance_booking.application.booking import ExpireHolds  # noqa: PLC0415

    assert (
        ExpireHolds(
            writers=container.writers, clock=container.clock, messages=container.messages
        ).execute()
        == 1
    )
    confirm = api.post(f"/api/admin/appointments/{held['id']}/confirm")
    assert confirm.status_code == 409
    assert api.post(BOOK, json=booking(service_slug="paid")).status_code == 201


def test_admin_confirms_a_hold(api: TestClient) -> None:
    held = api.post(BOOK, json=booking(service_slug="paid")).json()["appointment"]
    confirmed = api.post(f"/api/admin/appointments/{held['id']}/confirm")
    assert confirmed.status_code == 200
    assert confirmed.json()["appointment"]["status"] == "confirmed"
    assert api.post(f"/api/admin/appointments/{held['id']}/confirm").status_code == 409
    listed = api.get("/api/admin/appointments", params=DAY).json()["appointments"]
    assert [(a["status"], a["calendar_event"]["state"]) for a in listed] == [
        ("confirmed", "pending")
    ]
    assert listed[0]["client_name"] == "Анна Петрова"


@pytest.mark.reliability
def test_idempotency_key_replays_and_refuses_reuse(api: TestClient) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = api.post(BOOK, json=booking(), headers=headers)
    again = api.post(BOOK, json=booking(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.post(BOOK, json=booking(start="2026-12-01T13:00:00+03:00"), headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        pytest.param({"service_slug": "nope"}, 404, None, id="unknown-service"),
        pytest.param({"timezone": "Mars/Base"}, 422, "timezone", id="bad-zone"),
        pytest.param({"start": "2026-12-01T12:00:00"}, 422, "start", id="no-offset"),
        pytest.param(
            {"client": {"name": "A", "email": "not-an-email"}}, 422, "client.email", id="bad-email"
        ),
        pytest.param(
            {"client": {"name": " ", "email": "a@b.io"}}, 422, "client.name", id="blank-name"
        ),
        pytest.param(
            {"client": {"name": "A", "email": "a@b.io", "phone": "call me"}},
            422,
            "client.phone",
            id="bad-phone",
        ),
        pytest.param({"comment": "x" * 2001}, 422, "comment", id="long-comment"),
        pytest.param({"extra": 1}, 422, "extra", id="unknown-field"),
    ],
)
def test_invalid_bookings(
    api: TestClient, change: dict[str, Any], status: int, field: str | None
) -> None:
    response = api.post(BOOK, json=booking() | change)
    assert response.status_code == status
    if field is not None:
        assert response.json()["error"]["field"] == field


def test_waitlist_and_tracking(api: TestClient) -> None:
    joined = api.post(
        "/api/public/booking/waitlist",
        json={
            "service_slug": "session",
            "name": "Анна",
            "email": "anna@example.com",
            "timezone": "Europe/Moscow",
            "preferred_from": "2026-12-01T10:00:00+03:00",
            "preferred_to": "2026-12-05T18:00:00+03:00",
        },
    )
    assert joined.status_code == 201
    entries = api.get("/api/admin/waitlist").json()["entries"]
    assert [e["id"] for e in entries] == [joined.json()["id"]]
    assert entries[0]["preferred_from"] == "2026-12-01T07:00:00+00:00"
    assert (
        api.post(
            "/api/public/booking/waitlist",
            json={"service_slug": "nope", "name": "A", "email": "a@b.io", "timezone": "UTC"},
        ).status_code
        == 404
    )

    selected = {
        "slot_start_at": "2026-12-01T12:00:00+03:00",
        "timezone": "Europe/Moscow",
        "service_slug": "session",
    }
    assert (
        api.post(
            "/api/public/tracking", json={"event": "booking_slot_selected", "properties": selected}
        ).status_code
        == 202
    )
    assert (
        api.post("/api/public/tracking", json={"event": "page_view", "properties": {}}).status_code
        == 422
    )
    missing = api.post(
        "/api/public/tracking",
        json={"event": "booking_slot_selected", "properties": {"timezone": "UTC"}},
    )
    assert missing.status_code == 422
