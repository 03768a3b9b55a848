from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from balance_booking.domain.appointments import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Client,
)
from balance_booking.domain.errors import (
    InvalidClient,
    InvalidInterval,
    InvalidTransition,
    UnknownTimeZone,
)
from balance_booking.domain.events import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentExpired,
    AppointmentHeld,
    DomainEvent,
)
from balance_booking.domain.services import Service
from balance_booking.domain.slots import OccupiedTime
from tests.unit.domain.builders import minutes, naive, service, utc

APPOINTMENT_ID = UUID("12345678-1234-5678-1234-567812345678")
NOW = utc(2026, 5, 4, 10)
START = utc(2026, 5, 6, 9)
HOLD = minutes(15)
CLIENT = Client(name="Анна", email="anna@example.org", phone="+7 900 000-00-00")
FREE = service(duration=minutes(50), buffer_before=minutes(10), buffer_after=minutes(15))
PAID = service(slug="paid-session", duration=minutes(50), requires_payment=True)
S = AppointmentStatus


def book(of: Service = FREE, *, start: datetime = START, now: datetime = NOW) -> Appointment:
    return Appointment.book(
        appointment_id=APPOINTMENT_ID,
        service=of,
        start=start,
        client=CLIENT,
        client_timezone="Asia/Kolkata",
        comment=None,
        now=now,
        hold=HOLD,
    )


def pending() -> Appointment:
    appointment = book(PAID)
    appointment.pull_events()
    return appointment


def confirmed() -> Appointment:
    appointment = book(FREE)
    appointment.pull_events()
    return appointment


def cancelled() -> Appointment:
    appointment = confirmed()
    appointment.cancel(now=NOW)
    appointment.pull_events()
    return appointment


def expired() -> Appointment:
    appointment = pending()
    appointment.expire(now=NOW + HOLD)
    appointment.pull_events()
    return appointment


def test_booking_a_free_service_confirms_at_once() -> None:
    appointment = book(FREE)
    assert appointment.status is S.CONFIRMED
    assert appointment.hold_expires_at is None
    assert (appointment.start, appointment.end) == (START, START + minutes(50))
    assert (appointment.buffer_before, appointment.buffer_after) == (minutes(10), minutes(15))
    assert appointment.created_at == NOW
    assert appointment.service_slug == "session"
    assert appointment.events == [AppointmentConfirmed(APPOINTMENT_ID, NOW)]


def test_booking_a_paid_service_holds_the_slot() -> None:
    appointment = book(PAID)
    assert appointment.status is S.PENDING_PAYMENT
    assert appointment.hold_expires_at == NOW + HOLD
    assert appointment.events == [AppointmentHeld(APPOINTMENT_ID, NOW)]


