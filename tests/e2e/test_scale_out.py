"""Scale-out on PostgreSQL: two `serve` processes and two `worker` processes, one installation.

docs/deployment.md in miniature: a migrated scratch database, two web processes
(`serve --no-worker`, each on its own port so the test can talk to each) and two
`balance-booking worker` processes, all with production settings (BALANCE_ENV=prod, explicit
secrets, nothing generated into var/). Google is the emulator in this process; web A's address
stands for the public address in front of the web processes: Google redirects and pushes there.

Through them: connect Google Calendar (the flow starts on A, Google's redirect lands on B),
book over both processes (contested slots from both at once, an idempotent retry arriving at
both), confirm over both, let the workers export, and let a push close a slot on both.
Asserted: one winner per contested slot and 409 for the rest, one Google event per confirmed
booking, every process sees every change (the data version), and the workers together make one
busy-time sync per interval.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from balance_booking.bootstrap import build_container, create_admin_token, migrate_database
from balance_booking.config import Settings
from balance_booking.web.paths import WEBHOOK_PATH
from tests.support.booking import BOOK, SLOTS
from tests.support.booking import booking as booking_body
from tests.support.databases import require_postgres, scratch_postgres_database
from tests.support.google import CLIENT_ID, CLIENT_SECRET, Emulator
from tests.support.live_server import free_port
from tests.support.processes import (
    balance_env,
    cli_processes,
    read_logs,
    stop_all,
    wait_until_up,
)
from tests.support.push import (
    FreeBusyLog,
    channels,
    connect_as,
    counted_emulator,
    register_client,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

INTERVAL = 10  # BALANCE_SYNC_INTERVAL_SECONDS: the Settings minimum
# Observed after everything else has settled: polls alone, 0.9-1.1 intervals apart (up to about
# two right after a push-triggered sync postponed them).
WINDOW = 2 * INTERVAL
QUIET_SECONDS = 2.5  # no sync and no push for this long: nothing but polls is left to come
MOSCOW = ZoneInfo("Europe/Moscow")
SERVICE = "session"
EVERY_DAY_9_TO_18 = {
    "timezone": "Europe/Moscow",
    "weekly": {
        day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
    "overrides": [],
}
CONTESTED_HOURS = (9, 10, 11)  # each asked for by three clients on A and three on B at once
ATTEMPTS_PER_PROCESS = 3
RETRIED_HOUR = 12  # one client, one Idempotency-Key, the request arriving at A and B twice each
PUSHED_HOUR = 13  # stays free until the owner puts an event there in Google
SPREAD_HOURS = {14: "a", 15: "b", 16: "a", 17: "b"}  # one client each, alternating processes


def test_two_web_processes_and_two_workers_share_one_postgresql(tmp_path: Path) -> None:
    admin_url = require_postgres()
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_postgres_database(admin_url))
        emulator, freebusy = stack.enter_context(counted_emulator())
        base_a, base_b = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
        emulator.reset()
        register_client(emulator, base_a)
        env = balance_env(
            {
                "BALANCE_ENV": "prod",
                "BALANCE_DATABASE_URL": database_url,
                "BALANCE_SECRET_KEY": secrets.token_urlsafe(48),
                "BALANCE_TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "BALANCE_VAR_DIR": str(tmp_path / "var"),  # must stay unused: secrets are set
                "BALANCE_PUBLIC_BASE_URL": base_a,
                "BALANCE_GOOGLE_EMULATOR_URL": emulator.base,
                "BALANCE_GOOGLE_CLIENT_ID": CLIENT_ID,
                "BALANCE_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
                "BALANCE_SYNC_INTERVAL_SECONDS": str(INTERVAL),
                "BALANCE_LOG_LEVEL": "INFO",
            }
        )
        # What `balance-booking migrate` and `create-admin-token` do, without two more
        # interpreters to start (start-up is most of this test's time on a busy machine).
        token = migrate_and_make_token(env)
        processes = stack.enter_context(
            cli_processes(
                {
                    "web-a": ["serve", "--no-worker", "--port", base_a.rsplit(":", 1)[1]],
                    "web-b": ["serve", "--no-worker", "--port", base_b.rsplit(":", 1)[1]],
                    "worker-1": ["worker"],
                    "worker-2": ["worker"],
                },
                env=env,
                logs=tmp_path,
            )
        )

        def logs() -> str:
            return "\n".join(
                f"--- {name}\n{text[-3000:]}" for name, text in read_logs(tmp_path).items()
            )

        # Start-up is a few seconds on an idle machine; the slack is for a loaded one.
        try:
            wait_until_up(base_a, process=processes["web-a"])
            wait_until_up(base_b, process=processes["web-b"])
        except AssertionError as exc:
            raise AssertionError(logs()) from exc
        workers_up = wait_for(
            lambda: all(
                "worker_started" in text for text in read_logs(tmp_path, "worker-*.log").values()
            ),
            timeout=60,
            interval=0.1,
        )
        assert workers_up, logs()

        headers = {"Authorization": f"Bearer {token}"}
        a = stack.enter_context(httpx.Client(base_url=base_a, headers=headers, timeout=30))
        b = stack.enter_context(httpx.Client(base_url=base_b, headers=headers, timeout=30))
        web = {"a": a, "b": b}
        for http in web.values():
            assert http.get("/readyz").status_code == 200

        # The owner sets up on A; B serves the same data.
        assert a.put("/api/admin/schedule", json=EVERY_DAY_9_TO_18).status_code == 200
        created = a.post(
            "/api/admin/services",
            json={
                "slug": SERVICE,
                "title": "Сессия",
                "duration_minutes": 60,
                "max_days_ahead": 14,
                "requires_payment": True,
            },
        )
        assert created.status_code == 201, created.text
        assert [s["slug"] for s in b.get("/api/admin/services").json()["services"]] == [SERVICE]

        # Connect: the flow starts on A and Google's redirect comes back to B (state, PKCE
        # verifier and tokens live in the database; the token key is shared).
        assert connect_as(a, base_a, finish_with=b).endswith("result=connected"), logs()
        for http in web.values():
            status = http.get("/api/admin/integrations/google-calendar").json()
            assert status["status"] == "connected"
            assert status["push"]["active"] is True
            assert status["last_sync_ok"] is True, status
        live = [c for c in channels(emulator) if not c["stopped"]]
        assert [c["address"] for c in live] == [base_a + WEBHOOK_PATH]

        day = (datetime.now(MOSCOW) + timedelta(days=2)).date()
        hours = set(range(9, 18))
        assert all(starts(http, day) == hours for http in web.values())

        # Bookings over both processes: contested slots, an idempotent retry, plain ones.
        winners: list[dict[str, Any]] = []
        for hour in CONTESTED_HOURS:
            answers = at_once(
                [
                    # Each contender is another person (one's own slot is already_booked).
                    (
                        web[side],
                        booking(
                            day,
                            hour,
                            name=f"Клиент {side}{n}",
                            email=f"client-{side}{n}@example.com",
                        ),
                        None,
                    )
                    for side, n in itertools.product("ab", range(ATTEMPTS_PER_PROCESS))
                ]
            )
            codes = sorted(r.status_code for r in answers)
            assert codes == [201] + [409] * (2 * ATTEMPTS_PER_PROCESS - 1), bodies(answers)
            assert {r.json()["error"]["code"] for r in answers if r.status_code == 409} == {
                "slot_unavailable"
            }
            winners += [r.json()["appointment"] for r in answers if r.status_code == 201]

        retried = booking(day, RETRIED_HOUR, name="Мария")
        answers = at_once([(web[side], retried, "retry-12") for side in "abab"])
        assert {r.status_code for r in answers} == {201}, bodies(answers)
        assert len({r.json()["appointment"]["id"] for r in answers}) == 1, bodies(answers)
        assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 3
        winners.append(answers[0].json()["appointment"])

        for hour, side in SPREAD_HOURS.items():
            answer = web[side].post(BOOK, json=booking(day, hour, name=f"Клиент {hour}"))
            assert answer.status_code == 201, answer.text
            winners.append(answer.json()["appointment"])

        assert {w["status"] for w in winners} == {"pending_payment"}
        booked = set(CONTESTED_HOURS) | {RETRIED_HOUR} | set(SPREAD_HOURS)
        # Both processes stop offering every booked slot (B's cache follows the data version).
        assert wait_for(
            lambda: all(starts(http, day) == hours - booked for http in web.values()), timeout=10
        ), {side: sorted(starts(http, day)) for side, http in web.items()}
        # A client's manage link works on whichever process answers it (one secret key).
        first = winners[0]
        mine = b.get(f"{BOOK}/{first['id']}", params={"token": first["manage_token"]})
        assert mine.status_code == 200, mine.text

        listed = appointments(a, day)
        assert sorted(x["id"] for x in listed) == sorted(w["id"] for w in winners)
        assert_no_overlap(listed)

        # The owner confirms, alternating processes; the workers export.
        for appointment, http in zip(winners, itertools.cycle(web.values()), strict=False):
            confirmed = http.post(f"/api/admin/appointments/{appointment['id']}/confirm")
            assert confirmed.status_code == 200, confirmed.text
            assert confirmed.json()["appointment"]["status"] == "confirmed"
        exported = wait_for(
            lambda: {x["calendar_event"]["state"] for x in appointments(b, day)} == {"created"},
            timeout=30,
            interval=0.2,
        )
        assert exported, (appointments(b, day), logs())
        listed = appointments(a, day)
        assert {x["status"] for x in listed} == {"confirmed"}
        assert_one_event_each(emulator, listed)

        # Push: the owner adds an event in Google; both processes stop offering its slot with
        # no manual sync (A receives the push and syncs; B follows the data version).
        pushes_before = len(emulator.control.get("/_emulator/pushes").json())
        scheduled_before = metric(a, 'balance_push_notifications_total{result="sync_scheduled"}')
        start = datetime(day.year, day.month, day.day, PUSHED_HOUR, tzinfo=MOSCOW)
        emulator.add_hour(start, summary="Supervision")
        closed = wait_for(
            lambda: all(PUSHED_HOUR not in starts(http, day) for http in web.values()),
            timeout=15,
            interval=0.1,
        )
        assert closed, ({side: sorted(starts(http, day)) for side, http in web.items()}, logs())
        delivered = emulator.control.get("/_emulator/pushes").json()[pushes_before:]
        assert {(d["address"], d["outcome"]) for d in delivered if d["state"] == "exists"} == {
            (base_a + WEBHOOK_PATH, "200")
        }, delivered
        after = metric(a, 'balance_push_notifications_total{result="sync_scheduled"}')
        assert after > scheduled_before

        # One sync per interval: with nothing but polls left, the two workers between them
        # sync once per 0.9-1.1 intervals, never twice in one.
        ready, counts_at_ready = settle(freebusy, emulator, logs=tmp_path)
        time.sleep(WINDOW)
        assert all(p.poll() is None for p in processes.values()), logs()
        stop_all(processes.values())

        syncs = freebusy.sync_times()
        since = [at for at in syncs if at >= ready]
        in_window = [at for at in since if at <= ready + WINDOW]
        chain = [at for at in syncs if at < ready][-1:] + in_window
        detail = ([round(at - ready, 2) for at in syncs], logs())
        assert 1 <= len(in_window) <= 3, detail
        assert all(y - x >= 0.85 * INTERVAL for x, y in itertools.pairwise(chain)), detail
        assert all(y - x <= 1.5 * INTERVAL for x, y in itertools.pairwise(in_window)), detail
        # ... and they were the workers' polls: the web processes did not sync meanwhile.
        counts = sync_counts(tmp_path)
        assert counts["web"] == counts_at_ready["web"], detail
        assert counts["worker"] - counts_at_ready["worker"] == len(since), detail

        # Still exactly one event per booking after all those syncs and reconciliations.
        assert_one_event_each(emulator, listed)
        assert problems(read_logs(tmp_path)) == [], logs()
        assert not (tmp_path / "var").exists(), "production settings generate no secrets"


def migrate_and_make_token(env: dict[str, str]) -> str:
    settings = Settings(
        env="prod",
        database_url=env["BALANCE_DATABASE_URL"],
        secret_key=SecretStr(env["BALANCE_SECRET_KEY"]),
        token_encryption_keys=SecretStr(env["BALANCE_TOKEN_ENCRYPTION_KEYS"]),
        _env_file=None,  # type: ignore[call-arg]
    )
    container = build_container(settings)
    try:
        migrate_database(container)
        return create_admin_token(container, name="scale-out")
    finally:
        container.close()


def booking(
    day: date, hour: int, *, name: str, email: str = "client@example.com"
) -> dict[str, Any]:
    start = datetime(day.year, day.month, day.day, hour, tzinfo=MOSCOW)
    return booking_body(start, service=SERVICE, client={"name": name, "email": email})


def at_once(
    requests: list[tuple[httpx.Client, dict[str, Any], str | None]],
) -> list[httpx.Response]:
    """POST every booking at the same moment, each through its process, on its own connection."""
    barrier = threading.Barrier(len(requests))

    def send(http: httpx.Client, body: dict[str, Any], key: str | None) -> httpx.Response:
        headers = {} if key is None else {"Idempotency-Key": key}
        with httpx.Client(base_url=http.base_url, timeout=30) as own:
            own.get("/healthz")  # connect before the start line
            barrier.wait(timeout=30)
            return own.post(BOOK, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(send, http, body, key) for http, body, key in requests]
        return [future.result() for future in futures]


def bodies(answers: list[httpx.Response]) -> list[tuple[int, str]]:
    return [(r.status_code, r.text[:300]) for r in answers]


def starts(http: httpx.Client, day: date) -> set[int]:
    """The local start hours of the free slots `http`'s process offers on `day`."""
    query = {"service_slug": SERVICE, "from": day.isoformat(), "to": day.isoformat()}
    response = http.get(SLOTS, params=query | {"tz": "Europe/Moscow"})
    assert response.status_code == 200, response.text
    return {int(slot["start"][11:13]) for slot in response.json()["slots"]}


