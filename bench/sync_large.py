"""Busy-time sync of a calendar holding 10,000 events, through the real gateway on loopback.

Set-up (not timed): the Google Calendar emulator runs as its own process (`balance-booking
gcal-emulator`, so its CPU and memory are Google's, not ours) and is filled through its control
API with EVENTS events over a one-year booking horizon: single timed events, some transparent
("free"), some declined by the owner, all-day events (mostly free, a few busy), and weekly and
daily recurring series (some with an EXDATE). Events are short and start at any hour, so the
busy mirror keeps thousands of separate intervals (about 4,900) instead of merging into whole
days. The product's database (SQLite, then a scratch
PostgreSQL database) gets a 90-day and a 365-day service, and the calendar is connected through
the real OAuth flow (StartGoogleConnection -> the emulator's consent -> CompleteGoogleConnection).

Measured: a child process that is only a sync process, like `balance-booking worker` or
`sync-now` (fresh interpreter, the composition root, `SyncCalendarBusyTimes`, the HTTP gateway),
runs the sync several times:
- first: the mirror is empty, so the whole mirror is written;
- unchanged: Google has nothing new, the mirror is compared and left as it is (a routine poll);
- changed: one event is added through the emulator first, so the mirror is rewritten.
Per run: wall time, the part spent waiting for the emulator's answers (Google's share; the rest
is ours: parsing, the mirror in the database, and the limiter's spacing), Google requests made. Reported: medians, events/s (calendar events per second of sync), the request
count (the outbound limiter spaces requests 125 ms apart, so requests - 1 over 8 is a floor of
each sync), and the child's peak RSS (VmHWM) against the worker budget (120 MB).
Correctness: after the runs the mirror in the database must equal the union of the blocking
instances computed here from the seeded events (an independent oracle), and every unchanged run
must report the same busy-interval count.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx

from balance_booking.application.admin import CreateService
from balance_booking.application.connect import CompleteGoogleConnection, StartGoogleConnection
from balance_booking.bootstrap import Container, build_container, build_sync, migrate_database
from balance_booking.config import Settings
from balance_booking.domain.intervals import Interval, merge
from balance_booking.domain.services import Service

EVENTS = 10_000
HORIZON_DAYS = 365
UNCHANGED_RUNS = 3
CHANGED_RUNS = 3
SEED = 20261201
SEED_THREADS = 4
WORKER_BUDGET_MIB = 120e6 / 2**20  # the budget is 120 MB (decimal), the figures MiB
OUTBOUND_PER_SECOND = 8.0  # GoogleTransport's RateLimiter default
ZONE_NAME = "Europe/Moscow"  # the emulator's default user's calendar zone
ZONE = ZoneInfo(ZONE_NAME)
CLIENT_ID = "balance-bench.apps.googleusercontent.com"
CLIENT_SECRET = "bench-client-secret-value"  # noqa: S105 - the emulator's fake OAuth client
PUBLIC_BASE = "http://bench.invalid"  # never called: push stays off, only the redirect URI uses it
CALLBACK = "/api/admin/integrations/google-calendar/callback"
DURATIONS = (15, 20, 30, 30, 45, 60)
# Seeded events lie on the first SEED_DAYS days; the runs' additions on the day after them.
SEED_DAYS = HORIZON_DAYS - 5
REPO = Path(__file__).resolve().parents[1]


Span = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class Seeded:
    """One event for the emulator and the busy instants it must produce (empty when free)."""

    body: dict[str, Any]
    busy: tuple[Span, ...]


def _timed(start: datetime, minutes: int) -> dict[str, Any]:
    end = start + timedelta(minutes=minutes)
    return {
        "start": {"dateTime": start.isoformat(), "timeZone": ZONE_NAME},
        "end": {"dateTime": end.isoformat(), "timeZone": ZONE_NAME},
    }


def _local(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def seed_events(first_day: date, *, count: int = EVENTS, seed: int = SEED) -> list[Seeded]:
    """A year of a crowded shared calendar; every instance lies on days 0 .. SEED_DAYS - 1.

    Events start at any hour on a five-minute grid and are short, so they cover about 40 % of
    the time and the mirror keeps thousands of separate intervals (a calendar where everything
    merges into whole days would make the mirror trivially small).
    """
    rng = random.Random(seed)
    events: list[Seeded] = []

    def timed(n: int, extra: dict[str, Any], *, blocking: bool) -> None:
        day = first_day + timedelta(days=rng.randrange(SEED_DAYS))
        start = _local(day, rng.randrange(24), 5 * rng.randrange(12))
        minutes = rng.choice(DURATIONS)
        busy: tuple[Span, ...] = ((start, start + timedelta(minutes=minutes)),) if blocking else ()
        events.append(Seeded({"summary": f"bench {n}", **_timed(start, minutes), **extra}, busy))

    declined = {
        "attendees": [
            {"email": "owner@example.com", "responseStatus": "declined"},
            {"email": "someone@example.com"},
        ]
    }
    shares: tuple[tuple[float, dict[str, Any], bool], ...] = (
        (0.84, {}, True),
        (0.07, {"transparency": "transparent"}, False),  # "free" in Google
        (0.02, declined, False),  # declined by the calendar's owner
    )
    for share, extra, blocking in shares:
        for _ in range(int(count * share)):
            timed(len(events), extra, blocking=blocking)
    # All-day events: mostly free marks (birthdays, reminders), one in ten a busy day off.
    for index in range(int(count * 0.02)):
        day = first_day + timedelta(days=rng.randrange(SEED_DAYS))
        blocking = index % 10 == 0
        body: dict[str, Any] = {
            "summary": f"bench all-day {len(events)}",
            "start": {"date": day.isoformat()},
            "end": {"date": (day + timedelta(days=1)).isoformat()},
        }
        if not blocking:
            body["transparency"] = "transparent"
        whole_day = (_local(day, 0, 0), _local(day + timedelta(days=1), 0, 0))
        busy: tuple[Span, ...] = (whole_day,) if blocking else ()
        events.append(Seeded(body, busy))
    # Recurring series fill the rest: weekly (2-8 times) and daily (2-5 times), every tenth with
    # an EXDATE; all end inside the seeded days, so no instance straddles the sync window.
    while len(events) < count:
        weekly = rng.random() < 0.7
        step, times = (7, rng.randrange(2, 9)) if weekly else (1, rng.randrange(2, 6))
        day = first_day + timedelta(days=rng.randrange(SEED_DAYS - step * (times - 1)))
        start = _local(day, rng.randrange(24), 5 * rng.randrange(12))
        minutes = rng.choice(DURATIONS)
        recurrence = [f"RRULE:FREQ={'WEEKLY' if weekly else 'DAILY'};COUNT={times}"]
        occurrences = [start + timedelta(days=step * k) for k in range(times)]
        if len(events) % 10 == 0:
            skipped = occurrences.pop(1)
            recurrence.append(f"EXDATE;TZID={ZONE_NAME}:{skipped.strftime('%Y%m%dT%H%M%S')}")
        body = {
            "summary": f"bench series {len(events)}",
            **_timed(start, minutes),
            "recurrence": recurrence,
        }
        busy = tuple((at, at + timedelta(minutes=minutes)) for at in occurrences)
        events.append(Seeded(body, busy))
    rng.shuffle(events)
    return events


def expected_mirror(events: list[Seeded]) -> list[Interval]:
    return merge(Interval(start, end) for event in events for start, end in event.busy)


@contextmanager
def _emulator(log: Path) -> Iterator[str]:
    """`balance-booking gcal-emulator --auto-consent` on a free loopback port."""
    from tests.support.live_server import free_port  # noqa: PLC0415 - not in the sync child

    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
            [
                sys.executable,
                "-m",
                "balance_booking.cli",
                "gcal-emulator",
                "--auto-consent",
                "--port",
                str(port),
            ],
            env=_clean_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + "/_emulator/clients", process, log)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


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


def _seed(base: str, events: list[Seeded]) -> float:
    """Insert every event through POST /_emulator/events; returns the seconds it took."""
    began = time.perf_counter()
    chunks = [events[k::SEED_THREADS] for k in range(SEED_THREADS)]

    def insert(chunk: list[Seeded]) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            for event in chunk:
                client.post("/_emulator/events", json={"event": event.body}).raise_for_status()

    with ThreadPoolExecutor(max_workers=SEED_THREADS) as pool:
        list(pool.map(insert, chunks))
    return time.perf_counter() - began


def _settings_env(database_url: str, var_dir: Path, emulator: str) -> dict[str, str]:
    return _clean_env() | {
        "BALANCE_DATABASE_URL": database_url,
        "BALANCE_VAR_DIR": str(var_dir),
        "BALANCE_PUBLIC_BASE_URL": PUBLIC_BASE,
        "BALANCE_GOOGLE_EMULATOR_URL": emulator,
        "BALANCE_GOOGLE_CLIENT_ID": CLIENT_ID,
        "BALANCE_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "BALANCE_LOG_LEVEL": "WARNING",
    }


def _prepare_database(database_url: str, var_dir: Path, emulator: str) -> Container:
    """Migrated database, two services (horizon = 365 days), the calendar connected by OAuth."""
    settings = Settings(
        database_url=database_url,
        var_dir=var_dir,
        public_base_url=PUBLIC_BASE,
        google_emulator_url=emulator,
        google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET,
        log_level="WARNING",
        _env_file=None,  # type: ignore[call-arg]
    )
    container = build_container(settings)
    migrate_database(container)
    create = CreateService(uow_factory=container.writers)
    create.execute(Service(slug="session", title="Сессия", duration=timedelta(minutes=50)))
    create.execute(
        Service(
            slug="intake",
            title="Первичная",
            duration=timedelta(minutes=90),
            max_days_ahead=HORIZON_DAYS,
        )
    )
    url = StartGoogleConnection(
        uow_factory=container.writers,
        oauth=container.oauth,
        cipher=container.cipher,
        clock=container.clock,
    ).execute(session_hash=None)
    consent = httpx.get(url, follow_redirects=False, timeout=10)
    query = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["Location"]).query).items()}
    outcome = CompleteGoogleConnection(
        uow_factory=container.writers,
        oauth=container.oauth,
        gateways=container.gateways,
        cipher=container.cipher,
        clock=container.clock,
        metrics=container.metrics,
    ).execute(state=query.get("state"), code=query.get("code"), error=None, session_hash=None)
    if outcome.kind != "connected":
        raise RuntimeError(f"could not connect the emulator's calendar: {outcome}")
    return container


def _changes(first_day: date, *, batch: int) -> list[Seeded]:
    """One new 30-minute event per changed run, two hours apart on the free day after the seed."""
    day = first_day + timedelta(days=SEED_DAYS)
    changes = []
    for k in range(CHANGED_RUNS):
        start = _local(day, 2 * (batch * CHANGED_RUNS + k), 0)
        body = {"summary": f"bench change {batch}.{k}", **_timed(start, 30)}
        changes.append(Seeded(body, ((start, start + timedelta(minutes=30)),)))
    return changes


def _run_child(env: dict[str, str], job: dict[str, Any]) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.sync_large", "--child"],
        input=json.dumps(job),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"sync child failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _measure(
    label: str,
    database_url: str,
    *,
    tmp: Path,
    emulator: str,
    events: list[Seeded],
    first_day: date,
    batch: int,
) -> dict[str, object]:
    """Sync runs on one database; `events` is everything in the calendar, the runs add to it."""
    var_dir = tmp / f"var-{label}"
    container = _prepare_database(database_url, var_dir, emulator)
    try:
        changes = _changes(first_day, batch=batch)
        child = _run_child(
            _settings_env(database_url, var_dir, emulator),
            {
                "emulator": emulator,
                "unchanged": UNCHANGED_RUNS,
                "changes": [change.body for change in changes],
            },
        )
        events.extend(changes)
        with container.readers() as uow:
            mirror = uow.busy.overlapping(
                Interval(datetime(2000, 1, 1, tzinfo=ZONE), datetime(2100, 1, 1, tzinfo=ZONE))
            )
    finally:
        container.close()
    expected = expected_mirror(events)
    runs: list[dict[str, Any]] = child["runs"]

    def median(kind: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in runs if r["kind"] == kind)

    unchanged_counts = {r["busy_intervals"] for r in runs if r["kind"] == "unchanged"}
    requests = {int(r["requests"]) for r in runs}
    first = next(r for r in runs if r["kind"] == "first")
    changed_s = median("changed", "seconds")
    return {
        f"{label} first sync, mirror written (s)": first["seconds"],
        f"{label} sync unchanged, median (s)": median("unchanged", "seconds"),
        f"{label} sync changed, mirror rewritten, median (s)": changed_s,
        f"{label} of which waiting for Google, median of changed (s)": median(
            "changed", "google_seconds"
        ),
        f"{label} of which ours (parsing, mirror, limiter spacing), median of changed (s)": (
            statistics.median(
                float(r["seconds"]) - float(r["google_seconds"])
                for r in runs
                if r["kind"] == "changed"
            )
        ),
        f"{label} events/s (changed)": EVENTS / changed_s,
        f"{label} Google requests per sync": "/".join(str(n) for n in sorted(requests)),
        f"{label} rate-limit floor per sync (s)": (max(requests) - 1) / OUTBOUND_PER_SECOND,
        f"{label} busy intervals in mirror": len(mirror),
        f"{label} mirror == oracle": mirror == expected,
        f"{label} unchanged runs agree": len(unchanged_counts) == 1 and mirror != [],
        f"{label} sync process RSS before the first sync (MiB)": child["rss_before_mib"],
        f"{label} sync process peak RSS (MiB)": child["peak_rss_mib"],
    }


def run() -> dict[str, object]:
    from tests.support.databases import (  # noqa: PLC0415 - imports pytest; parent only
        postgres_admin_url,
        scratch_postgres_database,
    )

    first_day = datetime.now(ZONE).date() + timedelta(days=1)
    events = seed_events(first_day)
    figures: dict[str, object] = {"events in calendar": len(events)}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with _emulator(tmp / "emulator.log") as emulator:
            httpx.post(
                emulator + "/_emulator/clients",
                json={
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [PUBLIC_BASE + CALLBACK],
                    "name": "Эмоциональный баланс",
                },
                timeout=10,
            ).raise_for_status()
            figures["seeding through the control API (s)"] = _seed(emulator, events)
            figures["busy intervals expected"] = len(expected_mirror(events))
            common: dict[str, Any] = {
                "tmp": tmp,
                "emulator": emulator,
                "events": events,
                "first_day": first_day,
            }
            figures.update(_measure("sqlite", f"sqlite:///{tmp / 'bench.db'}", batch=0, **common))
            admin_url = postgres_admin_url()
            if admin_url is None:
                figures["postgres"] = "skipped: PostgreSQL not reachable"
            else:
                with scratch_postgres_database(admin_url) as url:
                    figures.update(_measure("postgres", url, batch=1, **common))
    peaks = [v for k, v in figures.items() if k.endswith("peak RSS (MiB)") and isinstance(v, float)]
    correct = all(v is True for k, v in figures.items() if k.endswith(("oracle", "agree")))
    figures["targets"] = [
        {
            "name": "sync (worker) process peak RSS < 120 MB = 114 MiB",
            "value": max(peaks),
            "met": all(peak < WORKER_BUDGET_MIB for peak in peaks),
        },
        {"name": "10,000-event sync mirrors Google exactly", "value": correct, "met": correct},
    ]
    return figures


def _status_mib(field: str) -> float | None:
    """A memory line of /proc/self/status (Linux) in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_mib() -> float:
    return _status_mib("VmRSS") or 0.0


