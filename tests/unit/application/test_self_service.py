"""Moves, admin bookings and series against the fakes: the guards, the live Google check, what
reaches the outbox, and the Google event moved in place."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from balance_booking.application.errors import (
    CalendarUnavailableError,
    ChangeWindowClosedError,
    ConflictError,
    NotFoundError,
)
from balance_booking.application.messages import MailPolicy
from balance_booking.application.self_service import AdminBookingRequest, CollisionError
from balance_booking.domain.appointments import AppointmentStatus, Client
from balance_booking.domain.collisions import CollisionReason
from balance_booking.domain.events import AppointmentConfirmed, AppointmentMoved
from tests.unit.application.wiring import (
    CLIENT,
    SESSION,
    SlotUnavailableError,
    World,
    event_of,
    moscow,
    request,
)

PHONED = Client(name="По телефону", email=None, phone="+7 900 000-00-00")


def admin_request(
    start: datetime | None = None,
    *,
    weekly: int | None = None,
    notify: bool = True,
    client: Client = PHONED,
) -> AdminBookingRequest:
    return AdminBookingRequest(
        service_slug="session",
        start=start or moscow(1, 12),
        timezone="Europe/Moscow",
        client=client,
        comment=None,
        notify=notify,
        weekly=weekly,
    )


def test_a_move_is_one_commit_with_its_event_and_keeps_id_and_token(ready: World) -> None:
    booked = ready.book.execute(request())
    commits = ready.db.commits
    moved = ready.reschedule.execute(
        booked.appointment.id, start=moscow(1, 15), token=booked.manage_token
    )
    assert ready.db.commits == commits + 1
    assert moved.id == booked.appointment.id
    assert (moved.start, moved.sequence) == (moscow(1, 15), 1)
    assert ready.get_appointment.execute(moved.id, token=booked.manage_token).start == moscow(1, 15)
    last = event_of(ready.db.outbox_rows()[-1].message())
    assert last == AppointmentMoved(
        moved.id, ready.clock.now(), sequence=1, was_confirmed=True, previous_start=moscow(1, 12)
    )
    assert moscow(1, 12) in ready.free_starts(1)
    assert moscow(1, 15) not in ready.free_starts(1)


def test_a_conflicting_move_changes_nothing_and_offers_alternatives(ready: World) -> None:
    mine = ready.book.execute(request())
    ready.book.execute(request(moscow(1, 15), client=Client(name="Б", email="b@example.com")))
    rows = len(ready.db.outbox_rows())
    with pytest.raises(SlotUnavailableError) as refused:
        ready.reschedule.execute(mine.appointment.id, start=moscow(1, 15), token=mine.manage_token)
    assert refused.value.alternatives
    assert refused.value.timezone == "Asia/Kolkata", "shown in the appointment's zone"
    assert ready.appointment(mine.appointment.id).start == moscow(1, 12)
    assert len(ready.db.outbox_rows()) == rows
    assert ready.db.tracked()[-1].event == "booking_conflict"


def test_a_wrong_token_is_unknown_and_the_admin_needs_none(ready: World) -> None:
    booked = ready.book.execute(request())
    with pytest.raises(NotFoundError):
        ready.reschedule.execute(booked.appointment.id, start=moscow(1, 15), token="wrong")
    evening = ready.reschedule.execute(booked.appointment.id, start=moscow(1, 20), token=None)
    assert evening.start == moscow(1, 20), "the admin may move outside the working hours"
    assert evening.moves[-1].moved_by.value == "admin"


def test_the_cutoff_binds_the_client_only(world: World) -> None:
    world.given(replace(SESSION, change_cutoff=timedelta(hours=24)))
    booked = world.book.execute(request(moscow(2, 12)))
    world.clock.set(moscow(1, 12))  # exactly 24 h before: closed
    with pytest.raises(ChangeWindowClosedError):
        world.reschedule.execute(
            booked.appointment.id, start=moscow(2, 15), token=booked.manage_token
        )
    with pytest.raises(ChangeWindowClosedError):
        world.cancel.execute(booked.appointment.id, token=booked.manage_token)
    moved = world.reschedule.execute(booked.appointment.id, start=moscow(2, 15), token=None)
    assert moved.start == moscow(2, 15)


def test_moving_a_cancelled_appointment_is_a_conflict(ready: World) -> None:
    booked = ready.book.execute(request())
    ready.cancel.execute(booked.appointment.id, token=None)
    with pytest.raises(ConflictError):
        ready.reschedule.execute(booked.appointment.id, start=moscow(1, 15), token=None)


def test_the_google_event_moves_in_place_and_the_old_time_leaves_the_mirror(
    synced: World,
) -> None:
    booked = synced.book.execute(request())
    synced.handlers(AppointmentConfirmed(booked.appointment.id, synced.clock.now()))
    synced.sync.execute()
    (event,) = synced.calendar.live_own()
    assert moscow(1, 12) not in synced.free_starts(1), "our event is busy in the mirror"
    synced.reschedule.execute(booked.appointment.id, start=moscow(1, 15), token=None)
    assert moscow(1, 12) in synced.free_starts(1), "free at once, before Google hears of it"
    moved = event_of(synced.db.outbox_rows()[-1].message())
    assert isinstance(moved, AppointmentMoved)
    assert synced.handlers(moved) is True
    (after,) = synced.calendar.live_own()
    assert after.event_id == event.event_id
    assert (after.start, after.end) == (moscow(1, 15), moscow(1, 15, 50))


def test_a_move_by_half_a_session_is_not_refused_by_its_own_google_event(synced: World) -> None:
    half_hourly = replace(SESSION, slug="half", slot_step=timedelta(minutes=30))
    with synced.db() as uow:
        uow.services.add(half_hourly)
        uow.commit()
    booked = synced.book.execute(request(service="half"))
    synced.handlers(AppointmentConfirmed(booked.appointment.id, synced.clock.now()))
    synced.sync.execute()
    moved = synced.reschedule.execute(
        booked.appointment.id, start=moscow(1, 12, 30), token=booked.manage_token
    )
    assert moved.start == moscow(1, 12, 30)


def test_google_down_with_an_old_mirror_refuses_the_move_and_changes_nothing(
    synced: World,
) -> None:
    booked = synced.book.execute(request())
    synced.clock.advance(timedelta(minutes=10))  # the mirror is older than the 5 min fallback
    synced.calendar.outage()
    with pytest.raises(CalendarUnavailableError):
        synced.reschedule.execute(
            booked.appointment.id, start=moscow(1, 15), token=booked.manage_token
        )
    assert synced.appointment(booked.appointment.id).start == moscow(1, 12)


def test_a_series_is_all_or_nothing_and_names_the_colliding_occurrence(synced: World) -> None:
    synced.calendar.add_busy(moscow(15, 12, 20), moscow(15, 13))  # not in the mirror yet
    with pytest.raises(CollisionError) as refused:
        synced.book_for_client.execute(admin_request(weekly=4))
    ((slot, collision),) = refused.value.conflicts
    assert slot.start == moscow(15, 12)
    assert collision.reason is CollisionReason.BUSY
    assert synced.db.state.appointments == {}
    booked = synced.book_for_client.execute(admin_request(moscow(1, 14), weekly=4))
    assert [b.appointment.start for b in booked] == [moscow(d, 14) for d in (1, 8, 15, 22)]
    (series_id,) = {b.appointment.series_id for b in booked}
    assert series_id is not None
    assert all(b.appointment.status is AppointmentStatus.CONFIRMED for b in booked)
    synced.clock.set(moscow(9, 9))
    assert synced.cancel_series.execute(series_id) == 2


def test_the_admin_never_books_onto_booked_time(ready: World) -> None:
    ready.book.execute(request())
    with pytest.raises(CollisionError) as refused:
        ready.book_for_client.execute(admin_request(moscow(1, 12, 30)))
    assert [c.reason for _, c in refused.value.conflicts] == [CollisionReason.BOOKED]


def test_moves_are_told_once_each_and_reminders_follow(world: World) -> None:
    mail = replace(
        world,
        mail=MailPolicy(enabled=True, practitioner=True, reminders=(timedelta(hours=2),)),
    ).given()
    booked = mail.book.execute(request(moscow(3, 12)))
    mail.reschedule.execute(booked.appointment.id, start=moscow(3, 15), token=None)
    pending = [row for row in mail.db.outbox_rows() if row.status == "pending"]
    keys = sorted(row.dedup_key or "" for row in pending if row.kind == "email")
    appointment_id = booked.appointment.id
    new_start = int(moscow(3, 15).timestamp())
    assert keys == sorted(
        [
            f"email:confirmed.{appointment_id}",
            f"email:practitioner.{appointment_id}.booked",
            f"email:rescheduled.{appointment_id}.1",
            f"email:practitioner.{appointment_id}.moved.1",
            f"email:reminder.{appointment_id}.2h@{new_start}",
        ]
    ), "the reminder for the old time was dropped, one for the new time planned"


def test_an_admin_booking_without_notify_or_address_queues_no_client_mail(world: World) -> None:
    mail = replace(
        world, mail=MailPolicy(enabled=True, practitioner=True, reminders=(timedelta(hours=2),))
    ).given()
    mail.book_for_client.execute(admin_request(moscow(3, 12), notify=False, client=CLIENT))
    mail.book_for_client.execute(admin_request(moscow(3, 15)))  # no address at all
    topics = sorted(row.topic for row in mail.db.outbox_rows() if row.kind == "email")
    assert topics == ["practitioner", "practitioner"]
