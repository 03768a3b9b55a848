"""Shared fixtures: a controllable clock, databases (SQLite and PostgreSQL), the app."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # Starlette 1.x nudges TestClient users towards "httpx2", a package without a track record on
    # PyPI yet; we stay on httpx (mainstream, pinned). The warning fires once, at first import.
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from fastapi.testclient import TestClient

from balance_booking.adapters.db.engine import build_engine
from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import Container, build_app, build_container, create_admin_token
from balance_booking.config import Settings
from tests.support.databases import require_postgres, scratch_postgres_database, truncate_all
from tests.support.google import NO_WAIT, Emulator, running_emulator


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


# Monday 30 November 2026, 09:00 Moscow time.
START = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One migrated scratch database for the whole session."""
    admin_url = require_postgres()
    with scratch_postgres_database(admin_url) as url:
        engine = build_engine(url)
        migrate(engine)
        engine.dispose()
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'balance.db'}"
    url: str = request.getfixturevalue("postgres_url")
    truncate_all(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path / "var", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def container(settings: Settings, clock: FakeClock) -> Iterator[Container]:
    built = build_container(settings, clock=clock, retry=NO_WAIT)
    if built.is_sqlite():
        migrate(built.engine)
    yield built
    built.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(build_app(container)) as test_client:
        yield test_client


@pytest.fixture
def admin_token(container: Container) -> str:
    return create_admin_token(container, name="test")


@pytest.fixture
def admin(client: TestClient, admin_token: str) -> TestClient:
    """The same client, authenticated as the admin."""
    client.headers["Authorization"] = f"Bearer {admin_token}"
    return client


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One live Google Calendar emulator for the session; tests reset it as they need."""
    with running_emulator() as running:
        yield running