def test_booking_normalises_instants_to_utc() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    appointment = book(start=START.astimezone(kolkata), now=NOW.astimezone(kolkata))
    assert appointment.start == START
    assert appointment.start.tzinfo is UTC
    assert appointment.created_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param(lambda: book(start=naive(2026, 5, 6, 9)), InvalidInterval, id="naive-start"),
        pytest.param(lambda: book(now=naive(2026, 5, 4, 10)), InvalidInterval, id="naive-now"),
        pytest.param(
            lambda: Appointment.book(
                appointment_id=APPOINTMENT_ID,
                service=FREE,
                start=START,
                client=CLIENT,
                client_timezone="Moon/Base",
                comment=None,
                now=NOW,
                hold=HOLD,
            ),
            UnknownTimeZone,
            id="unknown-client-zone",
        ),
        pytest.param(
            lambda: Appointment.book(
                appointment_id=APPOINTMENT_ID,
                service=PAID,
                start=START,
                client=CLIENT,
                client_timezone="UTC",
                comment=None,
                now=NOW,
                hold=timedelta(0),
            ),
            ValueError,
            id="zero-hold",
        ),
    ],
)
def test_booking_errors(call: Callable[[], Appointment], error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


Action = Callable[[Appointment, datetime], None]


def confirm(appointment: Appointment, now: datetime) -> None:
    appointment.confirm(now=now)


def cancel(appointment: Appointment, now: datetime) -> None:
    appointment.cancel(now=now)


def expire(appointment: Appointment, now: datetime) -> None:
    appointment.expire(now=now)


@pytest.mark.parametrize(
    ("make", "action", "after", "status", "events"),
    [
        pytest.param(
            pending,
            confirm,
            minutes(5),
            S.CONFIRMED,
            [AppointmentConfirmed(APPOINTMENT_ID, NOW + minutes(5), was_held=True)],
            id="pending-confirm",
        ),
        pytest.param(
            pending,
            cancel,
            minutes(5),
            S.CANCELLED,
            [AppointmentCancelled(APPOINTMENT_ID, NOW + minutes(5), was_confirmed=False)],
            id="pending-cancel",
        ),
        pytest.param(
            pending,
            cancel,
            minutes(30),
            S.CANCELLED,
            [AppointmentCancelled(APPOINTMENT_ID, NOW + minutes(30), was_confirmed=False)],
            id="pending-cancel-after-hold",
        ),
        pytest.param(
            pending,
            expire,
            HOLD,
            S.EXPIRED,
            [AppointmentExpired(APPOINTMENT_ID, NOW + HOLD)],
            id="pending-expire-at-hold",
        ),
        pytest.param(
            pending,
            expire,
            minutes(60),
            S.EXPIRED,
            [AppointmentExpired(APPOINTMENT_ID, NOW + minutes(60))],
            id="pending-expire-late",
        ),
        pytest.param(
            confirmed,
            cancel,
            minutes(5),
            S.CANCELLED,
            [AppointmentCancelled(APPOINTMENT_ID, NOW + minutes(5), was_confirmed=True)],
            id="confirmed-cancel",
        ),
    ],
)
def test_allowed_transitions(
    make: Callable[[], Appointment],
    action: Action,
    after: timedelta,
    status: S,
    events: list[DomainEvent],
) -> None:
    appointment = make()
    action(appointment, NOW + after)
    assert appointment.status is status
    assert appointment.events == events


def test_confirming_clears_the_hold() -> None:
    appointment = pending()
    appointment.confirm(now=NOW + minutes(1))
    assert appointment.hold_expires_at is None


@pytest.mark.parametrize(
    ("make", "action", "after"),
    [
        pytest.param(pending, confirm, HOLD, id="pending-confirm-at-hold-expiry"),
        pytest.param(pending, confirm, minutes(20), id="pending-confirm-after-hold"),
        pytest.param(pending, expire, HOLD - timedelta(seconds=1), id="pending-expire-early"),
        pytest.param(confirmed, confirm, minutes(1), id="confirmed-confirm"),
        pytest.param(confirmed, expire, minutes(60), id="confirmed-expire"),
        pytest.param(cancelled, confirm, minutes(1), id="cancelled-confirm"),
        pytest.param(cancelled, cancel, minutes(1), id="cancelled-cancel"),
        pytest.param(cancelled, expire, minutes(60), id="cancelled-expire"),
        pytest.param(expired, confirm, minutes(60), id="expired-confirm"),
        pytest.param(expired, cancel, minutes(60), id="expired-cancel"),
        pytest.param(expired, expire, minutes(60), id="expired-expire"),
    ],
)
def test_forbidden_transitions_change_nothing(
    make: Callable[[], Appointment], action: Action, after: timedelta
) -> None:
    appointment = make()
    before = (appointment.status, appointment.hold_expires_at, list(appointment.events))
    with pytest.raises(InvalidTransition):
        action(appointment, NOW + after)
    assert (appointment.status, appointment.hold_expires_at, appointment.events) == before


@pytest.mark.parametrize(
    ("make", "active", "active_after_hold"),
    [
        pytest.param(pending, True, False, id="pending"),
        pytest.param(confirmed, True, True, id="confirmed"),
        pytest.param(cancelled, False, False, id="cancelled"),
        pytest.param(expired, False, False, id="expired"),
    ],
)
def test_activity(make: Callable[[], Appointment], active: bool, active_after_hold: bool) -> None:
    appointment = make()
    assert appointment.is_active is active
    assert (appointment.status in ACTIVE_STATUSES) is active
    assert appointment.is_active_at(NOW + HOLD) is active_after_hold


def test_active_statuses() -> None:
    assert frozenset({S.PENDING_PAYMENT, S.CONFIRMED}) == ACTIVE_STATUSES
    assert [status.value for status in S] == [
        "pending_payment",
        "confirmed",
        "cancelled",
        "expired",
    ]


def test_occupied_carries_the_booking_time_buffers() -> None:
    assert book(FREE).occupied == OccupiedTime(
        START, START + minutes(50), minutes(10), minutes(15), "session"
    )


def test_pull_events_hands_over_once() -> None:
    appointment = book(FREE)
    assert appointment.pull_events() == [AppointmentConfirmed(APPOINTMENT_ID, NOW)]
    assert appointment.pull_events() == []


def test_events_do_not_take_part_in_equality() -> None:
    first, second = book(FREE), book(FREE)
    second.pull_events()
    assert first == second


def test_rebuilding_from_storage() -> None:
    appointment = Appointment(
        id=APPOINTMENT_ID,
        service_slug="session",
        start=START,
        end=START + minutes(50),
        buffer_before=minutes(0),
        buffer_after=minutes(0),
        client=CLIENT,
        client_timezone="UTC",
        comment="first visit",
        status="pending_payment",  # type: ignore[arg-type]
        hold_expires_at=NOW + HOLD,
        created_at=NOW,
    )
    assert appointment.status is S.PENDING_PAYMENT
    assert appointment.events == []


@pytest.mark.parametrize(
    ("start", "end", "created_at"),
    [
        pytest.param(naive(2026, 5, 6, 9), START + minutes(50), NOW, id="naive-start"),
        pytest.param(START, START, NOW, id="empty"),
        pytest.param(START, START + minutes(50), naive(2026, 5, 4), id="naive-created"),
    ],
)
def test_rebuilding_rejects_bad_times(start: datetime, end: datetime, created_at: datetime) -> None:
    with pytest.raises(InvalidInterval):
        Appointment(
            id=APPOINTMENT_ID,
            service_slug="session",
            start=start,
            end=end,
            buffer_before=minutes(0),
            buffer_after=minutes(0),
            client=CLIENT,
            client_timezone="UTC",
            comment=None,
            status=S.CONFIRMED,
            hold_expires_at=None,
            created_at=created_at,
        )


@pytest.mark.parametrize(
    ("name", "email"),
    [
        ("", "a@b.c"),
        ("   ", "a@b.c"),
        ("Анна", "anna"),
        ("Анна", "@example.org"),
        ("Анна", "anna@"),
    ],
    ids=["empty-name", "blank-name", "no-at", "no-local-part", "no-domain"],
)
def test_client_needs_a_name_and_an_email(name: str, email: str) -> None:
    with pytest.raises(InvalidClient):
        Client(name=name, email=email)
