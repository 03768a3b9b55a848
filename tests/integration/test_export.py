"""Export to Google Calendar through the outbox, against the emulator, on SQLite and PostgreSQL.

Appointments are booked and cancelled through the booking API (which writes the domain event
to the outbox in the booking's transaction); the dispatcher is the one the worker runs, wired
by bootstrap, with an injected jitter and the tests' clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import select

from balance_booking.adapters.db import tables as t
from balance_booking.application.outbox import Backoff, DispatchReport, OutboxDispatcher
from balance_booking.application.ports import CalendarEventState, CalendarState
from balance_booking.bootstrap import Container, build_outbox_dispatcher
from tests.conftest import FakeClock
from tests.support.booking import book
from tests.support.google import (
    INTEGRATION_API,
    OWNER,
    Emulator,
    connect_calendar,
)

pytestmark = [pytest.mark.google(), pytest.mark.reliability]

SYNC = f"{INTEGRATION_API}/sync"
EVENTS = "/calendar/v3/calendars/primary/events"
JITTER = 0.25
CLIENT = {"name": "Мария Иванова", "email": "maria@example.com", "phone": "+7 900 000-00-00"}
# Tuesday 1 December 2026, 11:00 Moscow (the FakeClock starts on Monday 30 November, 09:00).
TUESDAY_11 = datetime.fromisoformat("2026-12-01T11:00:00+03:00")


@dataclass(frozen=True)
class Export:
    """The export as a test drives it: the admin client, the outbox dispatcher the worker runs,
    the database (for the rows and the appointments' calendar state) and Google."""

    container: Container
    admin: TestClient
    dispatcher: OutboxDispatcher
    emulator: Emulator

    def book(self, start: datetime = TUESDAY_11) -> UUID:
        """A client books (a service without payment: confirmed at once)."""
        appointment = book(
            self.admin,
            start,
            timezone="Asia/Yekaterinburg",
            client=CLIENT,
            comment="панические атаки",
        )
        assert appointment["status"] == "confirmed"
        return UUID(appointment["id"])

    def cancel(self, appointment_id: UUID) -> None:
        response = self.admin.post(f"/api/admin/appointments/{appointment_id}/cancel")
        assert response.status_code == 200, response.text

    def run(self) -> DispatchReport:
        """One dispatcher pass, as the worker makes it."""
        return self.dispatcher.execute()

    def sync(self) -> dict[str, Any]:
        """The admin's sync button; its report."""
        response = self.admin.post(SYNC)
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return report

    def state(self, appointment_id: UUID) -> CalendarEventState:
        with self.container.readers() as uow:
            return uow.appointments.calendar_event(appointment_id)

    def outbox(self) -> list[Any]:
        with self.container.engine.connect() as connection:
            return list(connection.execute(select(t.outbox).order_by(t.outbox.c.id)))

    def events(self) -> list[dict[str, Any]]:
        """Every event in the owner's calendar, deleted ones included."""
        return self.emulator.events()

    def fault(self, **spec: object) -> None:
        self.emulator.fault(path_prefix=EVENTS, **spec)


@pytest.fixture
def export(container: Container, connected: TestClient, emulator: Emulator) -> Export:
    dispatcher = build_outbox_dispatcher(container, backoff=Backoff(jitter=lambda: JITTER))
    return Export(container, connected, dispatcher, emulator)


@pytest.fixture
def exported(export: Export) -> UUID:
    """An appointment booked and already exported to Google: its id."""
    appointment_id = export.book()
    assert export.run().done == 1
    return appointment_id


@pytest.fixture
def export_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="balance_booking.application.export")
    caplog.set_level(logging.INFO, logger="balance_booking.application.reconcile")
    return caplog


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_confirmed_appointment_becomes_exactly_one_private_event(export: Export) -> None:
    appointment_id = export.book()
    report = export.run()
    assert (report.claimed, report.done, report.wrote_to_google) == (1, 1, True)

    [event] = export.events()
    assert event["id"] == appointment_id.hex
    assert event["status"] == "confirmed"
    assert event["summary"] == f"Запись: Сессия · #{appointment_id.hex[:4]}"
    visible = f"{event['summary']} {event.get('description', '')} {event.get('location', '')}"
    for personal in ("Мария", "Иванова", "maria@example.com", "900", "панические"):
        assert personal not in visible
    assert "http://testserver/admin/schedule/" in event["description"]
    # Russian by default (issue 19): the practice's name, not the English product word.
    assert event["description"].startswith("Запись через «Эмоциональный баланс».")
    assert "Balance" not in visible
    # The service's 50 minutes, shown in the owner's zone (not the client's Yekaterinburg).
    assert event["start"] == {"dateTime": "2026-12-01T11:00:00+03:00", "timeZone": "Europe/Moscow"}
    assert event["end"] == {"dateTime": "2026-12-01T11:50:00+03:00", "timeZone": "Europe/Moscow"}
    assert event["extendedProperties"]["private"] == {
        "balance_app": "1",
        "balance_appointment_id": str(appointment_id),
    }
    assert event.get("transparency", "opaque") == "opaque"
    assert export.state(appointment_id) == CalendarEventState(
        event_id=appointment_id.hex, state=CalendarState.CREATED
    )
    assert [row.status for row in export.outbox()] == ["done"]
    # The write triggered a busy re-sync: our own event is now in the mirror.
    status = export.admin.get(INTEGRATION_API).json()
    assert status["busy_intervals"] == 1
    assert status["reconcile"]["checked"] == 1
    assert export.run().claimed == 0, "nothing left to do"
    assert len(export.events()) == 1


