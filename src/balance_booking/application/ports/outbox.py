"""Ports of the transactional outbox: messages of every kind, delivered after commit."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID


class OutboxKind(StrEnum):
    """Who delivers an outbox message: each kind has one handler (application/handlers.py)."""

    GOOGLE_CALENDAR = "google_calendar"
    EMAIL = "email"


# A message's payload: flat JSON, written and read by the application (application/messages.py).
JsonScalar = str | int | float | bool | None
Payload = Mapping[str, JsonScalar]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMessage:
    """A message to queue, in the same transaction as the change that calls for it."""

    kind: str  # an OutboxKind value
    topic: str  # what the message is about, e.g. the domain event's name: "AppointmentConfirmed"
    payload: Payload
    appointment_id: UUID | None = None
    waitlist_entry_id: UUID | None = None
    # At most one message per key, ever (e.g. one reminder per appointment); None: no limit.
    dedup_key: str | None = None
    not_before: datetime | None = None  # not delivered before then (reminders); None: at once


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxMessage:
    """One queued message as the dispatcher claims it.

    `kind` is a plain str rather than an OutboxKind so that the dispatcher stays generic and a row
    of a kind this version does not know (written by a newer one) can still be listed.
    """

    message_id: int
    kind: str
    topic: str
    attempts: int
    appointment_id: UUID | None = None
    waitlist_entry_id: UUID | None = None
    payload: Payload | None = None  # None if the stored payload cannot be read
    first_failed_at: datetime | None = None  # the first transient failure since (re)queued
    due_at: datetime | None = None  # when it was due first (its not_before)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkedMessage:
    """A message given up on, for the admin: what it was, why, and since when."""

    message: OutboxMessage
    reason: str | None
    parked_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxHealth:
    """How one kind of message is faring, for the admin: failing since when, and why."""

    pending: int  # due or not (reminders wait for their time)
    parked: int
    failing_since: datetime | None  # the oldest first failure among pending rows failing now
    last_error: str | None  # the error of the row failing longest


class OutboxRepository(Protocol):
    """Messages to deliver after commit; claimed with a lease so each is handled by one worker."""

    def append(self, messages: Sequence[NewMessage], *, now: datetime) -> int:
        """Queue `messages`; one whose dedup_key is already in the outbox is dropped.

        Returns how many were queued.
        """
        ...

    def claim_due(
        self, *, kinds: Collection[str], now: datetime, limit: int, lease: timedelta
    ) -> list[OutboxMessage]:
        """Lease up to `limit` due rows of `kinds`, oldest first.

        A row waits while an older row of the same kind and the same appointment is pending,
        due, and was due no later than itself, so an appointment's Google writes (and a client's
        e-mails) happen in order; other kinds never wait for it.
        """
        ...

    def release(self, message_ids: list[int], *, now: datetime) -> None:
        """Hand claimed rows back untried (no attempt counted), due again at once."""
        ...

    def mark_done(self, message_id: int, *, now: datetime) -> None: ...
    def retry_later(self, message_id: int, *, at: datetime, error: str, now: datetime) -> None:
        """Count a failed attempt and make the row due again at `at`."""
        ...

    def park(self, message_id: int, *, error: str, now: datetime) -> None: ...
    def requeue(self, message_id: int, *, now: datetime) -> bool:
        """A parked row is pending and due again (the admin retries it); False if not parked."""
        ...

    def discard(self, *, appointment_id: UUID, kind: str, topic: str) -> int:
        """Delete the pending rows of `kind` and `topic` of one appointment (e.g. its reminders
        once it is cancelled); returns how many. Rows done, parked or leased stay."""
        ...

    def backlog(self) -> int:
        """Pending rows, of every kind."""
        ...

    def parked(self) -> list[ParkedMessage]: ...
    def health(self, kind: str) -> OutboxHealth: ...
