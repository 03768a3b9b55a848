"""Export to Google Calendar through the outbox, against the emulator, on SQLite and PostgreSQL.

Appointments are booked and cancelled through the booking API (which writes the domain event
to the outbox in the booking's transaction); the dispatcher is the one the worker runs, wired
by bootstrap, with an injected jitter and the tests' clock.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import select

from balance_booking.adapters.db import tables as t
from balance_booking.application.outbox import Backoff, OutboxDispatcher
from balance_booking.application.ports import CalendarEventState, CalendarState
from balance_booking.bootstrap import Container, build_outbox_dispatcher
from tests.conftest import FakeClock
from tests.support.google import (
    INTEGRATION_API,
    OWNER,
    Emulator,
    connect_calendar,
)

pytestmark = [pytest.mark.google(), pytest.mark.reliability]

SYNC = f"{INTEGRATION_API}/sync"
BOOK = "/api/public/booking/appointments"
EVENTS = "/calendar/v3/calendars/primary/events"
JITTER = 0.25
CLIENT = {"name": "Мария Иванова", "email": "maria@example.com", "phone": "+7 900 000-00-00"}
# Tuesday 1 December 2026, 11:00 Moscow (the FakeClock starts on Monday 30 November, 09:00).
TUESDAY_11 = datetime.fromisoformat("2026-12-01T11:00:00+03:00")


@pytest.fixture
def dispatcher(container: Container, connected: TestClient) -> OutboxDispatcher:
    return build_outbox_dispatcher(container, backoff=Backoff(jitter=lambda: JITTER))


@pytest.fixture
def export_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="balance_booking.application.export")
    caplog.set_level(logging.INFO, logger="balance_booking.application.reconcile")
    return caplog


def book(client: TestClient, start: datetime = TUESDAY_11) -> UUID:
    """A client books (a service without payment: confirmed at once)."""
    response = client.post(
        BOOK,
        json={
            "service_slug": "session",
            "start": start.isoformat(),
            "timezone": "Asia/Yekaterinburg",
            "client": CLIENT,
            "comment": "панические атаки",
        },
    )
    assert response.status_code == 201, response.text
    appointment = response.json()["appointment"]
    assert appointment["status"] == "confirmed"
    return UUID(appointment["id"])


def cancel(admin: TestClient, appointment_id: UUID) -> None:
    response = admin.post(f"/api/admin/appointments/{appointment_id}/cancel")
    assert response.status_code == 200, response.text


def events(emulator: Emulator) -> list[dict[str, Any]]:
    """Every event in the owner's primary calendar, deleted ones included."""
    by_calendar: dict[str, list[dict[str, Any]]] = emulator.state()["events"]  # type: ignore[assignment]
    return by_calendar.get(OWNER, [])


def calendar_state(container: Container, appointment_id: UUID) -> CalendarEventState:
    with container.readers() as uow:
        return uow.appointments.calendar_event(appointment_id)


def outbox_rows(container: Container) -> list[Any]:
    with container.engine.connect() as connection:
        return list(connection.execute(select(t.outbox).order_by(t.outbox.c.id)))


def fault(emulator: Emulator, **spec: object) -> None:
    emulator.control.post(
        "/_emulator/faults", json={"path_prefix": EVENTS} | spec
    ).raise_for_status()


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_confirmed_appointment_becomes_exactly_one_private_event(
    container: Container, connected: TestClient, dispatcher: OutboxDispatcher, emulator: Emulator
) -> None:
    appointment_id = book(connected)
    report = dispatcher.execute()
    assert (report.claimed, report.done, report.wrote_to_google) == (1, 1, True)

    [event] = events(emulator)
    assert event["id"] == appointment_id.hex
    assert event["status"] == "confirmed"
    assert event["summary"] == f"Сессия · Balance #{appointment_id.hex[:4]}"
    visible = f"{event['summary']} {event.get('description', '')} {event.get('location', '')}"
    for personal in ("Мария", "Иванова", "maria@example.com", "900", "панические"):
        assert personal not in visible
    assert "http://testserver/admin/schedule/" in event["description"]
    # The service's 50 minutes, shown in the owner's zone (not the client's Yekaterinburg).
    assert event["start"] == {"dateTime": "2026-12-01T11:00:00+03:00", "timeZone": "Europe/Moscow"}
    assert event["end"] == {"dateTime": "2026-12-01T11:50:00+03:00", "timeZone": "Europe/Moscow"}
    assert event["extendedProperties"]["private"] == {
        "balance_app": "1",
        "balance_appointment_id": str(appointment_id),
    }
    assert event.get("transparency", "opaque") == "opaque"
    assert calendar_state(container, appointment_id) == CalendarEventState(
        event_id=appointment_id.hex, state=CalendarState.CREATED
    )
    assert [row.status for row in outbox_rows(container)] == ["done"]
    # The write triggered a busy re-sync: our own event is now in the mirror.
    status = connected.get(INTEGRATION_API).json()
    assert status["busy_intervals"] == 1
    assert status["reconcile"]["checked"] == 1
    assert dispatcher.execute().claimed == 0, "nothing left to do"
    assert len(events(emulator)) == 1


