"""A bounded LRU cache of computed availability with a time-to-live (spec: 5-15 minutes)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from balance_booking.application.ports import CachedAvailability

_Key = tuple[str, datetime, datetime]


class InMemorySlotsCache:
    """Entries expire after `ttl_seconds`; at most `max_entries` are kept (memory budget)."""

    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_entries: int = 256,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[_Key, tuple[float, CachedAvailability]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _Key) -> CachedAvailability | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, value = entry
            if self._monotonic() - stored_at >= self._ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: _Key, value: CachedAvailability) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self._monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