def test_cancel_deletes_the_same_event(export: Export, exported: UUID) -> None:
    appointment_id = exported
    export.cancel(appointment_id)
    report = export.run()
    assert (report.claimed, report.done) == (1, 1)
    [event] = export.events()
    assert (event["id"], event["status"]) == (appointment_id.hex, "cancelled")
    assert export.state(appointment_id).state == "deleted"
    assert [row.status for row in export.outbox()] == ["done", "done"]


def test_cancel_before_export_leaves_no_event(export: Export) -> None:
    appointment_id = export.book()
    export.cancel(appointment_id)
    # The cancel waits for the create of the same appointment, which sees it is no longer
    # confirmed and skips; the delete then finds nothing (404 = done).
    first = export.run()
    assert first.claimed == 1
    second = export.run()
    assert second.claimed == 1
    assert export.events() == []
    assert export.state(appointment_id).state == "deleted"
    assert [row.status for row in export.outbox()] == ["done", "done"]


def test_a_cancel_never_overtakes_the_create_of_its_appointment(
    export: Export,
    clock: FakeClock,
) -> None:
    appointment_id = export.book()
    export.fault(method="POST", status=503, count=3)
    assert export.run().retried == 1
    export.cancel(appointment_id)
    # The create waits for its backoff; the cancel is due but must not go first (another
    # worker could otherwise delete before a slow create lands, leaving a ghost event).
    assert export.run().claimed == 0
    clock.advance(timedelta(seconds=2))
    first = export.run()
    assert (first.claimed, first.done, first.wrote_to_google) == (1, 1, False)
    assert [row.status for row in export.outbox()] == ["done", "pending"]
    assert export.run().done == 1
    assert export.events() == []
    assert export.state(appointment_id).state == "deleted"


def test_transient_503_backs_off_then_creates(export: Export, clock: FakeClock) -> None:
    first = export.book()
    second = export.book(TUESDAY_11 + timedelta(hours=2))
    # NO_WAIT makes 3 attempts per call: 6 failures = two failed dispatcher runs.
    export.fault(method="POST", status=503, reason="backendError", count=6)
    started = clock.now()

    report = export.run()
    assert (report.claimed, report.retried, report.released) == (2, 1, 1)
    rows = export.outbox()
    assert [row.attempts for row in rows] == [1, 0], "the untried row is handed back as is"
    assert rows[0].next_attempt_at == started + timedelta(seconds=2**0 + JITTER)
    assert rows[0].status == "pending"
    assert "Google kept failing" in rows[0].last_error

    # The first row is not due yet; the second one waits behind nothing and is claimed.
    assert export.run().retried == 1
    rows = export.outbox()
    assert rows[0].attempts == 1
    assert rows[1].attempts == 1

    clock.advance(timedelta(seconds=1))
    assert export.run().claimed == 0, "1.25 s have not passed yet"
    clock.advance(timedelta(seconds=1))
    report = export.run()
    assert (report.claimed, report.done) == (2, 2)
    assert sorted(event["id"] for event in export.events()) == sorted([first.hex, second.hex])
    assert export.state(first).state == "created"
    assert export.state(second).state == "created"


