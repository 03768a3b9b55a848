"""Booking throughput and contention latency over real HTTP, on SQLite and PostgreSQL.

- throughput: 20 concurrent clients book distinct slots (bookings per second, median of runs);
- contention: 50 clients post the same slot at once; p50/p99 latency of that round, and the
  check that exactly one booking won (zero double bookings).
The server runs in this process (uvicorn in a thread), so peak RSS covers client and server.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from tests.support.databases import postgres_admin_url, scratch_postgres_database
from tests.support.live_server import serve_app

from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import build_app, build_container, create_admin_token
from balance_booking.config import Settings

CLIENTS = 20
BOOKINGS_PER_RUN = 100
CONTENDERS = 50
RUNS = 3


class FixedClock:
    """Monday 30 November 2026 09:00 Moscow, so the booked weeks are always in the future."""

    def now(self) -> datetime:
        return datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def weekday_starts(count: int, *, first_day: int) -> list[str]:
    """`count` distinct hourly starts on weekdays 08:00-20:00 Moscow from December `first_day`."""
    day = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(days=first_day)
    starts: list[str] = []
    while len(starts) < count:
        if day.weekday() < 5:
            starts.extend(f"{day.date()}T{hour:02d}:00:00+03:00" for hour in range(8, 20))
        day += timedelta(days=1)
    return starts[:count]


def _body(start: str, n: int) -> dict[str, object]:
    return {
        "service_slug": "session",
        "start": start,
        "timezone": "Europe/Moscow",
        "client": {"name": f"Bench {n}", "email": f"bench{n}@example.com"},
    }


@contextmanager
def _server(database_url: str, var_dir: Path) -> Iterator[str]:
    settings = Settings(database_url=database_url, var_dir=var_dir, _env_file=None)  # type: ignore[call-arg]
    container = build_container(settings, clock=FixedClock())
    migrate(container.engine)
    token = create_admin_token(container, name="bench")
    with serve_app(build_app(container)) as base:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as admin:
            weekly = {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
            admin.put("/api/admin/schedule", json={"timezone": "Europe/Moscow", "weekly": weekly})
            admin.post(
                "/api/admin/services",
                json={
                    "slug": "session",
                    "title": "S",
                    "duration_minutes": 50,
                    "slot_step_minutes": 60,
                    "max_days_ahead": 365,
                },
            )
        yield base
    container.close()


def _throughput(base: str, starts: list[str]) -> float:
    clients = [httpx.Client(base_url=base, timeout=60) for _ in range(CLIENTS)]
    try:
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            codes = list(
                pool.map(
                    lambda item: (
                        clients[item[0] % CLIENTS]
                        .post("/api/public/booking/appointments", json=_body(item[1], item[0]))
                        .status_code
                    ),
                    enumerate(starts),
                )
            )
        elapsed = time.perf_counter() - began
    finally:
        for client in clients:
            client.close()
    if codes.count(201) != len(starts):
        raise RuntimeError(f"distinct slots must all book: {codes}")
    return len(starts) / elapsed


def _contention(base: str, start: str) -> tuple[list[float], int]:
    barrier = threading.Barrier(CONTENDERS)

    def attempt(n: int) -> tuple[float, int]:
        with httpx.Client(base_url=base, timeout=60) as client:
            barrier.wait()
            began = time.perf_counter()
            status = client.post(
                "/api/public/booking/appointments", json=_body(start, n)
            ).status_code
            return time.perf_counter() - began, status

    with ThreadPoolExecutor(max_workers=CONTENDERS) as pool:
        results = list(pool.map(attempt, range(CONTENDERS)))
    return [latency for latency, _ in results], sum(1 for _, status in results if status == 201)


def _measure(database_url: str, var_dir: Path) -> dict[str, float]:
    with _server(database_url, var_dir) as base:
        rates = [
            _throughput(base, weekday_starts(BOOKINGS_PER_RUN, first_day=run * 14))
            for run in range(RUNS)
        ]
        latencies: list[float] = []
        winners: list[int] = []
        for round_no in range(RUNS):
            round_latencies, won = _contention(base, weekday_starts(1, first_day=60 + round_no)[0])
            latencies.extend(round_latencies)
            winners.append(won)
    latencies.sort()
    return {
        "bookings_per_s_median": statistics.median(rates),
        "contention_p50_ms": 1000 * latencies[len(latencies) // 2],
        "contention_p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "double_bookings": sum(max(0, won - 1) for won in winners),
    }


def run() -> dict[str, object]:
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for key, value in _measure(f"sqlite:///{tmp}/bench.db", Path(tmp) / "var").items():
            figures[f"sqlite_{key}"] = value
        admin_url = postgres_admin_url()
        if admin_url is None:
            figures["postgres"] = "skipped: PostgreSQL not reachable"
        else:
            with scratch_postgres_database(admin_url) as url:
                for key, value in _measure(url, Path(tmp) / "var-pg").items():
                    figures[f"postgres_{key}"] = value
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    doubles = [v for k, v in figures.items() if k.endswith("double_bookings")]
    figures["targets"] = [
        {
            "name": "zero double bookings (SQLite and PostgreSQL)",
            "value": " / ".join(str(v) for v in doubles),
            # Not measured (None) when PostgreSQL was not reachable.
            "met": all(v == 0 for v in doubles) if len(doubles) == 2 else None,
        }
    ]
    return figures


if __name__ == "__main__":
    for metric, value in run().items():
        print(f"{metric}: {value}")
