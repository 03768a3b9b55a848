"""The public edge: how much one client address may write (API.md "Public edge").

Counters live in the database (`ThrottleRepository`), so the limit holds across web processes on
PostgreSQL; the key is a hash of the address, so no address is stored in the clear.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from balance_booking.application.errors import TooManyAttemptsError
from balance_booking.application.group_commit import GroupCommit
from balance_booking.application.ports import (
    Clock,
    Metrics,
    ThrottleCount,
    UnitOfWork,
    UnitOfWorkFactory,
)

_log = logging.getLogger(__name__)


def address_key(scope: str, address: str) -> str:
    """The throttle key of a client address: `scope:` and a hash, never the address itself."""
    return f"{scope}:{hashlib.sha256(address.encode()).hexdigest()[:40]}"


@dataclass(frozen=True, kw_only=True, slots=True)
class PublicWriteLimit:
    """Public writes (book, move, cancel, waitlist, tracking) per client address: at most
    `count` per `per`, counted in a fixed window that starts with the first write."""

    writers: UnitOfWorkFactory
    clock: Clock
    metrics: Metrics
    count: int
    per: timedelta

    # Concurrent writes from many addresses (fifty visitors racing for one slot) share one
    # transaction for their counters; each still gets its own exact count.
    _hits: GroupCommit[tuple[str, datetime], ThrottleCount] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hits", GroupCommit(writers=self.writers, write=self._hit))

    def _hit(self, uow: UnitOfWork, item: tuple[str, datetime]) -> ThrottleCount:
        key, now = item
        return uow.throttles.hit(key, now=now, window=self.per)

    def check(self, address: str) -> None:
        """Count one write from `address`; raise TooManyAttemptsError once over the limit."""
        now = self.clock.now()
        counted = self._hits.submit((address_key("write", address), now))
        if counted.count <= self.count:
            return
        self.metrics.increment("rate_limited", {"scope": "public_write"})
        _log.info("public_write_limited")
        wait = counted.first_at + self.per - now
        raise TooManyAttemptsError(
            "Too many requests from this address; please try again later.",
            retry_after_seconds=max(1, math.ceil(wait.total_seconds())),
        )


# How long each kind of edge data is kept (API.md "Public edge"; docs/admin-auth.md).
IDEMPOTENCY_KEPT = timedelta(hours=24)
THROTTLES_KEPT = timedelta(days=2)  # longer than any window or wait that reads them
SIGN_INS_KEPT = timedelta(days=30)


@dataclass(frozen=True, kw_only=True, slots=True)
class PruneEdgeData:
    """Forget what the edge only needs for a while: Idempotency-Keys after 24 h, throttle
    counters after two quiet days, sign-in records after 30 days."""

    writers: UnitOfWorkFactory
    clock: Clock

    def execute(self) -> dict[str, int]:
        now = self.clock.now()
        with self.writers() as uow:
            pruned = {
                "idempotency_keys": uow.idempotency.prune(before=now - IDEMPOTENCY_KEPT),
                "throttle_counters": uow.throttles.prune(before=now - THROTTLES_KEPT),
                "sign_ins": uow.login_attempts.prune(before=now - SIGN_INS_KEPT),
            }
            uow.commit()
        if any(pruned.values()):
            _log.info("edge_data_pruned", extra=pruned)
        return pruned
