"""Moving an appointment, the change cut-off, the admin's collision test and weekly series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balance_booking.domain.appointments import Appointment, AppointmentStatus, Client, MovedBy
from balance_booking.domain.collisions import CollisionReason, collisions, weekly_starts
from balance_booking.domain.errors import InvalidClient, InvalidService, InvalidTransition
from balance_booking.domain.events import AppointmentConfirmed, AppointmentMoved
from balance_booking.domain.services import Service
from balance_booking.domain.slots import available_slots
from tests.unit.domain.builders import iv, minutes, occupied, schedule, service, utc

NOW = utc(2026, 5, 4, 10)
START = utc(2026, 5, 6, 9)
FREE = service(duration=minutes(50), buffer_after=minutes(10))
PAID = service(slug="paid", duration=minutes(50), requires_payment=True)
CLIENT = Client(name="Анна", email="anna@example.org")


def booked(of: Service = FREE, **extra: object) -> Appointment:
    return Appointment.book(
        appointment_id=UUID(int=7),
        service=of,
        start=START,
        client=CLIENT,
        client_timezone="Europe/Moscow",
        comment=None,
        now=NOW,
        hold=minutes(15),
        **extra,  # type: ignore[arg-type]
    )


def test_a_move_keeps_id_length_and_status_and_records_where_it_was() -> None:
    appointment = booked()
    appointment.pull_events()
    appointment.move(start=START + timedelta(hours=3), now=NOW, moved_by=MovedBy.CLIENT)
    assert appointment.id == UUID(int=7)
    assert appointment.start == START + timedelta(hours=3)
    assert appointment.end - appointment.start == minutes(50)
    assert appointment.status is AppointmentStatus.CONFIRMED
    assert appointment.sequence == 1
    (move,) = appointment.moves
    assert (move.from_start, move.to_start, move.moved_by) == (
        START,
        START + timedelta(hours=3),
        MovedBy.CLIENT,
    )
    (event,) = appointment.pull_events()
    assert event == AppointmentMoved(
        UUID(int=7), NOW, sequence=1, was_confirmed=True, previous_start=START
    )
    appointment.move(start=START, now=NOW, moved_by=MovedBy.ADMIN)
    assert appointment.sequence == 2
    assert [m.sequence for m in appointment.moves] == [1, 2]


def test_a_held_appointment_moves_as_a_hold_and_nothing_else_moves() -> None:
    held = booked(PAID)
    held.move(start=START + timedelta(hours=1), now=NOW, moved_by=MovedBy.CLIENT)
    assert held.status is AppointmentStatus.PENDING_PAYMENT
    assert held.pull_events()[-1].was_confirmed is False  # type: ignore[union-attr]
    with pytest.raises(InvalidTransition):
        held.move(start=START, now=NOW + minutes(15), moved_by=MovedBy.CLIENT)  # lapsed
    same = booked()
    with pytest.raises(InvalidTransition):
        same.move(start=START, now=NOW, moved_by=MovedBy.CLIENT)
    same.cancel(now=NOW)
    with pytest.raises(InvalidTransition):
        same.move(start=START + timedelta(hours=1), now=NOW, moved_by=MovedBy.ADMIN)


def test_the_change_cutoff_to_the_minute() -> None:
    strict = service(duration=minutes(50), change_cutoff=timedelta(hours=24))
    appointment = booked(strict)
    deadline = START - timedelta(hours=24)
    assert appointment.client_may_change(strict, now=deadline - minutes(1))
    assert not appointment.client_may_change(strict, now=deadline)
    assert booked().client_may_change(FREE, now=START - minutes(1))
    assert not booked().client_may_change(FREE, now=START)
    with pytest.raises(InvalidService):
        service(change_cutoff=timedelta(days=31))
    with pytest.raises(InvalidService):
        service(change_cutoff=timedelta(seconds=30))


def test_the_admin_books_confirmed_and_may_ask_for_no_client_mail() -> None:
    appointment = booked(PAID, confirmed_at_once=True, notify_client=False)
    assert appointment.status is AppointmentStatus.CONFIRMED
    (event,) = appointment.pull_events()
    assert isinstance(event, AppointmentConfirmed)
    assert event.notify_client is False
    assert Client(name="По телефону", email=None).email is None
    with pytest.raises(InvalidClient):
        Client(name="x", email="no-at-sign")


def test_collisions_name_every_reason() -> None:
    slot = iv(utc(2026, 5, 6, 9), utc(2026, 5, 6, 9, 50))
    busy = [iv(utc(2026, 5, 6, 8), utc(2026, 5, 6, 9, 10))]
    neighbours = [
        occupied(utc(2026, 5, 6, 9, 30), utc(2026, 5, 6, 10, 20)),  # the same time: booked
        occupied(utc(2026, 5, 6, 10, 5), utc(2026, 5, 6, 11), before=20),  # only its buffer
        occupied(utc(2026, 5, 6, 12), utc(2026, 5, 6, 13)),  # far away
    ]
    found = collisions(
        slot=slot,
        buffer_before=timedelta(0),
        buffer_after=timedelta(0),
        busy=busy,
        appointments=neighbours,
        now=utc(2026, 5, 7),
    )
    assert [c.reason for c in found] == [
        CollisionReason.PAST,
        CollisionReason.BUSY,
        CollisionReason.BOOKED,
        CollisionReason.BUFFER,
    ]
    clear = collisions(
        slot=slot,
        buffer_before=timedelta(0),
        buffer_after=timedelta(0),
        busy=[iv(utc(2026, 5, 6, 9, 50), utc(2026, 5, 6, 11))],  # touching is not overlapping
        appointments=[],
        now=NOW,
    )
    assert clear == []


@given(
    minute=st.integers(min_value=0, max_value=24 * 60 - 1).map(lambda m: m - m % 5),
    busy_start=st.integers(min_value=0, max_value=24 * 60 - 1),
    busy_length=st.integers(min_value=1, max_value=180),
    other=st.integers(min_value=0, max_value=24 * 60 - 1),
)
def test_no_collision_exactly_when_the_slot_engine_offers_the_time(
    minute: int, busy_start: int, busy_length: int, other: int
) -> None:
    """With hours all day and no notice, the admin's test and the slot engine agree."""
    day = utc(2026, 5, 6)
    shape = service(
        duration=minutes(50),
        buffer_before=minutes(5),
        buffer_after=minutes(10),
        slot_step=minutes(5),
    )
    busy = [iv(day + minutes(busy_start), day + minutes(busy_start + busy_length))]
    neighbours = [occupied(day + minutes(other), day + minutes(other + 30), after=15)]
    start = day + minutes(minute)
    if start + minutes(50) > day + timedelta(days=1):
        return
    offered = available_slots(
        service=shape,
        availability=schedule("UTC", ("00:00", "24:00")),
        busy=busy,
        appointments=neighbours,
        window=iv(start, start + minutes(1)),
        now=NOW,
    )
    found = collisions(
        slot=iv(start, start + minutes(50)),
        buffer_before=minutes(5),
        buffer_after=minutes(10),
        busy=busy,
        appointments=neighbours,
        now=NOW,
    )
    assert (found == []) == (len(offered) == 1)


