"""Two `balance-booking worker` processes on one PostgreSQL database: one sync per interval."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from balance_booking.bootstrap import build_app, build_container, create_admin_token
from tests.support.databases import truncate_all
from tests.support.google import (
    CLIENT_ID,
    CLIENT_SECRET,
    Emulator,
    connect_calendar,
    google_settings,
)
from tests.support.processes import balance_env, cli_processes, read_logs
from tests.support.push import FreeBusyLog, counted_emulator, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.reliability, pytest.mark.slow]

INTERVAL = 10  # the Settings minimum
# Observed once both workers run: polls come due 0.9-1.1 intervals apart, so this window holds
# two or three syncs, never two closer than 0.9 intervals, never a gap of a missed interval.
WINDOW = 2.5 * INTERVAL


@pytest.fixture
def emulator_with_log() -> Iterator[tuple[Emulator, FreeBusyLog]]:
    with counted_emulator() as (emulator, log):
        emulator.reset()
        yield emulator, log


def logs_of(tmp_path: Path) -> list[str]:
    return list(read_logs(tmp_path, "worker-*.log").values())


def test_two_workers_make_one_sync_per_interval(
    postgres_url: str, tmp_path: Path, emulator_with_log: tuple[Emulator, FreeBusyLog]
) -> None:
    emulator, log = emulator_with_log
    truncate_all(postgres_url)
    settings = google_settings(postgres_url, tmp_path, emulator)
    container = build_container(settings)
    try:
        with TestClient(build_app(container)) as admin:
            admin.headers["Authorization"] = f"Bearer {create_admin_token(container, name='t')}"
            assert connect_calendar(admin).endswith("result=connected")
    finally:
        container.close()
    # Connecting syncs once at once (public slots need busy data); the workers come after it.
    assert len(log.sync_times()) == 1
    connect_syncs = 1

    env = balance_env(
        {
            "BALANCE_DATABASE_URL": postgres_url,
            "BALANCE_VAR_DIR": str(tmp_path / "var"),  # the same generated token keys
            "BALANCE_PUBLIC_BASE_URL": settings.public_base_url,
            "BALANCE_GOOGLE_EMULATOR_URL": emulator.base,
            "BALANCE_GOOGLE_CLIENT_ID": CLIENT_ID,
            "BALANCE_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            "BALANCE_SYNC_INTERVAL_SECONDS": str(INTERVAL),
            "BALANCE_LOG_LEVEL": "INFO",
        }
    )
    commands = {f"worker-{number}": ["worker"] for number in range(2)}
    with cli_processes(commands, env=env, logs=tmp_path) as running:
        processes = list(running.values())
        # Start-up is about 2 s on an idle machine; the slack is for a loaded CI runner.
        both_up = wait_for(
            lambda: all("worker_started" in text for text in logs_of(tmp_path)), timeout=60
        )
        assert both_up, logs_of(tmp_path)
        ready = time.monotonic()
        time.sleep(WINDOW)
        still_running = [p.poll() is None for p in processes]

    output = "\n".join(logs_of(tmp_path))
    assert still_running == [True, True], output
    syncs = log.sync_times()[connect_syncs:]
    # Each poll finds the last sync (by any process) fresh or due: one sync per interval.
    assert syncs, output
    in_window = [at for at in syncs if ready <= at <= ready + WINDOW]
    gaps = [b - a for a, b in itertools.pairwise(syncs)]
    detail = ([round(at - syncs[0], 2) for at in syncs], output[-4000:])
    assert 2 <= len(in_window) <= 3, detail
    assert all(gap >= 0.85 * INTERVAL for gap in gaps), detail
    assert all(gap <= 1.5 * INTERVAL for gap in gaps), detail
    assert output.count("busy_sync_done") == len(syncs), detail
