"""The process-local view of the data version, read from the database at most once a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, select

from balance_booking.adapters.db import tables as t

_VERSION = select(t.data_version.c.version).where(t.data_version.c.id == 1)


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
        # Single flight: when the memo runs out under load, one thread reads the database and
        # the others wait for its answer (fifty requests at once used to take fifty
        # connections for the same row, and PostgreSQL a new backend for most of them).
        self._refresh = threading.Lock()
        self._value = -1
        self._read_at = float("-inf")
        self._invalidations = 0

    def current(self) -> int:
        now = self._monotonic()
        with self._lock:
            if now - self._read_at < self._max_age:
                return self._value
        with self._refresh:
            with self._lock:  # read by the thread this one waited for, after this call began?
                if self._read_at >= now:
                    return self._value
                invalidations = self._invalidations
            with self._engine.connect() as connection:
                value = int(connection.execute(_VERSION).scalar_one())
            with self._lock:
                self._value = value
                # A commit of this process during the read may have moved the version past
                # what was read: then the next call reads again.
                if invalidations == self._invalidations:
                    self._read_at = now
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._invalidations += 1
            self._read_at = float("-inf")
