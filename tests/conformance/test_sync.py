"""Proves the incremental-sync protocol through google-api-python-client: a full sync ends with
nextSyncToken on its last page only, an incremental list returns exactly the changed events
including deletions (`status: cancelled`) and pages with the same syncToken, parameters that
Google forbids next to syncToken are 400, and an invalidated or timed-out token is
410 fullSyncRequired (protocol doc 3.4, 3.5, 5.2)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from googleapiclient.discovery import Resource
from googleapiclient.errors import HttpError

from tests.conformance.harness import (
    SCOPE_CALENDAR,
    EmulatorControl,
    assert_http_error,
    list_all,
    msk,
    msk_event,
    running_emulator,
)

DAY = "2031-03-04"


def _insert(calendar: Resource, hour: str, **fields: Any) -> dict[str, Any]:
    body = msk_event(DAY, hour, minutes=45, **fields)
    result: dict[str, Any] = calendar.events().insert(calendarId="primary", body=body).execute()
    return result


def _full_sync(calendar: Resource, **params: Any) -> tuple[list[dict[str, Any]], str]:
    items, last = list_all(calendar, calendarId="primary", **params)
    return items, str(last["nextSyncToken"])


def test_incremental_sync_returns_changes_and_deletions(calendar: Resource) -> None:
    kept = _insert(calendar, "09:00")
    changed = _insert(calendar, "10:00")
    removed = _insert(calendar, "11:00")
    items, token = _full_sync(calendar)
    assert {item["id"] for item in items} == {kept["id"], changed["id"], removed["id"]}

    calendar.events().patch(
        calendarId="primary", eventId=changed["id"], body={"summary": "renamed"}
    ).execute()
    calendar.events().delete(calendarId="primary", eventId=removed["id"]).execute()
    added = _insert(calendar, "12:00")

    delta, last = list_all(calendar, calendarId="primary", syncToken=token)
    by_id = {item["id"]: item for item in delta}
    assert set(by_id) == {changed["id"], removed["id"], added["id"]}
    assert by_id[changed["id"]]["summary"] == "renamed"
    assert by_id[removed["id"]]["status"] == "cancelled"
    assert by_id[added["id"]]["status"] == "confirmed"
    assert last["nextSyncToken"] != token

    quiet, after = list_all(calendar, calendarId="primary", syncToken=last["nextSyncToken"])
    assert quiet == []
    assert after["nextSyncToken"]


def test_incremental_results_page_with_the_same_sync_token(calendar: Resource) -> None:
    _items, token = _full_sync(calendar)
    inserted = {_insert(calendar, f"{8 + n:02d}:00")["id"] for n in range(5)}
    request = calendar.events().list(calendarId="primary", syncToken=token, maxResults=2)
    pages = []
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = calendar.events().list_next(request, page)
    assert len(pages) >= 3
    assert {item["id"] for page in pages for item in page.get("items", [])} == inserted
    assert all("nextSyncToken" not in page for page in pages[:-1])
    assert pages[-1]["nextSyncToken"]


def test_changes_during_a_paged_full_sync_are_not_lost(calendar: Resource) -> None:
    first = [_insert(calendar, f"{8 + n:02d}:00")["id"] for n in range(4)]
    request = calendar.events().list(calendarId="primary", maxResults=2)
    page = request.execute()
    late = _insert(calendar, "15:00")["id"]  # written between two pages
    seen = [item["id"] for item in page.get("items", [])]
    request = calendar.events().list_next(request, page)
    while request is not None:
        page = request.execute()
        seen.extend(item["id"] for item in page.get("items", []))
        request = calendar.events().list_next(request, page)
    assert set(first) <= set(seen)
    delta, _last = list_all(calendar, calendarId="primary", syncToken=page["nextSyncToken"])
    # Either the page stream already had it, or the next incremental sync delivers it.
    assert late in seen or late in {item["id"] for item in delta}


def test_full_sync_with_window_then_incremental(calendar: Resource) -> None:
    inside = _insert(calendar, "10:00")
    items, token = _full_sync(
        calendar, timeMin=msk(DAY, "00:00").isoformat(), timeMax=msk(DAY, "23:59").isoformat()
    )
    assert [item["id"] for item in items] == [inside["id"]]
    calendar.events().delete(calendarId="primary", eventId=inside["id"]).execute()
    delta, _last = list_all(calendar, calendarId="primary", syncToken=token)
    assert [(item["id"], item["status"]) for item in delta] == [(inside["id"], "cancelled")]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeMin", "2031-03-04T00:00:00Z"),
        ("timeMax", "2031-03-05T00:00:00Z"),
        ("orderBy", "updated"),
        ("privateExtendedProperty", "booking_id=1"),
        ("sharedExtendedProperty", "booking_id=1"),
        ("q", "session"),
        ("iCalUID", "abc@google.com"),
        ("updatedMin", "2031-03-01T00:00:00Z"),
    ],
)
def test_parameters_forbidden_with_sync_token_are_400(
    calendar: Resource, name: str, value: str
) -> None:
    _items, token = _full_sync(calendar)
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="primary", syncToken=token, **{name: value}).execute()
    assert_http_error(caught.value, status=400, reason={"invalid", "badRequest"})


def test_invalidated_sync_token_is_410_full_sync_required(
    calendar: Resource, control: EmulatorControl
) -> None:
    _insert(calendar, "09:00")
    _items, token = _full_sync(calendar)
    control.expire_sync_tokens()
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="primary", syncToken=token).execute()
    error = assert_http_error(
        caught.value, status=410, reason="fullSyncRequired", domain="calendar"
    )
    assert error["errors"][0]["location"] == "syncToken"
    assert error["message"] == "Sync token is no longer valid, a full sync is required."
    # The documented recovery: a fresh full sync yields a token that works again.
    items, fresh = _full_sync(calendar)
    assert len(items) == 1
    assert calendar.events().list(calendarId="primary", syncToken=fresh).execute()["items"] == []


def test_garbage_sync_token_is_rejected(calendar: Resource) -> None:
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="primary", syncToken="bm90LWEtdG9rZW4=").execute()
    assert caught.value.status_code in {400, 410}


@pytest.fixture(scope="module")
def short_lived_tokens() -> Iterator[tuple[Resource, EmulatorControl]]:
    """An emulator whose sync tokens time out after 10 minutes (of emulator clock)."""
    with running_emulator(sync_token_ttl_seconds=600) as (client, control):
        yield client.authorized_calendar([SCOPE_CALENDAR]), control


def test_sync_token_times_out_on_the_emulator_clock(
    short_lived_tokens: tuple[Resource, EmulatorControl],
) -> None:
    calendar, control = short_lived_tokens
    _items, token = _full_sync(calendar)
    control.advance_clock(300)
    # Still young: the token works.
    young = calendar.events().list(calendarId="primary", syncToken=token).execute()
    control.advance_clock(301)
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="primary", syncToken=token).execute()
    assert_http_error(caught.value, status=410, reason="fullSyncRequired")
    assert young["nextSyncToken"]


def test_cancelled_instance_in_sync_results_identifies_its_slot(calendar: Resource) -> None:
    body = msk_event(DAY, "10:00", recurrence=["RRULE:FREQ=DAILY;COUNT=3"])
    series = calendar.events().insert(calendarId="primary", body=body).execute()
    _items, token = _full_sync(calendar)
    instance_id = f"{series['id']}_20310305T070000Z"
    calendar.events().delete(calendarId="primary", eventId=instance_id).execute()
    delta, _last = list_all(calendar, calendarId="primary", syncToken=token)
    (item,) = delta
    # Protocol doc 3.5: id, recurringEventId and originalStartTime are guaranteed.
    assert item["id"] == instance_id
    assert item["status"] == "cancelled"
    assert item["recurringEventId"] == series["id"]
    assert item["originalStartTime"]["dateTime"] == "2031-03-05T10:00:00+03:00"
