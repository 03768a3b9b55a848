"""Google fidelity, round 2 (issue 18), through Google's own Python libraries: the emulator's
account-dependent settings reproduce what only real Google shows. Refresh tokens that die 7 days
after consent and announce `refresh_token_expires_in`; writes to an event deleted in Google
refused with 403 while its id stays taken (409); per-calendar freeBusy errors inside a 200 and
the 90-day range limit; quotaExceeded as Google words it; the narrow calendar.events.owned scope
covering every call the product makes (docs/gcal-emulator.md, "Google fidelity, round 2")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from googleapiclient.discovery import Resource
from googleapiclient.errors import HttpError

from tests.conformance.harness import (
    OWNER_EMAIL,
    SCOPE_EVENTS_OWNED,
    SCOPE_FREEBUSY,
    EmulatorControl,
    OAuthClient,
    assert_http_error,
    authorize,
    msk,
    msk_event,
    obtain_credentials,
    rfc3339,
)

DAY = "2031-05-06"
SEVEN_DAYS = 7 * 24 * 3600


def test_settings_have_googles_defaults_and_reset_restores_them(
    control: EmulatorControl, oauth_client: OAuthClient
) -> None:
    defaults = {
        "refresh_token_lifetime_seconds": None,
        "deleted_event_writes": "forbidden",
        "freebusy_max_days": 90,
        "freebusy_errors": {},
    }
    assert control.settings() == defaults
    changed = control.settings(refresh_token_lifetime_seconds=60, freebusy_max_days=30)
    assert changed["deleted_event_writes"] == "forbidden", "only the given keys change"
    control.reset()
    assert control.settings() == defaults


def test_a_time_limited_grant_announces_its_end_and_dies_after_it(
    control: EmulatorControl, oauth_client: OAuthClient
) -> None:
    control.settings(refresh_token_lifetime_seconds=SEVEN_DAYS)  # an External app in Testing
    flow = oauth_client.flow([SCOPE_EVENTS_OWNED])
    query = authorize(flow, prompt="consent")
    token = flow.fetch_token(code=query["code"])
    assert token["refresh_token_expires_in"] == SEVEN_DAYS
    credentials = flow.credentials

    control.advance_clock(SEVEN_DAYS - 3600)
    credentials.refresh(Request())  # still alive the day before
    assert credentials.token

    control.advance_clock(3601)
    with pytest.raises(RefreshError) as caught:
        credentials.refresh(Request())
    assert "invalid_grant" in str(caught.value)
    assert "Token has been expired or revoked." in str(caught.value)


def test_without_a_lifetime_no_expiry_is_announced(oauth_client: OAuthClient) -> None:
    flow = oauth_client.flow([SCOPE_EVENTS_OWNED])
    query = authorize(flow, prompt="consent")
    assert "refresh_token_expires_in" not in flow.fetch_token(code=query["code"])


def test_writes_to_an_event_deleted_in_google_are_forbidden_and_its_id_stays_taken(
    calendar: Resource,
) -> None:
    body = msk_event(DAY, "10:00")
    events = calendar.events()
    events.insert(calendarId="primary", body=body).execute()
    events.delete(calendarId="primary", eventId=body["id"]).execute()
    for write in (
        events.patch(calendarId="primary", eventId=body["id"], body={"status": "confirmed"}),
        events.update(calendarId="primary", eventId=body["id"], body=body),
    ):
        with pytest.raises(HttpError) as caught:
            write.execute()
        assert_http_error(caught.value, status=403, reason="forbidden")
    with pytest.raises(HttpError) as caught:
        events.insert(calendarId="primary", body=body).execute()
    assert_http_error(caught.value, status=409, reason="duplicate")
    assert events.get(calendarId="primary", eventId=body["id"]).execute()["status"] == "cancelled"


def test_the_restore_setting_keeps_the_older_behaviour(
    control: EmulatorControl, calendar: Resource
) -> None:
    control.settings(deleted_event_writes="restore")
    body = msk_event(DAY, "11:00")
    events = calendar.events()
    events.insert(calendarId="primary", body=body).execute()
    events.delete(calendarId="primary", eventId=body["id"]).execute()
    restored = events.patch(
        calendarId="primary", eventId=body["id"], body={"status": "confirmed"}
    ).execute()
    assert restored["status"] == "confirmed"


def _freebusy(calendar: Resource, days: float, ids: list[str]) -> dict[str, object]:
    start = msk(DAY, "00:00")
    body = {
        "timeMin": rfc3339(start),
        "timeMax": rfc3339(start + timedelta(days=days)),
        "items": [{"id": calendar_id} for calendar_id in ids],
    }
    result: dict[str, object] = calendar.freebusy().query(body=body).execute()
    return result


def test_per_calendar_freebusy_errors_come_inside_a_200(
    control: EmulatorControl, calendar: Resource
) -> None:
    control.settings(freebusy_errors={OWNER_EMAIL: "internalError"})
    result = _freebusy(calendar, 1, ["primary"])
    assert result["calendars"] == {
        "primary": {"errors": [{"domain": "global", "reason": "internalError"}], "busy": []}
    }


def test_the_freebusy_range_limit_is_a_setting(
    control: EmulatorControl, calendar: Resource
) -> None:
    assert _freebusy(calendar, 90, ["primary"])["kind"] == "calendar#freeBusy"
    control.settings(freebusy_max_days=30)
    with pytest.raises(HttpError) as caught:
        _freebusy(calendar, 31, ["primary"])
    assert_http_error(caught.value, status=400, reason="timeRangeTooLong")


def test_quota_exceeded_reads_as_google_words_it(
    control: EmulatorControl, calendar: Resource
) -> None:
    control.add_fault(
        path_prefix="/calendar/v3/calendars", method="POST", status=403, reason="quotaExceeded"
    )
    with pytest.raises(HttpError) as caught:
        calendar.events().insert(calendarId="primary", body=msk_event(DAY, "12:00")).execute()
    error = assert_http_error(
        caught.value, status=403, reason="quotaExceeded", domain="usageLimits"
    )
    assert error["message"] == "Calendar usage limits exceeded."


def test_events_owned_and_freebusy_cover_every_call_the_product_makes(
    oauth_client: OAuthClient,
) -> None:
    credentials = obtain_credentials(oauth_client, [SCOPE_EVENTS_OWNED, SCOPE_FREEBUSY])
    calendar = oauth_client.calendar(credentials)
    events = calendar.events()
    body = msk_event(DAY, "13:00")
    events.insert(calendarId="primary", body=body).execute()
    events.patch(calendarId="primary", eventId=body["id"], body={"summary": "moved"}).execute()
    listed = events.list(calendarId="primary", maxResults=1, fields="timeZone").execute()
    assert listed["timeZone"] == "Europe/Moscow"
    assert _freebusy(calendar, 1, ["primary"])["kind"] == "calendar#freeBusy"
    # Nobody listens on port 9: the watch is accepted, its deliveries just fail.
    channel = events.watch(
        calendarId="primary",
        body={"id": "c" * 32, "type": "web_hook", "address": "http://127.0.0.1:9/hook"},
    ).execute()
    calendar.channels().stop(
        body={"id": channel["id"], "resourceId": channel["resourceId"]}
    ).execute()
    events.delete(calendarId="primary", eventId=body["id"]).execute()
