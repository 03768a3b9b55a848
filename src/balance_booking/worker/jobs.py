"""Every periodic job of the product, in one list you can read top to bottom."""

from __future__ import annotations

from datetime import timedelta

from balance_booking.application.booking import ExpireHolds
from balance_booking.application.edge import PruneEdgeData
from balance_booking.application.errors import ApplicationError
from balance_booking.application.outbox import OutboxDispatcher
from balance_booking.application.privacy import ApplyRetention
from balance_booking.application.push import EnsurePushChannel
from balance_booking.application.sync_triggers import PollBusyTimes
from balance_booking.worker.loop import Job

SYNC_JITTER = 0.10  # ±10 % so several installations do not poll Google in lockstep
# A poll finding a sync younger than this share of the interval (by any process: another
# worker, a push, "Sync now") skips, so N workers make one sync per interval, not N.
FRESH_ENOUGH = 0.9
PUSH_RENEWAL_CHECK = timedelta(hours=1)


HOLD_EXPIRY_CHECK = timedelta(seconds=30)
# Confirmed bookings reach Google within seconds; an idle run is one small query.
OUTBOX_DISPATCH = timedelta(seconds=2)
PRUNE = timedelta(hours=1)
# Retention runs once a day across all workers: an hourly look at when it last ran anywhere.
RETENTION_CHECK = timedelta(hours=1)


def schedule(
    *,
    poll: PollBusyTimes,
    ensure_push: EnsurePushChannel,
    expire_holds: ExpireHolds,
    dispatch_outbox: OutboxDispatcher,
    prune_edge_data: PruneEdgeData,
    apply_retention: ApplyRetention,
    sync_interval: timedelta,
) -> list[Job]:
    """The job schedule."""

    def sync_busy_times() -> None:
        try:
            poll.execute()
        except ApplicationError:
            # Not connected, disabled or Google down: recorded by the use case; try next time.
            return

    def renew_push_channel() -> None:
        # Opens the channel if missing, replaces it within 24 h of expiry; failures are logged.
        ensure_push.execute()

    return [
        Job(name="sync_busy_times", every=sync_interval, run=sync_busy_times, jitter=SYNC_JITTER),
        Job(name="renew_push_channel", every=PUSH_RENEWAL_CHECK, run=renew_push_channel),
        # Payment holds free their slot by themselves once BALANCE_HOLD_MINUTES pass.
        Job(name="expire_holds", every=HOLD_EXPIRY_CHECK, run=expire_holds.execute),
        # Every kind of outbox message (Google Calendar writes today). Rows are claimed with
        # SKIP LOCKED and a lease, so every worker may dispatch at once: no cluster-wide lock.
        Job(
            name="dispatch_outbox",
            every=OUTBOX_DISPATCH,
            run=dispatch_outbox.execute,
            exclusive=False,
        ),
        # Idempotency-Keys (24 h), throttle counters and sign-in records age out.
        Job(name="prune_edge_data", every=PRUNE, run=prune_edge_data.execute),
        # Client fields RETENTION_DAYS after the appointment, old waitlist entries, tracking
        # events and sign-in records (docs/privacy.md); once a day, recorded in the database.
        Job(name="apply_retention", every=RETENTION_CHECK, run=apply_retention.execute),
    ]