def test_cancel_deletes_the_same_event(
    container: Container, connected: TestClient, dispatcher: OutboxDispatcher, emulator: Emulator
) -> None:
    appointment_id = book(connected)
    dispatcher.execute()
    cancel(connected, appointment_id)
    report = dispatcher.execute()
    assert (report.claimed, report.done) == (1, 1)
    [event] = events(emulator)
    assert (event["id"], event["status"]) == (appointment_id.hex, "cancelled")
    assert calendar_state(container, appointment_id).state == "deleted"
    assert [row.status for row in outbox_rows(container)] == ["done", "done"]


def test_cancel_before_export_leaves_no_event(
    container: Container, connected: TestClient, dispatcher: OutboxDispatcher, emulator: Emulator
) -> None:
    appointment_id = book(connected)
    cancel(connected, appointment_id)
    # The cancel waits for the create of the same appointment, which sees it is no longer
    # confirmed and skips; the delete then finds nothing (404 = done).
    first = dispatcher.execute()
    assert first.claimed == 1
    second = dispatcher.execute()
    assert second.claimed == 1
    assert events(emulator) == []
    assert calendar_state(container, appointment_id).state == "deleted"
    assert [row.status for row in outbox_rows(container)] == ["done", "done"]


def test_a_cancel_never_overtakes_the_create_of_its_appointment(
    container: Container,
    connected: TestClient,
    dispatcher: OutboxDispatcher,
    emulator: Emulator,
    clock: FakeClock,
) -> None:
    appointment_id = book(connected)
    fault(emulator, method="POST", status=503, count=3)
    assert dispatcher.execute().retried == 1
    cancel(connected, appointment_id)
    # The create waits for its backoff; the cancel is due but must not go first (another
    # worker could otherwise delete before a slow create lands, leaving a ghost event).
    assert dispatcher.execute().claimed == 0
    clock.advance(timedelta(seconds=2))
    first = dispatcher.execute()
    assert (first.claimed, first.done, first.wrote_to_google) == (1, 1, False)
    assert [row.status for row in outbox_rows(container)] == ["done", "pending"]
    assert dispatcher.execute().done == 1
    assert events(emulator) == []
    assert calendar_state(container, appointment_id).state == "deleted"


def test_transient_503_backs_off_then_creates(
    container: Container,
    connected: TestClient,
    dispatcher: OutboxDispatcher,
    emulator: Emulator,
    clock: FakeClock,
) -> None:
    first = book(connected)
    second = book(connected, TUESDAY_11 + timedelta(hours=2))
    # NO_WAIT makes 3 attempts per call: 6 failures = two failed dispatcher runs.
    fault(emulator, method="POST", status=503, reason="backendError", count=6)
    started = clock.now()

    report = dispatcher.execute()
    assert (report.claimed, report.retried, report.released) == (2, 1, 1)
    rows = outbox_rows(container)
    assert [row.attempts for row in rows] == [1, 0], "the untried row is handed back as is"
    assert rows[0].next_attempt_at == started + timedelta(seconds=2**0 + JITTER)
    assert rows[0].status == "pending"
    assert "Google kept failing" in rows[0].last_error

    # The first row is not due yet; the second one waits behind nothing and is claimed.
    assert dispatcher.execute().retried == 1
    rows = outbox_rows(container)
    assert rows[0].attempts == 1
    assert rows[1].attempts == 1

    clock.advance(timedelta(seconds=1))
    assert dispatcher.execute().claimed == 0, "1.25 s have not passed yet"
    clock.advance(timedelta(seconds=1))
    report = dispatcher.execute()
    assert (report.claimed, report.done) == (2, 2)
    assert sorted(event["id"] for event in events(emulator)) == sorted([first.hex, second.hex])
    assert calendar_state(container, first).state == "created"
    assert calendar_state(container, second).state == "created"


