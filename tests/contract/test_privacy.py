"""Contract: one client's data (look-up, consents, erasure, retention queries) and the audit log,
the same on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from balance_booking.application.ports import (
    AuditEntry,
    ConsentRecord,
    NewMessage,
    OutboxKind,
    StoredResponse,
    WaitlistEntry,
)
from balance_booking.domain.appointments import ERASED_NAME, Client
from tests.contract.conftest import Backend
from tests.contract.data import T0, appointment, at, service


@pytest.fixture(autouse=True)
def _service(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.services.add(service())
        uow.commit()


def waitlist_entry(email: str, *, created_hours: float = 0) -> WaitlistEntry:
    return WaitlistEntry(
        entry_id=uuid.uuid4(),
        service_slug="session",
        name="Анна",
        email=email,
        phone=None,
        timezone="Europe/Moscow",
        preferred_from=None,
        preferred_to=None,
        comment="до обеда",
        created_at=at(created_hours),
    )


def test_a_clients_appointments_waitlist_and_consents_by_email_in_any_case(
    backend: Backend,
) -> None:
    mine = [appointment(at(48)), appointment(at(24))]
    theirs = replace(appointment(at(72)), client=Client(name="Б", email="b@example.com"))
    entry = waitlist_entry("Anna@Example.com")
    with backend.uow() as uow:
        for item in (*mine, theirs):
            uow.appointments.add(item, manage_token_hash="h", now=T0)
        uow.waitlist.add(entry)
        uow.waitlist.add(waitlist_entry("b@example.com"))
        for record in (
            ConsentRecord(uuid.uuid4(), "https://p/1", T0, appointment_id=mine[0].id),
            ConsentRecord(uuid.uuid4(), "https://p/1", at(1), waitlist_entry_id=entry.entry_id),
            ConsentRecord(uuid.uuid4(), "https://p/1", T0, appointment_id=theirs.id),
        ):
            uow.client_data.add_consent(record)
        uow.commit()
    with backend.uow() as uow:
        ids = uow.client_data.appointment_ids(" ANNA@example.com ")
        waiting = uow.client_data.waitlist("anna@example.com")
        consents = uow.client_data.consents(
            appointment_ids=ids, waitlist_entry_ids=[e.entry_id for e in waiting]
        )
    assert ids == [mine[1].id, mine[0].id]  # by start
    assert waiting == [entry]
    assert [(c.appointment_id, c.waitlist_entry_id) for c in consents] == [
        (mine[0].id, None),
        (None, entry.entry_id),
    ]


def test_erasing_blanks_the_fields_keeps_the_row_and_forgets_what_points_at_them(
    backend: Backend,
) -> None:
    kept, erased = appointment(at(1)), appointment(at(3))
    with backend.uow() as uow:
        for item in (kept, erased):
            uow.appointments.add(item, manage_token_hash="h", now=T0)
        uow.idempotency.add(
            "key-1", StoredResponse(request_hash="r", appointment_id=erased.id, body="{}"), now=T0
        )
        uow.outbox.append(
            [
                NewMessage(
                    kind=OutboxKind.EMAIL,
                    topic="confirmed",
                    payload={"a": 1},
                    appointment_id=erased.id,
                )
            ],
            now=T0,
        )
        uow.commit()
    with backend.uow() as uow:
        (row,) = uow.outbox.claim_due(
            kinds=[OutboxKind.EMAIL], now=T0, limit=1, lease=timedelta(minutes=1)
        )
        uow.outbox.park(row.message_id, error="550 <anna@example.com> unknown", now=T0)
        uow.client_data.request_erasure([erased.id], now=T0)
        uow.commit()
    with backend.uow() as uow:
        assert uow.client_data.erasure_requested(erased.id)
        assert not uow.client_data.erasure_requested(kept.id)
        assert uow.client_data.erasures_due(requested_before=at(1), limit=10) == [erased.id]
        assert uow.client_data.erase_appointments([erased.id], now=at(5)) == 1
        uow.commit()
    with backend.uow() as uow:
        after = uow.appointments.get(erased.id)
        untouched = uow.appointments.get(kept.id)
        assert uow.idempotency.get("key-1") is None
        assert [p.reason for p in uow.outbox.parked()] == [None]
        assert not uow.client_data.erasure_requested(erased.id)
        assert uow.client_data.appointment_ids("anna@example.com") == [kept.id]
        assert uow.client_data.ended_unerased(ended_before=at(10), limit=10) == [kept.id]
    assert after is not None
    assert untouched is not None
    assert after.client == Client(name=ERASED_NAME, email=None, phone=None)
    assert after.comment is None
    assert (after.start, after.status) == (erased.start, erased.status)
    assert untouched.client == kept.client


def test_retention_finds_old_rows_in_batches_and_prunes_tracking(backend: Backend) -> None:
    items = [appointment(at(h)) for h in (1, 2, 3)]
    entries = [waitlist_entry("x@example.com", created_hours=h) for h in (0, 5)]
    with backend.uow() as uow:
        for item in items:
            uow.appointments.add(item, manage_token_hash="h", now=T0)
        for entry in entries:
            uow.waitlist.add(entry)
        uow.tracking.track("booking_conflict", {"service_slug": "session"}, at=at(0))
        uow.tracking.track("booking_conflict", {"service_slug": "session"}, at=at(9))
        uow.commit()
    with backend.uow() as uow:
        # Ended before 3 h 30 min: the first two (they end 50 minutes after their start).
        assert uow.client_data.ended_unerased(ended_before=at(3.5), limit=1) == [items[0].id]
        assert uow.client_data.ended_unerased(ended_before=at(3.5), limit=9) == [
            items[0].id,
            items[1].id,
        ]
        assert uow.client_data.waitlist_created_before(at(1), limit=9) == [entries[0].entry_id]
        assert uow.client_data.delete_waitlist([entries[0].entry_id]) == 1
        assert uow.client_data.prune_tracking(before=at(5)) == 1
        assert uow.client_data.last_retention_run() is None
        uow.client_data.record_retention_run(at(6))
        uow.client_data.record_retention_run(at(7))
        uow.commit()
    with backend.uow() as uow:
        assert uow.waitlist.list() == [entries[1]]
        assert uow.client_data.last_retention_run() == at(7)


def test_the_audit_log_lists_newest_first_by_time_and_pages_back(backend: Backend) -> None:
    with backend.uow() as uow:
        for hour in range(5):
            uow.audit.add(
                AuditEntry(
                    at=at(hour),
                    actor="a@example.org",
                    action="service.update",
                    target="slug=session",
                    ip="127.0.0.1",
                )
            )
        uow.commit()
    with backend.uow() as uow:
        everything = uow.audit.between(at(-1), at(10), before_id=None, limit=10)
        window = uow.audit.between(at(1), at(3), before_id=None, limit=10)
        page = uow.audit.between(at(-1), at(10), before_id=everything[1].entry_id, limit=2)
    assert [e.at for e in everything] == [at(h) for h in (4, 3, 2, 1, 0)]
    assert [e.at for e in window] == [at(2), at(1)]
    assert [e.at for e in page] == [at(2), at(1)]
    assert everything[0].target == "slug=session"
    assert everything[0].ip == "127.0.0.1"
