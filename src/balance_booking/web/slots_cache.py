"""The rendered-bytes cache of the public slots endpoint: finished JSON per (service, range, zone).

The hot path: a repeated query is answered with the bytes rendered the first time, without
building or validating models again. How long bytes stay true is what ListAvailableSlots said
of the answer they were rendered from (`SlotsResult.valid`); the router asks the use case
whether that still holds. A time-to-live bounds an entry's age like the computation cache's.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from balance_booking.application.availability import Validity
from balance_booking.application.ports import Metrics

# (service slug, range start, range end, time zone name as asked)
RenderedKey = tuple[str, datetime, datetime, str]


@dataclass(frozen=True, slots=True)
class RenderedAnswer:
    """The JSON bytes of one slots answer and the validity of the answer they render."""

    body: bytes
    valid: Validity


class RenderedSlots:
    """A bounded LRU of rendered answers; at most `max_entries`, each at most `ttl_seconds` old.

    Counts a served entry as a `slots_cache` hit; a miss falls through to the use case, whose
    own cache counts the lookup then.
    """

    def __init__(
        self,
        *,
        ttl_seconds: float,
        metrics: Metrics,
        max_entries: int = 512,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._metrics = metrics
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[RenderedKey, tuple[float, RenderedAnswer]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: RenderedKey, *, still_valid: Callable[[Validity], bool]) -> bytes | None:
        """The bytes stored under `key` if `still_valid` says their answer still holds."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, answer = entry
            if self._monotonic() - stored_at >= self._ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
        if not still_valid(answer.valid):
            return None
        self._metrics.increment("slots_cache", {"result": "hit"})
        return answer.body

    def put(self, key: RenderedKey, answer: RenderedAnswer) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self._monotonic(), answer)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
