"""Busy time from Google (through the emulator) blocks slots; sync API, failures and staleness."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.support.google import (
    INTEGRATION_API,
    OWNER,
    Emulator,
)

pytestmark = [pytest.mark.google(service={"buffer_after_minutes": 10}), pytest.mark.reliability]

SLOTS = "/api/public/booking/slots"
SYNC = f"{INTEGRATION_API}/sync"
# Tuesday 1 December 2026 (the FakeClock starts on Monday 30 November, 09:00 Moscow).
DAY = {"service_slug": "session", "from": "2026-12-01", "to": "2026-12-01"}


def seed(emulator: Emulator, start: str, end: str, **extra: Any) -> str:
    body = {
        "summary": "busy",
        "start": {"dateTime": start, "timeZone": "Europe/Moscow"},
        "end": {"dateTime": end, "timeZone": "Europe/Moscow"},
    } | extra
    return str(emulator.add_event(body)["id"])


def hours(client: TestClient, query: dict[str, str] = DAY) -> list[str]:
    response = client.get(SLOTS, params=query)
    assert response.status_code == 200, response.text
    return [slot["start"][11:16] for slot in response.json()["slots"]]


ALL_DAY = ["10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00"]


def test_opaque_event_blocks_its_slots_with_buffers(
    connected: TestClient, emulator: Emulator
) -> None:
    seed(emulator, "2026-12-01T13:00:00+03:00", "2026-12-01T14:00:00+03:00")
    # 12:00 stays free only if its 10-minute buffer after 12:50 ends by 13:00: it does.
    seed(emulator, "2026-12-01T16:55:00+03:00", "2026-12-01T17:05:00+03:00")
    report = connected.post(SYNC).json()
    assert report["status"] == "ok"
    assert report["busy_intervals"] == 2
    assert report["changed"] is True
    # 16:00's buffer (16:50-17:00) overlaps 16:55; 17:00 overlaps the event itself.
    assert hours(connected) == ["10:00", "11:00", "12:00", "14:00", "15:00"]
    assert connected.post(SYNC).json()["changed"] is False


def test_transparent_and_declined_events_do_not_block(
    connected: TestClient, emulator: Emulator
) -> None:
    seed(
        emulator,
        "2026-12-01T10:00:00+03:00",
        "2026-12-01T12:00:00+03:00",
        transparency="transparent",
    )
    seed(
        emulator,
        "2026-12-01T14:00:00+03:00",
        "2026-12-01T15:00:00+03:00",
        attendees=[
            {"email": OWNER, "self": True, "responseStatus": "declined"},
            {"email": "colleague@example.com", "organizer": True, "responseStatus": "accepted"},
        ],
    )
    assert connected.post(SYNC).json()["busy_intervals"] == 0
    assert hours(connected) == ALL_DAY


def test_weekly_recurring_event_blocks_every_week(
    connected: TestClient, emulator: Emulator
) -> None:
    seed(
        emulator,
        "2026-12-01T11:00:00+03:00",
        "2026-12-01T12:00:00+03:00",
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"],
    )
    connected.post(SYNC)
    for day in ("2026-12-01", "2026-12-08", "2026-12-15", "2026-12-22"):
        assert "11:00" not in hours(connected, DAY | {"from": day, "to": day}), day
        assert "12:00" in hours(connected, DAY | {"from": day, "to": day}), day
    assert "11:00" in hours(connected, DAY | {"from": "2026-12-29", "to": "2026-12-29"})


def test_cancelled_event_frees_its_slots_after_the_next_sync(
    connected: TestClient, emulator: Emulator
) -> None:
    event_id = seed(emulator, "2026-12-01T15:00:00+03:00", "2026-12-01T16:00:00+03:00")
    connected.post(SYNC)
    assert "15:00" not in hours(connected)
    emulator.delete_event(event_id)
    assert "15:00" not in hours(connected), "until the next sync the mirror still blocks"
    assert connected.post(SYNC).json()["changed"] is True
    assert hours(connected) == ALL_DAY


def test_sync_failure_is_recorded_and_old_data_kept(
    connected: TestClient, emulator: Emulator
) -> None:
    seed(emulator, "2026-12-01T13:00:00+03:00", "2026-12-01T14:00:00+03:00")
    connected.post(SYNC)
    with emulator.outage():
        failed = connected.post(SYNC)
    assert failed.status_code == 502
    assert failed.json()["error"]["code"] == "calendar_error"
    status = connected.get(INTEGRATION_API).json()
    assert status["last_sync_ok"] is False
    assert status["last_error"]
    assert status["busy_intervals"] == 1
    assert "13:00" not in hours(connected)


def test_stale_busy_data_means_503_until_a_sync_succeeds(
    connected: TestClient, emulator: Emulator, clock: FakeClock
) -> None:
    connected.post(SYNC)
    assert hours(connected)
    clock.advance(timedelta(seconds=2701))
    stale = connected.get(SLOTS, params=DAY)
    assert stale.status_code == 503
    assert stale.json()["waitlist"] is True
    assert connected.post(SYNC).status_code == 200
    assert hours(connected) == ALL_DAY


def test_sync_without_a_connection_is_409(admin: TestClient) -> None:
    response = admin.post(SYNC)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_connected"


def test_switched_off_integration_ignores_busy_time(
    connected: TestClient, emulator: Emulator
) -> None:
    seed(emulator, "2026-12-01T13:00:00+03:00", "2026-12-01T14:00:00+03:00")
    connected.post(SYNC)
    connected.put(f"{INTEGRATION_API}/settings", json={"enabled": False})
    body = connected.get(SLOTS, params=DAY).json()
    assert body["calendar"]["status"] == "disabled"
    assert [s["start"][11:16] for s in body["slots"]] == ALL_DAY
    assert connected.post(SYNC).status_code == 409


def test_outage_past_the_staleness_limit_then_recovery(
    connected: TestClient, emulator: Emulator, clock: FakeClock
) -> None:
    connected.post(SYNC)
    with emulator.outage():
        for _ in range(3):  # three polls fail while Google is down
            clock.advance(timedelta(minutes=15))
            assert connected.post(SYNC).status_code == 502
        clock.advance(timedelta(minutes=1))
        degraded = connected.get(SLOTS, params=DAY)
        assert degraded.status_code == 503
        assert degraded.json()["error"]["code"] == "calendar_unavailable"
        assert degraded.json()["waitlist"] is True
        assert "Retry-After" in degraded.headers
    assert connected.post(SYNC).status_code == 200
    assert hours(connected) == ALL_DAY
