"""Small fakes: metrics, the job lock, tracking, the slots cache and push sync requests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime

from balance_booking.application.ports import CachedAvailability


class FakeMetrics:
    """Records every increment (with its labels) and the last value of every gauge."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.gauges: dict[str, float] = {}

    def increment(self, name: str, labels: dict[str, str] | None = None) -> None:
        self.counts[(name, tuple(sorted((labels or {}).items())))] += 1

    def gauge(self, name: str, value: float) -> None:
        self.gauges[name] = value

    def count(self, name: str, **labels: str) -> int:
        """Increments of `name` whose labels include `labels`."""
        wanted = set(labels.items())
        return sum(
            times
            for (counted, counted_labels), times in self.counts.items()
            if counted == name and wanted <= set(counted_labels)
        )


class FakeJobLock:
    """One holder per name in this process; `held_elsewhere` simulates another worker."""

    def __init__(self) -> None:
        self.held: set[str] = set()
        self.held_elsewhere: set[str] = set()
        self.asked: list[str] = []
        self.taken: list[str] = []

    def hold(self, name: str) -> AbstractContextManager[bool]:
        self.asked.append(name)
        return self._hold(name)

    @contextmanager
    def _hold(self, name: str) -> Iterator[bool]:
        if name in self.held or name in self.held_elsewhere:
            yield False
            return
        self.held.add(name)
        self.taken.append(name)
        try:
            yield True
        finally:
            self.held.discard(name)


class FakeTrackingSink:
    """TrackingSink outside a unit of work: remembers what was tracked."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, str], datetime]] = []

    def track(self, event: str, properties: dict[str, str], *, at: datetime) -> None:
        self.events.append((event, dict(properties), at))


class FakeSlotsCache:
    """An unbounded dict: the SlotsCache port without eviction or expiry."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, datetime, datetime], CachedAvailability] = {}

    def get(self, key: tuple[str, datetime, datetime]) -> CachedAvailability | None:
        return self.entries.get(key)

    def put(self, key: tuple[str, datetime, datetime], value: CachedAvailability) -> None:
        self.entries[key] = value


class FakeSyncRequests:
    """SyncRequests: counts requests instead of starting a background sync."""

    def __init__(self) -> None:
        self.requested = 0

    def request(self) -> bool:
        self.requested += 1
        return True
