"""Export to Google Calendar against the fakes: CreateCalendarEventForAppointment,
DeleteCalendarEventForAppointment and the event -> handler registry."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

import pytest

from balance_booking.application.errors import (
    AccessRevokedError,
    GoogleRequestError,
    GoogleUnavailableError,
)
from balance_booking.application.ports import CalendarEventState, CalendarState
from balance_booking.domain.availability import Availability, LocalWindow
from balance_booking.domain.events import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentExpired,
)
from tests.fakes.calendar import FakeEvent
from tests.fakes.clock import START
from tests.unit.application.wiring import (
    CLIENT,
    SESSION,
    World,
    event_id_for,
    is_ours,
    moscow,
    replacement_id,
    request,
)

PAID = replace(SESSION, slug="paid", requires_payment=True)


def book(world: World, hour: int = 11) -> UUID:
    return world.book.execute(request(moscow(1, hour), comment="панические атаки")).appointment.id


def state(world: World, appointment_id: UUID) -> CalendarEventState:
    with world.db() as uow:
        return uow.appointments.calendar_event(appointment_id)


def test_a_confirmed_appointment_becomes_one_event_under_its_own_id(synced: World) -> None:
    appointment_id = book(synced)
    assert synced.create_event.execute(appointment_id) is True
    [event] = synced.calendar.live()
    assert event.event_id == appointment_id.hex == event_id_for(appointment_id)
    assert event.appointment_id == appointment_id
    assert (event.start, event.end) == (moscow(1, 11), moscow(1, 11, 50))
    assert state(synced, appointment_id) == CalendarEventState(appointment_id.hex, "created")
    assert synced.metrics.count("google_writes", operation="insert", result="created") == 1


def test_the_event_names_the_service_and_a_reference_but_not_the_client(synced: World) -> None:
    appointment_id = book(synced)
    synced.create_event.execute(appointment_id)
    [event] = synced.calendar.live()
    assert event.summary == f"Запись: Сессия · #{appointment_id.hex[:4]}"
    assert "https://booking.example/admin/schedule/" in event.description
    visible = event.summary + event.description
    assert "«Эмоциональный баланс»" in event.description
    assert "Balance" not in visible  # Russian by default (issue 19)
    for personal in ("Анна", "Петрова", CLIENT.email, "+7 900 000-00-00", "панические"):
        assert personal not in visible


def test_the_event_is_shown_in_the_owner_zone_not_the_clients() -> None:
    kolkata = Availability(
        timezone="Asia/Kolkata", weekly={1: (LocalWindow.parse("10:00", "18:00"),)}
    )
    world = World().given(SESSION, schedule=kolkata).connect()
    booked = world.book.execute(request(moscow(1, 11, 30), timezone="America/New_York"))
    world.create_event.execute(booked.appointment.id)
    [event] = world.calendar.live()
    assert event.timezone == "Asia/Kolkata"


def test_creating_twice_writes_once(synced: World) -> None:
    appointment_id = book(synced)
    synced.create_event.execute(appointment_id)
    assert synced.create_event.execute(appointment_id) is False
    assert synced.calendar.calls["insert_event"] == 1


def test_a_409_duplicate_counts_as_created(synced: World) -> None:
    appointment_id = book(synced)
    synced.calendar.add_busy(moscow(1, 11), moscow(1, 11, 50))
    synced.calendar.events[appointment_id.hex] = replace(
        synced.calendar.events.popitem()[1], event_id=appointment_id.hex
    )
    assert synced.create_event.execute(appointment_id) is True
    assert len(synced.calendar.live()) == 1
    assert state(synced, appointment_id).state == "created"
    assert synced.metrics.count("google_writes", operation="insert", result="duplicate") == 1


def test_a_lost_insert_answer_still_means_one_event(synced: World) -> None:
    appointment_id = book(synced)

    def commit_then_lose_the_answer(operation: str) -> None:
        if operation == "insert_event":
            synced.calendar.on_call = None
            # Google commits the write; the answer never arrives.
            synced.calendar.events[appointment_id.hex] = FakeEvent(
                appointment_id.hex, moscow(1, 11), moscow(1, 11, 50), appointment_id
            )
            synced.calendar.unavailable("insert_event")

    synced.calendar.on_call = commit_then_lose_the_answer
    with pytest.raises(GoogleUnavailableError):
        synced.create_event.execute(appointment_id)
    assert state(synced, appointment_id).state == "pending"
    assert synced.create_event.execute(appointment_id) is True, "the retry gets 409"
    assert [e.event_id for e in synced.calendar.live()] == [appointment_id.hex]
    assert state(synced, appointment_id).state == "created"
    assert synced.metrics.count("google_writes", operation="insert", result="duplicate") == 1


@pytest.mark.parametrize(
    "setup",
    ["cancelled", "unknown", "hold"],
)
def test_nothing_is_exported_for_an_appointment_that_is_not_confirmed(setup: str) -> None:
    world = World().given(SESSION, PAID).connect()
    if setup == "cancelled":
        appointment_id = book(world)
        world.cancel.execute(appointment_id, token=None)
    elif setup == "unknown":
        appointment_id = uuid.uuid4()
    else:
        appointment_id = world.book.execute(request(service="paid")).appointment.id
    assert world.create_event.execute(appointment_id) is False
    assert world.calendar.calls["insert_event"] == 0


@pytest.mark.parametrize(
    ("failure", "label"),
    [
        (GoogleUnavailableError("down"), "unavailable"),
        (AccessRevokedError("revoked"), "revoked"),
        (GoogleRequestError("bad", status=400, reason="badRequest"), "refused"),
    ],
)
def test_a_failed_insert_is_counted_by_kind_and_raised(
    synced: World, failure: Exception, label: str
) -> None:
    appointment_id = book(synced)
    synced.calendar.fail("insert_event", failure)
    with pytest.raises(type(failure)):
        synced.create_event.execute(appointment_id)
    assert synced.metrics.count("google_writes", operation="insert", result=label) == 1
    assert state(synced, appointment_id).state == "pending"
    assert synced.calendar.live() == []


def test_a_revoked_connection_fails_before_google_is_written(synced: World) -> None:
    appointment_id = book(synced)
    synced.oauth.revoke_everything()
    synced.clock.advance(timedelta(hours=2))  # the access token needs a refresh now
    with pytest.raises(AccessRevokedError):
        synced.create_event.execute(appointment_id)
    assert synced.calendar.calls["insert_event"] == 0
    assert synced.record().status == "needs_reauth"


def test_a_cancel_deletes_the_same_event(synced: World) -> None:
    appointment_id = book(synced)
    synced.create_event.execute(appointment_id)
    synced.cancel.execute(appointment_id, token=None)
    assert synced.delete_event.execute(appointment_id) is True
    assert synced.calendar.live() == []
    assert synced.calendar.events[appointment_id.hex].cancelled
    assert state(synced, appointment_id) == CalendarEventState(appointment_id.hex, "deleted")


def test_a_cancel_before_export_deletes_the_derived_id_and_finds_nothing(synced: World) -> None:
    appointment_id = book(synced)
    synced.cancel.execute(appointment_id, token=None)
    assert synced.create_event.execute(appointment_id) is False
    assert synced.delete_event.execute(appointment_id) is True
    assert [arg for op, arg in synced.calendar.log if op == "delete_event"] == [appointment_id.hex]
    assert synced.calendar.events == {}
    assert state(synced, appointment_id).state == "deleted"


def test_deleting_for_an_unknown_appointment_is_done_without_a_write(synced: World) -> None:
    unknown = uuid.uuid4()
    commits = synced.db.commits
    assert synced.delete_event.execute(unknown) is True
    assert synced.calendar.calls["delete_event"] == 1
    assert synced.db.commits == commits


def test_a_replacement_event_and_the_derived_id_are_both_deleted(synced: World) -> None:
    appointment_id = book(synced)
    with synced.db() as uow:
        uow.appointments.set_calendar_event(
            appointment_id,
            event_id=appointment_id.hex + "r1",
            state=CalendarState.CREATED,
            now=START,
        )
        uow.commit()
    synced.delete_event.execute(appointment_id)
    deleted = [arg for op, arg in synced.calendar.log if op == "delete_event"]
    assert deleted == [appointment_id.hex + "r1", appointment_id.hex]
    assert state(synced, appointment_id).event_id == appointment_id.hex + "r1"


def test_deleting_an_already_deleted_event_is_done(synced: World) -> None:
    appointment_id = book(synced)
    synced.create_event.execute(appointment_id)
    synced.calendar.delete(appointment_id.hex)  # the owner deleted it in Google first
    synced.cancel.execute(appointment_id, token=None)
    assert synced.delete_event.execute(appointment_id) is True


def test_a_failed_delete_is_raised_and_the_state_kept(synced: World) -> None:
    appointment_id = book(synced)
    synced.create_event.execute(appointment_id)
    synced.cancel.execute(appointment_id, token=None)
    synced.calendar.refuse("delete_event", 403, "forbidden")
    with pytest.raises(GoogleRequestError):
        synced.delete_event.execute(appointment_id)
    assert state(synced, appointment_id).state == "created"
    assert synced.metrics.count("google_writes", operation="delete", result="refused") == 1


def test_the_registry_routes_confirmed_to_create(synced: World) -> None:
    appointment_id = book(synced)
    assert synced.handlers(AppointmentConfirmed(appointment_id, START)) is True
    assert len(synced.calendar.live()) == 1


def test_the_registry_routes_a_confirmed_cancel_to_delete(synced: World) -> None:
    appointment_id = book(synced)
    synced.handlers(AppointmentConfirmed(appointment_id, START))
    synced.cancel.execute(appointment_id, token=None)
    assert synced.handlers(AppointmentCancelled(appointment_id, START, was_confirmed=True))
    assert synced.calendar.live() == []


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(AppointmentCancelled(uuid.uuid4(), START, was_confirmed=False), id="hold"),
        pytest.param(AppointmentExpired(uuid.uuid4(), START), id="expired"),
    ],
)
def test_holds_never_reach_the_calendar(synced: World, event: object) -> None:
    asked = sum(synced.calendar.calls.values())
    assert synced.handlers(event) is False  # type: ignore[arg-type]
    assert sum(synced.calendar.calls.values()) == asked


def test_a_draft_for_a_service_that_is_gone_falls_back_to_a_neutral_title(
    synced: World,
) -> None:
    appointment_id = book(synced)
    appointment = synced.appointment(appointment_id)
    with synced.db() as uow:
        draft = synced.drafts.draft(uow, replace(appointment, service_slug="removed"), event_id="x")
    assert draft.summary.startswith("Запись: Консультация · #")


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("{hex}", "{hex}r1"),
        ("{hex}r1", "{hex}r2"),
        ("{hex}r9", "{hex}r10"),
        ("{hex}rx", "{hex}r1"),
        ("someone-elses-id", "{hex}r1"),
    ],
)
def test_replacement_ids_count_up(current: str, expected: str) -> None:
    appointment_id = uuid.uuid4()
    hex_id = appointment_id.hex
    assert replacement_id(appointment_id, current.format(hex=hex_id)) == expected.format(hex=hex_id)


@pytest.mark.parametrize(
    ("event_id", "ours"),
    [
        ("{hex}", True),
        ("{hex}r1", True),
        ("{hex}r12", True),
        ("{hex}_20261201T080000Z", False),
        ("{hex}rx", False),
        ("{other}", False),
    ],
)
def test_only_the_ids_this_product_chooses_are_ours(event_id: str, ours: bool) -> None:
    appointment_id = uuid.uuid4()
    text = event_id.format(hex=appointment_id.hex, other=uuid.uuid4().hex)
    assert is_ours(text, appointment_id) is ours
