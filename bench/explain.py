"""Explain benchmark: why one start is (not) offered, against a year of 1,000 busy blocks.

The same year as `slot_engine` (Mon-Fri 09:00-18:00 Europe/Berlin, a 50-minute service on a
60-minute grid with 10-minute buffers, 1,000 seeded random busy events), now asked about single
starts: 200 seeded starts spread over the year, on and off the grid, inside and outside hours.

- domain: `explain_start` given the whole year of busy time (the worst case: the use case reads
  only the days around the start). Target (issue 17): median under 5 ms per start.
- endpoint: `GET /api/admin/availability/explain` in-process (TestClient, SQLite) with the same
  1,000 blocks in the busy mirror and a fresh sync: the whole read path, for reference.
Each figure is a median over the starts; the garbage collector is paused while timing, as in
`slot_engine`.
"""

from __future__ import annotations

import gc
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import insert

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import build_app, build_container, create_admin_token
from balance_booking.config import Settings
from balance_booking.domain.explain import Explanation, explain_start
from balance_booking.domain.intervals import Interval
from bench.slot_engine import AVAILABILITY, NOW, SERVICE, YEAR, _peak_rss_mib, busy_events

TARGET_MS = 5.0
STARTS = 200
SEED = 20261117
HTTP_STARTS = 100


def sample_starts(count: int = STARTS, *, seed: int = SEED) -> list[datetime]:
    """Seeded starts over the year: mostly on the hour (the grid is Berlin's full hours), some
    at a quarter past (off the grid)."""
    rng = random.Random(seed)
    hours = int(YEAR.duration / timedelta(hours=1))
    return [
        YEAR.start + timedelta(hours=rng.randrange(hours), minutes=rng.choice((0, 0, 0, 15)))
        for _ in range(count)
    ]


def _median_ms(calls: list[Callable[[], object]]) -> float:
    calls[0]()  # warm caches (zone data, the zone list)
    times = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for call in calls:
            began = time.perf_counter()
            call()
            times.append(time.perf_counter() - began)
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(times) * 1000


def _domain(busy: list[Interval], starts: list[datetime]) -> tuple[float, int]:
    def explain(start: datetime) -> Explanation:
        return explain_start(
            service=SERVICE,
            availability=AVAILABILITY,
            busy=busy,
            appointments=(),
            start=start,
            now=NOW,
        )

    offered = sum(1 for start in starts if explain(start).offered)
    return _median_ms([partial(explain, start) for start in starts]), offered


class _Clock:
    def now(self) -> datetime:
        return NOW


def _expect(response: Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")


def _expect_get(client: TestClient, path: str) -> None:
    _expect(client.get(path), 200)


def _endpoint(busy: list[Interval], starts: list[datetime]) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            database_url=f"sqlite:///{Path(tmp) / 'balance.db'}",
            var_dir=Path(tmp) / "var",
            _env_file=None,
            default_timezone=AVAILABILITY.timezone,
        )
        container = build_container(settings, clock=_Clock())
        try:
            migrate(container.engine)
            token = create_admin_token(container, name="bench")
            with container.engine.begin() as connection:
                connection.execute(
                    insert(t.calendar_busy_intervals),
                    [{"start_at": b.start, "end_at": b.end, "source": "google"} for b in busy],
                )
                connection.execute(
                    insert(t.integrations_google_calendar).values(
                        id=1,
                        status="connected",
                        calendar_id="primary",
                        last_success_at=NOW,
                        updated_at=NOW,
                    )
                )
            with TestClient(build_app(container)) as client:
                client.headers["Authorization"] = f"Bearer {token}"
                schedule = {
                    "timezone": AVAILABILITY.timezone,
                    "weekly": {
                        day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
                    },
                    "overrides": [],
                }
                _expect(client.put("/api/admin/schedule", json=schedule), 200)
                service = {
                    "slug": SERVICE.slug,
                    "title": SERVICE.title,
                    "duration_minutes": 50,
                    "slot_step_minutes": 60,
                    "buffer_before_minutes": 10,
                    "buffer_after_minutes": 10,
                    "max_days_ahead": 366,
                }
                _expect(client.post("/api/admin/services", json=service), 201)

                def one(start: datetime) -> Callable[[], object]:
                    params = {
                        "service_slug": SERVICE.slug,
                        "start": start.astimezone(UTC).isoformat(),
                    }

                    def call() -> None:
                        _expect(client.get("/api/admin/availability/explain", params=params), 200)

                    return call

                explain_ms = _median_ms([one(start) for start in starts[:HTTP_STARTS]])
                # The same client on an admin route that reads one small table: what HTTP,
                # authentication and a read transaction cost without any explaining.
                baseline_ms = _median_ms(
                    [partial(_expect_get, client, "/api/admin/services")] * HTTP_STARTS
                )
                return explain_ms, baseline_ms
        finally:
            container.close()


def run() -> dict[str, object]:
    busy = busy_events(1_000)
    starts = sample_starts()
    domain_ms, offered = _domain(busy, starts)
    endpoint_ms, baseline_ms = _endpoint(busy, starts)
    return {
        "starts explained": len(starts),
        "of which offered": offered,
        "median explain, 1k busy in a year (ms)": domain_ms,
        "target (ms)": TARGET_MS,
        "median GET /api/admin/availability/explain, SQLite (ms)": endpoint_ms,
        "median GET /api/admin/services, same client (ms)": baseline_ms,
        "peak RSS (MiB)": _peak_rss_mib(),
        "targets": [
            {
                "name": "explain median < 5 ms with a year of 1,000 busy blocks",
                "value": domain_ms,
                "met": domain_ms < TARGET_MS,
            }
        ],
    }
