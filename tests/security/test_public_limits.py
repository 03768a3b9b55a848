"""One anonymous script against the public API (API.md "Public edge"), on SQLite and PostgreSQL:
writes per client address stop with 429 and Retry-After while other addresses still book; one
e-mail address (or phone) holds at most so many future bookings; counters stay one row each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container, build_app, build_container, create_admin_token
from balance_booking.config import Settings
from tests.conftest import FakeClock
from tests.integration.helpers import WEEKDAYS_10_TO_18
from tests.support.google import NO_WAIT, PUBLIC_BASE, connect_calendar, google_settings
from tests.support.push import counted_emulator, register_client

pytestmark = pytest.mark.both_databases

BOOK = "/api/public/booking/appointments"
SLOTS = "/api/public/booking/slots"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"public_write_limit": "10/hour", "max_active_bookings_per_client": 3}
    )


@pytest.fixture
def from_address(container: Container) -> Iterator[Any]:
    """A TestClient per client address (what uvicorn reports as the peer)."""
    opened: list[TestClient] = []

    def make(address: str) -> TestClient:
        client = TestClient(build_app(container), client=(address, 40000))
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def free_starts(client: TestClient) -> list[str]:
    body = client.get(
        SLOTS, params={"service_slug": "session", "from": "2026-12-01", "to": "2026-12-04"}
    ).json()
    return [slot["start"] for slot in body["slots"]]


def booking(start: str, n: int) -> dict[str, Any]:
    return {
        "service_slug": "session",
        "start": start,
        "timezone": "Europe/Moscow",
        "client": {"name": f"Бот {n}", "email": f"bot{n}@example.com"},
    }


def test_one_address_booking_a_week_stops_at_the_limit_and_others_still_book(
    practice: TestClient, from_address: Any, container: Container
) -> None:
    attacker = from_address("198.51.100.7")
    starts = free_starts(practice)
    answers = [attacker.post(BOOK, json=booking(start, n)) for n, start in enumerate(starts[:14])]
    codes = [answer.status_code for answer in answers]
    assert codes[:10] == [201] * 10
    assert codes[10:] == [429] * 4
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    # Cancelling, moving, the waitlist and tracking are public writes too.
    assert attacker.post("/api/public/tracking", json={}).status_code == 429
    for n, address in enumerate(("203.0.113.1", "203.0.113.2", "2001:db8::3")):
        other = from_address(address)
        assert other.post(BOOK, json=booking(starts[20 + n], 100 + n)).status_code == 201
    with container.engine.connect() as connection:
        rows = connection.execute(select(func.count()).select_from(t.throttle_counters))
        assert rows.scalar_one() == 4, "one counter per address, not a row per request"


def test_one_email_or_phone_holds_at_most_three_future_bookings(
    practice: TestClient, from_address: Any
) -> None:
    starts = free_starts(practice)
    same = {"name": "Анна", "email": "anna@example.com", "phone": "+7 900 000-00-00"}
    for n in range(3):
        client = from_address(f"192.0.2.{n + 1}")  # from different addresses, too
        answer = client.post(BOOK, json=booking(starts[n], n) | {"client": same})
        assert answer.status_code == 201, answer.text
    fourth = from_address("192.0.2.9").post(
        BOOK, json=booking(starts[5], 9) | {"client": same | {"email": "ANNA@example.com"}}
    )
    assert fourth.status_code == 409
    assert fourth.json()["error"]["code"] == "booking_limit_reached"
    by_phone = from_address("192.0.2.10").post(
        BOOK, json=booking(starts[6], 10) | {"client": same | {"email": "new@example.com"}}
    )
    assert by_phone.json()["error"]["code"] == "booking_limit_reached"
    # The admin may always book for a client.
    admin = practice.post(
        "/api/admin/appointments",
        json={
            "service_slug": "session",
            "start": starts[7],
            "timezone": "Europe/Moscow",
            "client": same,
        },
    )
    assert admin.status_code == 201, admin.text


def test_a_burst_of_bookings_costs_no_google_call_while_the_mirror_is_fresh(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The live-check budget: anonymous traffic cannot spend the practitioner's Google quota."""
    with counted_emulator() as (emulator, log):
        register_client(emulator, PUBLIC_BASE)
        settings = google_settings(database_url, tmp_path, emulator).model_copy(
            update={"live_check_fresh_seconds": 5}
        )
        container = build_container(settings, clock=clock, retry=NO_WAIT)
        try:
            token = create_admin_token(container, name="budget")
            with TestClient(build_app(container)) as admin:
                admin.headers["Authorization"] = f"Bearer {token}"
                assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
                service = {"slug": "session", "title": "С", "duration_minutes": 50}
                assert admin.post("/api/admin/services", json=service).status_code == 201
                assert connect_calendar(admin).endswith("result=connected")
                assert admin.post("/api/admin/integrations/google-calendar/sync").status_code == 200
                starts = free_starts(admin)
                # The channel's first push ("sync") asks for a background sync: let it finish,
                # or it may refresh the mirror in the middle of the measurement (seen under load).
                assert admin.app.state.services.push_syncs.wait_idle(30)  # type: ignore[attr-defined]
                before = len(log.calls)
                clock.advance(timedelta(seconds=4))  # the mirror is four seconds old
                for n in range(4):
                    assert admin.post(BOOK, json=booking(starts[n], n)).status_code == 201
                assert len(log.calls) == before, "the fresh mirror stood in for Google"
                clock.advance(timedelta(seconds=2))  # six seconds: Google is asked again
                assert admin.post(BOOK, json=booking(starts[5], 5)).status_code == 201
                assert len(log.calls) == before + 1
        finally:
            container.close()
