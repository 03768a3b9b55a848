"""Public slots throughput against /healthz on the same server, in the same run.

The server is `balance-booking serve --no-worker` in its own process (SQLite, one week of
Mon-Fri 09:00-18:00, a 50-minute service). A loopback load generator (threads, one keep-alive
httpx client each) hammers one endpoint at a time for a fixed time; rounds alternate so drift
on a shared machine hits every endpoint alike. Reported: medians of the rounds and their ratios:
- cached: the same week asked again and again (answered from the availability cache);
- cached_no_tz: the same without `tz`, so the owner's zone is read from the database each time;
- miss: every request a window no one asked before (the cache never helps);
Ratios are medians over rounds of (endpoint rate / healthz rate of the same round).
Target (issue 5): cached / healthz >= 0.6. Peak RSS is the server process's (VmHWM).
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psutil
from tests.support.live_server import free_port

from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import build_container, create_admin_token
from balance_booking.config import Settings

CONCURRENCY = 8
SECONDS_PER_ROUND = 1.5
ROUNDS = 5
TARGET_CACHED_RATIO = 0.6
WEB_RSS_BUDGET_MIB = 150e6 / 2**20  # the brief's 150 MB, in the MiB the figures use
MOSCOW = ZoneInfo("Europe/Moscow")

Request = Callable[[httpx.Client], httpx.Response]


@contextmanager
def _server(tmp: Path) -> Iterator[tuple[str, int]]:
    """A seeded database and the CLI's web server on it; yields (base URL, server pid)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCE_")} | {
        "BALANCE_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "BALANCE_VAR_DIR": str(tmp / "var"),
        # Access logs cost the same on every endpoint and would flatter the ratio.
        "BALANCE_LOG_LEVEL": "WARNING",
    }
    settings = Settings(
        database_url=env["BALANCE_DATABASE_URL"],
        var_dir=tmp / "var",
        _env_file=None,  # type: ignore[call-arg]
    )
    container = build_container(settings)
    migrate(container.engine)
    token = create_admin_token(container, name="bench")
    container.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
            [
                sys.executable,
                "-m",
                "balance_booking.cli",
                "serve",
                "--no-worker",
                "--port",
                str(port),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(base, process, log)
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as admin:
            weekly = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
            admin.put(
                "/api/admin/schedule",
                json={"timezone": "Europe/Moscow", "weekly": weekly, "overrides": []},
            ).raise_for_status()
            admin.post(
                "/api/admin/services",
                json={"slug": "session", "title": "S", "duration_minutes": 50},
            ).raise_for_status()
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')[-2000:]}")


def _requests() -> dict[str, Request]:
    monday = datetime.now(MOSCOW).date() + timedelta(days=7 - datetime.now(MOSCOW).weekday())
    # The booking page sends the visitor's zone (detected in the browser) with every query.
    week = {
        "service_slug": "session",
        "from": monday.isoformat(),
        "to": str(monday + timedelta(6)),
        "tz": "Europe/Moscow",
    }
    start = datetime(monday.year, monday.month, monday.day, tzinfo=MOSCOW)
    fresh = itertools.count()

    def miss(client: httpx.Client) -> httpx.Response:
        # A window shifted by a new number of seconds is a key no one cached.
        began = start + timedelta(seconds=next(fresh))
        return client.get(
            "/api/public/booking/slots",
            params={
                "service_slug": "session",
                "from": began.isoformat(),
                "to": (began + timedelta(days=7)).isoformat(),
                "tz": "Europe/Moscow",
            },
        )

    without_tz = {k: v for k, v in week.items() if k != "tz"}
    return {
        "healthz": lambda client: client.get("/healthz"),
        "cached": lambda client: client.get("/api/public/booking/slots", params=week),
        # Without `tz` every request first reads the owner's zone from the database.
        "cached_no_tz": lambda client: client.get("/api/public/booking/slots", params=without_tz),
        "miss": miss,
    }


def _load(base: str, request: Request) -> float:
    """Requests per second over SECONDS_PER_ROUND with CONCURRENCY keep-alive clients."""
    deadline = time.perf_counter() + SECONDS_PER_ROUND

    def worker(_: int) -> int:
        done = 0
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.perf_counter() < deadline:
                response = request(client)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
                done += 1
        return done

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        total = sum(pool.map(worker, range(CONCURRENCY)))
    return total / (time.perf_counter() - began)


def _peak_rss_mib(pid: int, sampled: float) -> float:
    """The kernel's high-water mark of the server's RSS, else the highest sample."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return sampled / (1024 * 1024)


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, _server(Path(tmp)) as (base, pid):
        server = psutil.Process(pid)
        peak = [server.memory_info().rss]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.1):
                peak[0] = max(peak[0], server.memory_info().rss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        requests = _requests()
        with httpx.Client(base_url=base, timeout=30) as warm:
            for request in requests.values():
                for _ in range(20):
                    request(warm).raise_for_status()
        rates: dict[str, list[float]] = {name: [] for name in requests}
        for _ in range(ROUNDS):
            for name, request in requests.items():
                rates[name].append(_load(base, request))
        sampling.set()
        sampler.join()
        peak_mib = _peak_rss_mib(pid, peak[0])
    median = {name: statistics.median(values) for name, values in rates.items()}

    def ratio(name: str) -> float:
        # Each round's endpoints ran back to back, so a per-round ratio cancels slow drift in
        # the machine's load; the median over rounds drops a round that met a burst of it.
        return statistics.median(
            mine / base for mine, base in zip(rates[name], rates["healthz"], strict=True)
        )

    cached_ratio = ratio("cached")
    return {
        "concurrency": CONCURRENCY,
        "healthz req/s (median)": median["healthz"],
        "slots cached req/s (median)": median["cached"],
        "slots cached, no tz, req/s (median)": median["cached_no_tz"],
        "slots miss req/s (median)": median["miss"],
        "cached / healthz": cached_ratio,
        "cached no tz / healthz": ratio("cached_no_tz"),
        "miss / healthz": ratio("miss"),
        "server peak RSS (MiB)": peak_mib,
        "targets": [
            {
                "name": "cached slots >= 0.6 x /healthz",
                "value": cached_ratio,
                "met": cached_ratio >= TARGET_CACHED_RATIO,
            },
            {
                "name": "web process peak RSS < 150 MB = 143 MiB (slots server)",
                "value": peak_mib,
                "met": peak_mib < WEB_RSS_BUDGET_MIB,
            },
        ],
    }


if __name__ == "__main__":
    for metric, value in run().items():
        print(f"{metric}: {value}")
