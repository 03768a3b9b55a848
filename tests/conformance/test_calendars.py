"""Proves calendarList.list and calendars.get answer in the shapes google-api-python-client
expects (kinds, primary entry, owner access, Europe/Moscow time zone), that an unknown calendar is
404 notFound, and that the standard query parameters the library sends or allows (alt=json,
fields, prettyPrint, quotaUser) are accepted (protocol doc sections 3, 3.1, 3.2)."""

from __future__ import annotations

import pytest
from googleapiclient.discovery import Resource
from googleapiclient.errors import HttpError

from tests.conformance.harness import OWNER_EMAIL, OWNER_TIMEZONE, assert_http_error


def test_calendar_list_has_the_primary_calendar(calendar: Resource) -> None:
    result = calendar.calendarList().list().execute()
    assert result["kind"] == "calendar#calendarList"
    assert result["etag"]
    assert "nextPageToken" not in result
    (primary,) = [entry for entry in result["items"] if entry.get("primary")]
    assert primary["kind"] == "calendar#calendarListEntry"
    assert primary["id"] == OWNER_EMAIL
    assert primary["accessRole"] == "owner"
    assert primary["timeZone"] == OWNER_TIMEZONE
    assert primary["etag"]
    assert primary["summary"]


def test_calendars_get_primary(calendar: Resource) -> None:
    result = calendar.calendars().get(calendarId="primary").execute()
    assert result["kind"] == "calendar#calendar"
    assert result["id"] == OWNER_EMAIL
    assert result["timeZone"] == OWNER_TIMEZONE
    assert result["etag"]
    assert result["summary"]


def test_calendars_get_by_percent_encoded_email_id(calendar: Resource) -> None:
    request = calendar.calendars().get(calendarId=OWNER_EMAIL)
    assert "owner%40example.com" in request.uri
    assert request.execute()["id"] == OWNER_EMAIL


def test_calendars_get_unknown_is_not_found(calendar: Resource) -> None:
    with pytest.raises(HttpError) as caught:
        calendar.calendars().get(calendarId="nobody@example.com").execute()
    assert_http_error(caught.value, status=404, reason="notFound")


def test_fields_selects_a_partial_response(calendar: Resource) -> None:
    request = calendar.calendars().get(calendarId="primary", fields="id,timeZone")
    assert "alt=json" in request.uri
    assert request.execute() == {"id": OWNER_EMAIL, "timeZone": OWNER_TIMEZONE}


def test_nested_fields_selector_on_a_list(calendar: Resource) -> None:
    result = calendar.calendarList().list(fields="items(id,primary)").execute()
    assert result == {"items": [{"id": OWNER_EMAIL, "primary": True}]}


def test_pretty_print_and_quota_user_are_accepted(calendar: Resource) -> None:
    request = calendar.calendars().get(calendarId="primary", prettyPrint=False, quotaUser="u-42")
    assert "prettyPrint=false" in request.uri
    assert "quotaUser=u-42" in request.uri
    assert request.execute()["id"] == OWNER_EMAIL
    assert calendar.calendars().get(calendarId="primary", prettyPrint=True).execute()["id"]


def test_calendar_list_ends_with_a_sync_token_that_works(calendar: Resource) -> None:
    # Protocol doc 3.1 / discovery CalendarList: the last page carries nextSyncToken, and a
    # listing with syncToken returns only entries changed since (none here).
    first = calendar.calendarList().list().execute()
    assert first.get("nextSyncToken"), sorted(first)
    again = calendar.calendarList().list(syncToken=first["nextSyncToken"]).execute()
    assert again["items"] == []
    assert again["nextSyncToken"]
