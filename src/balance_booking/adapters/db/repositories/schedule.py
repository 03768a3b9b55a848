"""Session types and the owner's weekly hours with date overrides and vacations."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.changes import ChangeTracker
from balance_booking.domain.availability import Availability, LocalWindow, Vacation
from balance_booking.domain.services import Price, Service, ServiceFormat

_TIMEZONE_KEY = "owner_timezone"


def _minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


def _service_values(service: Service) -> dict[str, Any]:
    return {
        "title": service.title,
        "title_en": service.title_en,
        "duration_minutes": _minutes(service.duration),
        "buffer_before_minutes": _minutes(service.buffer_before),
        "buffer_after_minutes": _minutes(service.buffer_after),
        "slot_step_minutes": None if service.slot_step is None else _minutes(service.slot_step),
        "min_notice_minutes": _minutes(service.min_notice),
        "max_days_ahead": service.max_days_ahead,
        "daily_limit": service.daily_limit,
        "requires_payment": service.requires_payment,
        "active": service.active,
        "change_cutoff_minutes": _minutes(service.change_cutoff),
        "description": service.description,
        "description_en": service.description_en,
        "price_minor": None if service.price is None else service.price.minor_units,
        "price_currency": None if service.price is None else service.price.currency,
        "format": service.format.value,
        "location": service.location,
    }


def _service_from_row(row: Row[Any]) -> Service:
    step = row.slot_step_minutes
    return Service(
        slug=row.slug,
        title=row.title,
        title_en=row.title_en,
        duration=timedelta(minutes=row.duration_minutes),
        buffer_before=timedelta(minutes=row.buffer_before_minutes),
        buffer_after=timedelta(minutes=row.buffer_after_minutes),
        slot_step=None if step is None else timedelta(minutes=step),
        min_notice=timedelta(minutes=row.min_notice_minutes),
        max_days_ahead=row.max_days_ahead,
        daily_limit=row.daily_limit,
        requires_payment=row.requires_payment,
        active=row.active,
        change_cutoff=timedelta(minutes=row.change_cutoff_minutes),
        description=row.description,
        description_en=row.description_en,
        price=None
        if row.price_minor is None or row.price_currency is None
        else Price.from_minor_units(row.price_minor, row.price_currency),
        format=ServiceFormat(row.format),
        location=row.location,
    )


class SqlServices:
    """Services in the `services` table, listed in creation order."""

    def __init__(self, connection: Connection, changes: ChangeTracker) -> None:
        self._connection = connection
        self._changes = changes

    def list(self, *, active_only: bool) -> list[Service]:
        query = select(t.services).order_by(t.services.c.position, t.services.c.slug)
        if active_only:
            query = query.where(t.services.c.active.is_(True))
        return [_service_from_row(row) for row in self._connection.execute(query)]

    def get(self, slug: str) -> Service | None:
        row = self._connection.execute(select(t.services).where(t.services.c.slug == slug)).first()
        return None if row is None else _service_from_row(row)

    def add(self, service: Service) -> None:
        self._changes.mark()
        position = self._connection.execute(
            select(func.coalesce(func.max(t.services.c.position), 0) + 1)
        ).scalar_one()
        self._connection.execute(
            insert(t.services).values(
                slug=service.slug, position=position, **_service_values(service)
            )
        )

    def update(self, service: Service) -> None:
        self._changes.mark()
        self._connection.execute(
            update(t.services)
            .where(t.services.c.slug == service.slug)
            .values(**_service_values(service))
        )

    def delete(self, slug: str) -> bool:
        """Delete unless appointments refer to it; False means it is still referenced."""
        referenced = self._connection.execute(
            select(t.appointments.c.id).where(t.appointments.c.service_slug == slug).limit(1)
        ).first()
        if referenced is not None:
            return False
        self._connection.execute(delete(t.services).where(t.services.c.slug == slug))
        self._changes.mark()
        return True


class SqlSchedule:
    """Weekly rules, overrides and vacations; the owner's zone lives in `practice_settings`."""

    def __init__(self, connection: Connection, changes: ChangeTracker) -> None:
        self._connection = connection
        self._changes = changes

    def get(self) -> Availability | None:
        zone = self._connection.execute(
            select(t.practice_settings.c.value).where(t.practice_settings.c.key == _TIMEZONE_KEY)
        ).scalar_one_or_none()
        if zone is None:
            return None
        weekly: defaultdict[int, list[LocalWindow]] = defaultdict(list)
        rules = select(t.availability_rules).order_by(
            t.availability_rules.c.weekday, t.availability_rules.c.start_minute
        )
        for row in self._connection.execute(rules):
            weekly[row.weekday].append(LocalWindow(row.start_minute, row.end_minute))
        overrides: defaultdict[date, list[LocalWindow]] = defaultdict(list)
        rows = select(t.availability_overrides).order_by(
            t.availability_overrides.c.on_date, t.availability_overrides.c.start_minute
        )
        for row in self._connection.execute(rows):
            windows = overrides[row.on_date]
            if row.start_minute is not None:
                windows.append(LocalWindow(row.start_minute, row.end_minute))
        vacations = select(t.availability_vacations).order_by(
            t.availability_vacations.c.first_date, t.availability_vacations.c.last_date
        )
        return Availability(
            timezone=zone,
            weekly={day: tuple(windows) for day, windows in weekly.items()},
            overrides={day: tuple(windows) for day, windows in overrides.items()},
            vacations=tuple(
                Vacation(row.first_date, row.last_date)
                for row in self._connection.execute(vacations)
            ),
        )

    def save(self, availability: Availability) -> None:
        self._changes.mark()
        connection = self._connection
        connection.execute(
            delete(t.practice_settings).where(t.practice_settings.c.key == _TIMEZONE_KEY)
        )
        connection.execute(
            insert(t.practice_settings).values(key=_TIMEZONE_KEY, value=availability.timezone)
        )
        connection.execute(delete(t.availability_rules))
        connection.execute(delete(t.availability_overrides))
        rules = [
            {"weekday": day, "start_minute": w.start_minute, "end_minute": w.end_minute}
            for day, windows in availability.weekly.items()
            for w in windows
        ]
        if rules:
            connection.execute(insert(t.availability_rules), rules)
        overrides: list[dict[str, Any]] = []
        for day, windows in availability.overrides.items():
            if not windows:
                overrides.append({"on_date": day, "start_minute": None, "end_minute": None})
            overrides.extend(
                {"on_date": day, "start_minute": w.start_minute, "end_minute": w.end_minute}
                for w in windows
            )
        if overrides:
            connection.execute(insert(t.availability_overrides), overrides)
        connection.execute(delete(t.availability_vacations))
        if availability.vacations:
            connection.execute(
                insert(t.availability_vacations),
                [{"first_date": v.first, "last_date": v.last} for v in availability.vacations],
            )
