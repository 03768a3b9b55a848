"""Proves events.list as google-api-python-client drives it: exclusive timeMin/timeMax bounds
(end > timeMin, start < timeMax; all-day events in the calendar's zone), timeRangeEmpty,
RRULE/EXDATE expansion with singleEvents and orderBy=startTime, orderBy=updated, showDeleted,
paging with maxResults/pageToken through `list_next` (nextSyncToken only on the last page), the
privateExtendedProperty filter and eventTypes (protocol doc 3.4, 3.6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from googleapiclient.discovery import Resource
from googleapiclient.errors import HttpError

from tests.conformance.harness import (
    OWNER_TIMEZONE,
    UTC,
    EmulatorControl,
    assert_http_error,
    event_start,
    focus_time_event,
    list_all,
    msk,
    new_event_id,
    out_of_office_event,
    parse_instant,
    rfc3339,
    timed_event,
    working_location_event,
)

DAY = "2031-03-04"


def _insert(calendar: Resource, body: dict[str, Any]) -> dict[str, Any]:
    body.setdefault("id", new_event_id())
    result: dict[str, Any] = calendar.events().insert(calendarId="primary", body=body).execute()
    return result


def _ids(calendar: Resource, **params: Any) -> list[str]:
    items, _page = list_all(calendar, calendarId="primary", **params)
    return [item["id"] for item in items]


def test_list_response_envelope(calendar: Resource) -> None:
    result = calendar.events().list(calendarId="primary").execute()
    assert result["kind"] == "calendar#events"
    assert result["timeZone"] == OWNER_TIMEZONE
    assert result["accessRole"] == "owner"
    assert result["etag"]
    assert result["items"] == []
    assert result["nextSyncToken"]
    assert "nextPageToken" not in result


@pytest.mark.parametrize(
    ("time_min", "time_max", "listed"),
    [
        ("10:59", None, True),
        ("11:00", None, False),  # timeMin is exclusive on the end
        (None, "10:01", True),
        (None, "10:00", False),  # timeMax is exclusive on the start
        ("09:00", "12:00", True),
        ("10:15", "10:45", True),  # window inside the event
    ],
)
def test_time_window_bounds_are_exclusive(
    calendar: Resource, time_min: str | None, time_max: str | None, listed: bool
) -> None:
    event = _insert(calendar, timed_event(msk(DAY, "10:00"), msk(DAY, "11:00")))
    params: dict[str, str] = {}
    if time_min is not None:
        params["timeMin"] = rfc3339(msk(DAY, time_min))
    if time_max is not None:
        params["timeMax"] = rfc3339(msk(DAY, time_max).astimezone(UTC))
    assert (event["id"] in _ids(calendar, **params)) is listed


def test_all_day_events_match_windows_in_the_calendar_zone(calendar: Resource) -> None:
    event = _insert(
        calendar, {"summary": "day off", "start": {"date": DAY}, "end": {"date": "2031-03-05"}}
    )
    assert event["start"] == {"date": DAY}
    # Midnight-to-midnight in Moscow is 21:00Z the day before to 21:00Z on DAY.
    inside = {"timeMin": "2031-03-04T20:59:00Z", "timeMax": "2031-03-04T21:00:00Z"}
    after = {"timeMin": "2031-03-04T21:00:00Z", "timeMax": "2031-03-05T21:00:00Z"}
    before = {"timeMin": "2031-03-02T21:00:00Z", "timeMax": "2031-03-03T21:00:00Z"}
    assert event["id"] in _ids(calendar, **inside)
    assert event["id"] not in _ids(calendar, **after)
    assert event["id"] not in _ids(calendar, **before)


@pytest.mark.parametrize("delta_minutes", [0, -60])
def test_empty_time_range_is_400(calendar: Resource, delta_minutes: int) -> None:
    time_min = msk(DAY, "10:00")
    with pytest.raises(HttpError) as caught:
        calendar.events().list(
            calendarId="primary",
            timeMin=rfc3339(time_min),
            timeMax=rfc3339(time_min + timedelta(minutes=delta_minutes)),
        ).execute()
    assert_http_error(caught.value, status=400, reason="timeRangeEmpty", domain="calendar")


def test_time_min_without_offset_is_400(calendar: Resource) -> None:
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="primary", timeMin="2031-03-04T10:00:00").execute()
    assert_http_error(caught.value, status=400, reason={"invalid", "badRequest"})


def _daily_series(calendar: Resource, *, count: int, exdates: list[str]) -> dict[str, Any]:
    recurrence = [f"RRULE:FREQ=DAILY;COUNT={count}"]
    recurrence += [f"EXDATE;TZID={OWNER_TIMEZONE}:{stamp}" for stamp in exdates]
    body = timed_event(msk(DAY, "10:00"), msk(DAY, "11:00"), summary="series")
    body["recurrence"] = recurrence
    return _insert(calendar, body)


def test_single_events_expands_rrule_minus_exdate(calendar: Resource) -> None:
    series = _daily_series(calendar, count=5, exdates=["20310306T100000"])
    assert series["recurrence"][0] == "RRULE:FREQ=DAILY;COUNT=5"
    lone = _insert(calendar, timed_event(msk("2031-03-05", "08:00"), msk("2031-03-05", "09:00")))
    items, _page = list_all(
        calendar,
        calendarId="primary",
        singleEvents=True,
        orderBy="startTime",
        timeMin=rfc3339(msk(DAY, "00:00")),
        timeMax=rfc3339(msk("2031-03-10", "00:00")),
    )
    days = ["2031-03-04", "2031-03-05", "2031-03-07", "2031-03-08"]
    starts = [event_start(item) for item in items]
    expected = sorted([msk(d, "10:00") for d in days] + [msk("2031-03-05", "08:00")])
    assert starts == expected
    instances = [item for item in items if item["id"] != lone["id"]]
    assert len(instances) == 4
    for item, day in zip(instances, days, strict=True):
        start_utc = msk(day, "10:00").astimezone(UTC)
        assert item["id"] == f"{series['id']}_{start_utc:%Y%m%dT%H%M%SZ}"
        assert item["recurringEventId"] == series["id"]
        assert event_start({"start": item["originalStartTime"]}) == msk(day, "10:00")
        assert "recurrence" not in item


def test_without_single_events_the_series_master_is_listed(calendar: Resource) -> None:
    series = _daily_series(calendar, count=3, exdates=[])
    items, _page = list_all(calendar, calendarId="primary")
    assert [item["id"] for item in items] == [series["id"]]
    assert items[0]["recurrence"] == ["RRULE:FREQ=DAILY;COUNT=3"]


def test_single_events_window_cuts_the_series(calendar: Resource) -> None:
    series = _daily_series(calendar, count=10, exdates=[])
    ids = _ids(
        calendar,
        singleEvents=True,
        timeMin=rfc3339(msk("2031-03-06", "10:30")),
        timeMax=rfc3339(msk("2031-03-08", "10:00")),
    )
    assert ids == [f"{series['id']}_20310306T070000Z", f"{series['id']}_20310307T070000Z"]


def test_order_by_start_time_requires_single_events(calendar: Resource) -> None:
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="primary", orderBy="startTime").execute()
    assert_http_error(caught.value, status=400, reason={"invalid", "badRequest"})


def test_order_by_start_time(calendar: Resource) -> None:
    hours = ["15:00", "09:00", "12:00", "10:30"]
    for hour in hours:
        start = msk(DAY, hour)
        _insert(calendar, timed_event(start, start + timedelta(minutes=30)))
    items, _page = list_all(calendar, calendarId="primary", singleEvents=True, orderBy="startTime")
    assert [event_start(item) for item in items] == sorted(msk(DAY, h) for h in hours)


def test_order_by_updated(calendar: Resource, control: EmulatorControl) -> None:
    first = _insert(calendar, timed_event(msk(DAY, "09:00"), msk(DAY, "10:00")))
    control.advance_clock(1)  # distinct `updated` stamps without sleeping
    second = _insert(calendar, timed_event(msk(DAY, "08:00"), msk(DAY, "09:00")))
    control.advance_clock(1)
    calendar.events().patch(
        calendarId="primary", eventId=first["id"], body={"summary": "touched"}
    ).execute()
    items, _page = list_all(calendar, calendarId="primary", orderBy="updated")
    assert [item["id"] for item in items] == [second["id"], first["id"]]
    assert [item["updated"] for item in items] == sorted(item["updated"] for item in items)


def test_deleted_events_only_with_show_deleted(calendar: Resource) -> None:
    kept = _insert(calendar, timed_event(msk(DAY, "09:00"), msk(DAY, "10:00")))
    gone = _insert(calendar, timed_event(msk(DAY, "11:00"), msk(DAY, "12:00")))
    calendar.events().delete(calendarId="primary", eventId=gone["id"]).execute()
    assert _ids(calendar) == [kept["id"]]
    items, _page = list_all(calendar, calendarId="primary", showDeleted=True)
    status = {item["id"]: item["status"] for item in items}
    assert status == {kept["id"]: "confirmed", gone["id"]: "cancelled"}


def test_paging_with_list_next(calendar: Resource) -> None:
    inserted = set()
    for index in range(7):
        start = msk(DAY, f"{8 + index:02d}:00")
        inserted.add(_insert(calendar, timed_event(start, start + timedelta(minutes=30)))["id"])
    request = calendar.events().list(calendarId="primary", maxResults=3)
    pages: list[dict[str, Any]] = []
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = calendar.events().list_next(request, page)
    seen = [item["id"] for page in pages for item in page.get("items", [])]
    assert sorted(seen) == sorted(inserted)
    assert all(len(page.get("items", [])) <= 3 for page in pages)
    assert len(pages) >= 3
    for page in pages[:-1]:
        assert page["nextPageToken"]
        assert "nextSyncToken" not in page
    assert "nextPageToken" not in pages[-1]
    assert pages[-1]["nextSyncToken"]


def test_paging_keeps_single_events_order(calendar: Resource) -> None:
    _daily_series(calendar, count=6, exdates=[])
    items, _page = list_all(
        calendar, calendarId="primary", singleEvents=True, orderBy="startTime", maxResults=4
    )
    assert [event_start(item) for item in items] == [
        msk(DAY, "10:00") + timedelta(days=n) for n in range(6)
    ]


def test_private_extended_property_filter(calendar: Resource) -> None:
    def tagged(hour: str, props: dict[str, str]) -> str:
        start = msk(DAY, hour)
        body = timed_event(
            start, start + timedelta(minutes=30), extendedProperties={"private": props}
        )
        return str(_insert(calendar, body)["id"])

    one = tagged("09:00", {"booking_id": "1", "source": "balance"})
    two = tagged("10:00", {"booking_id": "2", "source": "balance"})
    shared_only = _insert(
        calendar,
        timed_event(
            msk(DAY, "11:00"),
            msk(DAY, "12:00"),
            extendedProperties={"shared": {"booking_id": "1"}},
        ),
    )
    assert _ids(calendar, privateExtendedProperty="booking_id=1") == [one]
    assert sorted(_ids(calendar, privateExtendedProperty="source=balance")) == sorted([one, two])
    # Repeated filters are AND-ed.
    both = ["booking_id=2", "source=balance"]
    assert _ids(calendar, privateExtendedProperty=both) == [two]
    assert _ids(calendar, privateExtendedProperty=["booking_id=1", "source=other"]) == []
    assert shared_only["id"] not in _ids(calendar, privateExtendedProperty="booking_id=1")
    assert _ids(calendar, sharedExtendedProperty="booking_id=1") == [shared_only["id"]]


def test_event_types_filter(calendar: Resource) -> None:
    plain = _insert(calendar, timed_event(msk(DAY, "09:00"), msk(DAY, "10:00")))
    focus = _insert(calendar, focus_time_event(msk(DAY, "10:00"), msk(DAY, "11:00")))
    away = _insert(calendar, out_of_office_event(msk(DAY, "12:00"), msk(DAY, "13:00")))
    where = _insert(calendar, working_location_event(DAY, "2031-03-05"))
    assert focus["eventType"] == "focusTime"
    assert away["eventType"] == "outOfOffice"
    assert where["eventType"] == "workingLocation"
    assert plain.get("eventType", "default") == "default"

    everything = {plain["id"], focus["id"], away["id"], where["id"]}
    assert set(_ids(calendar)) == everything  # unset means all types
    assert _ids(calendar, eventTypes="default") == [plain["id"]]
    assert set(_ids(calendar, eventTypes=["focusTime", "outOfOffice"])) == {
        focus["id"],
        away["id"],
    }
    assert _ids(calendar, eventTypes="workingLocation") == [where["id"]]


def test_deleted_instance_becomes_a_cancelled_exception(calendar: Resource) -> None:
    series = _daily_series(calendar, count=4, exdates=[])
    instance_id = f"{series['id']}_20310305T070000Z"
    assert calendar.events().delete(calendarId="primary", eventId=instance_id).execute() == ""
    gone = calendar.events().get(calendarId="primary", eventId=instance_id).execute()
    assert gone["status"] == "cancelled"
    assert gone["recurringEventId"] == series["id"]
    assert event_start({"start": gone["originalStartTime"]}) == msk("2031-03-05", "10:00")

    expanded = _ids(calendar, singleEvents=True, orderBy="startTime")
    assert len(expanded) == 3
    assert instance_id not in expanded
    # Protocol doc 3.4: a plain listing still carries cancelled instances of a live series.
    plain, _page = list_all(calendar, calendarId="primary")
    status = {item["id"]: item["status"] for item in plain}
    assert status == {series["id"]: "confirmed", instance_id: "cancelled"}


def test_moved_instance_takes_its_new_time(calendar: Resource) -> None:
    series = _daily_series(calendar, count=3, exdates=[])
    instance_id = f"{series['id']}_20310305T070000Z"
    later = timed_event(msk("2031-03-05", "15:00"), msk("2031-03-05", "16:00"))
    moved = (
        calendar.events()
        .patch(
            calendarId="primary",
            eventId=instance_id,
            body={"start": later["start"], "end": later["end"]},
        )
        .execute()
    )
    assert moved["id"] == instance_id
    assert moved["recurringEventId"] == series["id"]
    assert event_start({"start": moved["originalStartTime"]}) == msk("2031-03-05", "10:00")
    items, _page = list_all(calendar, calendarId="primary", singleEvents=True, orderBy="startTime")
    assert [(item["id"], event_start(item)) for item in items] == [
        (f"{series['id']}_20310304T070000Z", msk(DAY, "10:00")),
        (instance_id, msk("2031-03-05", "15:00")),
        (f"{series['id']}_20310306T070000Z", msk("2031-03-06", "10:00")),
    ]


def test_time_zone_parameter_renders_date_times(calendar: Resource) -> None:
    event = _insert(calendar, timed_event(msk(DAY, "10:00"), msk(DAY, "11:00")))
    got = (
        calendar.events()
        .get(calendarId="primary", eventId=event["id"], timeZone="Asia/Tokyo")
        .execute()
    )
    assert got["start"]["dateTime"] == "2031-03-04T16:00:00+09:00"
    listed = calendar.events().list(calendarId="primary", timeZone="Asia/Tokyo").execute()
    assert listed["items"][0]["end"]["dateTime"] == "2031-03-04T17:00:00+09:00"
    plain = calendar.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert plain["start"]["dateTime"] == "2031-03-04T10:00:00+03:00"


def test_updated_min_lists_recent_changes_including_deletions(
    calendar: Resource, control: EmulatorControl
) -> None:
    old = _insert(calendar, timed_event(msk(DAY, "09:00"), msk(DAY, "10:00")))
    doomed = _insert(calendar, timed_event(msk(DAY, "10:00"), msk(DAY, "11:00")))
    control.advance_clock(60)
    since = (parse_instant(old["updated"]) + timedelta(seconds=30)).isoformat()
    fresh = _insert(calendar, timed_event(msk(DAY, "12:00"), msk(DAY, "13:00")))
    calendar.events().delete(calendarId="primary", eventId=doomed["id"]).execute()
    items, _page = list_all(calendar, calendarId="primary", updatedMin=since)
    status = {item["id"]: item["status"] for item in items}
    assert status == {fresh["id"]: "confirmed", doomed["id"]: "cancelled"}


def test_recurrence_keeps_local_wall_time_across_dst(calendar: Resource) -> None:
    berlin = ZoneInfo("Europe/Berlin")  # summer time starts on 2031-03-30
    start = datetime(2031, 3, 25, 10, 0, tzinfo=berlin)
    body = {
        "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
    }
    series = _insert(calendar, body)
    items, _page = list_all(calendar, calendarId="primary", singleEvents=True, orderBy="startTime")
    starts = [event_start(item).astimezone(UTC) for item in items]
    assert starts == [
        datetime(2031, 3, 25, 9, 0, tzinfo=UTC),
        datetime(2031, 4, 1, 8, 0, tzinfo=UTC),
        datetime(2031, 4, 8, 8, 0, tzinfo=UTC),
    ]
    assert items[1]["id"] == f"{series['id']}_20310401T080000Z"


def test_all_day_series_with_date_exdate(calendar: Resource) -> None:
    body = {
        "summary": "weekly day off",
        "start": {"date": DAY},
        "end": {"date": "2031-03-05"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE;VALUE=DATE:20310311"],
    }
    series = _insert(calendar, body)
    items, _page = list_all(calendar, calendarId="primary", singleEvents=True, orderBy="startTime")
    assert [item["start"] for item in items] == [{"date": DAY}, {"date": "2031-03-18"}]
    assert [item["id"] for item in items] == [
        f"{series['id']}_20310304",
        f"{series['id']}_20310318",
    ]
    assert items[1]["end"] == {"date": "2031-03-19"}
    assert items[1]["originalStartTime"] == {"date": "2031-03-18"}
