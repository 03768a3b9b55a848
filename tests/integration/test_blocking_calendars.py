"""Several calendars block time (API.md "Google fidelity, round 2"; issue 18 item 6), on SQLite
and PostgreSQL against the emulator: the list, the choice, busy time read from every chosen
calendar (sync and the live check at booking), bookings still written to the primary one."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from balance_booking.bootstrap import Container, build_outbox_dispatcher
from tests.support.google import INTEGRATION_API, OWNER, Emulator

pytestmark = [pytest.mark.both_databases, pytest.mark.google()]

CALENDARS = f"{INTEGRATION_API}/calendars"
WORK = "work-calendar@group.calendar.google.com"
# Thursday 3 December 2026, 11:00 Moscow (the tests' clock: Monday 30 November).
SLOT = "2026-12-03T11:00:00+03:00"


def free(client: TestClient) -> list[str]:
    answer = client.get(
        "/api/public/booking/slots",
        params={"service_slug": "session", "from": "2026-12-03", "to": "2026-12-03", "tz": "UTC"},
    )
    assert answer.status_code == 200, answer.text
    return [slot["start"][:16] for slot in answer.json()["slots"]]


def work_calendar(emulator: Emulator) -> None:
    created = emulator.control.post(
        "/_emulator/calendars", json={"email": OWNER, "id": WORK, "summary": "Работа"}
    )
    assert created.status_code == 201, created.text
    event = {
        "summary": "Супервизия",
        "start": {"dateTime": "2026-12-03T11:00:00+03:00"},
        "end": {"dateTime": "2026-12-03T12:00:00+03:00"},
    }
    seeded = emulator.control.post("/_emulator/events", json={"calendar_id": WORK, "event": event})
    assert seeded.status_code == 201, seeded.text


def test_the_admin_chooses_which_calendars_block_time(
    connected: TestClient, emulator: Emulator
) -> None:
    work_calendar(emulator)
    listed = connected.get(CALENDARS)
    assert listed.status_code == 200, listed.text
    calendars = {c["id"]: c for c in listed.json()["calendars"]}
    primary = next(c for c in calendars.values() if c["primary"])
    assert primary["blocks_time"] is True
    assert (calendars[WORK]["summary"], calendars[WORK]["blocks_time"]) == ("Работа", False)
    assert connected.post(f"{INTEGRATION_API}/sync").status_code == 200
    assert "2026-12-03T08:00" in free(connected)  # the work calendar does not block yet

    chosen = connected.put(CALENDARS, json={"blocking_calendar_ids": [primary["id"], WORK]})
    assert chosen.status_code == 200, chosen.text
    assert all(c["blocks_time"] for c in chosen.json()["calendars"])
    assert "2026-12-03T08:00" not in free(connected)  # synced at once
    assert connected.get(INTEGRATION_API).json()["blocking_calendars"] == 2

    for refused in ([], ["nobody@group.calendar.google.com"]):
        answer = connected.put(CALENDARS, json={"blocking_calendar_ids": refused})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == "blocking_calendar_ids"


def test_the_live_check_reads_every_blocking_calendar_and_bookings_go_to_the_primary(
    connected: TestClient, emulator: Emulator, container: Container
) -> None:
    work_calendar(emulator)
    primary = next(c for c in connected.get(CALENDARS).json()["calendars"] if c["primary"])
    assert (
        connected.put(CALENDARS, json={"blocking_calendar_ids": [primary["id"], WORK]}).status_code
        == 200
    )
    # Busy time added in the work calendar after the last sync: only the live check sees it.
    late = {
        "summary": "Встреча",
        "start": {"dateTime": "2026-12-03T14:00:00+03:00"},
        "end": {"dateTime": "2026-12-03T15:00:00+03:00"},
    }
    assert (
        emulator.control.post(
            "/_emulator/events", json={"calendar_id": WORK, "event": late}
        ).status_code
        == 201
    )
    body = {
        "service_slug": "session",
        "timezone": "Europe/Moscow",
        "client": {"name": "Анна", "email": "anna@example.com"},
    }
    refused = connected.post(
        "/api/public/booking/appointments", json=body | {"start": "2026-12-03T14:00:00+03:00"}
    )
    assert refused.status_code == 409, refused.text
    booked = connected.post(
        "/api/public/booking/appointments", json=body | {"start": "2026-12-03T16:00:00+03:00"}
    )
    assert booked.status_code == 201, booked.text
    dispatcher = build_outbox_dispatcher(container)
    while dispatcher.execute().claimed:
        pass
    ours = [e for e in emulator.events(OWNER) if "balance_app" in str(e)]
    assert len(ours) == 1  # the booking, in the primary calendar
    assert [e for e in emulator.events(WORK) if "balance_app" in str(e)] == []
