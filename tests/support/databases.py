"""Test databases: a fresh SQLite file per test, one migrated PostgreSQL database per session.

PostgreSQL comes from BALANCE_TEST_POSTGRES_URL, else the local default if it answers. CI sets
BALANCE_TEST_REQUIRE_POSTGRES=1, which turns "PostgreSQL not available" from a skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from balance_booking.adapters.db.engine import normalise_url
from balance_booking.adapters.db.tables import metadata

LOCAL_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str | None:
    """The URL of a PostgreSQL server we may create databases on, or None."""
    configured = os.environ.get("BALANCE_TEST_POSTGRES_URL")
    url = normalise_url(configured or LOCAL_DEFAULT)
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        if configured or os.environ.get("BALANCE_TEST_REQUIRE_POSTGRES") == "1":
            raise RuntimeError(f"PostgreSQL required but not reachable at {url}: {exc}") from exc
        return None
    finally:
        engine.dispose()
    return url


def require_postgres() -> str:
    url = postgres_admin_url()
    if url is None:
        if os.environ.get("BALANCE_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is mandatory here (BALANCE_TEST_REQUIRE_POSTGRES=1)")
        pytest.skip(
            "PostgreSQL not reachable: set BALANCE_TEST_POSTGRES_URL to run the PostgreSQL tests"
        )
    return url


@contextmanager
def scratch_postgres_database(admin_url: str) -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    name = f"bb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def truncate_all(url: str) -> None:
    """Empty every table of a migrated PostgreSQL database between tests."""
    engine = create_engine(url)
    # The data version row is seeded by a migration and must survive between tests.
    names = ", ".join(
        f'"{table.name}"' for table in metadata.sorted_tables if table.name != "data_version"
    )
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
