"""Privacy ports: consent records, what is stored about one client, erasure, the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from balance_booking.application.ports.booking import WaitlistEntry


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """A client agreed to the privacy policy at `policy_url` when booking or joining the
    waitlist. It names the booking or entry, never the person."""

    consent_id: UUID
    policy_url: str
    given_at: datetime
    appointment_id: UUID | None = None
    waitlist_entry_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One admin action: who (an admin's sign-in e-mail or `token:NAME`), what, on what, from
    where. Never client personal data: targets are ids and slugs."""

    at: datetime
    actor: str
    action: str
    target: str | None
    ip: str | None
    entry_id: int | None = None  # set once stored


class ClientDataRepository(Protocol):
    """Every place a client's personal data lives (appointments, waitlist, consents, the rows that
    refer to them), for data requests and retention."""

    def appointment_ids(self, email: str) -> list[UUID]:
        """Appointments booked with this e-mail address (any case), oldest first."""
        ...

    def waitlist(self, email: str) -> list[WaitlistEntry]: ...
    def consents(
        self, *, appointment_ids: Sequence[UUID], waitlist_entry_ids: Sequence[UUID]
    ) -> list[ConsentRecord]: ...
    def add_consent(self, record: ConsentRecord) -> None: ...

    def erase_appointments(self, appointment_ids: Sequence[UUID], *, now: datetime) -> int:
        """Replace name, e-mail, phone and comment with nothing (the rows stay, anonymous), and
        drop what else mentions them: stored Idempotency-Key answers and outbox error texts."""
        ...

    def request_erasure(self, appointment_ids: Sequence[UUID], *, now: datetime) -> None:
        """Erase these once the messages that still need the address are out."""
        ...

    def erasure_requested(self, appointment_id: UUID) -> bool: ...
    def erasures_due(self, *, requested_before: datetime, limit: int) -> list[UUID]: ...

    def ended_unerased(self, *, ended_before: datetime, limit: int) -> list[UUID]:
        """Appointments that ended before `ended_before` and still hold client fields."""
        ...

    def delete_waitlist(self, entry_ids: Sequence[UUID]) -> int: ...
    def waitlist_created_before(self, before: datetime, *, limit: int) -> list[UUID]: ...
    def prune_tracking(self, *, before: datetime) -> int: ...

    def last_retention_run(self) -> datetime | None:
        """When the retention job last ran anywhere (it runs once a day across workers)."""
        ...

    def record_retention_run(self, at: datetime) -> None: ...


class AuditLog(Protocol):
    """The admin audit log, newest first when listed."""

    def add(self, entry: AuditEntry) -> None: ...
    def between(
        self, start: datetime, end: datetime, *, before_id: int | None, limit: int
    ) -> list[AuditEntry]: ...
