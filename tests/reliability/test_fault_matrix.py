"""Faults of the matrix (docs/reliability.md) that no other module shows, against the emulator,
on SQLite and PostgreSQL: lost delete and restore answers, answers slower than the timeout, a
Retry-After longer than the call may wait, the token endpoint failing during a refresh, expired
sync tokens, and a horizon longer than Google's freeBusy limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient

from balance_booking.adapters.google_calendar.gateway import GoogleCalendarHttpGateway
from balance_booking.adapters.google_calendar.transport import GoogleTransport, RetryPolicy
from balance_booking.application.errors import GoogleUnavailableError
from balance_booking.application.outbox import OutboxDispatcher
from balance_booking.bootstrap import Container, build_outbox_dispatcher
from balance_booking.domain.intervals import Interval
from tests.conftest import START
from tests.support import booking
from tests.support.booking import SLOTS
from tests.support.google import (
    INTEGRATION_API,
    NO_WAIT,
    Emulator,
)

pytestmark = [pytest.mark.google(service={"max_days_ahead": 150}), pytest.mark.reliability]

SYNC = f"{INTEGRATION_API}/sync"
MARIA = {"name": "Мария", "email": "maria@example.com"}
EVENTS = "/calendar/v3/calendars/primary/events"
FREEBUSY = "/calendar/v3/freeBusy"
WEEK = Interval(START, START + timedelta(days=7))


@pytest.fixture
def dispatcher(container: Container, connected: TestClient) -> OutboxDispatcher:
    return build_outbox_dispatcher(container)


def book(client: TestClient) -> UUID:
    """A booking (confirmed at once), with its calendar event exported by the next dispatch."""
    return UUID(booking.book(client, "2026-12-01T11:00:00+03:00", client=MARIA)["id"])


def gateway_with(container: Container, http: httpx.Client, policy: RetryPolicy) -> Any:
    """The production gateway over a client and retry policy the test chooses."""
    return GoogleCalendarHttpGateway(
        GoogleTransport(http, policy=policy),
        base_url=container.settings.google_calendar_api_url,
        tokens=container.tokens,
    )


def test_lost_delete_answer_still_means_the_event_is_gone(
    container: Container, connected: TestClient, dispatcher: OutboxDispatcher, emulator: Emulator
) -> None:
    appointment_id = book(connected)
    assert dispatcher.execute().done == 1
    assert connected.post(f"/api/admin/appointments/{appointment_id}/cancel").status_code == 200
    # Google deletes the event and the answer is lost; the retry gets 410 `deleted`: done.
    emulator.fault(path_prefix=EVENTS, method="DELETE", drop_response=True, count=1)
    report = dispatcher.execute()
    assert (report.done, report.retried, report.parked) == (1, 0, 0)
    assert emulator.faults_left() == []
    assert [(e["id"], e["status"]) for e in emulator.events()] == [
        (appointment_id.hex, "cancelled")
    ]
    with container.readers() as uow:
        assert uow.appointments.calendar_event(appointment_id).state == "deleted"


def test_lost_restore_answer_still_means_one_live_event(
    container: Container, connected: TestClient, dispatcher: OutboxDispatcher, emulator: Emulator
) -> None:
    # An account whose Google lets a deleted event be written again (the emulator's "restore";
    # real Google refuses it, which tests/integration/test_export.py covers).
    settings = emulator.control.post(
        "/_emulator/settings", json={"deleted_event_writes": "restore"}
    )
    assert settings.status_code == 200, settings.text
    appointment_id = book(connected)
    dispatcher.execute()
    emulator.delete_event(appointment_id.hex)
    # The reconciliation's patch (the undelete) is applied by Google, its answer lost.
    emulator.fault(path_prefix=EVENTS, method="PATCH", drop_response=True, count=1)
    reconcile = connected.post(SYNC).json()["reconcile"]
    assert (reconcile["restored"], reconcile["failed"]) == (1, 0)
    assert emulator.faults_left() == []
    assert [(e["id"], e["status"]) for e in emulator.events()] == [
        (appointment_id.hex, "confirmed")
    ]
    assert connected.post(SYNC).json()["reconcile"]["restored"] == 0


def test_an_answer_slower_than_the_timeout_is_retried_then_given_up(
    container: Container, connected: TestClient, emulator: Emulator
) -> None:
    # The product's timeout is 10 s (bootstrap.GOOGLE_TIMEOUT); the same code with 0.3 s.
    with httpx.Client(timeout=httpx.Timeout(0.3)) as http:
        gateway = gateway_with(container, http, NO_WAIT)
        emulator.fault(path_prefix=FREEBUSY, latency_ms=1500, count=1)
        assert gateway.busy_intervals(WEEK) == []
        assert emulator.faults_left() == [], "the slow answer was waited for, then retried"
        emulator.fault(path_prefix=FREEBUSY, latency_ms=1500, count=0)
        with pytest.raises(GoogleUnavailableError):
            gateway.busy_intervals(WEEK)
    # Under the product's own timeout the same latency is only slow.
    assert connected.post(SYNC).status_code == 200
    emulator.clear_faults()


def test_retry_after_longer_than_the_call_may_wait_fails_at_once(
    container: Container, connected: TestClient, emulator: Emulator
) -> None:
    slept: list[float] = []
    policy = RetryPolicy(attempts=5, deadline_seconds=30, sleep=slept.append, jitter=lambda: 0)
    with httpx.Client(timeout=10) as http:
        gateway = gateway_with(container, http, policy)
        emulator.fault(path_prefix=FREEBUSY, status=429, retry_after=120, count=1)
        with pytest.raises(GoogleUnavailableError):
            gateway.busy_intervals(WEEK)
        # Bounded: no two-minute sleep inside a request; the caller's schedule retries later.
        assert slept == []
        assert emulator.faults_left() == [], "exactly one call reached Google"
        emulator.fault(path_prefix=FREEBUSY, status=429, retry_after=3, count=1)
        assert gateway.busy_intervals(WEEK) == []
        assert slept == [3.0], "a Retry-After within the deadline is honoured"


def test_token_endpoint_503_during_a_refresh_is_retried(
    container: Container, connected: TestClient, emulator: Emulator
) -> None:
    before = container.tokens.current()
    # Google's clock passes the access token's hour (ours does not): 401, refresh, and the
    # token endpoint fails twice before it answers.
    emulator.control.post("/_emulator/clock", json={"advance_seconds": 3601}).raise_for_status()
    emulator.fault(path_prefix="/token", status=503, count=2)
    assert connected.post(SYNC).status_code == 200
    assert emulator.faults_left() == []
    assert container.tokens.current() != before
    assert connected.get(INTEGRATION_API).json()["status"] == "connected"


def test_token_endpoint_down_is_not_a_revocation(
    container: Container, connected: TestClient, emulator: Emulator
) -> None:
    emulator.control.post("/_emulator/clock", json={"advance_seconds": 3601}).raise_for_status()
    emulator.fault(path_prefix="/token", status=503, count=0)
    failed = connected.post(SYNC)
    assert failed.status_code == 502
    status = connected.get(INTEGRATION_API).json()
    assert (status["status"], status["last_sync_ok"]) == ("connected", False)
    emulator.clear_faults()
    assert connected.post(SYNC).status_code == 200


def test_expired_sync_tokens_change_nothing(connected: TestClient, emulator: Emulator) -> None:
    # The product reads busy time with freeBusy and its own events with a filtered listing,
    # never with sync tokens, so Google's 410 `fullSyncRequired` cannot reach it.
    emulator.add_busy("2026-12-01T13:00:00+03:00", "2026-12-01T14:00:00+03:00")
    emulator.control.post("/_emulator/expire-sync-tokens", json={}).raise_for_status()
    report = connected.post(SYNC)
    assert report.status_code == 200
    assert report.json()["busy_intervals"] == 1
    assert report.json()["reconcile"]["error"] is None


def test_a_horizon_past_googles_freebusy_limit_is_read_in_chunks(
    connected: TestClient, emulator: Emulator
) -> None:
    # The service books 150 days ahead; Google (and the emulator) refuse freeBusy ranges over
    # 62 days with 400 `timeRangeTooLong`, so one sync asks in 60-day pieces.
    far = datetime.fromisoformat("2027-04-20T12:00:00+03:00")  # a Tuesday, 141 days ahead
    emulator.add_hour(far)
    report = connected.post(SYNC)
    assert report.status_code == 200, report.text
    assert report.json()["busy_intervals"] == 1
    slots = connected.get(
        SLOTS, params={"service_slug": "session", "from": "2027-04-20", "to": "2027-04-20"}
    ).json()["slots"]
    assert "2027-04-20T12:00:00+03:00" not in [slot["start"] for slot in slots]
    assert "2027-04-20T11:00:00+03:00" in [slot["start"] for slot in slots]
