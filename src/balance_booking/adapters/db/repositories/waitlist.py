"""Waitlist entries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, insert, select

from balance_booking.adapters.db import tables as t
from balance_booking.application.ports import (
    WaitlistEntry,
)


def waitlist_entry(row: Row[Any]) -> WaitlistEntry:
    return WaitlistEntry(
        entry_id=row.id,
        service_slug=row.service_slug,
        name=row.name,
        email=row.email,
        phone=row.phone,
        timezone=row.timezone,
        preferred_from=row.preferred_from,
        preferred_to=row.preferred_to,
        comment=row.comment,
        created_at=row.created_at,
    )


class SqlWaitlist:
    """Waitlist entries, newest last."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, entry: WaitlistEntry) -> None:
        self._connection.execute(
            insert(t.waitlist_entries).values(
                id=entry.entry_id,
                service_slug=entry.service_slug,
                name=entry.name,
                email=entry.email,
                phone=entry.phone,
                timezone=entry.timezone,
                preferred_from=entry.preferred_from,
                preferred_to=entry.preferred_to,
                comment=entry.comment,
                created_at=entry.created_at,
            )
        )

    def list(self) -> list[WaitlistEntry]:
        c = t.waitlist_entries.c
        rows = self._connection.execute(select(t.waitlist_entries).order_by(c.created_at))
        return [waitlist_entry(row) for row in rows]
