"""Migrations build exactly the schema of tables.py, on SQLite and PostgreSQL, and go down again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.engine import build_engine
from balance_booking.adapters.db.migrate import downgrade, migrate
from balance_booking.adapters.db.tables import metadata
from balance_booking.application.admin import CreateService
from balance_booking.bootstrap import build_container
from balance_booking.config import Settings
from balance_booking.domain.services import Service
from tests.conftest import FakeClock
from tests.integration.helpers import add_appointment
from tests.support.databases import require_postgres, scratch_postgres_database, truncate_all


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    with scratch_postgres_database(require_postgres()) as url:
        engine = build_engine(url)
        yield engine
        engine.dispose()


def test_head_matches_the_table_definitions(empty_engine: Engine) -> None:
    migrate(empty_engine)
    with empty_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_downgrade_to_base_and_up_again(empty_engine: Engine) -> None:
    migrate(empty_engine)
    downgrade(empty_engine, revision="base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate(empty_engine)
    assert {"services", "appointments", "calendar_busy_intervals"} <= set(
        inspect(empty_engine).get_table_names()
    )


def test_0006_makes_existing_outbox_rows_google_calendar_writes(empty_engine: Engine) -> None:
    migrate(empty_engine, revision="0005")
    appointment_id = uuid.uuid4()
    created = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO outbox (event_type, appointment_id, payload, status, attempts,"
                " next_attempt_at, created_at, updated_at) VALUES ('AppointmentConfirmed', :a,"
                " '{}', 'pending', 2, :due, :created, :created)"
            ),
            {
                "a": appointment_id
                if empty_engine.dialect.name == "postgresql"
                else appointment_id.hex,
                "due": created + timedelta(minutes=1),
                "created": created,
            },
        )
    migrate(empty_engine)
    with empty_engine.connect() as connection:
        [row] = connection.execute(select(t.outbox)).all()
    assert (row.kind, row.topic, row.appointment_id, row.attempts) == (
        "google_calendar",
        "AppointmentConfirmed",
        appointment_id,
        2,
    )
    assert (row.not_before, row.next_attempt_at) == (created, created + timedelta(minutes=1))
    assert (row.waitlist_entry_id, row.dedup_key, row.first_failed_at) == (None, None, None)
    # And back: release 1's outbox keeps the Google row and drops what it could not hold.
    with empty_engine.begin() as connection:
        connection.execute(
            insert(t.outbox).values(
                kind="email",
                topic="Reminder",
                payload="{}",
                status="pending",
                attempts=0,
                not_before=created,
                next_attempt_at=created,
                created_at=created,
                updated_at=created,
            )
        )
    downgrade(empty_engine, revision="0005")
    with empty_engine.connect() as connection:
        rows = connection.execute(text("SELECT event_type, status FROM outbox")).all()
    assert [tuple(r) for r in rows] == [("AppointmentConfirmed", "pending")]


@pytest.mark.postgres
@pytest.mark.reliability
def test_postgres_refuses_overlapping_active_appointments(
    postgres_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    truncate_all(postgres_url)
    container = build_container(
        Settings(database_url=postgres_url, var_dir=tmp_path, _env_file=None),  # type: ignore[call-arg]
        clock=clock,
    )
    CreateService(uow_factory=container.writers).execute(
        Service(slug="s", title="S", duration=timedelta(minutes=50))
    )
    start = datetime(2026, 12, 1, 10, tzinfo=UTC)
    add_appointment(container, service_slug="s", start=start, minutes=50, buffer_after=10)
    # Back-to-back with the buffered end is fine; a cancelled overlap is fine.
    add_appointment(container, service_slug="s", start=start.replace(hour=11), minutes=50)
    add_appointment(container, service_slug="s", start=start, minutes=50, status="cancelled")
    with pytest.raises(IntegrityError, match="ex_appointments_no_overlap"):
        add_appointment(container, service_slug="s", start=start.replace(minute=55), minutes=50)
    container.engine.dispose()
