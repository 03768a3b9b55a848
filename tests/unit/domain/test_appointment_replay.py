"""Appointment.as_booked: how a booking was answered, for Idempotency-Key replays."""

from __future__ import annotations

from uuid import UUID

from balance_booking.domain.appointments import Appointment, AppointmentStatus, Client
from tests.unit.domain.builders import minutes, service, utc

NOW = utc(2026, 5, 4, 10)
PAID = service(slug="paid", duration=minutes(50), requires_payment=True)
FREE = service(slug="free", duration=minutes(50))


def book(of: object) -> Appointment:
    return Appointment.book(
        appointment_id=UUID(int=7),
        service=of,  # type: ignore[arg-type]
        start=utc(2026, 5, 6, 9),
        client=Client(name="Анна", email="anna@example.org", phone=None),
        client_timezone="Europe/Moscow",
        comment=None,
        now=NOW,
        hold=minutes(15),
    )


def test_a_hold_confirmed_since_is_answered_as_the_hold_it_was() -> None:
    appointment = book(PAID)
    held_until = appointment.hold_expires_at
    appointment.confirm(now=NOW + minutes(5))
    appointment.pull_events()

    answered = appointment.as_booked(hold_expires_at=held_until)

    assert (answered.status, answered.hold_expires_at) == (
        AppointmentStatus.PENDING_PAYMENT,
        NOW + minutes(15),
    )
    assert answered.pull_events() == []
    # A copy: the appointment itself keeps its state.
    assert (appointment.status, appointment.hold_expires_at) == (AppointmentStatus.CONFIRMED, None)


def test_a_booking_without_a_hold_is_answered_confirmed_even_once_cancelled() -> None:
    appointment = book(FREE)
    appointment.cancel(now=NOW + minutes(1))
    answered = appointment.as_booked(hold_expires_at=None)
    assert (answered.status, answered.hold_expires_at) == (AppointmentStatus.CONFIRMED, None)
    assert appointment.status is AppointmentStatus.CANCELLED
