"""A hypothesis state machine over book / cancel / confirm / expire / sync / deliver, moves by
the client and the admin, admin weekly series and cancelling the rest of a series.

Whatever the order, on SQLite and on PostgreSQL: no two active appointments overlap (with
buffers), and once the outbox is delivered every confirmed appointment has exactly one Google
event, at its current time, under the id derived from the appointment (so a move kept it), and
every cancelled or expired one has none; manage tokens keep opening their appointment after moves.
"""

from __future__ import annotations

import contextlib
import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as run_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from balance_booking.adapters.db.migrate import migrate
from balance_booking.application.admin import CreateService, ReplaceSchedule
from balance_booking.application.booking import BookingRequest, ExpireHolds, SlotUnavailableError
from balance_booking.application.errors import CalendarUnavailableError, ConflictError
from balance_booking.application.self_service import AdminBookingRequest, CollisionError
from balance_booking.bootstrap import (
    Container,
    build_outbox_dispatcher,
    build_web_services,
    create_admin_token,
)
from balance_booking.domain.appointments import AppointmentStatus, Client
from balance_booking.domain.availability import Availability, LocalWindow
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from tests.conftest import START, FakeClock
from tests.support.databases import truncate_all
from tests.support.google import Emulator, connect_calendar

pytestmark = [pytest.mark.google(), pytest.mark.reliability, pytest.mark.both_databases]


def service(slug: str, minutes: int, **extra: Any) -> Service:
    """A service bookable every half hour; `extra` sets buffers or payment."""
    return Service(
        slug=slug,
        title=slug.title(),
        duration=timedelta(minutes=minutes),
        slot_step=timedelta(minutes=30),
        **extra,
    )


SERVICES = (
    service("short", 30),
    service("long", 90, buffer_after=timedelta(minutes=15)),
    service("paid", 60, buffer_before=timedelta(minutes=10), requires_payment=True),
)
# Tuesday 1 December 2026, 10:00-14:00 Moscow: a small window, so collisions are frequent.
STARTS = [START.replace(day=1, month=12, hour=7) + timedelta(minutes=30 * i) for i in range(8)]
# Everything the machine can book: series reach four weeks ahead.
WINDOW = Interval(STARTS[0] - timedelta(days=1), STARTS[-1] + timedelta(weeks=4))


