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

import pytest
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import Resource
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest

from tests.conformance.harness import (
    SCOPE_CALENDAR,
    SCOPE_EVENTS,
    SCOPE_EVENTS_OWNED,
    SCOPE_FREEBUSY,
    SCOPE_READONLY,
    EmulatorControl,
    OAuthClient,
    assert_http_error,
    msk,
    msk_event,
    rfc3339,
)

DAY = "2031-03-04"


def test_unknown_bearer_token_is_401_auth_error(oauth_client: OAuthClient) -> None:
    service = oauth_client.calendar_with_token("ya29.never-issued")
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
            body=msk_event(DAY, "10:00"),
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
def test_method_scopes(oauth_client: OAuthClient, scope: str, method: str, allowed: bool) -> None:
    service = oauth_client.authorized_calendar([scope])
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
    control.add_fault(status=500, path_prefix="/calendar/v3/", count=0)  # 0: until cleared
    for _ in range(2):
        with pytest.raises(HttpError) as caught:
            calendar.calendarList().list().execute()
        assert_http_error(caught.value, status=500, reason="backendError")
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
    control.add_fault(path_prefix="/calendar/v3/users/", latency_ms=400, count=1)
    started = time.monotonic()
    assert calendar.calendarList().list().execute()["items"]
    assert time.monotonic() - started >= 0.4
    assert control.state()["faults"] == []  # count=1: used up by that call


def _insert_losing_its_answer(
    calendar: Resource, control: EmulatorControl, hhmm: str
) -> tuple[str, HttpRequest]:
    """An events.insert with a client-supplied id whose first answer the emulator drops."""
    body = msk_event(DAY, hhmm)
    control.add_fault(
        path_prefix="/calendar/v3/calendars/", method="POST", count=1, drop_response=True
    )
    return body["id"], calendar.events().insert(calendarId="primary", body=body)


def test_dropped_insert_response_commits_the_event(
    calendar: Resource, control: EmulatorControl
) -> None:
    event_id, request = _insert_losing_its_answer(calendar, control, "12:00")
    sleeps: list[float] = []
    request._sleep = sleeps.append
    # The first answer is lost (a 5xx stands in for it), so the library retries the POST; the
    # retry meets the committed event: the client-supplied id made the insert idempotent.
    with pytest.raises(HttpError) as caught:
        request.execute(num_retries=1)
    assert len(sleeps) == 1
    assert_http_error(caught.value, status=409, reason="duplicate")
    assert calendar.events().get(calendarId="primary", eventId=event_id).execute()["id"] == event_id


def test_dropped_response_without_retry_still_commits(
    calendar: Resource, control: EmulatorControl
) -> None:
    event_id, request = _insert_losing_its_answer(calendar, control, "14:00")
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code >= 500
    items = calendar.events().list(calendarId="primary").execute()["items"]
    assert [item["id"] for item in items] == [event_id]


def test_token_endpoint_503_is_retried_by_google_auth(
    oauth_client: OAuthClient, credentials: Credentials, control: EmulatorControl
) -> None:
    # google-auth treats a 503 from the token endpoint as retryable (protocol doc 2.4): it backs
    # off about a second and the second attempt succeeds.
    control.add_fault(status=503, path_prefix="/token", method="POST", count=1)
    before = credentials.token
    credentials.refresh(Request())
    assert credentials.token != before
    assert control.state()["faults"] == []  # the first attempt did meet the 503


def test_token_endpoint_400_is_not_retried(
    oauth_client: OAuthClient, credentials: Credentials, control: EmulatorControl
) -> None:
    control.add_fault(status=400, reason="invalid_grant", path_prefix="/token", count=1)
    with pytest.raises(RefreshError) as caught:
        credentials.refresh(Request())
    assert caught.value.args[1]["error"] == "invalid_grant"
    assert caught.value.retryable is False
    credentials.refresh(Request())  # the fault was used once; the grant itself is fine
