"""The transactional outbox: one table for every kind of message (DESIGN.md sections 6 and 13)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, delete, func, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from balance_booking.adapters.db import tables as t
from balance_booking.application.ports import (
    NewMessage,
    OutboxHealth,
    OutboxMessage,
    ParkedMessage,
    Payload,
)

_PENDING = "pending"
_DONE = "done"
_PARKED = "parked"


def _message(row: Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        message_id=row.id,
        kind=row.kind,
        topic=row.topic,
        attempts=row.attempts,
        appointment_id=row.appointment_id,
        waitlist_entry_id=row.waitlist_entry_id,
        payload=_payload(row.payload),
        first_failed_at=row.first_failed_at,
        due_at=row.not_before,
    )


def _payload(text: str) -> Payload | None:
    """The stored JSON object; None when it is not one (the dispatcher parks such a row)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class SqlOutbox:
    """Outbox rows: appended in the change's transaction, claimed with a lease by the worker."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def append(self, messages: Sequence[NewMessage], *, now: datetime) -> int:
        if not messages:
            return 0
        rows = [
            {
                "kind": str(message.kind),
                "topic": message.topic,
                "appointment_id": message.appointment_id,
                "waitlist_entry_id": message.waitlist_entry_id,
                "dedup_key": message.dedup_key,
                "payload": json.dumps(dict(message.payload), ensure_ascii=False),
                "status": _PENDING,
                "attempts": 0,
                "not_before": message.not_before or now,
                "next_attempt_at": message.not_before or now,
                "created_at": now,
                "updated_at": now,
            }
            for message in messages
        ]
        # One statement for all: "at most one per key" drops a row whose dedup_key is taken
        # (rows without a key never conflict). RETURNING rather than rowcount, which psycopg
        # reports as -1 here.
        # Executemany with RETURNING: SQLAlchemy batches it into one statement ("insertmanyvalues")
        # whose compiled form is cached, unlike a literal multi-row VALUES.
        query = (
            self._insert()
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(t.outbox.c.id)
        )
        return len(self._connection.execute(query, rows).all())

    def _insert(self) -> postgresql.Insert | sqlite.Insert:
        """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
        if self._connection.dialect.name == "postgresql":
            return postgresql.insert(t.outbox)
        return sqlite.insert(t.outbox)

    def claim_due(
        self, *, kinds: Collection[str], now: datetime, limit: int, lease: timedelta
    ) -> list[OutboxMessage]:
        if not kinds:
            return []
        c = t.outbox.c
        earlier = t.outbox.alias("earlier")
        # A Google cancel must not overtake the create of the same appointment (in this worker or
        # another): a row waits while an older due row of its kind and appointment is pending and
        # was due no later than itself (so a reminder, due later, holds up no notice written
        # before its time). Other kinds never wait for it; a row with no appointment waits for
        # nothing.
        waits = (
            select(earlier.c.id)
            .where(
                earlier.c.kind == c.kind,
                earlier.c.appointment_id == c.appointment_id,
                earlier.c.status == _PENDING,
                earlier.c.not_before <= now,
                earlier.c.not_before <= c.not_before,
                earlier.c.id < c.id,
            )
            .exists()
        )
        query = (
            select(t.outbox)
            .where(
                c.status == _PENDING,
                c.kind.in_(sorted(kinds)),
                c.not_before <= now,
                c.next_attempt_at <= now,
                or_(c.locked_until.is_(None), c.locked_until <= now),
                not_(waits),
            )
            .order_by(c.id)
            .limit(limit)
        )
        if self._connection.dialect.name == "postgresql":
            # Several workers: each claims different rows without waiting for the others.
            query = query.with_for_update(skip_locked=True)
        rows = list(self._connection.execute(query))
        if rows:
            self._connection.execute(
                update(t.outbox)
                .where(c.id.in_([row.id for row in rows]))
                .values(locked_until=now + lease, updated_at=now)
            )
        return [_message(row) for row in rows]

    def release(self, message_ids: list[int], *, now: datetime) -> None:
        if message_ids:
            self._connection.execute(
                update(t.outbox)
                .where(t.outbox.c.id.in_(message_ids))
                .values(locked_until=None, updated_at=now)
            )

    def mark_done(self, message_id: int, *, now: datetime) -> None:
        self._set(message_id, now=now, status=_DONE, locked_until=None)

    def retry_later(self, message_id: int, *, at: datetime, error: str, now: datetime) -> None:
        c = t.outbox.c
        self._set(
            message_id,
            now=now,
            next_attempt_at=at,
            locked_until=None,
            last_error=error[:1000],
            attempts=c.attempts + 1,
            first_failed_at=func.coalesce(c.first_failed_at, now),
        )

    def park(self, message_id: int, *, error: str, now: datetime) -> None:
        self._set(
            message_id,
            now=now,
            status=_PARKED,
            locked_until=None,
            last_error=error[:1000],
            attempts=t.outbox.c.attempts + 1,
        )

    def requeue(self, message_id: int, *, now: datetime) -> bool:
        c = t.outbox.c
        result = self._connection.execute(
            update(t.outbox)
            .where(c.id == message_id, c.status == _PARKED)
            .values(
                status=_PENDING,
                not_before=now,  # the give-up clock starts again
                next_attempt_at=now,
                locked_until=None,
                first_failed_at=None,
                updated_at=now,
            )
        )
        return result.rowcount == 1

    def _set(self, message_id: int, *, now: datetime, **values: Any) -> None:
        self._connection.execute(
            update(t.outbox).where(t.outbox.c.id == message_id).values(updated_at=now, **values)
        )

    def discard(self, *, appointment_id: UUID, kind: str, topic: str) -> int:
        c = t.outbox.c
        result = self._connection.execute(
            delete(t.outbox).where(
                c.appointment_id == appointment_id,
                c.kind == kind,
                c.topic == topic,
                c.status == _PENDING,
                c.locked_until.is_(None),
            )
        )
        return int(result.rowcount)

    def backlog(self) -> int:
        return int(
            self._connection.execute(
                select(func.count()).select_from(t.outbox).where(t.outbox.c.status == _PENDING)
            ).scalar_one()
        )

    def parked(self) -> list[ParkedMessage]:
        c = t.outbox.c
        rows = self._connection.execute(select(t.outbox).where(c.status == _PARKED).order_by(c.id))
        return [
            ParkedMessage(message=_message(row), reason=row.last_error, parked_at=row.updated_at)
            for row in rows
        ]

    def health(self, kind: str) -> OutboxHealth:
        c = t.outbox.c
        counts: dict[str, int] = {
            str(status): int(count)
            for status, count in self._connection.execute(
                select(c.status, func.count())
                .where(c.kind == kind, c.status.in_([_PENDING, _PARKED]))
                .group_by(c.status)
            )
        }
        failing = self._connection.execute(
            select(c.first_failed_at, c.last_error)
            .where(c.kind == kind, c.status == _PENDING, c.first_failed_at.is_not(None))
            .order_by(c.first_failed_at, c.id)
            .limit(1)
        ).first()
        return OutboxHealth(
            pending=counts.get(_PENDING, 0),
            parked=counts.get(_PARKED, 0),
            failing_since=None if failing is None else failing.first_failed_at,
            last_error=None if failing is None else failing.last_error,
        )