def _peak_rss_mib() -> float:
    peak = _status_mib("VmHWM")
    if peak is not None:
        return peak
    import resource  # noqa: PLC0415 - fallback off Linux

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def _child() -> None:
    """The sync process: settings from the environment, as the CLI builds them."""
    from balance_booking.adapters.logging_setup import configure_logging  # noqa: PLC0415

    job = json.loads(sys.stdin.read())
    settings = Settings()
    configure_logging(settings.log_level)
    container = build_container(settings)
    sync = build_sync(container)
    rss_before = _rss_mib()
    sent: dict[int, float] = {}
    waited = [0.0]
    count = [0]
    lock = threading.Lock()

    def on_request(request: httpx.Request) -> None:
        with lock:
            sent[id(request)] = time.perf_counter()
            count[0] += 1

    def on_response(response: httpx.Response) -> None:
        response.read()
        with lock:
            waited[0] += time.perf_counter() - sent.pop(id(response.request), time.perf_counter())

    container.google_http.event_hooks = {"request": [on_request], "response": [on_response]}
    plan = [("first", None)] + [("unchanged", None)] * job["unchanged"]
    plan += [("changed", change) for change in job["changes"]]
    runs = []
    with httpx.Client(base_url=job["emulator"], timeout=30) as control:
        for kind, change in plan:
            if change is not None:
                control.post("/_emulator/events", json={"event": change}).raise_for_status()
            count[0], waited[0] = 0, 0.0
            began = time.perf_counter()
            report = sync.execute()
            seconds = time.perf_counter() - began
            if kind != "unchanged" and not report.changed:
                raise RuntimeError(f"a {kind} sync must change the mirror")
            runs.append(
                {
                    "kind": kind,
                    "seconds": seconds,
                    "google_seconds": waited[0],
                    "requests": count[0],
                    "busy_intervals": report.busy_intervals,
                    "changed": report.changed,
                }
            )
    container.close()
    print(json.dumps({"runs": runs, "rss_before_mib": rss_before, "peak_rss_mib": _peak_rss_mib()}))


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        _child()
    else:
        for metric, value in run().items():
            print(f"{metric}: {value}")
