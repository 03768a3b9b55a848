"""Repositories: SQL rows in, domain objects out. Nothing here commits."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.changes import ChangeTracker
from balance_booking.application.ports import AdminToken, CalendarLink, IntegrationRecord
from balance_booking.domain.availability import Availability, LocalWindow
from balance_booking.domain.calendar_account import IntegrationStatus
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service

_TIMEZONE_KEY = "owner_timezone"
_CONNECTED_STATUSES = ("connected", "needs_reauth", "error")


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
    """Weekly rules and overrides; the owner's zone lives in `practice_settings`."""

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
        return Availability(
            timezone=zone,
            weekly={day: tuple(windows) for day, windows in weekly.items()},
            overrides={day: tuple(windows) for day, windows in overrides.items()},
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


class SqlBusy:
    """The busy mirror imported from Google Calendar."""

    def __init__(self, connection: Connection, changes: ChangeTracker) -> None:
        self._connection = connection
        self._changes = changes

    def overlapping(self, window: Interval) -> list[Interval]:
        c = t.calendar_busy_intervals.c
        rows = self._connection.execute(
            select(c.start_at, c.end_at)
            .where(c.start_at < window.end, c.end_at > window.start)
            .order_by(c.start_at)
        )
        return [Interval(row.start_at, row.end_at) for row in rows]

    def clear(self) -> None:
        self._changes.mark()
        self._connection.execute(delete(t.calendar_busy_intervals))

    def replace_all(self, intervals: list[Interval], *, source: str) -> bool:
        """Swap the whole mirror in this transaction; True when its content changed."""
        c = t.calendar_busy_intervals.c
        current = [
            (row.start_at, row.end_at)
            for row in self._connection.execute(
                select(c.start_at, c.end_at).order_by(c.start_at, c.end_at)
            )
        ]
        fresh = sorted((i.start, i.end) for i in intervals)
        if current == fresh:
            return False
        self._changes.mark()
        self._connection.execute(delete(t.calendar_busy_intervals))
        if fresh:
            self._connection.execute(
                insert(t.calendar_busy_intervals),
                [{"start_at": s, "end_at": e, "source": source} for s, e in fresh],
            )
        return True


class SqlAdminTokens:
    """Hashed admin API tokens."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, *, name: str, token_hash: str, created_at: datetime) -> AdminToken:
        token_id = self._connection.execute(
            insert(t.admin_api_tokens)
            .values(name=name, token_hash=token_hash, created_at=created_at)
            .returning(t.admin_api_tokens.c.id)
        ).scalar_one()
        return AdminToken(token_id=token_id, name=name, created_at=created_at)

    def find_by_hash(self, token_hash: str) -> AdminToken | None:
        c = t.admin_api_tokens.c
        row = self._connection.execute(
            select(c.id, c.name, c.created_at).where(c.token_hash == token_hash)
        ).first()
        return None if row is None else AdminToken(row.id, row.name, row.created_at)


class SqlIntegration:
    """The single Google Calendar integration row (one owner in release 1)."""

    def __init__(self, connection: Connection, changes: ChangeTracker) -> None:
        self._connection = connection
        self._changes = changes

    def calendar_link(self) -> CalendarLink:
        c = t.integrations_google_calendar.c
        row = self._connection.execute(
            select(c.status, c.last_success_at, c.enabled, c.timezone).where(c.id == _ROW_ID)
        ).first()
        if row is None:
            return CalendarLink(connected=False, last_success_at=None, enabled_override=None)
        return CalendarLink(
            connected=row.status in _CONNECTED_STATUSES,
            last_success_at=row.last_success_at,
            enabled_override=row.enabled,
            timezone=row.timezone,
        )

    def get(self) -> IntegrationRecord:
        return self._read(lock=False)

    def get_for_update(self) -> IntegrationRecord:
        return self._read(lock=True)

    def _read(self, *, lock: bool) -> IntegrationRecord:
        query = select(t.integrations_google_calendar).where(
            t.integrations_google_calendar.c.id == _ROW_ID
        )
        if lock and self._connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        if row is None:
            return IntegrationRecord()
        values = row._asdict()
        scopes = values.pop("granted_scopes") or ""
        kept = {name: values[name] for name in _RECORD_FIELDS if name in values}
        kept["status"] = IntegrationStatus(kept["status"])
        return IntegrationRecord(granted_scopes=frozenset(scopes.split()), **kept)

    def save(self, record: IntegrationRecord, *, now: datetime) -> None:
        # Status, the flag and the last successful sync all change what slots may be offered.
        self._changes.mark()
        values = {name: getattr(record, name) for name in _RECORD_FIELDS}
        values["status"] = record.status.value
        values["granted_scopes"] = " ".join(sorted(record.granted_scopes)) or None
        values["updated_at"] = now
        table = t.integrations_google_calendar
        updated = self._connection.execute(
            update(table).where(table.c.id == _ROW_ID).values(**values)
        )
        if updated.rowcount == 0:
            self._connection.execute(insert(table).values(id=_ROW_ID, **values))

    def busy_count(self) -> int:
        return int(
            self._connection.execute(
                select(func.count()).select_from(t.calendar_busy_intervals)
            ).scalar_one()
        )

    def advance_push_message(self, *, channel_id: str, number: int) -> bool:
        # One conditional UPDATE: concurrent deliveries (threads or processes) cannot both win.
        c = t.integrations_google_calendar.c
        last = func.coalesce(c.push_last_message_number, 0)
        updated = self._connection.execute(
            update(t.integrations_google_calendar)
            .where(c.id == _ROW_ID, c.push_channel_id == channel_id, last < number)
            .values(push_last_message_number=number)
        )
        return updated.rowcount == 1


_ROW_ID = 1
_RECORD_FIELDS = tuple(
    name for name in IntegrationRecord.__dataclass_fields__ if name != "granted_scopes"
)
