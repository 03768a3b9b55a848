"""Web throughput with one and two processes (`balance-booking serve --workers 1|2`) on PostgreSQL.

Servers: both configurations run side by side on their own ports against one migrated scratch
PostgreSQL database (dropped afterwards), with `--no-worker` (the worker loop is a separate
process at scale) and access logs off. The database holds a week plan (Mon-Fri 09:00-18:00,
Sat 10:00-14:00), three services and a few bookings; no calendar is connected.

Load: a realistic read mix of the booking page, replayed from fixed request bytes: cached
public slots of three services in four visitor time zones for this week and the next (24
distinct queries, each answered from the availability cache after the warm-up) and /healthz
(one request in five).

Method, and why: the machine has two cores, and the load generator competes with the servers
for them, so it has to be as lean as possible and its own cost is reported.
- The generator is one process (this one) with a `selectors` loop over CONNECTIONS keep-alive
  sockets, each with one request in flight: no HTTP library, no threads, just send the bytes
  and count Content-Length; it costs a fraction of a core (reported as "load generator cores").
- Keep-alive connections stick to the process that accepted them, and the kernel's accept
  spread over a handful of long-lived connections is luck (one process can take nearly all of
  them). So connections are opened one at a time and kept only while the process that accepted
  them (found through psutil) holds fewer than its share: an even spread, as a load balancer
  in front of the processes would make. The split is reported.
- Rounds alternate: ROUNDS times one process for SECONDS, then two processes for SECONDS, so
  drift in the shared machine's load hits both alike; the scaling figure is the median of the
  per-round ratios (two-process rate / one-process rate of the same round). (Strict A-B order:
  a pool must not idle past uvicorn's 5 s keep-alive timeout, which A-B-B-A would exceed.)
- Server CPU (user + system of every serving process) is sampled per round, so the report says
  how many cores each configuration actually got; with the generator and other jobs on the same
  two cores, two processes cannot get two full cores. Requests per server CPU-second give a
  second, load-independent view: "CPU-normalised scaling" = 2 x (two-process requests per
  CPU-second / one-process requests per CPU-second), the scaling two whole cores would give at
  the efficiency measured. The target is judged on the measured throughput ratio only.
Peak RSS: the kernel's high-water mark (VmHWM) of every web process, against the 150 MB budget.
"""

from __future__ import annotations

import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import psutil
from tests.support.live_server import free_port

from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import build_container, create_admin_token
from balance_booking.config import Settings

CONNECTIONS = 16
ROUNDS = 8
SECONDS = 2.5
WARM_UP_SECONDS = 1.5
TARGET_RATIO = 1.6
WEB_BUDGET_MIB = 150e6 / 2**20  # the budget is 150 MB (decimal), the figures MiB
ZONES = ("Europe/Moscow", "Europe/Berlin", "Asia/Yekaterinburg", "America/New_York")
SERVICES = (
    {"slug": "session", "title": "Сессия", "duration_minutes": 50, "slot_step_minutes": 60},
    {"slug": "intake", "title": "Первичная", "duration_minutes": 90, "buffer_after_minutes": 15},
    {"slug": "short", "title": "Короткая", "duration_minutes": 30},
)
MOSCOW = ZoneInfo("Europe/Moscow")
SLOTS = "/api/public/booking/slots"


@dataclass
class Server:
    """One `serve` command: its supervisor pid, port and the pids that answer requests."""

    workers: int
    port: int
    process: subprocess.Popen[bytes]
    serving: list[psutil.Process] = field(default_factory=list)
    peak_rss: dict[int, int] = field(default_factory=dict)

    def all_processes(self) -> list[psutil.Process]:
        return [psutil.Process(self.process.pid), *self.serving]

    def cpu_seconds(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.serving)


def _env(database_url: str, var_dir: Path) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BALANCE_")} | {
        "BALANCE_DATABASE_URL": database_url,
        "BALANCE_VAR_DIR": str(var_dir),
        # Access logs cost every request the same and are not what this measures.
        "BALANCE_LOG_LEVEL": "WARNING",
    }


