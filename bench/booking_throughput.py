"""Booking throughput and contention latency over real HTTP, on SQLite and PostgreSQL.

The server is `balance-booking serve --no-worker` in its own process (real clock), and the
Google Calendar emulator is another process (`balance-booking gcal-emulator`), so the load
generator's threads, the server and Google each have their own interpreter.

- throughput: 20 concurrent clients book distinct slots (bookings per second, median of runs),
  before the calendar is connected (as in earlier runs of this benchmark);
- then the calendar is connected through the real OAuth flow (the callback syncs the busy
  mirror), with the mirror-freshness shortcut switched off (`BALANCE_LIVE_CHECK_FRESH_SECONDS=0`)
  so that every booking asks Google live, the worst case;
- uncontended: one booking at a time (median latency), with Google connected;
- contention: 50 clients, each on a new connection from its own loopback address as a new
  visitor would, post the same slot at once (prepared requests sent by one selectors loop, so
  the generator costs next to nothing); p50/p99 latency over the rounds, and the check that
  exactly one booking won (zero double bookings). Target (issue 20): p99 <= 200 ms on both
  databases.
The server's live-check counters (`/metrics`) show that Google was asked. The report names the
event loop and HTTP parser the server ran with (its start-up line) and its peak RSS (VmHWM).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from tests.support.databases import postgres_admin_url, scratch_postgres_database
from tests.support.live_server import free_port

from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import build_container, create_admin_token
from balance_booking.config import Settings

CLIENTS = 20
BOOKINGS_PER_RUN = 100
CONTENDERS = 50
RUNS = 3
UNCONTENDED = 15
TARGET_P99_MS = 200.0
WEB_RSS_BUDGET_MIB = 150e6 / 2**20  # the brief's 150 MB, in the MiB the figures use
ZONE = ZoneInfo("Europe/Moscow")
CLIENT_ID = "balance-bench.apps.googleusercontent.com"
CLIENT_SECRET = "bench-client-secret-value"  # noqa: S105 - the emulator's fake OAuth client
INTEGRATION = "/api/admin/integrations/google-calendar"
BOOK = "/api/public/booking/appointments"
# `balance-booking serve` names its HTTP stack on start-up (cli.py).
STACK_LINE = re.compile(r"loop=(\S+) http=(\S+)")


def weekday_starts(count: int, *, first_day: int) -> list[str]:
    """`count` distinct hourly starts on weekdays 08:00-20:00 Moscow, `first_day` days from now."""
    day = datetime.now(ZONE).date() + timedelta(days=2 + first_day)
    starts: list[str] = []
    while len(starts) < count:
        if day.weekday() < 5:
            starts.extend(f"{day}T{hour:02d}:00:00+03:00" for hour in range(8, 20))
        day += timedelta(days=1)
    return starts[:count]


# Every booking comes from its own e-mail address: the per-client cap (settings) never applies.
def _body(start: str, n: int) -> dict[str, object]:
    return {
        "service_slug": "session",
        "start": start,
        "timezone": "Europe/Moscow",
        "client": {"name": f"Bench {n}", "email": f"bench{n}@example.com"},
    }


def _visitor(base: str, address: str) -> httpx.Client:
    """A client from its own loopback address: the per-address write limit sees one visitor."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=base, timeout=60, transport=transport)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BALANCE_")}


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text(errors='replace')[-2000:]}")


