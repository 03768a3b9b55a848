"""The process-local view of the data version, read from the database at most once a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, select

from balance_booking.adapters.db import tables as t


class CachedDataVersion:
    """`current()` is cheap: a memo refreshed after `max_age` seconds or when this process
    itself changed data (`invalidate`, wired to the unit of work's commit)."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_age: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._max_age = max_age
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._value = -1
        self._read_at = float("-inf")

    def current(self) -> int:
        now = self._monotonic()
        with self._lock:
            if now - self._read_at < self._max_age:
                return self._value
        with self._engine.connect() as connection:
            value = int(
                connection.execute(
                    select(t.data_version.c.version).where(t.data_version.c.id == 1)
                ).scalar_one()
            )
        with self._lock:
            self._value, self._read_at = value, now
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._read_at = float("-inf")