@contextmanager
def _serve(workers: int, env: dict[str, str], log: Path) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "balance_booking.cli", "serve", "--no-worker"]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
            [*command, "--workers", str(workers), "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(workers=workers, port=port, process=process)
    try:
        _wait_until_up(port, process, log)
        supervisor = psutil.Process(process.pid)
        deadline = time.monotonic() + 30
        # Multi-process serving: the supervisor only watches; the children that listen on the
        # port answer requests (multiprocessing's resource tracker is a child too).
        while len(server.serving) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} web processes did not start")
            time.sleep(0.1)
            candidates = supervisor.children() if workers > 1 else [supervisor]
            server.serving = [p for p in candidates if _listens(p, port)]
        yield server
    finally:
        for proc in server.all_processes():
            server.peak_rss[proc.pid] = max(server.peak_rss.get(proc.pid, 0), _hwm(proc))
        process.terminate()
        process.wait(timeout=30)


def _listens(process: psutil.Process, port: int) -> bool:
    try:
        return any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port
            for c in process.net_connections(kind="tcp")
        )
    except psutil.Error:
        return False


def _wait_until_up(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')[-2000:]}")


def _hwm(process: psutil.Process) -> int:
    """The kernel's high-water mark of the process's RSS in bytes, else its current RSS."""
    try:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return int(process.memory_info().rss)
    except (OSError, psutil.Error):
        return 0


def _seed(port: int, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as http:
        weekly = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        weekly["sat"] = [["10:00", "14:00"]]
        http.put(
            "/api/admin/schedule",
            json={"timezone": "Europe/Moscow", "weekly": weekly, "overrides": []},
        ).raise_for_status()
        for service in SERVICES:
            http.post("/api/admin/services", json=service).raise_for_status()
        # A few bookings, so cached answers are not just the bare grid.
        monday = _next_monday()
        for n in range(8):
            day = monday + timedelta(days=n % 5, weeks=n // 5)
            start = datetime(day.year, day.month, day.day, 10 + n % 6, tzinfo=MOSCOW)
            http.post(
                "/api/public/booking/appointments",
                json={
                    "service_slug": "session",
                    "start": start.isoformat(),
                    "timezone": "Europe/Moscow",
                    "client": {"name": f"Bench {n}", "email": f"bench{n}@example.com"},
                },
            ).raise_for_status()


def _next_monday() -> datetime:
    today = datetime.now(MOSCOW)
    return today + timedelta(days=7 - today.weekday())


def _mix(port: int) -> list[bytes]:
    """Raw HTTP/1.1 keep-alive requests: 24 distinct cached slot queries and 6 /healthz."""
    monday = _next_monday().date()
    paths = []
    for service in SERVICES:
        for zone in ZONES:
            for week in (0, 1):
                first = monday + timedelta(weeks=week)
                query = {
                    "service_slug": service["slug"],
                    "from": first.isoformat(),
                    "to": (first + timedelta(days=6)).isoformat(),
                    "tz": zone,
                }
                paths.append(f"{SLOTS}?{urlencode(query)}")
    paths.extend(["/healthz"] * 6)
    # Interleave so that every stretch of the cycle has both kinds.
    paths = paths[::2] + paths[1::2]
    return [
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n\r\n".encode()
        for path in paths
    ]


class _Connection:
    """One keep-alive socket with at most one request in flight."""

    def __init__(self, port: int, requests: list[bytes], offset: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.requests = requests
        self.next = offset
        self.buffer = b""
        self.busy = False

    def send(self) -> None:
        self.sock.sendall(self.requests[self.next % len(self.requests)])
        self.next += 1
        self.busy = True

    def receive(self) -> bool:
        """Read what arrived; True when a whole response is in (checked to be a 200)."""
        chunk = self.sock.recv(262144)
        if not chunk:
            raise RuntimeError("the server closed a keep-alive connection (idle over 5 s?)")
        self.buffer += chunk
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return False
        head = self.buffer[:head_end].decode("latin-1")
        length = None
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"a response without Content-Length: {head[:300]}")
        if len(self.buffer) < head_end + 4 + length:
            return False
        if not head.startswith("HTTP/1.1 200"):
            raise RuntimeError(f"unexpected answer: {self.buffer[: head_end + 4 + 300]!r}")
        self.buffer = self.buffer[head_end + 4 + length :]
        self.busy = False
        return True

    def local_port(self) -> int:
        port: int = self.sock.getsockname()[1]
        return port


def _owner(server: Server, client_port: int) -> int | None:
    """The pid of the serving process that holds the other end of our connection."""
    for proc in server.serving:
        for conn in proc.net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == client_port:
                pid: int = proc.pid
                return pid
    return None


def _connect(server: Server, requests: list[bytes]) -> tuple[list[_Connection], dict[int, int]]:
    """CONNECTIONS sockets spread evenly over the serving processes (see the docstring)."""
    share = CONNECTIONS // len(server.serving)
    held: dict[int, int] = {p.pid: 0 for p in server.serving}
    kept: list[_Connection] = []
    # A process that is still starting accepts nothing yet: keep trying for a while.
    deadline = time.monotonic() + 60
    while len(kept) < CONNECTIONS:
        if time.monotonic() > deadline:
            raise RuntimeError(f"could not spread connections evenly: {held}")
        connection = _Connection(server.port, requests, offset=len(kept) * 7)
        # One exchange first: the connection is accepted and owned by now.
        connection.send()
        while not connection.receive():
            pass
        owner = _owner(server, connection.local_port())
        if owner is None or held[owner] >= share:
            connection.sock.close()
            time.sleep(0.02)
            continue
        held[owner] += 1
        kept.append(connection)
    return kept, held


def _load(connections: list[_Connection], seconds: float) -> int:
    """Completed responses within `seconds`, every connection kept busy; drains at the end."""
    selector = selectors.DefaultSelector()
    for connection in connections:
        connection.sock.setblocking(False)
        selector.register(connection.sock, selectors.EVENT_READ, connection)
        connection.send()
    done = 0
    deadline = time.perf_counter() + seconds
    busy = len(connections)
    while busy:
        now = time.perf_counter()
        for key, _ in selector.select(timeout=1.0):
            ready: _Connection = key.data
            if not ready.receive():
                continue
            if now < deadline:
                done += 1
                ready.send()
            else:
                busy -= 1
    selector.close()
    for connection in connections:
        connection.sock.setblocking(True)
    return done


@dataclass
class _Round:
    rate: float
    server_cores: float
    generator_cores: float


def _round(server: Server, connections: list[_Connection], seconds: float) -> _Round:
    cpu_before = server.cpu_seconds()
    generator_before = time.process_time()
    began = time.perf_counter()
    done = _load(connections, seconds)
    elapsed = time.perf_counter() - began
    return _Round(
        rate=done / seconds,
        server_cores=(server.cpu_seconds() - cpu_before) / elapsed,
        generator_cores=(time.process_time() - generator_before) / elapsed,
    )


@contextmanager
def _sampling(servers: list[Server]) -> Iterator[None]:
    """Sample every web process's RSS while the load runs (VmHWM is read at the end too)."""
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            for server in servers:
                for proc in server.all_processes():
                    try:
                        rss = int(proc.memory_info().rss)
                    except psutil.Error:
                        continue
                    server.peak_rss[proc.pid] = max(server.peak_rss.get(proc.pid, 0), rss)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _measure(database_url: str, tmp: Path) -> dict[str, object]:
    settings = Settings(database_url=database_url, var_dir=tmp / "var", _env_file=None)  # type: ignore[call-arg]
    container = build_container(settings)
    migrate(container.engine)
    token = create_admin_token(container, name="bench")
    container.close()
    env = _env(database_url, tmp / "var")
    with ExitStack() as stack:
        one = stack.enter_context(_serve(1, env, tmp / "serve-1.log"))
        two = stack.enter_context(_serve(2, env, tmp / "serve-2.log"))
        _seed(one.port, token)
        split: dict[int, dict[int, int]] = {}
        pools = {}
        for server in (one, two):
            pools[server.workers], split[server.workers] = _connect(server, _mix(server.port))
        rounds: dict[int, list[_Round]] = {1: [], 2: []}
        with _sampling([one, two]):
            for server in (one, two):
                _round(server, pools[server.workers], WARM_UP_SECONDS)
            for _ in range(ROUNDS):
                for server in (one, two):
                    rounds[server.workers].append(_round(server, pools[server.workers], SECONDS))
        for pool in pools.values():
            for connection in pool:
                connection.sock.close()
        servers = (one, two)
    # The context exit has read every process's VmHWM into peak_rss.
    ratios = [b.rate / a.rate for a, b in zip(rounds[1], rounds[2], strict=True) if a.rate > 0]
    scaling = statistics.median(ratios)

    def median(workers: int, what: str) -> float:
        return statistics.median(float(getattr(r, what)) for r in rounds[workers])

    per_core = {
        workers: statistics.median(r.rate / r.server_cores for r in rounds[workers])
        for workers in (1, 2)
    }
    web_peaks = {s.workers: [s.peak_rss[p.pid] / 2**20 for p in s.serving] for s in servers}
    supervisor = two.peak_rss[two.process.pid] / 2**20
    return {
        "connections": CONNECTIONS,
        "rounds x seconds": f"{ROUNDS} x {SECONDS:g}",
        "mix": "24 cached slot queries (3 services x 4 zones x 2 weeks) : 6 /healthz",
        "1 process req/s (median)": median(1, "rate"),
        "2 processes req/s (median)": median(2, "rate"),
        "scaling 1 -> 2 (median of per-round ratios)": scaling,
        "per-round ratios": ", ".join(f"{r:.2f}" for r in ratios),
        "server cores used, 1 process (median)": median(1, "server_cores"),
        "server cores used, 2 processes (median)": median(2, "server_cores"),
        "load generator cores (median, 2 processes)": median(2, "generator_cores"),
        "req/s per server CPU-second, 1 process": per_core[1],
        "req/s per server CPU-second, 2 processes": per_core[2],
        "CPU-normalised scaling (2 x per-CPU-second ratio)": 2 * per_core[2] / per_core[1],
        "connections per process (2 processes)": "/".join(str(n) for n in split[2].values()),
        "web process peak RSS, 1 process (MiB)": max(web_peaks[1]),
        "web process peak RSS, 2 processes (MiB)": ", ".join(f"{m:.1f}" for m in web_peaks[2]),
        "supervisor peak RSS, 2 processes (MiB)": supervisor,
        "targets": [
            {
                "name": "web scaling 1 -> 2 processes >= 1.6x on 2 cores",
                "value": scaling,
                "met": scaling >= TARGET_RATIO,
            },
            {
                "name": "web process peak RSS < 150 MB = 143 MiB (web_scaling servers)",
                "value": max(max(v) for v in web_peaks.values()),
                "met": all(m < WEB_BUDGET_MIB for v in web_peaks.values() for m in v),
            },
        ],
    }


def run() -> dict[str, object]:
    from tests.support.databases import (  # noqa: PLC0415 - imports pytest; only here
        postgres_admin_url,
        scratch_postgres_database,
    )

    admin_url = postgres_admin_url()
    if admin_url is None:
        return {"skipped": "PostgreSQL not reachable (multi-process serving needs it)"}
    with tempfile.TemporaryDirectory() as tmp, scratch_postgres_database(admin_url) as url:
        return _measure(url, Path(tmp))


if __name__ == "__main__":
    for metric, value in run().items():
        print(f"{metric}: {value}")
