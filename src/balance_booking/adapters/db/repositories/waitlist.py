"""Waitlist entries and the offers that hold a freed slot for one of them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.changes import ChangeTracker
from balance_booking.application.ports import WaitlistEntry
from balance_booking.domain.offers import EntryStatus, Offer, OfferStatus


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
        status=EntryStatus(row.status),
        notified_at=row.notified_at,
        language=row.language,
    )


class SqlWaitlist:
    """Waitlist entries, oldest first."""

    def __init__(self, connection: Connection, changes: ChangeTracker) -> None:
        self._connection = connection
        self._changes = changes

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
                status=entry.status.value,
                notified_at=entry.notified_at,
                language=entry.language,
            )
        )

    def get(self, entry_id: UUID) -> WaitlistEntry | None:
        row = self._connection.execute(
            select(t.waitlist_entries).where(t.waitlist_entries.c.id == entry_id)
        ).one_or_none()
        return None if row is None else waitlist_entry(row)

    def waiting(self, *, limit: int) -> list[WaitlistEntry]:
        c = t.waitlist_entries.c
        rows = self._connection.execute(
            select(t.waitlist_entries)
            .where(
                c.status == EntryStatus.WAITING.value,
                c.preferred_from.is_not(None),
                c.preferred_to.is_not(None),
            )
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        return [waitlist_entry(row) for row in rows]

    def to_notify(self, *, limit: int) -> list[WaitlistEntry]:
        c = t.waitlist_entries.c
        rows = self._connection.execute(
            select(t.waitlist_entries)
            .where(
                c.status == EntryStatus.WAITING.value,
                c.preferred_from.is_(None),
                c.notified_at.is_(None),
            )
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        return [waitlist_entry(row) for row in rows]

    def open_for(self, service_slug: str, email: str) -> list[WaitlistEntry]:
        c = t.waitlist_entries.c
        rows = self._connection.execute(
            select(t.waitlist_entries)
            .where(
                c.service_slug == service_slug,
                func.lower(c.email) == email.lower(),
                c.status.in_([EntryStatus.WAITING.value, EntryStatus.OFFERED.value]),
            )
            .order_by(c.created_at, c.id)
        )
        return [waitlist_entry(row) for row in rows]

    def set_status(self, entry_id: UUID, status: EntryStatus) -> None:
        self._connection.execute(
            update(t.waitlist_entries)
            .where(t.waitlist_entries.c.id == entry_id)
            .values(status=status.value)
        )

    def mark_notified(self, entry_id: UUID, *, at: datetime) -> None:
        self._connection.execute(
            update(t.waitlist_entries)
            .where(t.waitlist_entries.c.id == entry_id)
            .values(notified_at=at)
        )

    def delete(self, entry_id: UUID) -> bool:
        # Its offers go with it, and an open one's hold with them: availability changes.
        self._connection.execute(
            delete(t.waitlist_offers).where(t.waitlist_offers.c.entry_id == entry_id)
        )
        self._changes.mark()
        deleted = self._connection.execute(
            delete(t.waitlist_entries).where(t.waitlist_entries.c.id == entry_id)
        ).rowcount
        return bool(deleted)

    # Last in the class: the method's name would shadow the builtin in annotations below it.
    def list(self) -> list[WaitlistEntry]:
        c = t.waitlist_entries.c
        rows = self._connection.execute(select(t.waitlist_entries).order_by(c.created_at, c.id))
        return [waitlist_entry(row) for row in rows]


def _offer(row: Row[Any]) -> Offer:
    return Offer(
        id=row.id,
        entry_id=row.entry_id,
        service_slug=row.service_slug,
        start=row.start_at,
        end=row.end_at,
        buffer_before=timedelta(minutes=row.buffer_before_minutes),
        buffer_after=timedelta(minutes=row.buffer_after_minutes),
        status=OfferStatus(row.status),
        expires_at=row.expires_at,
        created_at=row.created_at,
        decided_at=row.decided_at,
        appointment_id=row.appointment_id,
    )


def _minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


class SqlOffers:
    """Waitlist offers; an open one holds its buffered interval (availability changes)."""

    def __init__(self, connection: Connection, changes: ChangeTracker) -> None:
        self._connection = connection
        self._changes = changes

    def add(self, offer: Offer, *, token_hash: str) -> None:
        blocked = offer.blocked
        self._connection.execute(
            insert(t.waitlist_offers).values(
                id=offer.id,
                entry_id=offer.entry_id,
                service_slug=offer.service_slug,
                start_at=offer.start,
                end_at=offer.end,
                buffer_before_minutes=_minutes(offer.buffer_before),
                buffer_after_minutes=_minutes(offer.buffer_after),
                blocked_start_at=blocked.start,
                blocked_end_at=blocked.end,
                token_hash=token_hash,
                status=offer.status.value,
                expires_at=offer.expires_at,
                created_at=offer.created_at,
                decided_at=offer.decided_at,
                appointment_id=offer.appointment_id,
            )
        )
        self._changes.mark()

    def get(self, offer_id: UUID) -> Offer | None:
        row = self._connection.execute(
            select(t.waitlist_offers).where(t.waitlist_offers.c.id == offer_id)
        ).one_or_none()
        return None if row is None else _offer(row)

    def get_for_update(self, offer_id: UUID) -> Offer | None:
        query = select(t.waitlist_offers).where(t.waitlist_offers.c.id == offer_id)
        if self._connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._connection.execute(query).one_or_none()
        return None if row is None else _offer(row)

    def token_hash(self, offer_id: UUID) -> str | None:
        value: str | None = self._connection.execute(
            select(t.waitlist_offers.c.token_hash).where(t.waitlist_offers.c.id == offer_id)
        ).scalar_one_or_none()
        return value

    def save(self, offer: Offer) -> None:
        self._connection.execute(
            update(t.waitlist_offers)
            .where(t.waitlist_offers.c.id == offer.id)
            .values(
                status=offer.status.value,
                decided_at=offer.decided_at,
                appointment_id=offer.appointment_id,
            )
        )
        self._changes.mark()

    def run_out(self, now: datetime, *, limit: int) -> list[Offer]:
        c = t.waitlist_offers.c
        rows = self._connection.execute(
            select(t.waitlist_offers)
            .where(c.status == OfferStatus.OPEN.value, c.expires_at <= now)
            .order_by(c.expires_at)
            .limit(limit)
        )
        return [_offer(row) for row in rows]

    def of_entry(self, entry_id: UUID) -> list[Offer]:
        c = t.waitlist_offers.c
        rows = self._connection.execute(
            select(t.waitlist_offers).where(c.entry_id == entry_id).order_by(c.created_at, c.id)
        )
        return [_offer(row) for row in rows]

    def open_of_entries(self) -> dict[UUID, Offer]:
        c = t.waitlist_offers.c
        rows = self._connection.execute(
            select(t.waitlist_offers).where(c.status == OfferStatus.OPEN.value)
        )
        return {row.entry_id: _offer(row) for row in rows}