def make_machine(container: Container, emulator: Emulator, clock: FakeClock, reset: Any) -> type:
    web = build_web_services(container)
    dispatcher = build_outbox_dispatcher(container)
    expire = ExpireHolds(
        writers=container.writers, clock=container.clock, messages=container.messages
    )

    class Booking(RuleBasedStateMachine):
        @initialize()
        def fresh(self) -> None:
            clock.set(START)
            reset()
            web.sync.execute()
            self.ids: list[Any] = []
            self.tokens: dict[Any, str] = {}
            self.series: list[Any] = []

        @rule(service=st.sampled_from(SERVICES), start=st.sampled_from(STARTS))
        def book(self, service: Service, start: Any) -> None:
            request = BookingRequest(
                service_slug=service.slug,
                start=start,
                timezone="Europe/Moscow",
                client=Client(name="Client", email="c@example.com"),
                comment=None,
            )
            # Refused honestly (taken, busy, or calendar data too old) is a fine outcome.
            with contextlib.suppress(SlotUnavailableError, CalendarUnavailableError):
                booked = web.book.execute(request)
                self.ids.append(booked.appointment.id)
                self.tokens[booked.appointment.id] = booked.manage_token

        @rule(index=st.integers(min_value=0, max_value=20), start=st.sampled_from(STARTS))
        def move_by_client(self, index: int, start: Any) -> None:
            if self.ids:
                chosen = self.ids[index % len(self.ids)]
                with contextlib.suppress(
                    SlotUnavailableError, CalendarUnavailableError, ConflictError
                ):
                    web.reschedule_appointment.execute(
                        chosen, start=start, token=self.tokens[chosen]
                    )

        @rule(index=st.integers(min_value=0, max_value=20), start=st.sampled_from(STARTS))
        def move_by_admin(self, index: int, start: Any) -> None:
            if self.ids:
                with contextlib.suppress(CollisionError, CalendarUnavailableError, ConflictError):
                    web.reschedule_appointment.execute(
                        self.ids[index % len(self.ids)], start=start, token=None
                    )

        @rule(
            service=st.sampled_from(SERVICES),
            start=st.sampled_from(STARTS),
            weeks=st.integers(min_value=2, max_value=4),
        )
        def series_by_admin(self, service: Service, start: Any, weeks: int) -> None:
            request = AdminBookingRequest(
                service_slug=service.slug,
                start=start,
                timezone="Europe/Moscow",
                client=Client(name="Series", email="s@example.com"),
                comment=None,
                notify=True,
                weekly=weeks,
            )
            with contextlib.suppress(CollisionError, CalendarUnavailableError):
                booked = web.book_for_client.execute(request)
                for item in booked:
                    self.ids.append(item.appointment.id)
                    self.tokens[item.appointment.id] = item.manage_token
                self.series.append(booked[0].appointment.series_id)

        @rule(index=st.integers(min_value=0, max_value=20))
        def cancel_rest_of_series(self, index: int) -> None:
            if self.series:
                web.cancel_series.execute(self.series[index % len(self.series)])

        @rule(index=st.integers(min_value=0, max_value=20))
        def cancel(self, index: int) -> None:
            if self.ids:
                with contextlib.suppress(ConflictError):  # expired ones cannot be cancelled
                    web.cancel_appointment.execute(self.ids[index % len(self.ids)], token=None)

        @rule(index=st.integers(min_value=0, max_value=20))
        def confirm(self, index: int) -> None:
            if self.ids:
                with contextlib.suppress(
                    ConflictError, SlotUnavailableError, CalendarUnavailableError
                ):
                    web.confirm_appointment.execute(self.ids[index % len(self.ids)])

        @rule(minutes=st.sampled_from([5, 20]))
        def time_passes(self, minutes: int) -> None:
            clock.advance(timedelta(minutes=minutes))
            expire.execute()

        @rule()
        def sync(self) -> None:
            web.sync.execute()

        @rule()
        def deliver(self) -> None:
            dispatcher.execute()

        @invariant()
        def no_overlap(self) -> None:
            with container.readers() as uow:
                active = [
                    appointment
                    for appointment, _ in uow.appointments.listing(WINDOW, status=None)
                    if appointment.is_active_at(clock.now())
                ]
            blocked = sorted(a.occupied.blocked for a in active)
            for left, right in itertools.pairwise(blocked):
                assert not left.overlaps(right), (left, right)

        def teardown(self) -> None:
            for _ in range(20):
                if dispatcher.execute().claimed == 0:
                    break
            events = emulator.state()["events"]
            assert isinstance(events, dict)
            live: dict[str, list[dict[str, Any]]] = {}
            for items in events.values():
                for event in items:
                    if event.get("status") != "cancelled":
                        key = event["extendedProperties"]["private"]["balance_appointment_id"]
                        live.setdefault(key, []).append(event)
            with container.readers() as uow:
                rows = uow.appointments.listing(WINDOW, status=None)
            for appointment, _ in rows:
                found = live.get(str(appointment.id), [])
                if appointment.status is not AppointmentStatus.CONFIRMED:
                    assert found == [], (appointment.status, found)
                    continue
                assert len(found) == 1, (appointment, found)
                (event,) = found
                assert event["id"] == appointment.id.hex, "moved in place, never re-created"
                start = datetime.fromisoformat(event["start"]["dateTime"])
                assert start == appointment.start, (start, appointment.start, appointment.moves)
                token = self.tokens[appointment.id]
                opened = web.get_appointment.execute(appointment.id, token=token)
                assert opened.start == appointment.start

    return Booking


def test_booking_state_machine(
    client: Any, container: Container, emulator: Emulator, clock: FakeClock, database_url: str
) -> None:
    def reset() -> None:
        emulator.reset()
        if container.is_sqlite():
            container.engine.dispose()
            path = Path(container.engine.url.database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            migrate(container.engine)
        else:
            truncate_all(database_url)
        container.versions.invalidate()
        for service in SERVICES:
            CreateService(uow_factory=container.writers).execute(service)
        ReplaceSchedule(uow_factory=container.writers).execute(
            Availability(
                timezone="Europe/Moscow",
                weekly={1: (LocalWindow.parse("10:00", "14:00"),)},
                overrides={},
            )
        )
        admin.headers["Authorization"] = f"Bearer {create_admin_token(container, name='sm')}"
        assert connect_calendar(admin).endswith("result=connected")

    admin = client
    machine = make_machine(container, emulator, clock, reset)
    run_state_machine_as_test(
        machine,
        settings=run_settings(
            max_examples=6,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