@contextmanager
def _process(args: list[str], *, env: dict[str, str], log: Path, probe: str) -> Iterator[int]:
    """Our CLI as a child process, until the block ends; yields its pid."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
            [sys.executable, "-m", "balance_booking.cli", *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(probe, process, log)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def _emulator(tmp: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["gcal-emulator", "--auto-consent", "--port", str(port)]
    with _process(
        args, env=_clean_env(), log=tmp / "emulator.log", probe=base + "/_emulator/clients"
    ):
        yield base


@dataclass(frozen=True)
class Server:
    base: str
    pid: int
    admin: httpx.Client
    log: Path


@contextmanager
def _server(database_url: str, tmp: Path, emulator: str, *, workers: int = 1) -> Iterator[Server]:
    """A migrated database with a week plan and a service, served by `serve --no-worker`
    (`--workers N`: N web processes, PostgreSQL only)."""
    var_dir = tmp / "var"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _clean_env() | {
        "BALANCE_DATABASE_URL": database_url,
        "BALANCE_VAR_DIR": str(var_dir),
        "BALANCE_PUBLIC_BASE_URL": base,
        "BALANCE_GOOGLE_EMULATOR_URL": emulator,
        "BALANCE_GOOGLE_CLIENT_ID": CLIENT_ID,
        "BALANCE_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        # Every booking asks Google live (no "the mirror was refreshed a moment ago" shortcut).
        "BALANCE_LIVE_CHECK_FRESH_SECONDS": "0",
        # Access logs and per-booking info lines cost the same everywhere; keep them out.
        "BALANCE_LOG_LEVEL": "WARNING",
    }
    settings = Settings(
        database_url=database_url,
        var_dir=var_dir,
        _env_file=None,
    )
    container = build_container(settings)
    migrate(container.engine)
    token = create_admin_token(container, name="bench")
    container.close()
    httpx.post(
        emulator + "/_emulator/clients",
        json={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [base + INTEGRATION + "/callback"],
            "name": "Эмоциональный баланс",
        },
        timeout=10,
    ).raise_for_status()
    log = tmp / "server.log"
    args = ["serve", "--no-worker", "--port", str(port), "--workers", str(workers)]
    with (
        _process(args, env=env, log=log, probe=base + "/healthz") as pid,
        httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as admin,
    ):
        weekly = {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        admin.put(
            "/api/admin/schedule", json={"timezone": "Europe/Moscow", "weekly": weekly}
        ).raise_for_status()
        admin.post(
            "/api/admin/services",
            json={
                "slug": "session",
                "title": "S",
                "duration_minutes": 50,
                "slot_step_minutes": 60,
                "max_days_ahead": 365,
            },
        ).raise_for_status()
        yield Server(base=base, pid=pid, admin=admin, log=log)


def _connect_google(server: Server, emulator: str) -> None:
    """The real OAuth flow: connect -> the emulator's (automatic) consent -> our callback."""
    # Busy time in Google outside working hours: freeBusy has something to say, no slot is lost.
    first = datetime.now(ZONE).date() + timedelta(days=1)
    with httpx.Client(base_url=emulator, timeout=10) as control:
        for offset in range(0, 120, 2):
            day = first + timedelta(days=offset)
            start = datetime(day.year, day.month, day.day, 6, 0, tzinfo=ZONE)
            control.post(
                "/_emulator/events",
                json={
                    "event": {
                        "start": {"dateTime": start.isoformat()},
                        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
                    }
                },
            ).raise_for_status()
    url = server.admin.post(INTEGRATION + "/connect").json()["authorization_url"]
    consent = httpx.get(url, follow_redirects=False, timeout=10)
    callback = urlsplit(consent.headers["Location"])
    done = server.admin.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    if "result=connected" not in done.headers.get("location", ""):
        raise RuntimeError(f"could not connect the emulator's calendar: {done.headers}")
    status = server.admin.get(INTEGRATION).json()
    if status.get("status") != "connected":
        raise RuntimeError(f"calendar not connected: {status}")


