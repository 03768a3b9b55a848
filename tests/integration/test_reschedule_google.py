"""Moves while Google cannot be reached (API.md "Client self-service and admin bookings"): the
live check failing is 503 calendar_unavailable with nothing changed; a move made while the
integration is disconnected waits in the outbox and patches the same event after reconnecting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container, build_outbox_dispatcher
from tests.conftest import FakeClock
from tests.support.google import INTEGRATION_API, Emulator, connect_calendar

pytestmark = [pytest.mark.google(), pytest.mark.reliability, pytest.mark.both_databases]

BOOK = "/api/public/booking/appointments"
ADMIN_BOOK = "/api/admin/appointments"
NOON = "2026-12-01T12:00:00+03:00"  # Tuesday, Moscow
TWO_PM = "2026-12-01T14:00:00+03:00"
NOON_UTC = datetime(2026, 12, 1, 9, tzinfo=UTC)
TWO_PM_UTC = datetime(2026, 12, 1, 11, tzinfo=UTC)


def book(client: TestClient, start: str) -> dict[str, Any]:
    answer = client.post(
        BOOK,
        json={
            "service_slug": "session",
            "start": start,
            "timezone": "Europe/Moscow",
            "client": {"name": "Клиент", "email": "client@example.com"},
        },
    )
    assert answer.status_code == 201, answer.text
    appointment: dict[str, Any] = answer.json()["appointment"]
    return appointment


def move(client: TestClient, appointment: dict[str, Any], start: str, *, by: str) -> Any:
    if by == "client":
        return client.post(
            f"{BOOK}/{appointment['id']}/reschedule",
            json={"token": appointment["manage_token"], "start": start},
        )
    return client.post(f"{ADMIN_BOOK}/{appointment['id']}/reschedule", json={"start": start})


def deliver(container: Container) -> int:
    """Run the dispatcher until it claims nothing; returns how many messages it claimed."""
    dispatcher = build_outbox_dispatcher(container)
    claimed = 0
    while report := dispatcher.execute().claimed:
        claimed += report
    return claimed


def live_events(emulator: Emulator) -> list[dict[str, Any]]:
    return [event for event in emulator.events() if event.get("status") != "cancelled"]


def event_start(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["start"]["dateTime"]).astimezone(UTC)


def stored(container: Container) -> dict[str, Any]:
    """What a move could change: the appointments, their moves, the outbox, the busy mirror."""
    a, busy = t.appointments.c, t.calendar_busy_intervals.c
    with container.engine.connect() as connection:
        return {
            "appointments": connection.execute(
                select(a.id, a.start_at, a.end_at, a.blocked_start_at, a.blocked_end_at, a.status)
            ).all(),
            "moves": connection.execute(
                select(func.count()).select_from(t.appointment_moves)
            ).scalar_one(),
            "outbox": connection.execute(
                select(t.outbox.c.id, t.outbox.c.kind, t.outbox.c.status).order_by(t.outbox.c.id)
            ).all(),
            "mirror": connection.execute(
                select(busy.start_at, busy.end_at).order_by(busy.start_at)
            ).all(),
        }


@pytest.mark.parametrize("by", ["client", "admin"])
def test_google_down_at_the_live_check_is_503_and_nothing_moves(
    connected: TestClient, emulator: Emulator, container: Container, clock: FakeClock, by: str
) -> None:
    booked = book(connected, NOON)
    deliver(container)
    (event,) = live_events(emulator)
    # Past the live check's fallback to the mirror (BALANCE_LIVE_CHECK_FALLBACK_SECONDS, 300),
    # still inside the mirror's staleness limit: only the failing live check can refuse.
    clock.advance(timedelta(seconds=301))
    before = stored(container)
    assert before["mirror"], "our own event is busy time in the mirror"
    with emulator.outage():
        answer = move(connected, booked, TWO_PM, by=by)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "calendar_unavailable"
    assert "Retry-After" in answer.headers
    assert stored(container) == before, "nothing changed: no move, no message"
    fetched = connected.get(f"{BOOK}/{booked['id']}", params={"token": booked["manage_token"]})
    assert fetched.status_code == 200
    assert fetched.json()["appointment"]["start"] == NOON
    assert deliver(container) == 0
    assert [(e["id"], event_start(e)) for e in live_events(emulator)] == [(event["id"], NOON_UTC)]
    # The same move goes through once Google answers again: the 503 was the live check's.
    again = move(connected, booked, TWO_PM, by=by)
    assert again.status_code == 200, again.text


def test_a_move_while_disconnected_waits_and_patches_the_same_event_after_reconnecting(
    connected: TestClient, emulator: Emulator, container: Container
) -> None:
    booked = book(connected, NOON)
    deliver(container)
    (event,) = live_events(emulator)
    assert connected.post(f"{INTEGRATION_API}/disconnect").status_code == 200
    answer = move(connected, booked, TWO_PM, by="client")
    assert answer.status_code == 200, answer.text
    assert answer.json()["appointment"]["id"] == booked["id"]

    o = t.outbox.c
    waiting = select(o.id, o.status, o.attempts).where(
        o.kind == "google_calendar", o.appointment_id == UUID(booked["id"]), o.status == "pending"
    )
    with container.engine.connect() as connection:
        (row,) = connection.execute(waiting).all()
    assert deliver(container) == 0, "nothing is claimed while Google is disconnected"
    with container.engine.connect() as connection:
        assert connection.execute(waiting).all() == [row], "still waiting, no attempt spent"
    assert [(e["id"], event_start(e)) for e in live_events(emulator)] == [(event["id"], NOON_UTC)]

    assert connect_calendar(connected).endswith("result=connected")
    assert deliver(container) >= 1
    with container.engine.connect() as connection:
        assert connection.execute(waiting).all() == []
        status = connection.execute(select(o.status).where(o.id == row.id)).scalar_one()
    assert status == "done"
    live = live_events(emulator)
    assert [(e["id"], event_start(e)) for e in live] == [(event["id"], TWO_PM_UTC)], (
        "the same event, patched in place"
    )
    state = connected.get(
        "/api/admin/appointments", params={"from": "2026-12-01", "to": "2026-12-01"}
    ).json()["appointments"][0]["calendar_event"]
    assert state == {"id": event["id"], "state": "created"}
    fetched = connected.get(f"{BOOK}/{booked['id']}", params={"token": booked["manage_token"]})
    assert fetched.json()["appointment"]["start"] == TWO_PM


def test_the_old_time_is_offered_at_once_and_bookable_once_the_patch_is_out(
    connected: TestClient, emulator: Emulator, container: Container
) -> None:
    """docs/self-service.md: until the outbox patches the event, freeBusy still shows it at the
    old time (a booking there may get a cautious 409); once patched, the old time books."""
    booked = book(connected, NOON)
    deliver(container)
    moved = move(connected, booked, TWO_PM, by="client")
    assert moved.status_code == 200, moved.text
    slots = connected.get(
        "/api/public/booking/slots",
        params={"service_slug": "session", "from": "2026-12-01", "to": "2026-12-01"},
    ).json()["slots"]
    assert NOON in [slot["start"] for slot in slots], "offered at once"
    assert deliver(container) >= 1
    other = book(connected, NOON)
    assert other["id"] != booked["id"]
    deliver(container)
    at = sorted((event_start(e), e["id"]) for e in live_events(emulator))
    assert at == [(NOON_UTC, UUID(other["id"]).hex), (TWO_PM_UTC, UUID(booked["id"]).hex)]
