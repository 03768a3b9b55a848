"""freebusy.query: what counts as busy, merging and clipping, and the request-level errors."""

from __future__ import annotations

from typing import Any

import httpx

from tests.emulator.helpers import Emulator, error_reason, timed


def busy(api: httpx.Client, time_min: str, time_max: str, **extra: Any) -> list[dict[str, str]]:
    body = {"timeMin": time_min, "timeMax": time_max, "items": [{"id": "primary"}], **extra}
    response = api.post("/freeBusy", json=body)
    assert response.status_code == 200, response.text
    result: list[dict[str, str]] = response.json()["calendars"]["primary"]["busy"]
    return result


def test_busy_is_merged_and_clipped(api: httpx.Client, emu: Emulator) -> None:
    emu.seed(timed("2025-03-10T09:00:00Z", "2025-03-10T10:30:00Z"))
    emu.seed(timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z"))
    emu.seed(timed("2025-03-10T11:00:00Z", "2025-03-10T11:30:00Z"))  # touching: merged too
    emu.seed(timed("2025-03-10T13:00:00Z", "2025-03-10T15:00:00Z"))
    assert busy(api, "2025-03-10T09:30:00Z", "2025-03-10T14:00:00Z") == [
        {"start": "2025-03-10T09:30:00Z", "end": "2025-03-10T11:30:00Z"},
        {"start": "2025-03-10T13:00:00Z", "end": "2025-03-10T14:00:00Z"},
    ]


def test_what_does_not_count(api: httpx.Client, emu: Emulator) -> None:
    emu.seed(timed("2025-03-10T09:00:00Z", "2025-03-10T10:00:00Z", transparency="transparent"))
    emu.seed(timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z", status="cancelled"))
    emu.seed(
        timed(
            "2025-03-10T11:00:00Z",
            "2025-03-10T12:00:00Z",
            attendees=[
                {"email": "owner@example.com", "responseStatus": "declined"},
                {"email": "x@example.org"},
            ],
            organizer={"email": "x@example.org"},
        )
    )
    deleted = emu.seed(timed("2025-03-10T12:00:00Z", "2025-03-10T13:00:00Z"))
    emu.http.delete(f"/_emulator/events/{deleted['id']}").raise_for_status()
    tentative = emu.seed(
        timed(
            "2025-03-10T14:00:00Z",
            "2025-03-10T15:00:00Z",
            attendees=[{"email": "owner@example.com", "responseStatus": "tentative"}],
        )
    )
    assert tentative["attendees"][0]["self"] is True
    assert busy(api, "2025-03-10T00:00:00Z", "2025-03-11T00:00:00Z") == [
        {"start": "2025-03-10T14:00:00Z", "end": "2025-03-10T15:00:00Z"}
    ]


def test_recurring_and_all_day_in_calendar_zone(api: httpx.Client, emu: Emulator) -> None:
    emu.seed(
        {
            "start": {"dateTime": "2025-03-03T10:00:00", "timeZone": "Europe/Moscow"},
            "end": {"dateTime": "2025-03-03T11:00:00", "timeZone": "Europe/Moscow"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=3", "EXDATE;TZID=Europe/Moscow:20250304T100000"],
        }
    )
    emu.seed({"start": {"date": "2025-03-08"}, "end": {"date": "2025-03-09"}})
    assert busy(api, "2025-03-01T00:00:00Z", "2025-03-10T00:00:00Z") == [
        {"start": "2025-03-03T07:00:00Z", "end": "2025-03-03T08:00:00Z"},
        {"start": "2025-03-05T07:00:00Z", "end": "2025-03-05T08:00:00Z"},
        # All-day = midnight to midnight in Moscow (UTC+3).
        {"start": "2025-03-07T21:00:00Z", "end": "2025-03-08T21:00:00Z"},
    ]
    # The response speaks the zone asked for.
    local = busy(api, "2025-03-05T00:00:00Z", "2025-03-06T00:00:00Z", timeZone="Europe/Moscow")
    assert local == [{"start": "2025-03-05T10:00:00+03:00", "end": "2025-03-05T11:00:00+03:00"}]


def test_unknown_calendars_and_request_errors(api: httpx.Client) -> None:
    body = {
        "timeMin": "2025-03-10T00:00:00Z",
        "timeMax": "2025-03-11T00:00:00Z",
        "items": [{"id": "primary"}, {"id": "nobody@example.com"}],
    }
    result = api.post("/freeBusy", json=body).json()
    assert result["kind"] == "calendar#freeBusy"
    assert result["calendars"]["nobody@example.com"]["errors"] == [
        {"domain": "global", "reason": "notFound"}
    ]
    assert result["calendars"]["primary"] == {"busy": []}
    empty = api.post("/freeBusy", json={**body, "timeMax": body["timeMin"]})
    assert error_reason(empty) == (400, "timeRangeEmpty")
    # The default limit is 90 days (the freebusy_max_days setting), as Cal.com chunks at Google.
    too_long = api.post("/freeBusy", json={**body, "timeMax": "2025-06-08T00:00:01Z"})
    assert error_reason(too_long) == (400, "timeRangeTooLong")
    assert (
        api.post("/freeBusy", json={**body, "timeMax": "2025-06-08T00:00:00Z"}).status_code == 200
    )
