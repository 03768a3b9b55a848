"""An owner in Europe/Berlin, end to end across the spring DST change (issue 18 item 8): their
Google user and calendar are in Berlin, a weekly meeting at 11:00 Berlin time spans 28 March
2027, and the public slots leave 11:00 Berlin out on both sides of the change (10:00 UTC before,
09:00 UTC after) while the hours around it stay free."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.google import Emulator, connect_calendar

pytestmark = pytest.mark.google()

BERLIN = "berlin.owner@example.com"
WEEKDAYS_BERLIN = {
    "timezone": "Europe/Berlin",
    "weekly": {day: [["10:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "overrides": [],
}
SERVICE = {
    "slug": "session",
    "title": "Сессия",
    "duration_minutes": 50,
    "slot_step_minutes": 60,
    "max_days_ahead": 180,
}


def local_starts(client: TestClient, day: str) -> list[str]:
    answer = client.get(
        "/api/public/booking/slots",
        params={"service_slug": "session", "from": day, "to": day, "tz": "Europe/Berlin"},
    )
    assert answer.status_code == 200, answer.text
    return [slot["start"][11:16] + slot["start"][19:] for slot in answer.json()["slots"]]


def test_a_weekly_meeting_in_berlin_blocks_the_same_wall_time_across_dst(
    admin: TestClient, emulator: Emulator
) -> None:
    made = emulator.control.post(
        "/_emulator/users", json={"email": BERLIN, "timezone": "Europe/Berlin", "name": "Berlin"}
    )
    assert made.status_code == 201, made.text
    consent = emulator.control.post("/_emulator/consent", json={"action": "allow", "email": BERLIN})
    assert consent.status_code == 200, consent.text
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_BERLIN).status_code == 200
    assert admin.post("/api/admin/services", json=SERVICE).status_code == 201
    assert connect_calendar(admin).endswith("result=connected")
    status = admin.get("/api/admin/integrations/google-calendar").json()
    assert (status["account_email"], status["timezone"]) == (BERLIN, "Europe/Berlin")

    weekly = {
        "summary": "Супервизия",
        "start": {"dateTime": "2027-03-18T11:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2027-03-18T12:00:00", "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
    }
    seeded = emulator.control.post(
        "/_emulator/events", json={"email": BERLIN, "calendar_id": "primary", "event": weekly}
    )
    assert seeded.status_code == 201, seeded.text
    assert admin.post("/api/admin/integrations/google-calendar/sync").status_code == 200

    # Thursday 18 March (winter time, UTC+1) and 1 April (summer time, UTC+2).
    winter, summer = local_starts(admin, "2027-03-18"), local_starts(admin, "2027-04-01")
    assert winter[:3] == ["10:00+01:00", "12:00+01:00", "13:00+01:00"]
    assert summer[:3] == ["10:00+02:00", "12:00+02:00", "13:00+02:00"]
    # The week after the series has ended, 11:00 is free again.
    assert "11:00+02:00" in local_starts(admin, "2027-04-08")
