"""FakeOutbox: the outbox port in memory, with the semantics of the SQL one.

Claims are oldest first, leased, limited to the kinds asked for; a row waits while an older due
row of its kind and appointment is pending; a dedup_key is taken once, for ever. Writes take effect
at once (the unit of work that holds it decides what a rollback means).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from balance_booking.application.ports import (
    NewMessage,
    OutboxHealth,
    OutboxMessage,
    ParkedMessage,
    Payload,
)


@dataclass(frozen=True, slots=True)
class FakeOutboxRow:
    """One stored message, every column of the table."""

    message_id: int
    kind: str
    topic: str
    payload: Payload | None
    appointment_id: UUID | None
    waitlist_entry_id: UUID | None
    dedup_key: str | None
    status: str  # pending | done | parked
    attempts: int
    not_before: datetime
    next_attempt_at: datetime
    first_failed_at: datetime | None
    locked_until: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    def message(self) -> OutboxMessage:
        return OutboxMessage(
            message_id=self.message_id,
            kind=self.kind,
            topic=self.topic,
            attempts=self.attempts,
            appointment_id=self.appointment_id,
            waitlist_entry_id=self.waitlist_entry_id,
            payload=self.payload,
            first_failed_at=self.first_failed_at,
            due_at=self.not_before,
        )


class FakeOutbox:
    """An in-memory OutboxRepository: standalone, or over a fake unit of work's working copy
    (`rows` is that copy's table, `new_id` its id sequence, `touch` marks the copy written)."""

    def __init__(
        self,
        rows: dict[int, FakeOutboxRow] | None = None,
        *,
        new_id: Callable[[], int] | None = None,
        touch: Callable[[], object] | None = None,
    ) -> None:
        self.rows = {} if rows is None else rows
        self._counter = 0
        self._new_id = new_id or self._next
        self._touch = touch or (lambda: None)

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def append(self, messages: Sequence[NewMessage], *, now: datetime) -> int:
        added = 0
        for message in messages:
            taken = {row.dedup_key for row in self.rows.values()} - {None}
            if message.dedup_key is not None and message.dedup_key in taken:
                continue
            due = message.not_before or now
            self._touch()
            message_id = self._new_id()
            self.rows[message_id] = FakeOutboxRow(
                message_id=message_id,
                kind=str(message.kind),
                topic=message.topic,
                payload=dict(message.payload),
                appointment_id=message.appointment_id,
                waitlist_entry_id=message.waitlist_entry_id,
                dedup_key=message.dedup_key,
                status="pending",
                attempts=0,
                not_before=due,
                next_attempt_at=due,
                first_failed_at=None,
                locked_until=None,
                last_error=None,
                created_at=now,
                updated_at=now,
            )
            added += 1
        return added

    def claim_due(
        self, *, kinds: Collection[str], now: datetime, limit: int, lease: timedelta
    ) -> list[OutboxMessage]:
        claimed: list[OutboxMessage] = []
        for row in sorted(self.rows.values(), key=lambda r: r.message_id):
            if len(claimed) == limit:
                break
            if (
                row.status != "pending"
                or row.kind not in kinds
                or row.not_before > now
                or row.next_attempt_at > now
                or (row.locked_until is not None and row.locked_until > now)
                or self._waits(row, now=now)
            ):
                continue
            self._touch()
            self.rows[row.message_id] = replace(row, locked_until=now + lease, updated_at=now)
            claimed.append(row.message())
        return claimed

    def _waits(self, row: FakeOutboxRow, *, now: datetime) -> bool:
        if row.appointment_id is None:
            return False
        return any(
            earlier.message_id < row.message_id
            and earlier.kind == row.kind
            and earlier.appointment_id == row.appointment_id
            and earlier.status == "pending"
            and earlier.not_before <= now
            and earlier.not_before <= row.not_before
            for earlier in self.rows.values()
        )

    def release(self, message_ids: list[int], *, now: datetime) -> None:
        for message_id in message_ids:
            self._update(message_id, now=now, locked_until=None)

    def mark_done(self, message_id: int, *, now: datetime) -> None:
        self._update(message_id, now=now, status="done", locked_until=None)

    def retry_later(self, message_id: int, *, at: datetime, error: str, now: datetime) -> None:
        row = self.rows[message_id]
        self._update(
            message_id,
            now=now,
            next_attempt_at=at,
            locked_until=None,
            last_error=error[:1000],
            attempts=row.attempts + 1,
            first_failed_at=row.first_failed_at or now,
        )

    def park(self, message_id: int, *, error: str, now: datetime) -> None:
        row = self.rows[message_id]
        self._update(
            message_id,
            now=now,
            status="parked",
            locked_until=None,
            last_error=error[:1000],
            attempts=row.attempts + 1,
        )

    def requeue(self, message_id: int, *, now: datetime) -> bool:
        row = self.rows.get(message_id)
        if row is None or row.status != "parked":
            return False
        self._update(
            message_id,
            now=now,
            status="pending",
            not_before=now,
            next_attempt_at=now,
            locked_until=None,
            first_failed_at=None,
        )
        return True

    def discard(self, *, appointment_id: UUID, kind: str, topic: str) -> int:
        gone = [
            row.message_id
            for row in self.rows.values()
            if (row.appointment_id, row.kind, row.topic, row.status, row.locked_until)
            == (appointment_id, kind, topic, "pending", None)
        ]
        if gone:
            self._touch()
        for message_id in gone:
            del self.rows[message_id]
        return len(gone)

    def backlog(self) -> int:
        return sum(row.status == "pending" for row in self.rows.values())

    def parked(self) -> list[ParkedMessage]:
        return [
            ParkedMessage(message=row.message(), reason=row.last_error, parked_at=row.updated_at)
            for row in sorted(self.rows.values(), key=lambda r: r.message_id)
            if row.status == "parked"
        ]

    def health(self, kind: str) -> OutboxHealth:
        rows = [row for row in self.rows.values() if row.kind == kind]
        failing = sorted(
            (r for r in rows if r.status == "pending" and r.first_failed_at is not None),
            key=lambda r: (r.first_failed_at, r.message_id),
        )
        return OutboxHealth(
            pending=sum(r.status == "pending" for r in rows),
            parked=sum(r.status == "parked" for r in rows),
            failing_since=failing[0].first_failed_at if failing else None,
            last_error=failing[0].last_error if failing else None,
        )

    def rewrite(self, message_id: int, *, payload: Payload, now: datetime) -> None:
        """Change a row's payload, as an older version of the product may have written it."""
        self._update(message_id, now=now, payload=payload)

    def corrupt(self, message_id: int) -> None:
        """Make a row's payload unreadable, as a damaged or foreign row would be."""
        self.rows[message_id] = replace(self.rows[message_id], payload=None)

    def _update(self, message_id: int, *, now: datetime, **changes: object) -> None:
        self._touch()
        self.rows[message_id] = replace(self.rows[message_id], updated_at=now, **changes)  # type: ignore[arg-type]
