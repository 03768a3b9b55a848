"""Where a client's personal data lives, for data requests and retention; the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.repositories.waitlist import waitlist_entry
from balance_booking.application.ports import AuditEntry, ConsentRecord, WaitlistEntry
from balance_booking.domain.appointments import ERASED_NAME

_LAST_RUN_KEY = "privacy.retention_last_run"


class SqlClientData:
    """Appointments, waitlist entries and consents of one client; erasure across the tables."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def appointment_ids(self, email: str) -> list[UUID]:
        c = t.appointments.c
        rows = self._connection.execute(
            select(c.id)
            .where(func.lower(c.client_email) == email.strip().lower())
            .order_by(c.start_at, c.id)
        )
        return [row.id for row in rows]

    def waitlist(self, email: str) -> list[WaitlistEntry]:
        c = t.waitlist_entries.c
        rows = self._connection.execute(
            select(t.waitlist_entries)
            .where(func.lower(c.email) == email.strip().lower())
            .order_by(c.created_at, c.id)
        )
        return [waitlist_entry(row) for row in rows]

    def consents(
        self, *, appointment_ids: Sequence[UUID], waitlist_entry_ids: Sequence[UUID]
    ) -> list[ConsentRecord]:
        if not appointment_ids and not waitlist_entry_ids:
            return []
        c = t.consents.c
        rows = self._connection.execute(
            select(t.consents)
            .where(
                or_(
                    c.appointment_id.in_(list(appointment_ids)),
                    c.waitlist_entry_id.in_(list(waitlist_entry_ids)),
                )
            )
            .order_by(c.given_at, c.id)
        )
        return [
            ConsentRecord(
                consent_id=row.id,
                policy_url=row.policy_url,
                given_at=row.given_at,
                appointment_id=row.appointment_id,
                waitlist_entry_id=row.waitlist_entry_id,
            )
            for row in rows
        ]

    def add_consent(self, record: ConsentRecord) -> None:
        self._connection.execute(
            insert(t.consents).values(
                id=record.consent_id,
                appointment_id=record.appointment_id,
                waitlist_entry_id=record.waitlist_entry_id,
                policy_url=record.policy_url,
                given_at=record.given_at,
            )
        )

    def erase_appointments(self, appointment_ids: Sequence[UUID], *, now: datetime) -> int:
        ids = list(appointment_ids)
        if not ids:
            return 0
        c = t.appointments.c
        erased = self._connection.execute(
            update(t.appointments)
            .where(c.id.in_(ids))
            .values(
                client_name=ERASED_NAME,
                client_email=None,
                client_phone=None,
                comment=None,
                # A client-chosen header value: it could say anything.
                idempotency_key=None,
                erased_at=func.coalesce(c.erased_at, now),
                erase_requested_at=None,
            )
        ).rowcount
        self._connection.execute(
            delete(t.idempotency_keys).where(t.idempotency_keys.c.appointment_id.in_(ids))
        )
        # A mail server's refusal can quote the address it refused.
        self._connection.execute(
            update(t.outbox).where(t.outbox.c.appointment_id.in_(ids)).values(last_error=None)
        )
        return int(erased)

    def request_erasure(self, appointment_ids: Sequence[UUID], *, now: datetime) -> None:
        ids = list(appointment_ids)
        if ids:
            c = t.appointments.c
            self._connection.execute(
                update(t.appointments).where(c.id.in_(ids)).values(erase_requested_at=now)
            )

    def erasure_requested(self, appointment_id: UUID) -> bool:
        c = t.appointments.c
        requested = self._connection.execute(
            select(c.erase_requested_at).where(c.id == appointment_id)
        ).scalar_one_or_none()
        return requested is not None

    def erasures_due(self, *, requested_before: datetime, limit: int) -> list[UUID]:
        c = t.appointments.c
        rows = self._connection.execute(
            select(c.id)
            .where(c.erase_requested_at.is_not(None), c.erase_requested_at < requested_before)
            .order_by(c.erase_requested_at)
            .limit(limit)
        )
        return [row.id for row in rows]

    def ended_unerased(self, *, ended_before: datetime, limit: int) -> list[UUID]:
        c = t.appointments.c
        rows = self._connection.execute(
            select(c.id)
            .where(c.end_at < ended_before, c.erased_at.is_(None))
            .order_by(c.end_at)
            .limit(limit)
        )
        return [row.id for row in rows]

    def delete_waitlist(self, entry_ids: Sequence[UUID]) -> int:
        ids = list(entry_ids)
        if not ids:
            return 0
        self._connection.execute(
            update(t.outbox).where(t.outbox.c.waitlist_entry_id.in_(ids)).values(last_error=None)
        )
        deleted = self._connection.execute(
            delete(t.waitlist_entries).where(t.waitlist_entries.c.id.in_(ids))
        ).rowcount
        return int(deleted)

    def waitlist_created_before(self, before: datetime, *, limit: int) -> list[UUID]:
        c = t.waitlist_entries.c
        rows = self._connection.execute(
            select(c.id).where(c.created_at < before).order_by(c.created_at).limit(limit)
        )
        return [row.id for row in rows]

    def prune_tracking(self, *, before: datetime) -> int:
        deleted = self._connection.execute(
            delete(t.tracking_events).where(t.tracking_events.c.occurred_at < before)
        ).rowcount
        return int(deleted)

    def last_retention_run(self) -> datetime | None:
        value = self._connection.execute(
            select(t.practice_settings.c.value).where(t.practice_settings.c.key == _LAST_RUN_KEY)
        ).scalar_one_or_none()
        return None if value is None else datetime.fromisoformat(value)

    def record_retention_run(self, at: datetime) -> None:
        settings = t.practice_settings
        self._connection.execute(delete(settings).where(settings.c.key == _LAST_RUN_KEY))
        self._connection.execute(insert(settings).values(key=_LAST_RUN_KEY, value=at.isoformat()))


class SqlAuditLog:
    """The admin audit log."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, entry: AuditEntry) -> None:
        self._connection.execute(
            insert(t.audit_log).values(
                at=entry.at,
                actor=entry.actor[:200],
                action=entry.action[:100],
                target=None if entry.target is None else entry.target[:500],
                ip=None if entry.ip is None else entry.ip[:64],
            )
        )

    def between(
        self, start: datetime, end: datetime, *, before_id: int | None, limit: int
    ) -> list[AuditEntry]:
        c = t.audit_log.c
        query = select(t.audit_log).where(c.at >= start, c.at < end)
        if before_id is not None:
            query = query.where(c.id < before_id)
        rows = self._connection.execute(query.order_by(c.id.desc()).limit(limit))
        return [
            AuditEntry(
                at=row.at,
                actor=row.actor,
                action=row.action,
                target=row.target,
                ip=row.ip,
                entry_id=row.id,
            )
            for row in rows
        ]
