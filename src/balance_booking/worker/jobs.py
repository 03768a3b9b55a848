"""Every periodic job of the product, in one list you can read top to bottom."""

from __future__ import annotations

from datetime import timedelta

from balance_booking.application.errors import ApplicationError
from balance_booking.application.sync import SyncCalendarBusyTimes
from balance_booking.worker.loop import Job

SYNC_JITTER = 0.10  # ±10 % so several installations do not poll Google in lockstep


def schedule(*, sync: SyncCalendarBusyTimes, sync_interval: timedelta) -> list[Job]:
    """The job schedule."""

    def sync_busy_times() -> None:
        try:
            sync.execute()
        except ApplicationError:
            # Not connected, disabled or Google down: recorded by the use case; try next time.
            return

    return [
        Job(name="sync_busy_times", every=sync_interval, run=sync_busy_times, jitter=SYNC_JITTER),
    ]
