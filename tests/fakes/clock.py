"""A clock the test moves by hand (the same as tests/conftest.py's, importable without it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Monday 30 November 2026, 09:00 Moscow time: the start of every use-case test.
START = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class FakeStopwatch:
    """A monotonic clock (seconds) the test moves by hand, for time budgets."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