def test_backoff_grows_by_the_formula(
    container: Container,
    connected: TestClient,
    dispatcher: OutboxDispatcher,
    emulator: Emulator,
    clock: FakeClock,
) -> None:
    book(connected)
    fault(emulator, method="POST", status=503, count=0)  # Google down for inserts
    delays = []
    for _ in range(4):
        before = clock.now()
        assert dispatcher.execute().retried == 1
        [row] = outbox_rows(container)
        delays.append((row.next_attempt_at - before).total_seconds())
        clock.set(row.next_attempt_at)
    assert delays == [1 + JITTER, 2 + JITTER, 4 + JITTER, 8 + JITTER]
    capped = Backoff(jitter=lambda: JITTER)
    assert capped.delay(10).total_seconds() == 64
    emulator.control.delete("/_emulator/faults").raise_for_status()
    assert dispatcher.execute().done == 1
    assert len(events(emulator)) == 1


def test_permanent_400_parks_the_row_and_marks_the_appointment_failed(
    container: Container,
    connected: TestClient,
    dispatcher: OutboxDispatcher,
    emulator: Emulator,
    export_log: pytest.LogCaptureFixture,
) -> None:
    appointment_id = book(connected)
    parked_before = counter("balance_outbox_parked_total", event="AppointmentConfirmed")
    fault(emulator, method="POST", status=400, reason="badRequest", count=2)
    report = dispatcher.execute()
    assert (report.parked, report.retried, report.wrote_to_google) == (1, 0, False)
    remaining = emulator.control.get("/_emulator/faults").json()["faults"][0]["remaining"]
    assert remaining == 1, "a permanent refusal is not retried"
    [row] = outbox_rows(container)
    assert row.status == "parked"
    assert "400" in row.last_error
    assert calendar_state(container, appointment_id).state == "failed"
    with container.readers() as uow:
        [parked] = uow.outbox.parked()
    assert parked.message.appointment_id == appointment_id
    assert parked.message.kind == "google_calendar"
    assert parked.reason is not None
    assert "badRequest" in parked.reason
    errors = [r for r in export_log.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["outbox_parked"]
    after = counter("balance_outbox_parked_total", event="AppointmentConfirmed")
    assert after == parked_before + 1
    assert events(emulator) == []
    assert dispatcher.execute().claimed == 0, "a parked row stays parked"


def test_revoked_access_is_retried_later_not_parked(
    container: Container,
    connected: TestClient,
    dispatcher: OutboxDispatcher,
    emulator: Emulator,
    clock: FakeClock,
) -> None:
    appointment_id = book(connected)
    emulator.control.post("/_emulator/revoke", json={"email": OWNER}).raise_for_status()
    report = dispatcher.execute()
    assert (report.retried, report.parked) == (1, 0)
    [row] = outbox_rows(container)
    assert (row.status, row.attempts) == ("pending", 1)
    assert connected.get(INTEGRATION_API).json()["status"] == "needs_reauth"
    # While access is revoked the rows wait without spending attempts.
    clock.advance(timedelta(minutes=5))
    assert dispatcher.execute().claimed == 0
    assert outbox_rows(container)[0].attempts == 1
    assert calendar_state(container, appointment_id).state == "pending"

    assert connect_calendar(connected).endswith("result=connected")
    assert dispatcher.execute().done == 1
    assert [event["id"] for event in events(emulator)] == [appointment_id.hex]
    assert calendar_state(container, appointment_id).state == "created"


def test_409_duplicate_counts_as_created(
    container: Container, connected: TestClient, dispatcher: OutboxDispatcher, emulator: Emulator
) -> None:
    appointment_id = book(connected)
    # An earlier attempt created the event and its answer was lost.
    emulator.control.post(
        "/_emulator/events",
        json={
            "event": {
                "id": appointment_id.hex,
                "summary": "created by an earlier attempt",
                "start": {"dateTime": "2026-12-01T11:00:00+03:00"},
                "end": {"dateTime": "2026-12-01T11:50:00+03:00"},
            }
        },
    ).raise_for_status()
    duplicates = counter("balance_google_writes_total", operation="insert", result="duplicate")
    report = dispatcher.execute()
    assert (report.done, report.parked, report.retried) == (1, 0, 0)
    assert len(events(emulator)) == 1
    assert calendar_state(container, appointment_id).state == "created"
    after = counter("balance_google_writes_total", operation="insert", result="duplicate")
    assert after == duplicates + 1


def test_lost_insert_response_still_means_one_event(
    container: Container, connected: TestClient, dispatcher: OutboxDispatcher, emulator: Emulator
) -> None:
    appointment_id = book(connected)
    # Google commits the insert and the answer is lost; the retry gets 409 duplicate.
    fault(emulator, method="POST", drop_response=True, count=1)
    assert dispatcher.execute().done == 1
    assert [event["id"] for event in events(emulator)] == [appointment_id.hex]
    assert calendar_state(container, appointment_id).state == "created"


def test_event_deleted_in_google_is_restored_by_the_next_sync(
    container: Container,
    connected: TestClient,
    dispatcher: OutboxDispatcher,
    emulator: Emulator,
    export_log: pytest.LogCaptureFixture,
) -> None:
    appointment_id = book(connected)
    dispatcher.execute()
    emulator.control.delete(f"/_emulator/events/{appointment_id.hex}").raise_for_status()
    assert events(emulator)[0]["status"] == "cancelled"

    report = connected.post(SYNC).json()
    assert report["reconcile"] | {"at": None} == {
        "at": None,
        "checked": 1,
        "restored": 1,
        "moved_back": 0,
        "removed": 0,
        "failed": 0,
        "error": None,
    }
    [event] = events(emulator)
    assert (event["id"], event["status"]) == (appointment_id.hex, "confirmed")
    assert event["start"]["dateTime"] == "2026-12-01T11:00:00+03:00"
    assert "calendar_event_restored" in export_log.messages
    shown = connected.get(INTEGRATION_API).json()["reconcile"]
    assert shown["restored"] == 1
    assert shown["at"] is not None
    # Nothing left to repair.
    assert connected.post(SYNC).json()["reconcile"]["restored"] == 0


def test_event_moved_in_google_is_put_back_by_the_next_sync(
    container: Container,
    connected: TestClient,
    dispatcher: OutboxDispatcher,
    emulator: Emulator,
    export_log: pytest.LogCaptureFixture,
) -> None:
    appointment_id = book(connected)
    dispatcher.execute()
    emulator.control.patch(
        f"/_emulator/events/{appointment_id.hex}",
        json={
            "event": {
                "start": {"dateTime": "2026-12-02T15:00:00+03:00", "timeZone": "Europe/Moscow"},
                "end": {"dateTime": "2026-12-02T15:50:00+03:00", "timeZone": "Europe/Moscow"},
            }
        },
    ).raise_for_status()
    reconcile = connected.post(SYNC).json()["reconcile"]
    assert (reconcile["moved_back"], reconcile["restored"]) == (1, 0)
    [event] = events(emulator)
    assert event["start"]["dateTime"] == "2026-12-01T11:00:00+03:00"
    assert event["end"]["dateTime"] == "2026-12-01T11:50:00+03:00"
    assert "calendar_event_moved_back" in export_log.messages
    assert connected.get(INTEGRATION_API).json()["reconcile"]["moved_back"] == 1


def test_restore_under_a_new_id_when_google_refuses_the_old_one(
    container: Container, connected: TestClient, dispatcher: OutboxDispatcher, emulator: Emulator
) -> None:
    appointment_id = book(connected)
    dispatcher.execute()
    emulator.control.delete(f"/_emulator/events/{appointment_id.hex}").raise_for_status()
    # Google has forgotten the event (404 on patch) but still refuses its id (409 on insert).
    fault(emulator, method="PATCH", status=404, reason="notFound", count=1)
    assert connected.post(SYNC).json()["reconcile"]["restored"] == 1
    replacement = appointment_id.hex + "r1"
    live = [event["id"] for event in events(emulator) if event["status"] == "confirmed"]
    assert live == [replacement]
    assert calendar_state(container, appointment_id) == CalendarEventState(replacement, "created")
    assert connected.post(SYNC).json()["reconcile"]["restored"] == 0
    # A later cancel deletes the event the appointment has now.
    cancel(connected, appointment_id)
    dispatcher.execute()
    assert all(event["status"] == "cancelled" for event in events(emulator))


def test_event_of_a_cancelled_appointment_is_removed_by_the_next_sync(
    container: Container, connected: TestClient, dispatcher: OutboxDispatcher, emulator: Emulator
) -> None:
    appointment_id = book(connected)
    dispatcher.execute()
    cancel(connected, appointment_id)
    fault(emulator, method="DELETE", status=403, reason="forbidden", count=1)
    assert dispatcher.execute().parked == 1
    assert events(emulator)[0]["status"] == "confirmed"
    assert calendar_state(container, appointment_id).state == "failed"
    assert connected.post(SYNC).json()["reconcile"]["removed"] == 1
    assert events(emulator)[0]["status"] == "cancelled"


def test_nothing_is_dispatched_while_the_integration_is_off(
    container: Container, connected: TestClient, dispatcher: OutboxDispatcher, emulator: Emulator
) -> None:
    appointment_id = book(connected)
    connected.put(f"{INTEGRATION_API}/settings", json={"enabled": False})
    assert dispatcher.execute().claimed == 0
    assert events(emulator) == []
    connected.put(f"{INTEGRATION_API}/settings", json={"enabled": True})
    assert dispatcher.execute().done == 1
    assert [event["id"] for event in events(emulator)] == [appointment_id.hex]
