"""Sync triggers that run by themselves: coalesced push-triggered syncs and the periodic poll."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from balance_booking.application.errors import (
    ApplicationError,
)
from balance_booking.application.ports import (
    Clock,
    UnitOfWorkFactory,
)
from balance_booking.application.sync import SyncCalendarBusyTimes, SyncReport

_log = logging.getLogger(__name__)

# Push-triggered syncs per process: at most one start per second (2 freeBusy calls/s stays
# far below Google's per-user rate), and pushes arriving during a sync wait for a pause of
# half a second (5 s at most) so a whole burst is picked up by one more sync.
PUSH_SYNC_SPACING_SECONDS = 1.0
PUSH_QUIET_SECONDS = 0.5
PUSH_MAX_WAIT_SECONDS = 5.0


class SyncCoalescer:
    """At most one running and one pending sync per process; asking never blocks.

    A request after `quiet_seconds` of calm syncs at once. Any other request folds into one
    pending run, which starts once requests pause for `quiet_seconds` (or at the latest
    `max_wait_seconds` after the first of them), and never sooner than `min_spacing_seconds`
    after the previous start. So a burst of pushes without such a pause,
    up to `max_wait_seconds` long, costs at most two syncs: one for its start, one for the rest.
    The worker thread exists only while there is work.
    """

    def __init__(
        self,
        sync: Callable[[], object],
        *,
        min_spacing_seconds: float = PUSH_SYNC_SPACING_SECONDS,
        quiet_seconds: float = PUSH_QUIET_SECONDS,
        max_wait_seconds: float = PUSH_MAX_WAIT_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sync = sync
        self._spacing = min_spacing_seconds
        self._quiet = quiet_seconds
        self._max_wait = max_wait_seconds
        self._monotonic = monotonic
        self._cond = threading.Condition()
        self._running = False
        self._pending = False
        self._leading = False
        self._closed = False
        self._pending_since = 0.0
        self._last_request: float | None = None
        self._last_start: float | None = None
        self._thread: threading.Thread | None = None

    def request(self) -> bool:
        """Ask for a sync soon; True when this started the worker, False when folded in."""
        with self._cond:
            if self._closed:
                return False
            now = self._monotonic()
            calm = self._last_request is None or now - self._last_request >= self._quiet
            if not self._pending:
                self._pending_since = now
                self._leading = calm
            self._pending = True
            self._last_request = now
            if self._running:
                self._cond.notify_all()
                return False
            self._running = True
            self._thread = threading.Thread(
                target=self._work, name="balance-push-sync", daemon=True
            )
            self._thread.start()
            return True

    def _delay(self, now: float) -> float:
        """Seconds until the pending run may start (0 or less: now)."""
        spacing = 0.0 if self._last_start is None else self._last_start + self._spacing - now
        if self._leading or self._last_request is None:
            return spacing
        settled = min(self._last_request + self._quiet, self._pending_since + self._max_wait)
        return max(spacing, settled - now)

    def _work(self) -> None:
        while True:
            with self._cond:
                if not self._pending or self._closed:
                    self._running = False
                    self._cond.notify_all()
                    return
                delay = self._delay(self._monotonic())
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                self._pending = False
                self._leading = False
                self._last_start = self._monotonic()
            try:
                self._sync()
            except ApplicationError:
                pass  # not connected or Google down: the sync use case recorded and logged it
            except Exception:  # noqa: BLE001 - the worker thread must survive any one failure
                _log.exception("push_sync_failed")

    def wait_idle(self, timeout: float) -> bool:
        """Block until no sync runs or waits; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self, timeout: float = 30.0) -> None:
        """Drop any pending run, let a running one finish, refuse new requests."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self.wait_idle(timeout)


@dataclass(frozen=True, kw_only=True, slots=True)
class PollBusyTimes:
    """The periodic trigger: sync unless some process synced within `min_age`.

    Run under the job's cluster-wide lock, so of several workers due at about the same time the
    first syncs and the others see a fresh `last_sync_at` and skip: one sync per interval.
    """

    sync: SyncCalendarBusyTimes
    readers: UnitOfWorkFactory
    clock: Clock
    min_age: timedelta

    def execute(self) -> SyncReport | None:
        """The sync's report, or None when a recent sync made this one unnecessary."""
        with self.readers() as uow:
            last = uow.integration.get().last_sync_at
        if last is not None and self.clock.now() - last < self.min_age:
            _log.debug("busy_sync_skipped", extra={"last_sync_at": last.isoformat()})
            return None
        return self.sync.execute()