def _throughput(base: str, starts: list[str], *, round_no: int) -> float:
    clients = [_visitor(base, f"127.0.{round_no}.{n + 2}") for n in range(CLIENTS)]
    try:
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            codes = list(
                pool.map(
                    lambda item: (
                        (
                            clients[item[0] % CLIENTS].post(
                                BOOK, json=_body(item[1], 1000 * round_no + item[0])
                            )
                        ).status_code
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


def _uncontended(base: str, starts: list[str]) -> list[float]:
    latencies = []
    for n, start in enumerate(starts):
        # Spaced like unrelated visitors: the outbound limiter (8 Google calls/s) never waits.
        time.sleep(0.2)
        with _visitor(base, f"127.0.20.{n + 2}") as client:
            began = time.perf_counter()
            response = client.post(BOOK, json=_body(start, 10_000 + n))
            latencies.append(time.perf_counter() - began)
        if response.status_code != 201:
            raise RuntimeError(f"a free slot must book: {response.status_code} {response.text}")
    return latencies


def _contention(base: str, start: str, *, round_no: int) -> tuple[list[float], int, set[int]]:
    """50 new visitors post the same slot at once; each one's latency runs from opening its
    connection to the end of the answer.

    The requests are prepared bytes sent by one `selectors` loop, each on its own connection
    from its own loopback address (the per-address write limit sees 50 visitors): fifty client
    threads with an HTTP library each would spend as much CPU as the server on the same two
    cores, and the GIL of the generator would space the requests out (both seen here: httpx
    threads measured the server's queue and their own)."""
    target = urlsplit(base)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    requests = []
    for n in range(CONTENDERS):
        body = json.dumps(_body(start, 1000 * round_no + n)).encode()
        head = (
            f"POST {BOOK} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        requests.append(head.encode() + body)
    sockets = []
    for n in range(CONTENDERS):
        sock = socket.socket()
        sock.bind((f"127.0.{round_no}.{n + 2}", 0))
        sockets.append(sock)
    began: dict[int, float] = {}
    answers: dict[int, bytes] = {}
    latencies: dict[int, float] = {}
    with selectors.DefaultSelector() as selector:
        for n, sock in enumerate(sockets):
            began[n] = time.perf_counter()
            sock.connect((host, port))
            sock.sendall(requests[n])
            sock.setblocking(False)
            answers[n] = b""
            selector.register(sock, selectors.EVENT_READ, n)
        while len(latencies) < CONTENDERS:
            ready = selector.select(timeout=60)
            if not ready:
                raise RuntimeError("the server stopped answering the contenders")
            for key, _ in ready:
                n, sock = key.data, cast("socket.socket", key.fileobj)
                chunk = sock.recv(65536)
                if chunk:
                    answers[n] += chunk
                    continue
                latencies[n] = time.perf_counter() - began[n]
                selector.unregister(sock)
                sock.close()
    statuses = [int(answers[n].split(b" ", 2)[1]) for n in range(CONTENDERS)]
    return (
        [latencies[n] for n in range(CONTENDERS)],
        statuses.count(201),
        set(statuses),
    )


@contextmanager
def _profiled(pid: int, name: str) -> Iterator[None]:
    """With BENCH_PROFILE_DIR set, py-spy samples the server (idle threads too) in the block."""
    out_dir = os.environ.get("BENCH_PROFILE_DIR")
    if not out_dir:
        yield
        return
    out = Path(out_dir) / f"{name}.txt"
    spy = subprocess.Popen(  # noqa: S603 - the locked dev tool, fixed arguments
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(pid),
            "--idle",
            "--format",
            "raw",
            "--rate",
            "250",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)


def _live_checks(server: Server) -> dict[str, float]:
    """The server's live-check counter by result (Prometheus text of /metrics)."""
    text = httpx.get(server.base + "/metrics", timeout=10).text
    found: dict[str, float] = {}
    for line in text.splitlines():
        match = re.match(r'balance_live_checks_total\{result="(\w+)"\} (\S+)', line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _vm_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _stack(log: Path) -> str:
    match = STACK_LINE.search(log.read_text(errors="replace"))
    return f"loop={match.group(1)} http={match.group(2)}" if match else "unknown"


def _measure(database_url: str, tmp: Path, emulator: str) -> dict[str, object]:
    with _server(database_url, tmp, emulator) as server:
        rates = [
            _throughput(
                server.base,
                weekday_starts(BOOKINGS_PER_RUN, first_day=run * 14),
                round_no=10 + run,
            )
            for run in range(RUNS)
        ]
        _connect_google(server, emulator)
        asked_before = _live_checks(server).get("asked", 0.0)
        single = _uncontended(server.base, weekday_starts(UNCONTENDED, first_day=50))
        latencies: list[float] = []
        winners: list[int] = []
        statuses: set[int] = set()
        with _profiled(server.pid, f"contention-{urlsplit(database_url).scheme}"):
            rounds = [
                _contention(
                    server.base,
                    # A week apart: two first_days across a weekend would name the same Monday.
                    weekday_starts(1, first_day=60 + 7 * round_no)[0],
                    round_no=30 + round_no,
                )
                for round_no in range(RUNS)
            ]
        for round_latencies, won, seen in rounds:
            latencies.extend(round_latencies)
            winners.append(won)
            statuses |= seen
        asked = _live_checks(server).get("asked", 0.0) - asked_before
        peak = _vm_hwm_mib(server.pid)
        stack = _stack(server.log)
    return {
        "bookings_per_s_median (no Google)": statistics.median(rates),
        "uncontended_median_ms (Google connected)": 1000 * statistics.median(single),
        "contention_p50_ms": 1000 * _percentile(latencies, 0.5),
        "contention_p99_ms": 1000 * _percentile(latencies, 0.99),
        "contention_max_ms": 1000 * max(latencies),
        "contention statuses": "/".join(str(s) for s in sorted(statuses)),
        "double_bookings": sum(max(0, won - 1) for won in winners),
        "rounds with no winner": sum(1 for won in winners if won == 0),
        "Google live checks asked (uncontended + contention)": asked,
        "server peak RSS (MiB)": peak,
        "server HTTP stack": stack,
    }


def run() -> dict[str, object]:
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with _emulator(tmp) as emulator:
            (tmp / "sqlite").mkdir()
            sqlite = _measure(f"sqlite:///{tmp}/bench.db", tmp / "sqlite", emulator)
            figures.update({f"sqlite_{key}": value for key, value in sqlite.items()})
            admin_url = postgres_admin_url()
            if admin_url is None:
                figures["postgres"] = "skipped: PostgreSQL not reachable"
            else:
                httpx.post(emulator + "/_emulator/reset", timeout=10).raise_for_status()
                (tmp / "pg").mkdir()
                with scratch_postgres_database(admin_url) as url:
                    postgres = _measure(url, tmp / "pg", emulator)
                figures.update({f"postgres_{key}": value for key, value in postgres.items()})
    doubles = [v for k, v in figures.items() if k.endswith("double_bookings")]
    p99s = [v for k, v in figures.items() if k.endswith("contention_p99_ms")]
    peaks = [v for k, v in figures.items() if k.endswith("server peak RSS (MiB)")]
    both = len(doubles) == 2
    figures["targets"] = [
        {
            "name": "zero double bookings (SQLite and PostgreSQL)",
            "value": " / ".join(str(v) for v in doubles),
            # Not measured (None) when PostgreSQL was not reachable.
            "met": all(v == 0 for v in doubles) if both else None,
        },
        {
            "name": "50-way contention p99 <= 200 ms, Google connected (SQLite / PostgreSQL)",
            "value": " / ".join(f"{float(v):.0f} ms" for v in p99s),  # type: ignore[arg-type]
            "met": all(float(v) <= TARGET_P99_MS for v in p99s) if both else None,  # type: ignore[arg-type]
        },
        {
            "name": "web process peak RSS < 150 MB = 143 MiB (booking server)",
            "value": max(float(v) for v in peaks),  # type: ignore[arg-type]
            "met": all(float(v) < WEB_RSS_BUDGET_MIB for v in peaks),  # type: ignore[arg-type]
        },
    ]
    return figures


if __name__ == "__main__":
    for metric, value in run().items():
        print(f"{metric}: {value}")
