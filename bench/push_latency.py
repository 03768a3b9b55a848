"""Push-to-fresh-slots latency: an event created in Google until its slot leaves the public API.

The emulator and the app (SQLite, real clock, no worker: nothing polls) run as uvicorn servers
in threads of this process; the app's public base URL is its loopback address, so the emulator
delivers real push notifications to its webhook. After connecting through OAuth and one manual
sync, EVENTS events are created one at a time, each on its own free slot; the clock runs from
the create call until a slots request no longer offers that slot (polled every POLL seconds).
Events are PAUSE apart so each push meets an idle coalescer (a burst costs more, by design: see
docs/sync.md). Reported: p50/p95/max in ms, syncs run, and peak RSS of this process.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from prometheus_client import REGISTRY

from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import build_app, build_container, create_admin_token
from balance_booking.config import Settings

with warnings.catch_warnings():
    # The test helpers import Starlette's TestClient, which nudges towards "httpx2" once
    # (tests/conftest.py silences the same warning for the same reason).
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from tests.support.google import CLIENT_ID, CLIENT_SECRET, INTEGRATION_API
    from tests.support.live_server import free_port, serve_app
    from tests.support.push import connect_as, counted_emulator, register_client

EVENTS = 20
POLL = 0.01
PAUSE = 1.2  # more than the coalescer's one-second spacing: every push finds it idle
DEADLINE = 10.0
MOSCOW = ZoneInfo("Europe/Moscow")
SLOTS = "/api/public/booking/slots"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _sync_runs() -> float:
    return sum(
        REGISTRY.get_sample_value("balance_sync_runs_total", {"result": r}) or 0.0
        for r in ("ok", "failed")
    )


def _offered(http: httpx.Client, day: str, hour: str) -> bool:
    query = {"service_slug": "session", "from": day, "to": day, "tz": "Europe/Moscow"}
    response = http.get(SLOTS, params=query)
    response.raise_for_status()
    return any(slot["start"][11:16] == hour for slot in response.json()["slots"])


def _measure(http: httpx.Client, emulator: httpx.Client) -> list[float]:
    latencies = []
    first_day = datetime.now(MOSCOW).date() + timedelta(days=2)
    for n in range(EVENTS):
        day = first_day + timedelta(days=n // 8)
        hour = 9 + n % 8
        start = datetime(day.year, day.month, day.day, hour, tzinfo=MOSCOW)
        if not _offered(http, day.isoformat(), f"{hour:02d}:00"):
            raise RuntimeError(f"{start} should be free before its event exists")
        began = time.perf_counter()
        emulator.post(
            "/_emulator/events",
            json={
                "event": {
                    "summary": f"bench {n}",
                    "start": {"dateTime": start.isoformat()},
                    "end": {"dateTime": (start + timedelta(minutes=50)).isoformat()},
                }
            },
        ).raise_for_status()
        while _offered(http, day.isoformat(), f"{hour:02d}:00"):
            if time.perf_counter() - began > DEADLINE:
                raise RuntimeError(f"event {n}: the slot was still offered after {DEADLINE} s")
            time.sleep(POLL)
        latencies.append(time.perf_counter() - began)
        time.sleep(PAUSE)
    return latencies


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, counted_emulator() as (emulator, _log):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        emulator.reset()
        register_client(emulator, base)
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            var_dir=Path(tmp) / "var",
            public_base_url=base,
            google_emulator_url=emulator.base,
            google_client_id=CLIENT_ID,
            google_client_secret=CLIENT_SECRET,
            log_level="WARNING",
            _env_file=None,  # type: ignore[call-arg]
        )
        container = build_container(settings)
        try:
            migrate(container.engine)
            token = create_admin_token(container, name="bench")
            with (
                serve_app(build_app(container), port=port),
                httpx.Client(
                    base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
                ) as http,
            ):
                weekly = {
                    d: [["09:00", "17:00"]]
                    for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                }
                http.put(
                    "/api/admin/schedule",
                    json={"timezone": "Europe/Moscow", "weekly": weekly, "overrides": []},
                ).raise_for_status()
                http.post(
                    "/api/admin/services",
                    json={
                        "slug": "session",
                        "title": "S",
                        "duration_minutes": 50,
                        "slot_step_minutes": 60,
                        "max_days_ahead": 30,
                    },
                ).raise_for_status()
                if not connect_as(http, base).endswith("result=connected"):
                    raise RuntimeError("could not connect the emulator's calendar")
                http.post(f"{INTEGRATION_API}/sync").raise_for_status()
                syncs_before = _sync_runs()
                latencies = _measure(http, emulator.control)
                syncs = _sync_runs() - syncs_before
        finally:
            container.close()
    p95 = _percentile(latencies, 0.95)
    return {
        "events": EVENTS,
        "push-to-fresh-slots p50 (ms)": 1000 * statistics.median(latencies),
        "push-to-fresh-slots p95 (ms)": 1000 * p95,
        "push-to-fresh-slots max (ms)": 1000 * max(latencies),
        "within 2 s (share)": sum(1 for x in latencies if x <= 2.0) / len(latencies),
        "syncs run": syncs,
        "peak RSS (MiB)": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "targets": [
            {"name": "push-to-fresh-slots p95 <= 2 s", "value": 1000 * p95, "met": p95 <= 2.0}
        ],
    }


if __name__ == "__main__":
    for metric, value in run().items():
        print(f"{metric}: {value}")