def appointments(http: httpx.Client, day: date) -> list[dict[str, Any]]:
    response = http.get("/api/admin/appointments", params={"from": str(day), "to": str(day)})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["appointments"]
    return found


def assert_no_overlap(listed: list[dict[str, Any]]) -> None:
    spans = sorted(
        (datetime.fromisoformat(x["start"]), datetime.fromisoformat(x["end"])) for x in listed
    )
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


def our_events(emulator: Emulator) -> list[dict[str, Any]]:
    """The owner's events that carry our private marker (what the export wrote)."""
    return [
        event
        for event in emulator.events()
        if (event.get("extendedProperties") or {}).get("private", {}).get("balance_app") == "1"
    ]


def assert_one_event_each(emulator: Emulator, listed: list[dict[str, Any]]) -> None:
    events = [e for e in our_events(emulator) if e["status"] == "confirmed"]
    assert sorted(e["id"] for e in events) == sorted(x["calendar_event"]["id"] for x in listed)
    assert sorted(e["id"] for e in events) == sorted(x["id"].replace("-", "") for x in listed)
    starts_in_google = sorted(datetime.fromisoformat(e["start"]["dateTime"]) for e in events)
    assert starts_in_google == sorted(datetime.fromisoformat(x["start"]) for x in listed)


def metric(http: httpx.Client, sample: str) -> float:
    """One sample of the process's /metrics (0 when it has not been counted yet)."""
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def settle(
    freebusy: FreeBusyLog, emulator: Emulator, *, logs: Path, timeout: float = 30
) -> tuple[float, dict[str, int]]:
    """Wait until no sync and no push happened for QUIET_SECONDS.

    Returns that moment and the syncs the processes had logged by then: read before the check,
    so a sync counted there started before the quiet spell and one starting later is not.
    """
    seen = -1
    changed_at = time.monotonic()
    settled: list[tuple[float, dict[str, int]]] = []

    def quiet() -> bool:
        nonlocal seen, changed_at
        counts = sync_counts(logs)
        now = time.monotonic()
        if (pushes := len(emulator.control.get("/_emulator/pushes").json())) != seen:
            seen, changed_at = pushes, now
        last_sync = max(freebusy.sync_times(), default=float("-inf"))
        if now - max(changed_at, last_sync) < QUIET_SECONDS:
            return False
        settled.append((now, counts))
        return True

    assert wait_for(quiet, timeout=timeout, interval=0.1), "syncs or pushes never paused"
    return settled[0]


def sync_counts(logs: Path) -> dict[str, int]:
    """Busy-time syncs finished so far, by kind of process (from their logs)."""
    texts = read_logs(logs)
    return {
        kind: sum(
            text.count('"busy_sync_done"') for name, text in texts.items() if name.startswith(kind)
        )
        for kind in ("web", "worker")
    }


def problems(texts: dict[str, str]) -> list[str]:
    """Error lines and tracebacks in the processes' logs (JSON lines, see admin-auth.md)."""
    found = []
    for name, text in texts.items():
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                if "Traceback" in line or "Error" in line:
                    found.append(f"{name}: {line[:300]}")
                continue
            if record.get("level") in {"error", "critical"} or "exception" in record:
                found.append(f"{name}: {line[:300]}")
    return found
