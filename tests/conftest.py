"""Shared fixtures: a controllable clock, databases (SQLite and PostgreSQL), the app."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
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
from tests.fakes.clock import START, FakeClock
from tests.support.databases import require_postgres, scratch_postgres_database, truncate_all
from tests.support.google import (
    NO_WAIT,
    Emulator,
    connect_calendar,
    google_settings,
    running_emulator,
)
from tests.support.mail import MailSinkClient, running_mail_sink
from tests.support.processes import SUITE_EDGE_SETTINGS
from tests.support.push import Sink, register_client, running_sink

__all__ = ["START", "FakeClock"]

# The public edge's limits (API.md "Public edge") are off for the suite, whose clients all share
# one address and one e-mail; tests/security/ turns them on where they are the subject. Set in
# the environment, so that servers started as subprocesses inherit them too (docs/testing.md).
for _name, _value in SUITE_EDGE_SETTINGS.items():
    os.environ.setdefault(_name, _value)

WEEKDAYS_10_TO_18 = {
    "timezone": "Europe/Moscow",
    "weekly": {day: [["10:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "overrides": [],
}
# The service `connected` creates; `@pytest.mark.google(service={...})` changes fields of it.
SESSION = {"slug": "session", "title": "Сессия", "duration_minutes": 50, "slot_step_minutes": 60}


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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`database_url` is SQLite; tests marked `both_databases` (what depends on the database:
    guards, locks, SKIP LOCKED, migrations) run once on SQLite and once on PostgreSQL."""
    if "database_url" not in metafunc.fixturenames:
        return
    params: list[object] = ["sqlite"]
    if metafunc.definition.get_closest_marker("both_databases") is not None:
        params.append(pytest.param("postgres", marks=pytest.mark.postgres))
    metafunc.parametrize("database_url", params, indirect=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session (and xdist worker); each test copies it."""
    path = tmp_path_factory.mktemp("template") / "balance.db"
    engine = build_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if getattr(request, "param", "sqlite") == "sqlite":
        copy = tmp_path / "balance.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), copy)
        return f"sqlite:///{copy}"
    url: str = request.getfixturevalue("postgres_url")
    truncate_all(url)
    return url


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    """A loopback receiver as the app's public base URL, so connecting opens a push channel."""
    with running_sink() as running:
        yield running


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[Settings]:
    """Plain settings; `@pytest.mark.google(...)` wires the product to the session's Google
    emulator (reset per test) with these overrides (`sink=True`: the sink is the public base)."""
    marker = request.node.get_closest_marker("google")
    if marker is None:
        yield Settings(database_url=database_url, var_dir=tmp_path / "var", _env_file=None)  # type: ignore[call-arg]
        return
    emulator: Emulator = request.getfixturevalue("emulator")
    emulator.reset()
    overrides = {k: v for k, v in marker.kwargs.items() if k not in {"sink", "service"}}
    built = google_settings(database_url, tmp_path, emulator)
    if marker.kwargs.get("sink"):
        sink: Sink = request.getfixturevalue("sink")
        register_client(emulator, sink.base)
        sink.received.clear()
        overrides["public_base_url"] = sink.base
    yield built.model_copy(update=overrides)
    emulator.reset()  # faults and a moved emulator clock must not reach the next test


@pytest.fixture
def connected(request: pytest.FixtureRequest, admin: TestClient) -> TestClient:
    """The admin client with weekday hours, the `session` service and Google connected, synced."""
    from tests.support.push import connect_as  # noqa: PLC0415 - only where a test connects

    marker = request.node.get_closest_marker("google")
    service = SESSION | (marker.kwargs.get("service", {}) if marker else {})
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
    created = admin.post("/api/admin/services", json=service)
    assert created.status_code == 201, created.text
    if marker is not None and marker.kwargs.get("sink"):
        redirect = connect_as(admin, request.getfixturevalue("sink").base)
    else:
        redirect = connect_calendar(admin)
    assert redirect.endswith("result=connected"), redirect
    assert admin.post("/api/admin/integrations/google-calendar/sync").status_code == 200
    return admin


@pytest.fixture
def container(settings: Settings, clock: FakeClock) -> Iterator[Container]:
    built = build_container(settings, clock=clock, retry=NO_WAIT)
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


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSinkClient]:
    """One live SMTP sink for the session (tests/support/mail.py); tests `reset()` it as needed."""
    with running_mail_sink() as running:
        yield running
