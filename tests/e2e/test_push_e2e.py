"""Push end to end: the emulator POSTs to the running app and the public slots follow by themselves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from balance_booking.bootstrap import (
    Container,
    build_app,
    build_container,
    create_admin_token,
    migrate_database,
)
from balance_booking.web.paths import WEBHOOK_PATH
from tests.support.booking import SLOTS, open_practice
from tests.support.google import INTEGRATION_API, Emulator, google_settings
from tests.support.live_server import free_port, serve_app
from tests.support.push import channels, connect_as, wait_for

MOSCOW = ZoneInfo("Europe/Moscow")
EVERY_DAY_9_TO_18 = {
    "timezone": "Europe/Moscow",
    "weekly": {
        day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
    "overrides": [],
}
SESSION = {"slug": "session", "title": "Сессия", "duration_minutes": 60, "max_days_ahead": 30}
DEADLINE_SECONDS = 2.0


@pytest.fixture
def live_app(database_url: str, tmp_path: Path, emulator: Emulator) -> Iterator[tuple[str, str]]:
    """The real app (real clock, no worker: nothing polls) on a loopback port the emulator can
    reach; yields its base URL and an admin token."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    emulator.reset()
    emulator.register_client(base)
    settings = google_settings(database_url, tmp_path, emulator, public_base=base)
    container: Container = build_container(settings)
    try:
        if container.is_sqlite():
            migrate_database(container)
        token = create_admin_token(container, name="e2e")
        with serve_app(build_app(container), port=port):
            yield base, token
    finally:
        container.close()


def start_hours(http: httpx.Client, day: str) -> list[str]:
    query = {"service_slug": "session", "from": day, "to": day, "tz": "Europe/Moscow"}
    response = http.get(SLOTS, params=query)
    assert response.status_code == 200, response.text
    return [slot["start"][11:16] for slot in response.json()["slots"]]


def test_an_event_created_in_google_closes_its_slot_without_a_manual_sync(
    live_app: tuple[str, str], emulator: Emulator
) -> None:
    base, token = live_app
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as http:
        open_practice(http, SESSION, schedule=EVERY_DAY_9_TO_18)
        assert connect_as(http, base).endswith("result=connected")
        live = [c for c in channels(emulator) if not c["stopped"]]
        assert [c["address"] for c in live] == [base + WEBHOOK_PATH]
        assert http.get(INTEGRATION_API).json()["push"]["active"] is True
        # Connecting synced once; this button syncs again on demand.
        assert http.post(f"{INTEGRATION_API}/sync").status_code == 200
        day = (datetime.now(MOSCOW) + timedelta(days=2)).date()
        assert "13:00" in start_hours(http, day.isoformat())

        start = datetime(day.year, day.month, day.day, 13, 0, tzinfo=MOSCOW)
        created_at = time.monotonic()
        emulator.add_hour(start, summary="Supervision")

        closed = wait_for(
            lambda: "13:00" not in start_hours(http, day.isoformat()),
            timeout=DEADLINE_SECONDS,
            interval=0.05,
        )
        elapsed = time.monotonic() - created_at
        assert closed, f"the slot was still offered {elapsed:.2f} s after the event was created"
        assert "12:00" in start_hours(http, day.isoformat())
        assert "14:00" in start_hours(http, day.isoformat())

    deliveries = emulator.control.get("/_emulator/pushes").json()
    exists = [d for d in deliveries if d["state"] == "exists"]
    assert exists, deliveries
    assert {d["outcome"] for d in exists} == {"200"}
