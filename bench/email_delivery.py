"""E-mail: the worker's sending rate against the mail sink, and what e-mail costs a booking.

- throughput: 60 bookings queue 120 messages (confirmation + practitioner notice); the worker's
  outbox dispatcher sends them all to a real SMTP server (the mail sink, in this process):
  messages per second, median of 3 runs;
- booking latency with e-mail on vs off: sequential bookings over HTTP against two servers (the
  only difference is SMTP_URL), alternated in rounds; medians and their ratio (target <= 1.10).
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr
from tests.support.live_server import serve_app

from balance_booking.adapters.db.migrate import migrate
from balance_booking.bootstrap import (
    Container,
    build_app,
    build_container,
    build_outbox_dispatcher,
    create_admin_token,
)
from balance_booking.config import Settings
from balance_booking.emulators.mail_sink.server import MailSink

BOOKINGS = 60
RUNS = 3
LATENCY_BOOKINGS = 40


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


@contextmanager
def _server(var_dir: Path, smtp_url: str | None) -> Iterator[tuple[str, Container]]:
    var_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{var_dir}/bench.db",
        var_dir=var_dir,
        smtp_url=SecretStr(smtp_url) if smtp_url else None,
        mail_from="Эмоциональный баланс <booking@balance.example>",
        practitioner_email="therapist@balance.example",
        # One loopback address books everything: the per-address write limit is not measured
        # here (as in the test suite, tests/support/processes.py).
        public_write_limit="",
        _env_file=None,
    )
    container = build_container(settings, clock=FixedClock())
    migrate(container.engine)
    token = create_admin_token(container, name="bench")
    with serve_app(build_app(container)) as base:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as admin:
            weekly = {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
            admin.put("/api/admin/schedule", json={"timezone": "Europe/Moscow", "weekly": weekly})
            admin.post(
                "/api/admin/services",
                json={
                    "slug": "session",
                    "title": "Консультация",
                    "duration_minutes": 50,
                    "slot_step_minutes": 60,
                    "max_days_ahead": 365,
                },
            )
        yield base, container
    container.close()


def _book(client: httpx.Client, start: str, n: int) -> float:
    began = time.perf_counter()
    answer = client.post(
        "/api/public/booking/appointments",
        json={
            "service_slug": "session",
            "start": start,
            "timezone": "Europe/Moscow",
            "client": {"name": f"Bench {n}", "email": f"bench{n}@example.com"},
        },
    )
    elapsed = time.perf_counter() - began
    if answer.status_code != 201:
        raise RuntimeError(f"booking failed: {answer.status_code} {answer.text[:200]}")
    return elapsed


def _throughput(tmp: Path, sink: MailSink) -> list[float]:
    rates: list[float] = []
    for run in range(RUNS):
        sink.inbox.clear()
        with _server(tmp / f"tp{run}", sink.smtp_url) as (base, container):
            with httpx.Client(base_url=base, timeout=30) as client:
                for n, start in enumerate(weekday_starts(BOOKINGS, first_day=0)):
                    _book(client, start, n)
            dispatcher = build_outbox_dispatcher(container)
            began = time.perf_counter()
            sent = 0
            while (report := dispatcher.execute()).claimed:
                sent += report.done
            elapsed = time.perf_counter() - began
        emails = len(sink.inbox.messages())
        if emails != 2 * BOOKINGS:
            raise RuntimeError(f"expected {2 * BOOKINGS} e-mails, the sink has {emails}")
        # Google is not connected, so its rows wait unclaimed: every row sent here is an e-mail.
        rates.append(sent / elapsed)
    return rates


def _latency(tmp: Path, sink: MailSink) -> tuple[float, float]:
    off: list[float] = []
    on: list[float] = []
    with (
        _server(tmp / "off", None) as (base_off, _),
        _server(tmp / "on", sink.smtp_url) as (base_on, _),
        httpx.Client(base_url=base_off, timeout=30) as client_off,
        httpx.Client(base_url=base_on, timeout=30) as client_on,
    ):
        for round_no in range(RUNS):
            starts = weekday_starts(LATENCY_BOOKINGS, first_day=20 + 14 * round_no)
            for n, start in enumerate(starts):
                off.append(_book(client_off, start, n))
                on.append(_book(client_on, start, n))
    return statistics.median(off), statistics.median(on)


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as name, MailSink() as sink:
        tmp = Path(name)
        rates = _throughput(tmp, sink)
        off, on = _latency(tmp, sink)
    ratio = on / off
    return {
        "email_messages_per_s_median": statistics.median(rates),
        "booking_latency_email_off_median_ms": 1000 * off,
        "booking_latency_email_on_median_ms": 1000 * on,
        "booking_latency_on_off_ratio": ratio,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "targets": [
            {
                "name": "booking with e-mail on <= 1.10 x off (median)",
                "value": round(ratio, 3),
                "met": ratio <= 1.10,
            }
        ],
    }


if __name__ == "__main__":
    for metric, value in run().items():
        print(f"{metric}: {value}")
