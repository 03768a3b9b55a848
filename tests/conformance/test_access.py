"""Proves the emulator's access control and injected failures reach google-api-python-client in
Google's wire format: 401 authError with WWW-Authenticate for a bad bearer token, 403
insufficientPermissions per method scope, and 429 / 403 rate limits, 5xx, outage, latency and a
dropped insert response. The library's own retry logic (`execute(num_retries=...)`) only retries
403s whose `errors[0].reason` is a rate-limit reason, so its behaviour doubles as a check of where
the reason sits in the body (protocol doc 2.7, 5.1-5.3)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import google_auth_httplib2
import httplib2
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import Resource
from googleapiclient.errors import HttpError

from tests.conformance.harness import (
    SCOPE_CALENDAR,
    SCOPE_EVENTS,
    SCOPE_EVENTS_OWNED,
    SCOPE_FREEBUSY,
    SCOPE_READONLY,
    EmulatorControl,
    OAuthClient,
    assert_http_error,
    calendar_service,
    calendar_service_over,
    msk,
    new_event_id,
    obtain_credentials,
    rfc3339,
    timed_event,
)

DAY = "2031-03-04"


def _unrefreshing(base: str, token: str) -> Resource:
    http = google_auth_httplib2.AuthorizedHttp(
        Credentials(token=token), http=httplib2.Http(), refresh_status_codes=()
    )
    return calendar_service_over(base, http)


def test_unknown_bearer_token_is_401_auth_error(
    emulator_base: str, oauth_client: OAuthClient
) -> None:
    service = _unrefreshing(emulator_base, "ya29.never-issued")
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary").execute()
    error = assert_http_error(caught.value, status=401, reason="authError", domain="global")
    assert error["errors"][0]["location"] == "Authorization"
    assert error["errors"][0]["locationType"] == "header"
    challenge = caught.value.resp["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge


def _call(service: Resource, method: str) -> dict[str, Any]:
    start = msk(DAY, "10:00")
    calls: dict[str, Callable[[], Any]] = {
        "events.list": lambda: service.events().list(calendarId="primary"),
        "events.insert": lambda: service.events().insert(
            calendarId="primary",
            body=timed_event(start, start + timedelta(hours=1), event_id=new_event_id()),
        ),
        "freebusy.query": lambda: service.freebusy().query(
            body={
                "timeMin": rfc3339(start),
                "timeMax": rfc3339(start + timedelta(days=1)),
                "items": [{"id": "primary"}],
            }
        ),
        "calendarList.list": lambda: service.calendarList().list(),
        "calendars.get": lambda: service.calendars().get(calendarId="primary"),
    }
    result: dict[str, Any] = calls[method]().execute()
    return result


SCOPE_MATRIX = [
    # (granted scope, method, allowed) per protocol doc 2.7.
    (SCOPE_FREEBUSY, "freebusy.query", True),
    (SCOPE_FREEBUSY, "events.list", False),
    (SCOPE_FREEBUSY, "events.insert", False),
    (SCOPE_FREEBUSY, "calendarList.list", False),
    (SCOPE_FREEBUSY, "calendars.get", False),
    (SCOPE_EVENTS_OWNED, "events.insert", True),
    (SCOPE_EVENTS_OWNED, "events.list", True),
    (SCOPE_EVENTS_OWNED, "calendarList.list", False),
    (SCOPE_EVENTS_OWNED, "calendars.get", False),
    (SCOPE_EVENTS_OWNED, "freebusy.query", False),
    (SCOPE_READONLY, "events.list", True),
    (SCOPE_READONLY, "freebusy.query", True),
    (SCOPE_READONLY, "calendars.get", True),
    (SCOPE_READONLY, "events.insert", False),
    (SCOPE_EVENTS, "events.insert", True),
    (SCOPE_EVENTS, "calendarList.list", False),
    (SCOPE_CALENDAR, "calendarList.list", True),
]


@pytest.mark.parametrize(("scope", "method", "allowed"), SCOPE_MATRIX)
def test_method_scopes(
    emulator_base: str, oauth_client: OAuthClient, scope: str, method: str, allowed: bool
) -> None:
    service = calendar_service(emulator_base, obtain_credentials(oauth_client, [scope]))
    if allowed:
        assert _call(service, method)["kind"].startswith("calendar#")
        return
    with pytest.raises(HttpError) as caught:
        _call(service, method)
    assert_http_error(caught.value, status=403, reason="insufficientPermissions")


@pytest.mark.parametrize(
    ("status", "reason", "domain"),
    [
        (429, "rateLimitExceeded", "usageLimits"),
        (403, "rateLimitExceeded", "usageLimits"),
        (403, "userRateLimitExceeded", "usageLimits"),
        (403, "quotaExceeded", "usageLimits"),
        (500, "backendError", "global"),
        (503, "backendError", "global"),
    ],
)
def test_injected_fault_surfaces_as_http_error(
    calendar: Resource, control: EmulatorControl, status: int, reason: str, domain: str
) -> None:
    control.add_fault(
        status=status,
        reason=reason,
        path_prefix="/calendar/v3/calendars/",
        method="GET",
        retry_after=7,
        count=1,
    )
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="primary").execute()
    assert_http_error(caught.value, status=status, reason=reason, domain=domain)
    assert caught.value.resp["retry-after"] == "7"
    # count=1: the next identical call goes through.
    assert calendar.events().list(calendarId="primary").execute()["kind"] == "calendar#events"


@pytest.mark.parametrize(
    ("status", "reason", "retried"),
    [
        (429, "rateLimitExceeded", True),
        (403, "rateLimitExceeded", True),
        (403, "userRateLimitExceeded", True),
        (403, "quotaExceeded", False),
        (503, None, True),
    ],
)
def test_library_retry_policy_reads_the_reason(
    calendar: Resource, control: EmulatorControl, status: int, reason: str | None, retried: bool
) -> None:
    control.add_fault(status=status, reason=reason, path_prefix="/calendar/v3/", count=1)
    request = calendar.calendarList().list()
    sleeps: list[float] = []
    request._sleep = sleeps.append  # the library's backoff, recorded instead of slept
    if retried:
        assert request.execute(num_retries=2)["kind"] == "calendar#calendarList"
        assert len(sleeps) == 1
    else:
        with pytest.raises(HttpError) as caught:
            request.execute(num_retries=2)
        assert_http_error(caught.value, status=status, reason=str(reason))
        assert sleeps == []


def test_fault_count_and_matching(calendar: Resource, control: EmulatorControl) -> None:
    control.add_fault(status=429, path_prefix="/calendar/v3/freeBusy", method="POST", count=2)
    # Other paths are unaffected.
    assert calendar.calendarList().list().execute()["items"]
    body = {
        "timeMin": rfc3339(msk(DAY, "00:00")),
        "timeMax": rfc3339(msk(DAY, "23:00")),
        "items": [{"id": "primary"}],
    }
    for _ in range(2):
        with pytest.raises(HttpError) as caught:
            calendar.freebusy().query(body=body).execute()
        assert_http_error(caught.value, status=429, reason="rateLimitExceeded")
    assert calendar.freebusy().query(body=body).execute()["kind"] == "calendar#freeBusy"


def test_clearing_faults(calendar: Resource, control: EmulatorControl) -> None:
    control.add_fault(status=500, path_prefix="/calendar/v3/")
    with pytest.raises(HttpError):
        calendar.calendarList().list().execute()
    control.clear_faults()
    assert calendar.calendarList().list().execute()["items"]


def test_outage_and_recovery(calendar: Resource, control: EmulatorControl) -> None:
    control.set_outage(down=True)
    with pytest.raises(HttpError) as caught:
        calendar.calendarList().list().execute()
    assert caught.value.status_code == 503
    control.set_outage(down=False)
    assert calendar.calendarList().list().execute()["items"]


def test_injected_latency_delays_the_answer(calendar: Resource, control: EmulatorControl) -> None:
    control.add_fault(status=200, path_prefix="/calendar/v3/users/", latency_ms=400, count=1)
    started = time.monotonic()
    assert calendar.calendarList().list().execute()["items"]
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    calendar.calendarList().list().execute()
    assert time.monotonic() - started < 0.4


def test_dropped_insert_response_commits_the_event(
    calendar: Resource, control: EmulatorControl
) -> None:
    event_id = new_event_id()
    start = msk(DAY, "12:00")
    body = timed_event(start, start + timedelta(hours=1), event_id=event_id)
    control.add_fault(
        status=200,
        path_prefix="/calendar/v3/calendars/",
        method="POST",
        count=1,
        drop_response=True,
    )
    with pytest.raises((HttpError, ConnectionError, httplib2.HttpLib2Error)) as dropped:
        calendar.events().insert(calendarId="primary", body=body).execute()
    if isinstance(dropped.value, HttpError):
        # httplib2 transparently re-sends a request whose connection closed before the status
        # line; the re-sent insert meets the committed event.
        assert_http_error(dropped.value, status=409, reason="duplicate")
    # The write was committed although the client never saw the answer ...
    assert calendar.events().get(calendarId="primary", eventId=event_id).execute()["id"] == event_id
    # ... so a blind retry of the same insert is 409 duplicate: the id made it idempotent.
    with pytest.raises(HttpError) as caught:
        calendar.events().insert(calendarId="primary", body=body).execute()
    assert_http_error(caught.value, status=409, reason="duplicate")
