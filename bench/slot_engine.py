"""Slot engine benchmark: one year of Mon-Fri 09:00-18:00 Europe/Berlin.

A 50-minute service on a 60-minute grid with 10-minute buffers both sides, against 1,000 and
10,000 seeded random busy events. Targets (issue 2): median under 5 ms for 1,000 events and
t(10,000) / t(1,000) under 15; the speed-up over the brute-force oracle of the tests is reported.
Timings are medians of several runs with the garbage collector paused, as timeit does.
"""

from __future__ import annotations

import gc
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta

from tests.unit.domain.oracle import oracle_slots

from balance_booking.domain.availability import Availability, LocalWindow, load_zone, local_to_utc
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from balance_booking.domain.slots import TimeSlot, available_slots

TIMEZONE = "Europe/Berlin"
SEED = 20260101
TARGET_1K_MS = 5.0
TARGET_RATIO = 15.0
REPEATS_1K = 21
REPEATS_10K = 9
REPEATS_ORACLE = 3
# Busy events of a real calendar: mostly short meetings, some long blocks.
EVENT_MINUTES = (15, 30, 30, 45, 60, 60, 60, 90, 120, 180, 240)

SERVICE = Service(
    slug="consultation",
    title="Консультация",
    duration=timedelta(minutes=50),
    slot_step=timedelta(minutes=60),
    buffer_before=timedelta(minutes=10),
    buffer_after=timedelta(minutes=10),
    max_days_ahead=366,
)
AVAILABILITY = Availability(
    timezone=TIMEZONE,
    weekly={weekday: (LocalWindow.parse("09:00", "18:00"),) for weekday in range(5)},
)
_ZONE = load_zone(TIMEZONE)
YEAR = Interval(local_to_utc(date(2026, 1, 1), 0, _ZONE), local_to_utc(date(2027, 1, 1), 0, _ZONE))
NOW = YEAR.start


def busy_events(count: int, *, seed: int = SEED) -> list[Interval]:
    """``count`` events spread uniformly over the year (any hour), whole minutes, seeded."""
    rng = random.Random(seed)
    year_minutes = int(YEAR.duration / timedelta(minutes=1))
    events = []
    for _ in range(count):
        start = YEAR.start + timedelta(minutes=rng.randrange(year_minutes))
        events.append(Interval(start, start + timedelta(minutes=rng.choice(EVENT_MINUTES))))
    return events


def _engine(busy: list[Interval]) -> Callable[[], list[TimeSlot]]:
    return lambda: available_slots(
        service=SERVICE, availability=AVAILABILITY, busy=busy, appointments=(), window=YEAR, now=NOW
    )


def _oracle(busy: list[Interval]) -> Callable[[], list[TimeSlot]]:
    return lambda: oracle_slots(
        service=SERVICE, availability=AVAILABILITY, busy=busy, appointments=(), window=YEAR, now=NOW
    )


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    call()  # warm caches (zone files, the zone-name list) so they do not count
    times = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            began = time.perf_counter()
            call()
            times.append(time.perf_counter() - began)
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(times)


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run() -> dict[str, object]:
    busy_1k = busy_events(1_000)
    busy_10k = busy_events(10_000)

    slots_1k = _engine(busy_1k)()
    slots_10k = _engine(busy_10k)()
    oracle_agrees = slots_1k == _oracle(busy_1k)()

    t_1k = median_seconds(_engine(busy_1k), REPEATS_1K)
    t_10k = median_seconds(_engine(busy_10k), REPEATS_10K)
    t_oracle = median_seconds(_oracle(busy_1k), REPEATS_ORACLE)
    ratio = t_10k / t_1k
    return {
        "slots with 1k busy": len(slots_1k),
        "slots with 10k busy": len(slots_10k),
        "median 1k busy (ms)": t_1k * 1000,
        "target 1k (ms)": TARGET_1K_MS,
        "1k within target": t_1k * 1000 < TARGET_1K_MS,
        "median 10k busy (ms)": t_10k * 1000,
        "t(10k)/t(1k)": ratio,
        "ratio within target (< 15)": ratio < TARGET_RATIO,
        "oracle median 1k (ms)": t_oracle * 1000,
        "oracle/engine on 1k": t_oracle / t_1k,
        "engine == oracle on 1k": oracle_agrees,
        "peak RSS (MiB)": _peak_rss_mib(),
        "targets": [
            {
                "name": "slot engine median < 5 ms with 1,000 busy events",
                "value": t_1k * 1000,
                "met": t_1k * 1000 < TARGET_1K_MS,
            },
            {
                "name": "slot engine t(10,000) / t(1,000) < 15",
                "value": ratio,
                "met": ratio < TARGET_RATIO,
            },
        ],
    }
