"""Crashes during export: `balance-booking worker` processes killed with SIGKILL mid-call.

(a) The worker dies after the appointment committed and before Google answered the insert.
(b) Google commits the insert and the answer is lost; the worker dies without learning of it.
Either way, after a restart there is exactly one event for the appointment. File SQLite and
PostgreSQL, the emulator in this process, the workers as real subprocesses.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container
from balance_booking.config import Settings
from tests.support import booking
from tests.support.google import (
    CLIENT_ID,
    CLIENT_SECRET,
    PUBLIC_BASE,
    Emulator,
)
from tests.support.processes import CLI, balance_env, container_on_the_real_clock, stop_all
from tests.support.push import wait_for

pytestmark = [
    pytest.mark.google(),
    pytest.mark.reliability,
    pytest.mark.slow,
    pytest.mark.both_databases,
]

EVENTS = "/calendar/v3/calendars/primary/events"
MARIA = {"name": "Мария Иванова", "email": "maria@example.com"}
MOSCOW = ZoneInfo("Europe/Moscow")
LATENCY_MS = 10_000


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    with container_on_the_real_clock(settings) as built:
        yield built


def working_day(after_days: int) -> date:
    """A Monday-to-Friday date at least `after_days` from today (Moscow)."""
    day = datetime.now(MOSCOW).date() + timedelta(days=after_days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def book(client: TestClient, day: date, hour: int = 11) -> UUID:
    """A client books through the public API (confirmed at once: no payment)."""
    start = datetime(day.year, day.month, day.day, hour, tzinfo=MOSCOW)
    return UUID(booking.book(client, start, client=MARIA)["id"])


@dataclass(frozen=True)
class Workers:
    """`balance-booking worker` processes against the test's database and emulator, one log."""

    settings: Settings
    emulator: Emulator
    container: Container
    log: Path

    @contextmanager
    def running(self) -> Iterator[subprocess.Popen[bytes]]:
        env = balance_env(
            {
                "BALANCE_DATABASE_URL": self.settings.database_url,
                # The same token keys as this process.
                "BALANCE_VAR_DIR": str(self.settings.var_dir),
                "BALANCE_GOOGLE_EMULATOR_URL": self.emulator.base,
                "BALANCE_GOOGLE_CLIENT_ID": CLIENT_ID,
                "BALANCE_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
                "BALANCE_PUBLIC_BASE_URL": PUBLIC_BASE,
            }
        )
        with self.log.open("ab") as sink:
            process = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
                [*CLI, "worker"], env=env, stdout=sink, stderr=subprocess.STDOUT
            )
        try:
            yield process
        finally:
            stop_all([process])

    def wait_until(self, check: Callable[[], bool], *, what: str, timeout: float = 60) -> None:
        if not wait_for(check, timeout=timeout, interval=0.1):
            tail = self.log.read_text()[-4000:]
            raise AssertionError(f"timed out waiting for {what}; worker log:\n{tail}")

    def state_of(self, appointment_id: UUID) -> str:
        with self.container.readers() as uow:
            return uow.appointments.calendar_event(appointment_id).state

    def lease_runs_out(self) -> None:
        """What five minutes do to a dead worker's claim: the row is free for another worker."""
        with self.container.engine.begin() as connection:
            connection.execute(update(t.outbox).values(locked_until=None))


@pytest.fixture
def workers(
    settings: Settings, emulator: Emulator, container: Container, tmp_path: Path
) -> Workers:
    return Workers(settings, emulator, container, tmp_path / "worker.log")


def kill_9(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def fault_taken(emulator: Emulator) -> bool:
    """The one-shot fault was used: the request it slows down has reached the emulator."""
    return emulator.faults_left() == []


@pytest.fixture
def booked(connected: TestClient) -> UUID:
    """A booking two working days ahead, its calendar event not exported yet: its id."""
    return book(connected, working_day(2))


def test_worker_killed_before_google_answers(
    connected: TestClient, emulator: Emulator, workers: Workers, booked: UUID
) -> None:
    appointment_id = booked
    emulator.fault(path_prefix=EVENTS, method="POST", latency_ms=LATENCY_MS, count=1)
    with workers.running() as first:
        workers.wait_until(lambda: fault_taken(emulator), what="the insert to reach Google")
        in_flight_since = time.monotonic()
        # No transaction is open while the worker waits for Google: another booking commits
        # well before Google answers (on SQLite a write lock held across the call would make
        # it wait until the worker let go).
        other_id = book(connected, working_day(2), hour=14)
        assert time.monotonic() - in_flight_since < LATENCY_MS / 2000
        kill_9(first)
    assert workers.state_of(appointment_id) == "pending"

    workers.lease_runs_out()
    with workers.running():
        workers.wait_until(
            lambda: {workers.state_of(appointment_id), workers.state_of(other_id)} == {"created"},
            what="both events to be exported",
        )
    # Let the dead worker's slow request finish inside the emulator, whatever it does.
    time.sleep(max(0.0, LATENCY_MS / 1000 + 1 - (time.monotonic() - in_flight_since)))
    events = emulator.events()
    assert sorted(event["id"] for event in events) == sorted([appointment_id.hex, other_id.hex])
    assert all(event["status"] == "confirmed" for event in events)


def test_response_lost_after_google_committed_then_worker_killed(
    emulator: Emulator, workers: Workers, booked: UUID
) -> None:
    appointment_id = booked
    # Every insert is stored, and every answer is lost, until the fault is cleared.
    emulator.fault(path_prefix=EVENTS, method="POST", drop_response=True, count=0)
    with workers.running() as first:
        workers.wait_until(
            lambda: any(event["id"] == appointment_id.hex for event in emulator.events()),
            what="Google to commit the insert",
        )
        kill_9(first)
    assert workers.state_of(appointment_id) == "pending", "the worker never learned"
    emulator.clear_faults()

    workers.lease_runs_out()
    with workers.running():
        workers.wait_until(
            lambda: workers.state_of(appointment_id) == "created",
            what="the export to be recorded",
        )
    events = emulator.events()
    assert [(event["id"], event["status"]) for event in events] == [
        (appointment_id.hex, "confirmed")
    ]
