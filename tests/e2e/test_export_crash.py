"""Crashes during export: `balance-booking worker` processes killed with SIGKILL mid-call.

(a) The worker dies after the appointment committed and before Google answered the insert.
(b) Google commits the insert and the answer is lost; the worker dies without learning of it.
Either way, after a restart there is exactly one event for the appointment. File SQLite and
PostgreSQL, the emulator in this process, the workers as real subprocesses.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import Container, build_container
from balance_booking.config import Settings
from tests.support.google import (
    CLIENT_ID,
    CLIENT_SECRET,
    NO_WAIT,
    OWNER,
    PUBLIC_BASE,
    Emulator,
)

pytestmark = [
    pytest.mark.google(),
    pytest.mark.reliability,
    pytest.mark.slow,
    pytest.mark.both_databases,
]

CLI = [sys.executable, "-m", "balance_booking.cli"]
EVENTS = "/calendar/v3/calendars/primary/events"
BOOK = "/api/public/booking/appointments"
MOSCOW = ZoneInfo("Europe/Moscow")
LATENCY_MS = 10_000


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    # The real clock: the worker subprocesses have no other.
    built = build_container(settings, retry=NO_WAIT)
    if built.is_sqlite():
        migrate(built.engine)
    yield built
    built.close()


def working_day(after_days: int) -> date:
    """A Monday-to-Friday date at least `after_days` from today (Moscow)."""
    day = datetime.now(MOSCOW).date() + timedelta(days=after_days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def book(client: TestClient, day: date, hour: int = 11) -> UUID:
    """A client books through the public API (confirmed at once: no payment)."""
    start = datetime(day.year, day.month, day.day, hour, tzinfo=MOSCOW)
    response = client.post(
        BOOK,
        json={
            "service_slug": "session",
            "start": start.isoformat(),
            "timezone": "Europe/Moscow",
            "client": {"name": "Мария Иванова", "email": "maria@example.com"},
        },
    )
    assert response.status_code == 201, response.text
    return UUID(response.json()["appointment"]["id"])


@contextmanager
def worker(settings: Settings, emulator: Emulator, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`balance-booking worker` against the test's database and emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCE_")}
    env |= {
        "BALANCE_DATABASE_URL": settings.database_url,
        "BALANCE_VAR_DIR": str(settings.var_dir),  # the same token keys as this process
        "BALANCE_GOOGLE_EMULATOR_URL": emulator.base,
        "BALANCE_GOOGLE_CLIENT_ID": CLIENT_ID,
        "BALANCE_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "BALANCE_PUBLIC_BASE_URL": PUBLIC_BASE,
    }
    with log.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
            [*CLI, "worker"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def kill_9(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def wait_until(check: Callable[[], bool], *, what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text()[-4000:]}")


def our_events(emulator: Emulator) -> list[dict[str, Any]]:
    by_calendar: dict[str, list[dict[str, Any]]] = emulator.state()["events"]  # type: ignore[assignment]
    return by_calendar.get(OWNER, [])


def state_of(container: Container, appointment_id: UUID) -> str:
    with container.readers() as uow:
        return uow.appointments.calendar_event(appointment_id).state


def fault_taken(emulator: Emulator) -> bool:
    """The one-shot fault was used: the request it slows down has reached the emulator."""
    faults: list[object] = emulator.control.get("/_emulator/faults").json()["faults"]
    return faults == []


def lease_runs_out(container: Container) -> None:
    """What five minutes do to a dead worker's claim: the row is free for another worker."""
    with container.engine.begin() as connection:
        connection.execute(update(t.outbox).values(locked_until=None))


def test_worker_killed_before_google_answers(
    container: Container,
    connected: TestClient,
    emulator: Emulator,
    settings: Settings,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    appointment_id = book(connected, working_day(2))
    emulator.control.post(
        "/_emulator/faults",
        json={"path_prefix": EVENTS, "method": "POST", "latency_ms": LATENCY_MS, "count": 1},
    ).raise_for_status()
    with worker(settings, emulator, log) as first:
        wait_until(lambda: fault_taken(emulator), what="the insert to reach Google", log=log)
        in_flight_since = time.monotonic()
        # No transaction is open while the worker waits for Google: another booking commits
        # well before Google answers (on SQLite a write lock held across the call would make
        # it wait until the worker let go).
        other_id = book(connected, working_day(2), hour=14)
        assert time.monotonic() - in_flight_since < LATENCY_MS / 2000
        kill_9(first)
    assert state_of(container, appointment_id) == "pending"

    lease_runs_out(container)
    with worker(settings, emulator, log):
        wait_until(
            lambda: (
                {state_of(container, appointment_id), state_of(container, other_id)} == {"created"}
            ),
            what="both events to be exported",
            log=log,
        )
    # Let the dead worker's slow request finish inside the emulator, whatever it does.
    time.sleep(max(0.0, LATENCY_MS / 1000 + 1 - (time.monotonic() - in_flight_since)))
    events = our_events(emulator)
    assert sorted(event["id"] for event in events) == sorted([appointment_id.hex, other_id.hex])
    assert all(event["status"] == "confirmed" for event in events)


def test_response_lost_after_google_committed_then_worker_killed(
    container: Container,
    connected: TestClient,
    emulator: Emulator,
    settings: Settings,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    appointment_id = book(connected, working_day(2))
    # Every insert is stored, and every answer is lost, until the fault is cleared.
    emulator.control.post(
        "/_emulator/faults",
        json={"path_prefix": EVENTS, "method": "POST", "drop_response": True, "count": 0},
    ).raise_for_status()
    with worker(settings, emulator, log) as first:
        wait_until(
            lambda: any(event["id"] == appointment_id.hex for event in our_events(emulator)),
            what="Google to commit the insert",
            log=log,
        )
        kill_9(first)
    assert state_of(container, appointment_id) == "pending", "the worker never learned"
    emulator.control.delete("/_emulator/faults").raise_for_status()

    lease_runs_out(container)
    with worker(settings, emulator, log):
        wait_until(
            lambda: state_of(container, appointment_id) == "created",
            what="the export to be recorded",
            log=log,
        )
    events = our_events(emulator)
    assert [(event["id"], event["status"]) for event in events] == [
        (appointment_id.hex, "confirmed")
    ]
