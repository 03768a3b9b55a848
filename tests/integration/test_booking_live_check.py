"""Booking asks Google live (AC-4) and degrades honestly when Google cannot be asked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container
from tests.conftest import FakeClock
from tests.support.booking import BOOK, booking
from tests.support.google import Emulator

pytestmark = [pytest.mark.google(), pytest.mark.reliability]

NOON = "2026-12-01T12:00:00+03:00"  # Tuesday, Moscow


def booking_at_noon() -> dict[str, object]:
    """A booking request from a client in New York."""
    return booking(NOON, timezone="America/New_York")


def test_busy_in_google_but_not_yet_synced_is_409_with_alternatives(
    connected: TestClient, emulator: Emulator, container: Container
) -> None:
    emulator.add_busy("2026-12-01T12:30:00+03:00", "2026-12-01T13:30:00+03:00")
    slots = connected.get(
        "/api/public/booking/slots",
        params={"service_slug": "session", "from": "2026-12-01", "to": "2026-12-01"},
    ).json()["slots"]
    assert "2026-12-01T12:00:00+03:00" in [s["start"] for s in slots], (
        "the mirror does not know yet"
    )
    response = connected.post(BOOK, json=booking_at_noon())
    assert response.status_code == 409
    body = response.json()
    assert body["error"]["code"] == "slot_unavailable"
    alternatives = [slot["start"] for slot in body["alternatives"]]
    assert alternatives
    assert all(a.endswith("-05:00") for a in alternatives), "in the client's zone"
    assert "2026-12-01T05:00:00-05:00" not in alternatives  # 13:00 Moscow is busy too
    assert "2026-12-01T04:00:00-05:00" not in alternatives  # the asked slot itself
    with container.engine.connect() as connection:
        events = connection.execute(select(t.tracking_events.c.event)).scalars().all()
        stored = connection.execute(select(t.appointments.c.id)).all()
    assert events == ["booking_conflict"]
    assert stored == []


def test_google_down_with_a_fresh_mirror_still_books(
    connected: TestClient, emulator: Emulator
) -> None:
    with emulator.outage():
        response = connected.post(BOOK, json=booking_at_noon())
    assert response.status_code == 201


def test_google_down_with_an_older_mirror_is_503_and_waitlist(
    connected: TestClient, emulator: Emulator, clock: FakeClock
) -> None:
    clock.advance(timedelta(seconds=301))  # past BALANCE_LIVE_CHECK_FALLBACK_SECONDS
    with emulator.outage():
        response = connected.post(BOOK, json=booking_at_noon())
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "calendar_unavailable"
    assert body["waitlist"] is True
    assert "Retry-After" in response.headers
    assert connected.post(BOOK, json=booking_at_noon()).status_code == 201, (
        "works again once Google is back"
    )
