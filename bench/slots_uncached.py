"""Uncached 31-day slots over HTTP, against /healthz on the same server (issue 20).

The bench's data of `slot_engine` and `explain` (Mon-Fri 09:00-18:00 Europe/Berlin, a 50-minute
service on a 60-minute grid with 10-minute buffers both sides, 1,000 seeded random busy blocks a
year), laid over the year from today: the blocks are in the busy mirror with a fresh sync, the
schedule and the service come through the admin API. The server is `balance-booking serve
--no-worker` (SQLite) in its own process, and the client is one keep-alive socket sending fixed
request bytes one at a time (no HTTP library on the client side: what is timed is the server and
loopback). Every slots request asks for a 31-day window starting a new number of seconds later
(a key no cache has seen), in the owner's zone, so each one is a miss of both answer caches: the
slot engine and rendering, the occupied time and the calendar link read from the database, and
the service, working hours and busy mirror from the memos of the current data version (read
from the database by the first miss after a change, `RulesMemo` and `BusyMemo`). Rounds
alternate /healthz (the floor: the same HTTP stack, no work) and the slots misses; the figure is
the median latency of all misses.
Target (issue 20): uncached 31-day slots median <= 1.5 ms. Peak RSS is the server's (VmHWM).
Also measured, without a target: the first miss after a data change (an admin PUT of the same
working hours moves the data version before each one), which reads all of it from the database.
"""

from __future__ import annotations

import gc
import random
import socket
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert
from tests.support.live_server import free_port

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import build_container, create_admin_token
from balance_booking.config import Settings
from balance_booking.domain.availability import load_zone
from bench.booking_throughput import _process, _stack, _vm_hwm_mib
from bench.slot_engine import EVENT_MINUTES, SEED

TARGET_MS = 1.5
ROUNDS = 6
PER_ROUND = 150
AFTER_CHANGE = 60
ZONE_NAME = "Europe/Berlin"
ZONE = load_zone(ZONE_NAME)


def busy_year(count: int = 1_000, *, seed: int = SEED) -> list[tuple[datetime, datetime]]:
    """`slot_engine`'s generator over the year from today: any hour, whole minutes, seeded."""
    rng = random.Random(seed)
    first = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    year_minutes = 366 * 24 * 60
    blocks = []
    for _ in range(count):
        start = first + timedelta(minutes=rng.randrange(year_minutes))
        blocks.append((start, start + timedelta(minutes=rng.choice(EVENT_MINUTES))))
    return blocks