def test_backoff_grows_by_the_formula(export: Export, clock: FakeClock) -> None:
    export.book()
    export.fault(method="POST", status=503, count=0)  # Google down for inserts
    delays = []
    for _ in range(4):
        before = clock.now()
        assert export.run().retried == 1
        [row] = export.outbox()
        delays.append((row.next_attempt_at - before).total_seconds())
        clock.set(row.next_attempt_at)
    assert delays == [1 + JITTER, 2 + JITTER, 4 + JITTER, 8 + JITTER]
    capped = Backoff(jitter=lambda: JITTER)
    assert capped.delay(10).total_seconds() == 64
    export.emulator.clear_faults()
    assert export.run().done == 1
    assert len(export.events()) == 1


def test_permanent_400_parks_the_row_and_marks_the_appointment_failed(
    export: Export,
    export_log: pytest.LogCaptureFixture,
) -> None:
    appointment_id = export.book()
    parked_before = counter("balance_outbox_parked_total", event="AppointmentConfirmed")
    export.fault(method="POST", status=400, reason="badRequest", count=2)
    report = export.run()
    assert (report.parked, report.retried, report.wrote_to_google) == (1, 0, False)
    remaining = export.emulator.faults_left()[0]["remaining"]
    assert remaining == 1, "a permanent refusal is not retried"
    [row] = export.outbox()
    assert row.status == "parked"
    assert "400" in row.last_error
    assert export.state(appointment_id).state == "failed"
    with export.container.readers() as uow:
        [parked] = uow.outbox.parked()
    assert parked.message.appointment_id == appointment_id
    assert parked.message.kind == "google_calendar"
    assert parked.reason is not None
    assert "badRequest" in parked.reason
    errors = [r for r in export_log.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["outbox_parked"]
    after = counter("balance_outbox_parked_total", event="AppointmentConfirmed")
    assert after == parked_before + 1
    assert export.events() == []
    assert export.run().claimed == 0, "a parked row stays parked"


def test_revoked_access_is_retried_later_not_parked(export: Export, clock: FakeClock) -> None:
    appointment_id = export.book()
    export.emulator.control.post("/_emulator/revoke", json={"email": OWNER}).raise_for_status()
    report = export.run()
    assert (report.retried, report.parked) == (1, 0)
    [row] = export.outbox()
    assert (row.status, row.attempts) == ("pending", 1)
    assert export.admin.get(INTEGRATION_API).json()["status"] == "needs_reauth"
    # While access is revoked the rows wait without spending attempts.
    clock.advance(timedelta(minutes=5))
    assert export.run().claimed == 0
    assert export.outbox()[0].attempts == 1
    assert export.state(appointment_id).state == "pending"

    assert connect_calendar(export.admin).endswith("result=connected")
    assert export.run().done == 1
    assert [event["id"] for event in export.events()] == [appointment_id.hex]
    assert export.state(appointment_id).state == "created"


def test_409_duplicate_counts_as_created(export: Export) -> None:
    appointment_id = export.book()
    # An earlier attempt created the event and its answer was lost.
    export.emulator.add_busy(
        "2026-12-01T11:00:00+03:00",
        "2026-12-01T11:50:00+03:00",
        id=appointment_id.hex,
        summary="created by an earlier attempt",
    )
    duplicates = counter("balance_google_writes_total", operation="insert", result="duplicate")
    report = export.run()
    assert (report.done, report.parked, report.retried) == (1, 0, 0)
    assert len(export.events()) == 1
    assert export.state(appointment_id).state == "created"
    after = counter("balance_google_writes_total", operation="insert", result="duplicate")
    assert after == duplicates + 1


def test_lost_insert_response_still_means_one_event(export: Export) -> None:
    appointment_id = export.book()
    # Google commits the insert and the answer is lost; the retry gets 409 duplicate.
    export.fault(method="POST", drop_response=True, count=1)
    assert export.run().done == 1
    assert [event["id"] for event in export.events()] == [appointment_id.hex]
    assert export.state(appointment_id).state == "created"


def test_event_deleted_in_google_is_restored_by_the_next_sync(
    export: Export,
    export_log: pytest.LogCaptureFixture,
    exported: UUID,
) -> None:
    appointment_id = exported
    # The older model of Google in which a write undeletes (real Google answers 403: below).
    export.emulator.control.post(
        "/_emulator/settings", json={"deleted_event_writes": "restore"}
    ).raise_for_status()
    export.emulator.delete_event(appointment_id.hex)
    assert export.events()[0]["status"] == "cancelled"

    report = export.sync()
    assert report["reconcile"] | {"at": None} == {
        "at": None,
        "checked": 1,
        "restored": 1,
        "moved_back": 0,
        "removed": 0,
        "failed": 0,
        "error": None,
    }
    [event] = export.events()
    assert (event["id"], event["status"]) == (appointment_id.hex, "confirmed")
    assert event["start"]["dateTime"] == "2026-12-01T11:00:00+03:00"
    assert "calendar_event_restored" in export_log.messages
    shown = export.admin.get(INTEGRATION_API).json()["reconcile"]
    assert shown["restored"] == 1
    assert shown["at"] is not None
    # Nothing left to repair.
    assert export.sync()["reconcile"]["restored"] == 0


def test_event_moved_in_google_is_put_back_by_the_next_sync(
    export: Export,
    export_log: pytest.LogCaptureFixture,
    exported: UUID,
) -> None:
    appointment_id = exported
    export.emulator.control.patch(
        f"/_emulator/events/{appointment_id.hex}",
        json={
            "event": {
                "start": {"dateTime": "2026-12-02T15:00:00+03:00", "timeZone": "Europe/Moscow"},
                "end": {"dateTime": "2026-12-02T15:50:00+03:00", "timeZone": "Europe/Moscow"},
            }
        },
    ).raise_for_status()
    reconcile = export.sync()["reconcile"]
    assert (reconcile["moved_back"], reconcile["restored"]) == (1, 0)
    [event] = export.events()
    assert event["start"]["dateTime"] == "2026-12-01T11:00:00+03:00"
    assert event["end"]["dateTime"] == "2026-12-01T11:50:00+03:00"
    assert "calendar_event_moved_back" in export_log.messages
    assert export.admin.get(INTEGRATION_API).json()["reconcile"]["moved_back"] == 1


def test_restore_under_a_new_id_when_google_refuses_the_old_one(
    export: Export,
    exported: UUID,
) -> None:
    appointment_id = exported
    export.emulator.delete_event(appointment_id.hex)
    # Google has forgotten the event (404 on patch) but still refuses its id (409 on insert).
    export.fault(method="PATCH", status=404, reason="notFound", count=1)
    assert export.sync()["reconcile"]["restored"] == 1
    replacement = appointment_id.hex + "r1"
    live = [event["id"] for event in export.events() if event["status"] == "confirmed"]
    assert live == [replacement]
    assert export.state(appointment_id) == CalendarEventState(replacement, "created")
    assert export.sync()["reconcile"]["restored"] == 0
    # A later cancel deletes the event the appointment has now.
    export.cancel(appointment_id)
    export.run()
    assert all(event["status"] == "cancelled" for event in export.events())


def test_event_of_a_cancelled_appointment_is_removed_by_the_next_sync(
    export: Export,
    exported: UUID,
) -> None:
    appointment_id = exported
    export.cancel(appointment_id)
    export.fault(method="DELETE", status=403, reason="forbidden", count=1)
    assert export.run().parked == 1
    assert export.events()[0]["status"] == "confirmed"
    assert export.state(appointment_id).state == "failed"
    assert export.sync()["reconcile"]["removed"] == 1
    assert export.events()[0]["status"] == "cancelled"


def test_nothing_is_dispatched_while_the_integration_is_off(export: Export) -> None:
    appointment_id = export.book()
    export.admin.put(f"{INTEGRATION_API}/settings", json={"enabled": False})
    assert export.run().claimed == 0
    assert export.events() == []
    export.admin.put(f"{INTEGRATION_API}/settings", json={"enabled": True})
    assert export.run().done == 1
    assert [event["id"] for event in export.events()] == [appointment_id.hex]


# --- Google fidelity, round 2 (issue 18) -------------------------------------------------------


def settings(export: Export, **changes: object) -> None:
    export.emulator.control.post("/_emulator/settings", json=changes).raise_for_status()


def test_an_event_deleted_in_google_is_restored_under_a_fresh_id_once(
    export: Export, exported: UUID
) -> None:
    appointment_id = exported
    export.emulator.delete_event(appointment_id.hex)  # Google now refuses writes to it (403)
    assert export.sync()["reconcile"]["restored"] == 1
    fresh = appointment_id.hex + "r1"
    live = [event["id"] for event in export.events() if event["status"] == "confirmed"]
    assert live == [fresh]
    assert export.state(appointment_id) == CalendarEventState(fresh, "created")
    for _ in range(2):
        assert export.sync()["reconcile"] | {"at": None} == {
            "at": None,
            "checked": 1,
            "restored": 0,
            "moved_back": 0,
            "removed": 0,
            "failed": 0,
            "error": None,
        }, "the refused write is not tried again every sync"


def test_an_export_made_during_a_quota_exceeded_hour_arrives_afterwards(
    export: Export, clock: FakeClock
) -> None:
    appointment_id = export.book()
    export.fault(method="POST", status=403, reason="quotaExceeded", count=1)
    report = export.run()
    assert (report.retried, report.parked) == (1, 0)
    [row] = export.outbox()
    assert row.status == "pending"
    assert row.next_attempt_at >= clock.now() + timedelta(hours=1)
    status = export.admin.get(INTEGRATION_API).json()
    assert status["writes_paused_until"] is not None
    page = export.admin.get("/admin/settings/integrations")
    assert 'id="writes-paused"' in page.text

    clock.advance(timedelta(minutes=30))
    assert export.run().claimed == 0, "read-only for now: no write is tried"
    clock.advance(timedelta(minutes=31))
    assert export.run().done == 1
    assert [event["id"] for event in export.events()] == [appointment_id.hex]
    assert export.admin.get(INTEGRATION_API).json()["writes_paused_until"] is None


def test_a_rejected_oauth_client_holds_the_export_until_the_client_works_again(
    export: Export, clock: FakeClock
) -> None:
    appointment_id = export.book()
    clock.advance(timedelta(hours=2))  # the access token expired: the next call refreshes
    export.emulator.fault(path_prefix="/token", status=401, reason="deleted_client", count=0)
    report = export.run()
    assert (report.retried, report.parked) == (1, 0)
    status = export.admin.get(INTEGRATION_API).json()
    assert status["oauth_client_rejected"] is True
    assert status["status"] == "connected"
    page = export.admin.get("/admin/settings/integrations", headers={"Accept-Language": "ru"})
    assert "Google отклонил учётные данные OAuth-клиента." in page.text
    clock.advance(timedelta(minutes=10))
    assert export.run().claimed == 0, "held, never parked"

    export.emulator.clear_faults()  # the admin fixed the client in the Cloud console
    export.sync()
    assert export.admin.get(INTEGRATION_API).json()["oauth_client_rejected"] is False
    clock.advance(timedelta(minutes=2))
    assert export.run().done == 1
    assert [event["id"] for event in export.events()] == [appointment_id.hex]
    assert all(row.status == "done" for row in export.outbox())


def test_a_per_calendar_freebusy_error_keeps_the_mirror_and_fails_the_sync(
    export: Export,
) -> None:
    export.emulator.add_busy("2026-12-01T14:00:00+03:00", "2026-12-01T15:00:00+03:00")
    before = export.sync()["busy_intervals"]
    assert before >= 1
    settings(export, freebusy_errors={OWNER: "internalError"})
    response = export.admin.post(SYNC)
    assert response.status_code == 502, response.text
    status = export.admin.get(INTEGRATION_API).json()
    assert status["last_sync_ok"] is False
    assert status["busy_intervals"] == before, "an error inside a 200 never counts as free"


def test_a_testing_status_grant_is_shown_warned_and_explained(
    export: Export, clock: FakeClock
) -> None:
    settings(export, refresh_token_lifetime_seconds=7 * 24 * 3600)
    assert connect_calendar(export.admin).endswith("result=connected")
    status = export.admin.get(INTEGRATION_API).json()
    expires = datetime.fromisoformat(status["refresh_token_expires_at"])
    assert abs(expires - (clock.now() + timedelta(days=7))) < timedelta(minutes=1)
    assert 'id="grant-expiring"' not in export.admin.get("/admin/settings/integrations").text

    clock.advance(timedelta(days=6, hours=1))
    assert 'id="grant-expiring"' in export.admin.get("/admin/settings/integrations").text

    clock.advance(timedelta(hours=23))
    export.emulator.control.post(
        "/_emulator/clock", json={"advance_seconds": 7 * 24 * 3600}
    ).raise_for_status()
    assert export.admin.post(SYNC).status_code in {409, 502}
    status = export.admin.get(INTEGRATION_API).json()
    assert status["status"] == "needs_reauth"
    assert "Testing publishing status" in status["last_error"]  # the API keeps Google's words
    page = export.admin.get("/admin/settings/integrations", headers={"Accept-Language": "ru"})
    assert 'data-problem="testing_app"' in page.text  # the page says it in Russian
    assert "всё ещё в статусе «Testing»" in page.text
