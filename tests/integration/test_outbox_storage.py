"""The SQL outbox on SQLite and PostgreSQL: what only a real database shows.

The dispatcher's rules are tested against FakeOutbox in tests/unit/application/test_outbox.py;
here the same claims run as SQL (ordering guard, kinds, schedule, leases), the dedup_key is a
real unique constraint, and two PostgreSQL workers claim different rows with SKIP LOCKED.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from balance_booking.adapters.db import tables as t
from balance_booking.application.ports import NewMessage, OutboxKind, OutboxMessage
from balance_booking.bootstrap import Container, build_container
from balance_booking.config import Settings
from tests.conftest import START, FakeClock
from tests.support.databases import truncate_all

GOOGLE = OutboxKind.GOOGLE_CALENDAR
EMAIL = "email"  # a kind the e-mail issue adds; the storage takes any kind
LEASE = timedelta(minutes=5)


def message(
    kind: str = GOOGLE,
    *,
    appointment_id: UUID | None = None,
    topic: str = "AppointmentConfirmed",
    **fields: object,
) -> NewMessage:
    return NewMessage(
        kind=kind,
        topic=topic,
        payload={"appointment_id": str(appointment_id), "n": 1, "ok": True, "none": None},
        appointment_id=appointment_id,
        **fields,  # type: ignore[arg-type]
    )


def append(container: Container, *messages: NewMessage) -> int:
    with container.writers() as uow:
        added = uow.outbox.append(list(messages), now=START)
        uow.commit()
    return added


def claim(
    container: Container, *kinds: str, minutes: float = 0, limit: int = 20
) -> list[OutboxMessage]:
    with container.writers() as uow:
        claimed = uow.outbox.claim_due(
            kinds=kinds, now=START + timedelta(minutes=minutes), limit=limit, lease=LEASE
        )
        uow.commit()
    return claimed


def finish(container: Container, *claimed: OutboxMessage) -> None:
    with container.writers() as uow:
        for done in claimed:
            uow.outbox.mark_done(done.message_id, now=START)
        uow.commit()


def test_a_row_reads_back_as_it_was_written(container: Container) -> None:
    appointment, entry = uuid.uuid4(), uuid.uuid4()
    assert append(container, message(appointment_id=appointment)) == 1
    assert append(container, message(EMAIL, topic="Offer", waitlist_entry_id=entry)) == 1
    [google] = claim(container, GOOGLE)
    assert (google.kind, google.topic, google.appointment_id, google.attempts) == (
        "google_calendar",
        "AppointmentConfirmed",
        appointment,
        0,
    )
    assert google.payload == {"appointment_id": str(appointment), "n": 1, "ok": True, "none": None}
    [offer] = claim(container, EMAIL)
    assert (offer.appointment_id, offer.waitlist_entry_id) == (None, entry)


def test_only_the_kinds_asked_for_are_claimed(container: Container) -> None:
    append(container, message(GOOGLE), message(EMAIL), message(GOOGLE))
    assert claim(container) == []
    assert [m.kind for m in claim(container, EMAIL)] == [EMAIL]
    with container.readers() as uow:
        assert uow.outbox.backlog() == 3
    assert [m.kind for m in claim(container, GOOGLE, EMAIL)] == [GOOGLE, GOOGLE]


def test_a_row_waits_for_an_older_one_of_its_kind_and_appointment_only(
    container: Container,
) -> None:
    appointment = uuid.uuid4()
    append(
        container,
        message(GOOGLE, appointment_id=appointment),  # create
        message(GOOGLE, appointment_id=appointment, topic="AppointmentCancelled"),
        message(EMAIL, appointment_id=appointment, topic="Cancelled"),
        message(GOOGLE, appointment_id=uuid.uuid4()),
    )
    first = claim(container, GOOGLE, EMAIL)
    assert [(m.kind, m.topic) for m in first] == [
        (GOOGLE, "AppointmentConfirmed"),
        (EMAIL, "Cancelled"),  # never behind a Google row
        (GOOGLE, "AppointmentConfirmed"),
    ]
    # The create is leased, not finished: the cancel still waits, even after the lease.
    assert claim(container, GOOGLE, minutes=10) != []  # the create, claimed again
    finish(container, *first)
    [cancel] = claim(container, GOOGLE, minutes=20)
    assert cancel.topic == "AppointmentCancelled"


def test_not_before_schedules_a_row_and_does_not_hold_back_newer_ones(
    container: Container,
) -> None:
    appointment = uuid.uuid4()
    append(
        container,
        message(
            EMAIL,
            appointment_id=appointment,
            topic="Reminder",
            not_before=START + timedelta(hours=1),
        ),
        message(EMAIL, appointment_id=appointment, topic="Cancelled"),
    )
    [cancelled] = claim(container, EMAIL)
    assert cancelled.topic == "Cancelled"
    finish(container, cancelled)
    assert claim(container, EMAIL, minutes=59) == []
    assert [m.topic for m in claim(container, EMAIL, minutes=60)] == ["Reminder"]


def test_a_lease_hides_a_claimed_row_until_it_runs_out_or_is_released(
    container: Container,
) -> None:
    append(container, message())
    [claimed] = claim(container, GOOGLE)
    assert claim(container, GOOGLE, minutes=4) == []
    assert len(claim(container, GOOGLE, minutes=5)) == 1
    with container.writers() as uow:
        uow.outbox.release([claimed.message_id], now=START)
        uow.commit()
    assert len(claim(container, GOOGLE, minutes=5)) == 1


def test_retry_park_and_requeue(container: Container) -> None:
    append(container, message())
    [claimed] = claim(container, GOOGLE)
    later = START + timedelta(minutes=1)
    with container.writers() as uow:
        uow.outbox.retry_later(claimed.message_id, at=later, error="503", now=START)
        uow.commit()
    assert claim(container, GOOGLE, minutes=0.5) == []
    [again] = claim(container, GOOGLE, minutes=1)
    assert (again.attempts, again.first_failed_at) == (1, START)
    with container.writers() as uow:
        uow.outbox.retry_later(again.message_id, at=later, error="503", now=later)
        uow.outbox.park(again.message_id, error="400 badRequest", now=later)
        uow.commit()
    with container.readers() as uow:
        [parked] = uow.outbox.parked()
        assert uow.outbox.backlog() == 0
    assert (parked.message.kind, parked.message.topic, parked.message.attempts) == (
        GOOGLE,
        "AppointmentConfirmed",
        3,
    )
    assert parked.message.first_failed_at == START, "the first failure is kept"
    assert (parked.reason, parked.parked_at) == ("400 badRequest", later)
    with container.writers() as uow:
        assert uow.outbox.requeue(parked.message.message_id, now=later) is True
        assert uow.outbox.requeue(parked.message.message_id, now=later) is False
        uow.commit()
    [requeued] = claim(container, GOOGLE, minutes=1)
    assert (requeued.message_id, requeued.first_failed_at) == (parked.message.message_id, None)


def test_a_dedup_key_is_taken_once_and_is_a_unique_constraint(container: Container) -> None:
    reminder = message(EMAIL, topic="Reminder", dedup_key="reminder:a1")
    assert append(container, reminder, message(EMAIL), message(EMAIL)) == 3
    assert append(container, reminder) == 0
    [row] = claim(container, EMAIL, limit=1)
    finish(container, row)
    assert append(container, reminder) == 0, "even once the first one is done"
    with container.engine.connect() as connection:
        count = connection.execute(
            t.outbox.select().where(t.outbox.c.dedup_key == "reminder:a1")
        ).all()
    assert len(count) == 1
    with pytest.raises(IntegrityError), container.engine.begin() as connection:
        connection.execute(
            insert(t.outbox).values(
                kind=EMAIL,
                topic="Reminder",
                payload="{}",
                status="done",
                attempts=0,
                dedup_key="reminder:a1",
                not_before=START,
                next_attempt_at=START,
                created_at=START,
                updated_at=START,
            )
        )


def test_an_unreadable_payload_reads_as_none(container: Container) -> None:
    append(container, message())
    with container.engine.begin() as connection:
        connection.execute(update(t.outbox).values(payload="[1, 2"))
    [claimed] = claim(container, GOOGLE)
    assert claimed.payload is None


@pytest.fixture
def postgres_container(postgres_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Container]:
    truncate_all(postgres_url)
    settings = Settings(database_url=postgres_url, var_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    built = build_container(settings, clock=clock)
    yield built
    built.close()


@pytest.mark.postgres
def test_postgres_workers_claim_different_rows_without_waiting(
    postgres_container: Container,
) -> None:
    # SKIP LOCKED is PostgreSQL's; on SQLite BEGIN IMMEDIATE serialises the writers instead.
    container = postgres_container
    append(container, message(), message(), message())
    with container.writers() as first:
        mine = first.outbox.claim_due(kinds=[GOOGLE], now=START, limit=1, lease=LEASE)
        # The first worker's transaction is still open and holds its row locked.
        with container.writers() as second:
            theirs = second.outbox.claim_due(kinds=[GOOGLE], now=START, limit=5, lease=LEASE)
            second.commit()
        first.commit()
    assert len(mine) == 1
    assert len(theirs) == 2
    assert {m.message_id for m in mine}.isdisjoint({m.message_id for m in theirs})
