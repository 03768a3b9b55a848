"""LIVE_CHECK_TIMEOUT_SECONDS against the fakes: a Google that hangs costs a booking (and a
confirmation, a move, an admin booking) the budget, not the hang, and the fallback rules decide.

The fake Google takes `latency` seconds per call on a stopwatch and, inside a budget, gives up at
its end as the transport promises (tests/unit/adapters/test_transport_deadline.py shows the
transport keeping that promise; tests/integration/test_live_check_timeout.py the whole app).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from balance_booking.application import deadline
from balance_booking.application.errors import CalendarUnavailableError
from balance_booking.domain.appointments import AppointmentStatus, Client
from balance_booking.domain.intervals import Interval
from tests.unit.application.test_self_service import PHONED, admin_request
from tests.unit.application.wiring import SESSION, SlotUnavailableError, World, moscow, request

HANG = 30.0  # seconds Google takes to answer
PAID = replace(SESSION, slug="paid", title="Платная", requires_payment=True)


def hanging(world: World, seconds: float = HANG) -> float:
    """Make every Google call take `seconds`; returns the stopwatch reading now."""
    world.calendar.latency = seconds
    return world.stopwatch()


def test_a_hanging_google_costs_the_booking_three_seconds_and_the_fresh_mirror_books(
    synced: World,
) -> None:
    started = hanging(synced)
    booked = synced.book.execute(request())
    assert booked.appointment.status is AppointmentStatus.CONFIRMED
    assert synced.stopwatch() - started == pytest.approx(3.0)
    assert synced.metrics.count("live_checks", result="timed_out") == 1


def test_a_hanging_google_with_an_older_mirror_is_503_after_three_seconds(synced: World) -> None:
    synced.clock.advance(timedelta(seconds=301))  # past LIVE_CHECK_FALLBACK_SECONDS
    started = hanging(synced)
    with pytest.raises(CalendarUnavailableError):
        synced.book.execute(request())
    assert synced.stopwatch() - started == pytest.approx(3.0)
    assert synced.db.state.appointments == {}


def test_the_budget_is_the_setting() -> None:
    world = World(live_check_timeout=timedelta(seconds=1.5)).given().connect()
    started = hanging(world)
    world.book.execute(request())
    assert world.stopwatch() - started == pytest.approx(1.5)


def test_a_slow_answer_inside_the_budget_is_used(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 12, 30), moscow(1, 13))  # not in the mirror yet
    started = hanging(synced, 2.0)
    with pytest.raises(SlotUnavailableError):
        synced.book.execute(request())
    assert synced.stopwatch() - started == pytest.approx(2.0)
    assert synced.metrics.count("live_checks", result="timed_out") == 0


def test_time_spent_before_the_check_counts_against_the_budget(synced: World) -> None:
    """A booking queued behind another attempt at its slot (SlotClaims) has only what is left."""
    hanging(synced)
    with synced.guard.live_check_budget():
        synced.stopwatch.advance(2.0)  # waited for the other attempt
        started = synced.stopwatch()
        assert synced.book.execute(request()).appointment.status is AppointmentStatus.CONFIRMED
    assert synced.stopwatch() - started == pytest.approx(1.0)


def test_a_later_budget_never_extends_an_earlier_one(synced: World) -> None:
    with synced.guard.live_check_budget() as outer:
        synced.stopwatch.advance(2.5)
        with synced.guard.live_check_budget() as inner:
            assert inner is outer
            assert deadline.remaining() == pytest.approx(0.5)
    assert deadline.remaining() is None


def test_a_confirmation_is_bounded_too() -> None:
    world = World().given(PAID).connect()
    held = world.book.execute(request(service="paid")).appointment
    started = hanging(world)
    assert world.confirm.execute(held.id).status is AppointmentStatus.CONFIRMED
    assert world.stopwatch() - started == pytest.approx(3.0)


def test_a_move_is_bounded_too(synced: World) -> None:
    booked = synced.book.execute(request())
    started = hanging(synced)
    moved = synced.reschedule.execute(
        booked.appointment.id, start=moscow(1, 15), token=booked.manage_token
    )
    assert moved.start == moscow(1, 15)
    assert synced.stopwatch() - started == pytest.approx(3.0)


def test_a_move_with_an_older_mirror_is_503_after_the_budget(synced: World) -> None:
    booked = synced.book.execute(request())
    synced.clock.advance(timedelta(minutes=10))
    started = hanging(synced)
    with pytest.raises(CalendarUnavailableError):
        synced.reschedule.execute(
            booked.appointment.id, start=moscow(1, 15), token=booked.manage_token
        )
    assert synced.stopwatch() - started == pytest.approx(3.0)
    assert synced.appointment(booked.appointment.id).start == moscow(1, 12)


def test_an_admin_booking_is_bounded_too(synced: World) -> None:
    started = hanging(synced)
    synced.book_for_client.execute(admin_request(client=PHONED))
    assert synced.stopwatch() - started == pytest.approx(3.0)


def test_accepting_a_waitlist_offer_is_bounded_too(synced: World) -> None:
    booked = synced.book.execute(request())
    synced.join_waitlist.execute(
        service_slug="session",
        client=Client(name="Борис", email="boris@example.com"),
        timezone="Europe/Moscow",
        preferred=Interval(moscow(1, 12), moscow(1, 13)),
        comment=None,
    )
    synced.cancel.execute(booked.appointment.id, token=None)
    assert synced.match_waitlist.execute()["offered"] == 1
    [offer] = synced.db.state.offers.values()
    started = hanging(synced)
    accepted = synced.accept_offer.execute(offer.id, token=synced.manage_tokens.token(offer.id))
    assert accepted.appointment.start == moscow(1, 12)
    assert synced.stopwatch() - started == pytest.approx(3.0)
