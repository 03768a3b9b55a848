"""Proves events insert/get/patch/update/delete through google-api-python-client behave as Google's:
client-supplied base32hex ids (5-1024 chars, else 400 invalid), 409 duplicate, 404 notFound,
soft delete (get shows `cancelled`, a second delete is 410 deleted), patch vs full update, 412
conditionNotMet on a stale If-Match, and the Event resource fields the library hands back
(protocol doc 3.6, 3.7, 5.2)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from googleapiclient.discovery import Resource
from googleapiclient.errors import HttpError

from balance_booking.application.export import EventDrafts
from tests.conformance.harness import (
    OWNER_EMAIL,
    assert_http_error,
    event_end,
    event_start,
    msk,
    new_event_id,
    timed_event,
)

DAY = "2031-03-04"
START = msk(DAY, "10:00")
END = msk(DAY, "11:00")
UPDATED_SHAPE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BASE32HEX = re.compile(r"^[a-v0-9]{5,1024}$")


def _insert(calendar: Resource, **fields: Any) -> dict[str, Any]:
    body = timed_event(START, END, event_id=new_event_id(), **fields)
    result: dict[str, Any] = calendar.events().insert(calendarId="primary", body=body).execute()
    return result


def test_insert_with_client_id_returns_the_event(calendar: Resource) -> None:
    event_id = new_event_id()
    body = timed_event(
        START,
        END,
        event_id=event_id,
        summary="Session",
        description="first visit",
        extendedProperties={"private": {"booking_id": "42"}},
    )
    event = calendar.events().insert(calendarId="primary", body=body).execute()
    assert event["kind"] == "calendar#event"
    assert event["id"] == event_id
    assert event["status"] == "confirmed"
    assert event["summary"] == "Session"
    assert event["description"] == "first visit"
    assert event["extendedProperties"]["private"] == {"booking_id": "42"}
    assert event["etag"]
    assert event["iCalUID"]
    assert UPDATED_SHAPE.match(event["updated"]), event["updated"]
    assert UPDATED_SHAPE.match(event["created"]), event["created"]
    assert event_start(event) == START
    assert event_end(event) == END
    assert event["organizer"]["email"] == OWNER_EMAIL
    assert event["creator"]["email"] == OWNER_EMAIL

    fetched = calendar.events().get(calendarId="primary", eventId=event_id).execute()
    assert fetched == event


def test_our_russian_title_and_description_come_back_unchanged(calendar: Resource) -> None:
    """What EventDrafts writes (issue 19: Russian by default): Cyrillic, guillemets and the
    middle dot survive insert, get and a listing byte for byte."""
    drafts = EventDrafts(public_base_url="https://booking.example", default_timezone="UTC")
    summary = "Запись: Первая встреча · #3f2a"
    description = (
        f"Запись через «{drafts.practice_name}». Подробности — на странице психолога: "
        "https://booking.example/admin/schedule/"
    )
    event = _insert(calendar, summary=summary, description=description)
    assert (event["summary"], event["description"]) == (summary, description)
    fetched = calendar.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert (fetched["summary"], fetched["description"]) == (summary, description)
    listed = (
        calendar.events()
        .list(calendarId="primary", timeMin=START.isoformat(), timeMax=END.isoformat())
        .execute()
    )
    assert summary in [item.get("summary") for item in listed["items"]]


def test_insert_without_id_gets_a_base32hex_id(calendar: Resource) -> None:
    event = calendar.events().insert(calendarId="primary", body=timed_event(START, END)).execute()
    assert BASE32HEX.match(event["id"]), event["id"]
    assert calendar.events().get(calendarId="primary", eventId=event["id"]).execute()["id"]


@pytest.mark.parametrize(
    "event_id",
    ["a0v9b", "0123456789abcdefghijklmnopqrstuv", "v" * 1024],
    ids=["five-chars", "full-alphabet", "1024-chars"],
)
def test_valid_client_ids_are_accepted(calendar: Resource, event_id: str) -> None:
    body = timed_event(START, END, event_id=event_id)
    assert calendar.events().insert(calendarId="primary", body=body).execute()["id"] == event_id


@pytest.mark.parametrize(
    "event_id",
    ["abcd", "w0000", "abcdez", "ABCDEF", "abc-def", "abc_def", "a" * 1025],
    ids=["four-chars", "letter-w", "letter-z", "uppercase", "hyphen", "underscore", "1025-chars"],
)
def test_invalid_client_ids_are_400(calendar: Resource, event_id: str) -> None:
    body = timed_event(START, END, event_id=event_id)
    with pytest.raises(HttpError) as caught:
        calendar.events().insert(calendarId="primary", body=body).execute()
    error = assert_http_error(caught.value, status=400, reason="invalid")
    assert error["errors"][0]["message"] == "Invalid resource id value."


def test_duplicate_id_is_409(calendar: Resource) -> None:
    event = _insert(calendar)
    again = timed_event(START + timedelta(days=1), END + timedelta(days=1), event_id=event["id"])
    with pytest.raises(HttpError) as caught:
        calendar.events().insert(calendarId="primary", body=again).execute()
    error = assert_http_error(caught.value, status=409, reason="duplicate", domain="global")
    assert error["errors"][0]["message"] == "The requested identifier already exists."


def test_get_unknown_is_404(calendar: Resource) -> None:
    with pytest.raises(HttpError) as caught:
        calendar.events().get(calendarId="primary", eventId=new_event_id()).execute()
    assert_http_error(caught.value, status=404, reason="notFound", domain="global")


def test_events_of_an_unknown_calendar_are_404(calendar: Resource) -> None:
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="nobody@example.com").execute()
    assert_http_error(caught.value, status=404, reason="notFound")


def test_missing_start_or_end_is_400(calendar: Resource) -> None:
    body = timed_event(START, END, event_id=new_event_id())
    del body["end"]
    with pytest.raises(HttpError) as caught:
        calendar.events().insert(calendarId="primary", body=body).execute()
    assert_http_error(caught.value, status=400, reason={"required", "invalid", "badRequest"})


def test_end_before_start_is_400(calendar: Resource) -> None:
    body = timed_event(END, START, event_id=new_event_id())
    with pytest.raises(HttpError) as caught:
        calendar.events().insert(calendarId="primary", body=body).execute()
    assert_http_error(caught.value, status=400, reason={"timeRangeEmpty", "invalid", "badRequest"})


def test_patch_changes_only_the_given_fields(calendar: Resource) -> None:
    event = _insert(calendar, summary="Before", description="kept")
    patched = (
        calendar.events()
        .patch(calendarId="primary", eventId=event["id"], body={"summary": "After"})
        .execute()
    )
    assert patched["summary"] == "After"
    assert patched["description"] == "kept"
    assert event_start(patched) == START
    assert patched["etag"] != event["etag"]
    assert patched["updated"] >= str(event["updated"])
    assert calendar.events().get(calendarId="primary", eventId=event["id"]).execute() == patched


def test_patch_moves_the_event(calendar: Resource) -> None:
    event = _insert(calendar)
    later = timed_event(START + timedelta(hours=2), END + timedelta(hours=2))
    patched = (
        calendar.events()
        .patch(
            calendarId="primary",
            eventId=event["id"],
            body={"start": later["start"], "end": later["end"]},
        )
        .execute()
    )
    assert event_start(patched) == START + timedelta(hours=2)
    assert event_end(patched) == END + timedelta(hours=2)


def test_update_replaces_the_whole_event(calendar: Resource) -> None:
    event = _insert(calendar, summary="Before", description="dropped by update")
    replacement = timed_event(START, END + timedelta(minutes=30), summary="Replaced")
    updated = (
        calendar.events()
        .update(calendarId="primary", eventId=event["id"], body=replacement)
        .execute()
    )
    assert updated["id"] == event["id"]
    assert updated["summary"] == "Replaced"
    assert "description" not in updated
    assert event_end(updated) == END + timedelta(minutes=30)
    assert updated["etag"] != event["etag"]


@pytest.mark.parametrize("method", ["patch", "update"])
def test_writes_to_an_unknown_event_are_404(calendar: Resource, method: str) -> None:
    call = getattr(calendar.events(), method)
    with pytest.raises(HttpError) as caught:
        call(calendarId="primary", eventId=new_event_id(), body=timed_event(START, END)).execute()
    assert_http_error(caught.value, status=404, reason="notFound")


def test_delete_is_soft_and_repeat_is_410(calendar: Resource) -> None:
    event = _insert(calendar)
    assert calendar.events().delete(calendarId="primary", eventId=event["id"]).execute() == ""
    gone = calendar.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert gone["id"] == event["id"]
    assert gone["status"] == "cancelled"
    with pytest.raises(HttpError) as caught:
        calendar.events().delete(calendarId="primary", eventId=event["id"]).execute()
    error = assert_http_error(caught.value, status=410, reason="deleted", domain="global")
    assert error["errors"][0]["message"] == "Resource has been deleted"


def test_delete_unknown_is_404(calendar: Resource) -> None:
    with pytest.raises(HttpError) as caught:
        calendar.events().delete(calendarId="primary", eventId=new_event_id()).execute()
    assert_http_error(caught.value, status=404, reason="notFound")


def test_stale_if_match_is_412(calendar: Resource) -> None:
    event = _insert(calendar)
    calendar.events().patch(
        calendarId="primary", eventId=event["id"], body={"summary": "moved on"}
    ).execute()
    request = calendar.events().patch(
        calendarId="primary", eventId=event["id"], body={"summary": "lost update"}
    )
    request.headers["If-Match"] = event["etag"]
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert_http_error(caught.value, status=412, reason="conditionNotMet")

    current = calendar.events().get(calendarId="primary", eventId=event["id"]).execute()
    fresh = calendar.events().patch(
        calendarId="primary", eventId=event["id"], body={"summary": "won"}
    )
    fresh.headers["If-Match"] = current["etag"]
    assert fresh.execute()["summary"] == "won"


def test_declined_attendee_copy_marks_self(calendar: Resource) -> None:
    event = _insert(
        calendar,
        attendees=[
            {"email": OWNER_EMAIL, "responseStatus": "declined"},
            {"email": "guest@example.com", "responseStatus": "accepted"},
        ],
    )
    by_email = {a["email"]: a for a in event["attendees"]}
    assert by_email[OWNER_EMAIL]["self"] is True
    assert by_email[OWNER_EMAIL]["responseStatus"] == "declined"
    assert not by_email["guest@example.com"].get("self", False)