class _KeepAlive:
    """One HTTP/1.1 keep-alive connection: send fixed bytes, read one response by Content-Length."""

    def __init__(self, port: int) -> None:
        self._sock = socket.create_connection(("127.0.0.1", port))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._port = port

    def get(self, path: str) -> tuple[float, bytes]:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self._port}\r\nAccept: */*\r\n\r\n"
        ).encode()
        began = time.perf_counter()
        self._sock.sendall(request)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            buffer += self._recv()
        head, _, body = buffer.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")[1:]
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            body += self._recv()
        elapsed = time.perf_counter() - began
        status = head.split(b" ", 2)[1]
        if status != b"200":
            raise RuntimeError(f"{path}: {head[:200]!r} {body[:300]!r}")
        return elapsed, body

    def _recv(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self._sock.close()


@contextmanager
def _server(tmp: Path) -> Iterator[tuple[int, int, Path, str]]:
    database_url = f"sqlite:///{tmp / 'bench.db'}"
    settings = Settings(
        database_url=database_url,
        var_dir=tmp / "var",
        _env_file=None,
    )
    container = build_container(settings)
    migrate(container.engine)
    token = create_admin_token(container, name="bench")
    now = datetime.now(UTC)
    with container.engine.begin() as connection:
        connection.execute(
            insert(t.calendar_busy_intervals),
            [{"start_at": s, "end_at": e, "source": "google"} for s, e in busy_year()],
        )
        connection.execute(
            insert(t.integrations_google_calendar).values(
                id=1,
                status="connected",
                calendar_id="primary",
                timezone=ZONE_NAME,
                last_success_at=now,
                updated_at=now,
            )
        )
    container.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "BALANCE_DATABASE_URL": database_url,
        "BALANCE_VAR_DIR": str(tmp / "var"),
        "BALANCE_LOG_LEVEL": "WARNING",
        # The sync above stays fresh for the whole run (no Google here to poll).
        "BALANCE_STALE_AFTER_SECONDS": "7200",
    }
    from bench.booking_throughput import _clean_env  # noqa: PLC0415

    log = tmp / "server.log"
    args = ["serve", "--no-worker", "--port", str(port)]
    with _process(args, env=_clean_env() | env, log=log, probe=base + "/healthz") as pid:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as admin:
            weekly = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
            admin.put(
                "/api/admin/schedule",
                json={"timezone": ZONE_NAME, "weekly": weekly, "overrides": []},
            ).raise_for_status()
            admin.post(
                "/api/admin/services",
                json={
                    "slug": "consultation",
                    "title": "Консультация",
                    "duration_minutes": 50,
                    "slot_step_minutes": 60,
                    "buffer_before_minutes": 10,
                    "buffer_after_minutes": 10,
                    "max_days_ahead": 366,
                },
            ).raise_for_status()
        yield port, pid, log, token


def _miss_paths() -> Iterator[str]:
    """31-day windows in the owner's zone, each starting one second later than the last."""
    first = datetime.now(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    first += timedelta(days=2)
    n = 0
    while True:
        start = first + timedelta(seconds=n)
        end = start + timedelta(days=31)
        n += 1
        yield (
            "/api/public/booking/slots?service_slug=consultation"
            f"&from={start.isoformat().replace('+', '%2B')}"
            f"&to={end.isoformat().replace('+', '%2B')}&tz={ZONE_NAME}"
        )


def _misses_after_a_change(
    client: _KeepAlive, paths: Iterator[str], *, port: int, token: str
) -> list[float]:
    """Each slots miss right after the data version moved (the same hours saved again)."""
    weekly = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    timings = []
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as admin:
        for _ in range(AFTER_CHANGE):
            admin.put(
                "/api/admin/schedule",
                json={"timezone": ZONE_NAME, "weekly": weekly, "overrides": []},
            ).raise_for_status()
            timings.append(client.get(next(paths))[0])
    return timings


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, _server(Path(tmp)) as (port, pid, log, token):
        client = _KeepAlive(port)
        paths = _miss_paths()
        try:
            for _ in range(50):  # warm: imports, zone data, compiled statements
                client.get("/healthz")
                client.get(next(paths))
            healthz: list[float] = []
            misses: list[float] = []
            slots_seen: list[int] = []
            gc_was_enabled = gc.isenabled()
            gc.disable()  # the client's collector only; the server is another process
            try:
                for _ in range(ROUNDS):
                    healthz.extend(client.get("/healthz")[0] for _ in range(PER_ROUND))
                    for _ in range(PER_ROUND):
                        elapsed, body = client.get(next(paths))
                        misses.append(elapsed)
                        slots_seen.append(body.count(b'"start"'))
            finally:
                if gc_was_enabled:
                    gc.enable()
            after_change = _misses_after_a_change(client, paths, port=port, token=token)
        finally:
            client.close()
        peak = _vm_hwm_mib(pid)
        stack = _stack(log)
    miss_ms = 1000 * statistics.median(misses)
    healthz_ms = 1000 * statistics.median(healthz)
    return {
        "requests per endpoint": len(misses),
        "slots per 31-day answer (median)": statistics.median(slots_seen),
        "uncached 31-day slots, median (ms)": miss_ms,
        "uncached 31-day slots, p90 (ms)": 1000 * sorted(misses)[int(len(misses) * 0.9)],
        "first miss after a data change, median (ms)": 1000 * statistics.median(after_change),
        "/healthz, median (ms)": healthz_ms,
        "uncached slots - /healthz (ms)": miss_ms - healthz_ms,
        "server HTTP stack": stack,
        "server peak RSS (MiB)": peak,
        "targets": [
            {
                "name": "uncached 31-day slots median <= 1.5 ms over HTTP",
                "value": miss_ms,
                "met": miss_ms <= TARGET_MS,
            }
        ],
    }


if __name__ == "__main__":
    for metric, value in run().items():
        print(f"{metric}: {value}")
