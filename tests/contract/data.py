"""Values the contract tests store and read back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from balance_booking.domain.appointments import Appointment, AppointmentStatus, Client
from balance_booking.domain.services import Service

T0 = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 10:00 Moscow


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def service(slug: str = "session", **changes: object) -> Service:
    fields: dict[str, object] = {"slug": slug, "title": "Сессия", "duration": timedelta(minutes=50)}
    fields.update(changes)
    return Service(**fields)  # type: ignore[arg-type]


def appointment(
    start: datetime = T0,
    *,
    minutes: int = 50,
    before: int = 0,
    after: int = 0,
    status: AppointmentStatus = AppointmentStatus.CONFIRMED,
    hold_expires_at: datetime | None = None,
    slug: str = "session",
    created_at: datetime | None = None,
) -> Appointment:
    return Appointment(
        id=uuid.uuid4(),
        service_slug=slug,
        start=start,
        end=start + timedelta(minutes=minutes),
        buffer_before=timedelta(minutes=before),
        buffer_after=timedelta(minutes=after),
        client=Client(name="Анна Петрова", email="anna@example.com", phone="+7 900 000-00-00"),
        client_timezone="Asia/Kolkata",
        comment="Первый раз",
        status=status,
        hold_expires_at=hold_expires_at,
        created_at=created_at or T0 - timedelta(days=1),
    )
