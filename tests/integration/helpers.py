"""Direct table writes for API tests: states that later features (sync, booking) will create."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert, update

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container
from tests.support.booking import WEEKDAYS_10_TO_18  # noqa: F401 - the API tests import it from here


def changed(container: Container) -> None:
    """What a real writer's unit of work does after commit: bump the data version, tell the cache."""
    with container.engine.begin() as connection:
        connection.execute(update(t.data_version).values(version=t.data_version.c.version + 1))
    container.versions.invalidate()


def add_busy(container: Container, start: datetime, end: datetime) -> None:
    with container.engine.begin() as connection:
        connection.execute(
            insert(t.calendar_busy_intervals).values(start_at=start, end_at=end, source="google")
        )
    changed(container)


def connect_calendar(container: Container, *, last_success_at: datetime | None) -> None:
    with container.engine.begin() as connection:
        connection.execute(
            insert(t.integrations_google_calendar).values(
                id=1,
                status="connected",
                calendar_id="primary",
                last_success_at=last_success_at,
                updated_at=last_success_at or datetime.fromisoformat("2026-01-01T00:00:00+00:00"),
            )
        )
    changed(container)


def add_appointment(
    container: Container,
    *,
    service_slug: str,
    start: datetime,
    minutes: int,
    buffer_before: int = 0,
    buffer_after: int = 0,
    status: str = "confirmed",
) -> None:
    end = start + timedelta(minutes=minutes)
    with container.engine.begin() as connection:
        connection.execute(
            insert(t.appointments).values(
                id=uuid.uuid4(),
                service_slug=service_slug,
                start_at=start,
                end_at=end,
                blocked_start_at=start - timedelta(minutes=buffer_before),
                blocked_end_at=end + timedelta(minutes=buffer_after),
                buffer_before_minutes=buffer_before,
                buffer_after_minutes=buffer_after,
                client_timezone="Europe/Moscow",
                client_name="Test Client",
                client_email="client@example.com",
                status=status,
                calendar_sync_state="pending",
                created_at=start - timedelta(days=1),
                updated_at=start - timedelta(days=1),
            )
        )
    changed(container)
