"""Proves freebusy.query through google-api-python-client: busy blocks are merged and clipped to
the window; transparent, cancelled and declined-by-self events (and working-location entries) do
not count while tentative ones do; recurring series are expanded minus EXDATEs; an unknown
calendar gets per-calendar `errors` without failing the request; timeMax <= timeMin is 400
timeRangeEmpty and a too-long window is 400 (protocol doc 3.3, 3.6, 5.2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from googleapiclient.discovery import Resource
from googleapiclient.errors import HttpError

from tests.conformance.harness import (
    OWNER_EMAIL,
    OWNER_TIMEZONE,
    assert_http_error,
    busy_intervals,
    msk,
    new_event_id,
    out_of_office_event,
    rfc3339,
    timed_event,
    working_location_event,
)

DAY = "2031-03-04"


def _insert(calendar: Resource, start: datetime, end: datetime, **fields: Any) -> str:
    body = timed_event(start, end, event_id=new_event_id(), **fields)
    return str(calendar.events().insert(calendarId="primary", body=body).execute()["id"])


def _query(
    calendar: Resource,
    start: datetime,
    end: datetime,
    ids: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "timeMin": rfc3339(start),
        "timeMax": rfc3339(end),
        "items": [{"id": cid} for cid in (ids or ["primary"])],
        **extra,
    }
    result: dict[str, Any] = calendar.freebusy().query(body=body).execute()
    return result


def _hours(*pairs: tuple[str, str], day: str = DAY) -> list[tuple[datetime, datetime]]:
    return [(msk(day, a), msk(day, b)) for a, b in pairs]


def test_busy_blocks_are_merged_and_clipped(calendar: Resource) -> None:
    _insert(calendar, msk(DAY, "08:00"), msk(DAY, "10:00"))  # starts before the window
    _insert(calendar, msk(DAY, "11:00"), msk(DAY, "12:00"))
    _insert(calendar, msk(DAY, "11:30"), msk(DAY, "13:00"))  # overlaps the previous one
    _insert(calendar, msk(DAY, "12:00"), msk(DAY, "12:30"))  # nested
    _insert(calendar, msk(DAY, "17:00"), msk(DAY, "19:00"))  # ends after the window
    window = (msk(DAY, "09:00"), msk(DAY, "18:00"))
    result = _query(calendar, *window)
    assert result["kind"] == "calendar#freeBusy"
    assert result["calendars"]["primary"].get("errors", []) == []
    assert busy_intervals(result, "primary") == _hours(
        ("09:00", "10:00"), ("11:00", "13:00"), ("17:00", "18:00")
    )


def test_response_times_are_utc_by_default_and_in_the_asked_zone(calendar: Resource) -> None:
    _insert(calendar, msk(DAY, "10:00"), msk(DAY, "11:00"))
    window = (msk(DAY, "00:00"), msk(DAY, "23:00"))
    utc = _query(calendar, *window)["calendars"]["primary"]["busy"]
    assert utc == [{"start": "2031-03-04T07:00:00Z", "end": "2031-03-04T08:00:00Z"}]
    local = _query(calendar, *window, timeZone=OWNER_TIMEZONE)["calendars"]["primary"]["busy"]
    assert local == [{"start": "2031-03-04T10:00:00+03:00", "end": "2031-03-04T11:00:00+03:00"}]


def test_events_that_do_not_make_the_owner_busy(calendar: Resource) -> None:
    _insert(calendar, msk(DAY, "09:00"), msk(DAY, "10:00"), transparency="transparent")
    cancelled = _insert(calendar, msk(DAY, "10:00"), msk(DAY, "11:00"))
    calendar.events().delete(calendarId="primary", eventId=cancelled).execute()
    _insert(
        calendar,
        msk(DAY, "11:00"),
        msk(DAY, "12:00"),
        attendees=[
            {"email": OWNER_EMAIL, "responseStatus": "declined"},
            {"email": "guest@example.com", "responseStatus": "accepted"},
        ],
    )
    _insert(
        calendar,
        msk(DAY, "12:00"),
        msk(DAY, "13:00"),
        attendees=[{"email": OWNER_EMAIL, "responseStatus": "tentative"}],
    )
    _insert(calendar, msk(DAY, "14:00"), msk(DAY, "15:00"), status="tentative")
    _insert(
        calendar,
        msk(DAY, "15:00"),
        msk(DAY, "16:00"),
        attendees=[
            {"email": "guest@example.com", "responseStatus": "declined"},
            {"email": OWNER_EMAIL, "responseStatus": "accepted"},
        ],
    )
    result = _query(calendar, msk(DAY, "00:00"), msk(DAY, "23:00"))
    assert busy_intervals(result, "primary") == _hours(("12:00", "13:00"), ("14:00", "16:00"))


def test_working_location_does_not_count(calendar: Resource) -> None:
    body = working_location_event(DAY, "2031-03-05", id=new_event_id())
    calendar.events().insert(calendarId="primary", body=body).execute()
    assert busy_intervals(_query(calendar, msk(DAY, "00:00"), msk(DAY, "23:00")), "primary") == []


def test_all_day_event_is_busy_for_the_local_day(calendar: Resource) -> None:
    body = {"id": new_event_id(), "start": {"date": DAY}, "end": {"date": "2031-03-05"}}
    calendar.events().insert(calendarId="primary", body=body).execute()
    result = _query(calendar, msk("2031-03-03", "12:00"), msk("2031-03-05", "12:00"))
    assert busy_intervals(result, "primary") == [(msk(DAY, "00:00"), msk("2031-03-05", "00:00"))]


def test_out_of_office_makes_the_owner_busy(calendar: Resource) -> None:
    body = out_of_office_event(msk(DAY, "13:00"), msk(DAY, "17:00")) | {"id": new_event_id()}
    calendar.events().insert(calendarId="primary", body=body).execute()
    result = _query(calendar, msk(DAY, "00:00"), msk(DAY, "23:00"))
    assert busy_intervals(result, "primary") == _hours(("13:00", "17:00"))


def test_an_all_day_event_marked_free_does_not_block(calendar: Resource) -> None:
    body = {
        "id": new_event_id(),
        "start": {"date": DAY},
        "end": {"date": "2031-03-05"},
        "transparency": "transparent",
    }
    calendar.events().insert(calendarId="primary", body=body).execute()
    result = _query(calendar, msk("2031-03-03", "12:00"), msk("2031-03-05", "12:00"))
    assert busy_intervals(result, "primary") == []


def test_recurring_series_are_expanded(calendar: Resource) -> None:
    _insert(
        calendar,
        msk(DAY, "10:00"),
        msk(DAY, "11:00"),
        recurrence=[
            "RRULE:FREQ=DAILY;COUNT=4",
            f"EXDATE;TZID={OWNER_TIMEZONE}:20310305T100000",
        ],
    )
    _insert(
        calendar,
        msk(DAY, "18:00"),
        msk(DAY, "19:00"),
        recurrence=["RRULE:FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20310312T000000Z"],
    )
    result = _query(calendar, msk(DAY, "00:00"), msk("2031-03-20", "00:00"))
    # 2031-03-04 is a Tuesday.
    expected = [
        (msk(day, "10:00"), msk(day, "11:00")) for day in ("2031-03-04", "2031-03-06", "2031-03-07")
    ] + [
        (msk(day, "18:00"), msk(day, "19:00")) for day in ("2031-03-04", "2031-03-06", "2031-03-11")
    ]
    assert busy_intervals(result, "primary") == sorted(expected)


def test_unknown_calendar_gets_per_calendar_errors(calendar: Resource) -> None:
    _insert(calendar, msk(DAY, "10:00"), msk(DAY, "11:00"))
    result = _query(
        calendar, msk(DAY, "00:00"), msk(DAY, "23:00"), ids=[OWNER_EMAIL, "nobody@example.com"]
    )
    assert busy_intervals(result, OWNER_EMAIL) == _hours(("10:00", "11:00"))
    unknown = result["calendars"]["nobody@example.com"]
    assert unknown.get("busy", []) == []
    assert [error["reason"] for error in unknown["errors"]] == ["notFound"]
    assert unknown["errors"][0]["domain"]


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(hours=-1)], ids=["equal", "reversed"])
def test_empty_range_is_time_range_empty(calendar: Resource, delta: timedelta) -> None:
    start = msk(DAY, "10:00")
    with pytest.raises(HttpError) as caught:
        _query(calendar, start, start + delta)
    assert_http_error(caught.value, status=400, reason="timeRangeEmpty", domain="calendar")


def test_too_long_range_is_400(calendar: Resource) -> None:
    start = msk(DAY, "00:00")
    assert _query(calendar, start, start + timedelta(days=90))["kind"] == "calendar#freeBusy"
    with pytest.raises(HttpError) as caught:
        _query(calendar, start, start + timedelta(days=90, minutes=1))
    assert_http_error(caught.value, status=400, reason="timeRangeTooLong")


def test_missing_time_min_is_400(calendar: Resource) -> None:
    body = {"timeMax": rfc3339(msk(DAY, "10:00")), "items": [{"id": "primary"}]}
    with pytest.raises(HttpError) as caught:
        calendar.freebusy().query(body=body).execute()
    assert_http_error(caught.value, status=400, reason={"required", "invalid", "badRequest"})


def test_instance_exceptions_change_the_series_busy_time(calendar: Resource) -> None:
    series = _insert(
        calendar, msk(DAY, "10:00"), msk(DAY, "11:00"), recurrence=["RRULE:FREQ=DAILY;COUNT=3"]
    )
    calendar.events().delete(calendarId="primary", eventId=f"{series}_20310304T070000Z").execute()
    later = timed_event(msk("2031-03-05", "15:00"), msk("2031-03-05", "16:30"))
    calendar.events().patch(
        calendarId="primary",
        eventId=f"{series}_20310305T070000Z",
        body={"start": later["start"], "end": later["end"]},
    ).execute()
    result = _query(calendar, msk(DAY, "00:00"), msk("2031-03-07", "00:00"))
    assert busy_intervals(result, "primary") == [
        (msk("2031-03-05", "15:00"), msk("2031-03-05", "16:30")),
        (msk("2031-03-06", "10:00"), msk("2031-03-06", "11:00")),
    ]