def test_a_weekly_series_keeps_the_wall_time_across_both_changes_in_berlin() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    first = datetime(2027, 3, 2, 10, tzinfo=berlin)
    starts = weekly_starts(first, 12, "Europe/Berlin")
    assert [s.astimezone(berlin).hour for s in starts] == [10] * 12
    assert [s.utcoffset() for s in starts] == [timedelta(0)] * 12, "UTC instants"
    assert starts[3] == datetime(2027, 3, 23, 9, tzinfo=UTC)
    assert starts[4] == datetime(2027, 3, 30, 8, tzinfo=UTC)
    autumn = weekly_starts(datetime(2027, 10, 19, 10, tzinfo=berlin), 3, "Europe/Berlin")
    assert [s.astimezone(berlin).hour for s in autumn] == [10, 10, 10]
    assert autumn[2] - autumn[1] == timedelta(days=7, hours=1)


def test_a_series_at_a_wall_time_the_spring_change_skips() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    starts = weekly_starts(datetime(2027, 3, 21, 2, 30, tzinfo=berlin), 2, "Europe/Berlin")
    assert starts[1] == datetime(2027, 3, 28, 1, tzinfo=UTC), "the first instant after the gap"
    for count in (0, 53):
        with pytest.raises(ValueError, match="occurrences"):
            weekly_starts(datetime(2027, 3, 2, 10, tzinfo=berlin), count, "Europe/Berlin")
