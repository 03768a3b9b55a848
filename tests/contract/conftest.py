"""The repository contract: the same assertions against the fakes, SQLite and PostgreSQL.

`backend` runs each test three times. The SQL units of work are built as bootstrap.py builds
them (SqlUnitOfWorkFactory, writers with write=True); SQLite is migrated once per session into a
template file that each test copies, PostgreSQL is the session's migrated scratch database,
emptied before each test.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.engine import build_engine
from balance_booking.adapters.db.migrate import migrate
from balance_booking.adapters.db.uow import SqlUnitOfWorkFactory
from balance_booking.application.ports import UnitOfWorkFactory
from tests.fakes.uow import FakeDatabase
from tests.support.databases import truncate_all

FAKE, SQLITE, POSTGRES = "fake", "sqlite", "postgres"
ALL = [FAKE, SQLITE, pytest.param(POSTGRES, marks=pytest.mark.postgres)]


@dataclass(frozen=True)
class Backend:
    """One storage under test: its name, a factory of write units of work, its data version."""

    name: str
    uow: UnitOfWorkFactory
    version: Callable[[], int]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("contract-template") / "template.db"
    engine = build_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as connection:
        # Fold the WAL into the main file so that copying one file copies the whole database.
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _open(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if name == FAKE:
        database = FakeDatabase()
        yield Backend(FAKE, database, lambda: database.data_version)
        return
    if name == SQLITE:
        path = tmp_path / "contract.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        truncate_all(url)
    engine = build_engine(url)
    try:
        yield Backend(name, SqlUnitOfWorkFactory(engine, write=True), lambda: _version(engine))
    finally:
        engine.dispose()


@pytest.fixture(params=ALL)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every backend: the fake, SQLite, PostgreSQL."""
    yield from _open(request.param, request, tmp_path)


@pytest.fixture(params=[FAKE, pytest.param(POSTGRES, marks=pytest.mark.postgres)])
def guarded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The backends whose storage itself refuses overlapping active appointments."""
    yield from _open(request.param, request, tmp_path)


@pytest.fixture
def sqlite_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from _open(SQLITE, request, tmp_path)


def _version(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(t.data_version.c.version)).scalar_one())
