"""Contract: appointments (overlap guard, holds, listing, calendar event state), idempotency."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from balance_booking.application.errors import SlotTakenError
from balance_booking.application.messages import Messages
from balance_booking.application.ports import CalendarEventState, CalendarState, StoredResponse
from balance_booking.domain.appointments import Appointment, AppointmentStatus
from balance_booking.domain.events import AppointmentConfirmed
from balance_booking.domain.intervals import Interval
from balance_booking.domain.slots import OccupiedTime
from tests.contract.conftest import Backend
from tests.contract.data import T0, appointment, at, service

MESSAGES = Messages()  # e-mail off: the Google Calendar rows only
PENDING = AppointmentStatus.PENDING_PAYMENT
DAY = Interval(at(-12), at(12))


@pytest.fixture(autouse=True)
def _service(request: pytest.FixtureRequest) -> None:
    """Appointments refer to their service (a foreign key in SQL): store it first."""
    for name in ("backend", "guarded", "sqlite_backend"):
        if name in request.fixturenames:
            store: Backend = request.getfixturevalue(name)
            with store.uow() as uow:
                uow.services.add(service())
                uow.commit()


def store(backend: Backend, *items: Appointment, now: datetime = T0) -> None:
    """Add the appointments in one committed transaction."""
    with backend.uow() as uow:
        for item in items:
            uow.appointments.add(item, manage_token_hash="h", now=now)
        uow.commit()


def count(backend: Backend) -> int:
    with backend.uow() as uow:
        return len(uow.appointments.listing(DAY, status=None))


def test_an_appointment_round_trips_with_the_insert_time_as_created_at(backend: Backend) -> None:
    booked = appointment(before=10, after=15, created_at=T0 - timedelta(days=3))
    with backend.uow() as uow:
        uow.appointments.add(booked, manage_token_hash="hash-1", now=T0 - timedelta(hours=1))
        uow.commit()
    with backend.uow() as uow:
        stored = uow.appointments.get(booked.id)
        locked = uow.appointments.get_for_update(booked.id)
        token_hash = uow.appointments.manage_token_hash(booked.id)
    assert stored is not None
    assert stored == locked
    assert stored.client == booked.client
    assert (stored.start, stored.end) == (booked.start, booked.end)
    assert (stored.buffer_before, stored.buffer_after) == (
        booked.buffer_before,
        booked.buffer_after,
    )
    assert (stored.client_timezone, stored.comment) == ("Asia/Kolkata", "Первый раз")
    assert stored.created_at == T0 - timedelta(hours=1)
    assert token_hash == "hash-1"


def test_unknown_appointments_read_as_none(backend: Backend) -> None:
    missing = appointment()
    with backend.uow() as uow:
        assert uow.appointments.get(missing.id) is None
        assert uow.appointments.get_for_update(missing.id) is None
        assert uow.appointments.manage_token_hash(missing.id) is None


def test_occupied_time_carries_the_buffers_and_skips_inactive_ones(backend: Backend) -> None:
    active = appointment(at(0), before=10, after=20)
    cancelled = appointment(at(2), status=AppointmentStatus.CANCELLED)
    expired = appointment(at(4), status=AppointmentStatus.EXPIRED)
    store(backend, active, cancelled, expired)
    with backend.uow() as uow:
        assert uow.appointments.occupied_overlapping(DAY) == [
            OccupiedTime(
                at(0),
                at(0) + timedelta(minutes=50),
                timedelta(minutes=10),
                timedelta(minutes=20),
                "session",
            )
        ]
        # The buffers count: the window just after the end still touches the buffer after.
        just_after = Interval(at(0) + timedelta(minutes=55), at(1))
        assert len(uow.appointments.occupied_overlapping(just_after)) == 1
        beyond = Interval(at(0) + timedelta(minutes=70), at(2))
        assert uow.appointments.occupied_overlapping(beyond) == []


def test_a_lapsed_hold_stops_counting_when_now_is_given(backend: Backend) -> None:
    held = appointment(status=PENDING, hold_expires_at=at(-1))
    store(backend, held, now=at(-2))
    with backend.uow() as uow:
        assert len(uow.appointments.occupied_overlapping(DAY)) == 1, "without now it still holds"
        assert len(uow.appointments.occupied_overlapping(DAY, now=at(-1.5))) == 1
        assert uow.appointments.occupied_overlapping(DAY, now=at(-1)) == []


def test_next_hold_expiry_is_the_earliest_live_hold_in_the_window(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.appointments.add(
            appointment(at(0), status=PENDING, hold_expires_at=at(-5)),
            manage_token_hash="h",
            now=T0,
        )
        uow.appointments.add(
            appointment(at(2), status=PENDING, hold_expires_at=at(-4)),
            manage_token_hash="h",
            now=T0,
        )
        uow.appointments.add(
            appointment(at(30), status=PENDING, hold_expires_at=at(-6)),
            manage_token_hash="h",
            now=T0,
        )
        uow.commit()
    with backend.uow() as uow:
        assert uow.appointments.next_hold_expiry(DAY, now=at(-7)) == at(-5)
        assert uow.appointments.next_hold_expiry(DAY, now=at(-5)) == at(-4), "strictly after now"
        assert uow.appointments.next_hold_expiry(DAY, now=at(-4)) is None
        assert uow.appointments.next_hold_expiry(Interval(at(29), at(31)), now=at(-7)) == at(-6)


def test_due_holds_are_pending_ones_whose_hold_ran_out(backend: Backend) -> None:
    due = appointment(at(0), status=PENDING, hold_expires_at=at(-1))
    later = appointment(at(2), status=PENDING, hold_expires_at=at(1))
    confirmed = appointment(at(4))
    store(backend, due, later, confirmed)
    with backend.uow() as uow:
        assert [a.id for a in uow.appointments.due_holds(at(-1))] == [due.id], "at expiry: due"
        assert uow.appointments.due_holds(at(-2)) == []
        assert {a.id for a in uow.appointments.due_holds(at(1))} == {due.id, later.id}


def test_save_changes_the_status_and_the_hold(backend: Backend) -> None:
    held = appointment(status=PENDING, hold_expires_at=at(-1))
    store(backend, held, now=at(-2))
    with backend.uow() as uow:
        current = uow.appointments.get_for_update(held.id)
        assert current is not None
        current.confirm(now=at(-1.5))
        uow.appointments.save(current, now=at(-1.5))
        uow.commit()
    with backend.uow() as uow:
        stored = uow.appointments.get(held.id)
    assert stored is not None
    assert (stored.status, stored.hold_expires_at) == (AppointmentStatus.CONFIRMED, None)


def test_a_returned_appointment_is_a_copy(backend: Backend) -> None:
    booked = appointment()
    store(backend, booked)
    with backend.uow() as uow:
        first = uow.appointments.get(booked.id)
        assert first is not None
        first.cancel(now=T0)
        second = uow.appointments.get(booked.id)
    assert second is not None
    assert second.status is AppointmentStatus.CONFIRMED, "only save() changes the stored row"


def test_calendar_event_state_starts_pending_and_follows_set(backend: Backend) -> None:
    booked = appointment()
    store(backend, booked)
    with backend.uow() as uow:
        assert uow.appointments.calendar_event(booked.id) == CalendarEventState(None, "pending")
        uow.appointments.set_calendar_event(
            booked.id, event_id="abc", state=CalendarState.CREATED, now=T0
        )
        uow.commit()
    with backend.uow() as uow:
        assert uow.appointments.calendar_event(booked.id) == CalendarEventState("abc", "created")
        listed = uow.appointments.listing(DAY, status=None)
    assert [(a.id, state) for a, state in listed] == [
        (booked.id, CalendarEventState("abc", "created"))
    ]


def test_listing_filters_by_window_and_status_in_start_order(backend: Backend) -> None:
    late = appointment(at(3))
    early = appointment(at(1), status=PENDING, hold_expires_at=at(2))
    cancelled = appointment(at(5), status=AppointmentStatus.CANCELLED)
    outside = appointment(at(20))
    store(backend, late, early, cancelled, outside)
    with backend.uow() as uow:
        everything = [a.id for a, _ in uow.appointments.listing(DAY, status=None)]
        confirmed = [a.id for a, _ in uow.appointments.listing(DAY, status="confirmed")]
        confirmed_in = [a.id for a, _ in uow.appointments.confirmed_in(DAY)]
        # The window compares the appointment itself, not its buffers: ending at 10:50 + 0.
        edge = uow.appointments.listing(Interval(at(3) + timedelta(minutes=50), at(4)), status=None)
    assert everything == [early.id, late.id, cancelled.id]
    assert confirmed == confirmed_in == [late.id]
    assert edge == []


def test_the_guard_refuses_an_overlapping_active_appointment(guarded: Backend) -> None:
    store(guarded, appointment(at(0), after=15))
    with guarded.uow() as uow:
        with pytest.raises(SlotTakenError):
            # Starts at 10:55: inside the first one's 15-minute buffer after 10:50.
            uow.appointments.add(
                appointment(at(0) + timedelta(minutes=55)), manage_token_hash="h", now=T0
            )
        # The transaction stays usable after the refusal (a savepoint in SQL).
        uow.appointments.add(
            appointment(at(0) + timedelta(minutes=65)), manage_token_hash="h", now=T0
        )
        uow.commit()
    assert count(guarded) == 2


def test_the_guard_ignores_inactive_appointments(guarded: Backend) -> None:
    store(guarded, appointment(at(0), status=AppointmentStatus.CANCELLED), appointment(at(0)))
    assert count(guarded) == 2


def test_the_guard_counts_a_lapsed_but_unexpired_hold(guarded: Backend) -> None:
    # The constraint looks at the status only; BookAppointment expires due holds before inserting.
    store(guarded, appointment(at(0), status=PENDING, hold_expires_at=at(-5)))
    with pytest.raises(SlotTakenError):
        store(guarded, appointment(at(0)))
    assert count(guarded) == 1


def test_sqlite_has_no_storage_guard(sqlite_backend: Backend) -> None:
    """Stated, not hidden: on SQLite the storage accepts an overlap. BookAppointment re-checks
    inside its write transaction, which BEGIN IMMEDIATE serialises (tests/integration proves it
    under concurrency); the fake, like PostgreSQL, refuses, so use-case tests see the stricter
    behaviour."""
    store(sqlite_backend, appointment(at(0)), appointment(at(0)))
    assert count(sqlite_backend) == 2


def test_idempotency_keys_store_the_first_response(backend: Backend) -> None:
    booked = appointment()
    response = StoredResponse(request_hash="f" * 64, appointment_id=booked.id, body='{"a": 1}')
    with backend.uow() as uow:
        uow.appointments.add(booked, manage_token_hash="h", now=T0)
        assert uow.idempotency.get("key-1") is None
        uow.idempotency.add("key-1", response, now=T0)
        uow.commit()
    with backend.uow() as uow:
        assert uow.idempotency.get("key-1") == response
        assert uow.idempotency.get("key-2") is None


def test_appointment_writes_queue_their_messages_in_the_same_transaction(
    backend: Backend,
) -> None:
    """The outbox shares the appointments' transaction: rolled back with them, kept with them."""
    confirmed = appointment(at(0))
    confirmed.events.append(AppointmentConfirmed(confirmed.id, T0))
    held = appointment(at(2), status=PENDING, hold_expires_at=at(1))
    with backend.uow() as uow:
        MESSAGES.add_appointment(uow, confirmed, manage_token_hash="h", now=T0)
        MESSAGES.add_appointment(uow, held, manage_token_hash="h", now=T0)
        assert uow.outbox.backlog() == 1, "visible inside the transaction; a hold queues nothing"
    with backend.uow() as uow:
        assert uow.outbox.backlog() == 0, "rolled back with the appointments"
    store(backend, confirmed, held)  # the events were pulled by the first add: none left
    with backend.uow() as uow:
        assert uow.outbox.backlog() == 0
        current = uow.appointments.get_for_update(confirmed.id)
        assert current is not None
        current.cancel(now=at(-1))
        MESSAGES.save_appointment(uow, current, now=at(-1))
        uow.commit()
    with backend.uow() as uow:
        assert uow.outbox.backlog() == 1
