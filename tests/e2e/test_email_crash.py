"""A worker killed with SIGKILL after the SMTP server took the message and before the outbox row
was marked: after a restart the message is sent again at most once, with the same Message-ID.

The SMTP server here stores each message as soon as its data has arrived and, while `stall` is
set, holds back its "250 OK": the worker is then exactly between "sent" and "marked" when it dies.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import update

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container
from balance_booking.config import Settings
from tests.support.live_server import free_port
from tests.support.processes import CLI, balance_env, container_on_the_real_clock, stop_all
from tests.support.push import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.both_databases, pytest.mark.reliability]

DOMAIN = "balance.example.org"
START = "2027-03-03T11:00:00+03:00"  # a Wednesday well ahead of the real clock


class StallingServer:
    """An aiosmtpd handler: keeps every message, and answers DATA late while `stall` is set."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.stall = threading.Event()
        self.stall.set()

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: object,  # noqa: ARG002 - the hook's signature
        session: object,  # noqa: ARG002
        envelope: Any,
    ) -> str:
        self.messages.append(message_from_bytes(envelope.original_content, policy=default))
        # Polls a thread's flag (set and cleared from the test's thread, not this loop's).
        while self.stall.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[StallingServer, str]]:
    handler = StallingServer()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}"
    finally:
        handler.stall.clear()
        controller.stop()


@pytest.fixture
def server() -> Iterator[tuple[StallingServer, str]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, server: tuple[StallingServer, str]) -> Settings:
    return settings.model_copy(
        update={
            "smtp_url": SecretStr(server[1]),
            "mail_from": f"Эмоциональный баланс <booking@{DOMAIN}>",
            "public_base_url": f"https://{DOMAIN}",
            "reminders": "",
        }
    )


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    with container_on_the_real_clock(settings) as built:
        yield built


def worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = balance_env(
        {
            "BALANCE_DATABASE_URL": settings.database_url,
            "BALANCE_VAR_DIR": str(settings.var_dir),  # the same secret key: the same links
            "BALANCE_SMTP_URL": settings.smtp_url.get_secret_value() if settings.smtp_url else "",
            "BALANCE_MAIL_FROM": settings.mail_from,
            "BALANCE_PUBLIC_BASE_URL": settings.public_base_url,
            "BALANCE_REMINDERS": "",
        }
    )
    with log.open("ab") as sink:
        return subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
            [*CLI, "worker"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )


def email_rows(container: Container) -> list[str]:
    with container.engine.connect() as connection:
        rows = connection.execute(t.outbox.select().where(t.outbox.c.kind == "email")).all()
    return [row.status for row in rows]


def test_a_worker_killed_between_send_and_mark_sends_at_most_once_more(
    admin: TestClient,
    container: Container,
    settings: Settings,
    server: tuple[StallingServer, str],
    tmp_path: Path,
) -> None:
    handler, _ = server
    weekly = {d: [["10:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    schedule = {"timezone": "Europe/Moscow", "weekly": weekly, "overrides": []}
    assert admin.put("/api/admin/schedule", json=schedule).status_code == 200
    service = {"slug": "session", "title": "Консультация", "duration_minutes": 50,
               "slot_step_minutes": 60, "max_days_ahead": 365}  # fmt: skip
    assert admin.post("/api/admin/services", json=service).status_code == 201
    booked = admin.post(
        "/api/public/booking/appointments",
        json={
            "service_slug": "session",
            "start": START,
            "timezone": "Europe/Moscow",
            "client": {"name": "Анна", "email": "anna@example.com"},
        },
    )
    assert booked.status_code == 201, booked.text
    log = tmp_path / "worker.log"
    first = worker(settings, log)
    try:
        assert wait_for(lambda: len(handler.messages) == 1, timeout=60, interval=0.1), (
            log.read_text()[-3000:]
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop_all([first])
    assert email_rows(container) == ["pending"], "the server took it; the row never learned"
    # What the lease's five minutes do for a dead worker's claim.
    with container.engine.begin() as connection:
        connection.execute(update(t.outbox).values(locked_until=None))
    handler.stall.clear()
    second = worker(settings, log)
    try:
        assert wait_for(lambda: email_rows(container) == ["done"], timeout=60, interval=0.1), (
            log.read_text()[-3000:]
        )
    finally:
        stop_all([second])
    appointment_id = booked.json()["appointment"]["id"]
    ids = [message["Message-ID"] for message in handler.messages]
    assert ids == [f"<confirmed.{appointment_id}@{DOMAIN}>"] * 2, "one duplicate, same id"
