"""Prometheus counters and gauges behind the Metrics port.

Collectors are module-level on purpose: Prometheus registries are process-wide and refuse a second
registration, and several apps (tests) live in one process.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, start_http_server

_COUNTERS: dict[str, Counter] = {
    "google_connected": Counter(
        "balance_google_connected_total", "Google Calendar connections completed"
    ),
    "google_token_refreshed": Counter(
        "balance_google_token_refreshed_total", "Google access tokens refreshed"
    ),
    "google_access_revoked": Counter(
        "balance_google_access_revoked_total",
        "Google access lost (invalid_grant or undecryptable tokens)",
        ["reason"],
    ),
    "google_oauth_client_rejected": Counter(
        "balance_google_oauth_client_rejected_total",
        "Token refreshes refused because of our OAuth client (invalid/deleted/unauthorized)",
        ["error"],
    ),
    "google_writes_paused": Counter(
        "balance_google_writes_paused_total",
        "Times Google answered quotaExceeded and writes were paused for hours",
    ),
    "bookings": Counter("balance_bookings_total", "Appointments booked", ["status"]),
    "booking_conflicts": Counter("balance_booking_conflicts_total", "Bookings refused (409)"),
    "already_booked": Counter(
        "balance_booking_already_booked_total",
        "Bookings of a slot the same client already holds (409 already_booked)",
    ),
    "live_checks": Counter(
        "balance_live_checks_total",
        "Booking-time checks of Google's busy time: asked, skipped as the mirror was fresh, "
        "or timed out (LIVE_CHECK_TIMEOUT_SECONDS)",
        ["result"],
    ),
    "rate_limited": Counter(
        "balance_rate_limited_total", "Requests refused by a rate limit (429)", ["scope"]
    ),
    "sync_runs": Counter("balance_sync_runs_total", "Busy-time syncs", ["result"]),
    "google_writes": Counter(
        "balance_google_writes_total",
        "Event writes to Google Calendar (export and reconciliation)",
        ["operation", "result"],
    ),
    "outbox_parked": Counter(
        "balance_outbox_parked_total", "Outbox rows parked after a permanent failure", ["event"]
    ),
    "calendar_reconciled": Counter(
        "balance_calendar_reconciled_total",
        "Exported events repaired by a sync (restored, moved_back, removed, failed)",
        ["action"],
    ),
    "slots_cache": Counter("balance_slots_cache_total", "Availability cache lookups", ["result"]),
    "push_notifications": Counter(
        "balance_push_notifications_total",
        "Google push deliveries (sync_scheduled, ignored, unknown_channel, rejected)",
        ["result"],
    ),
    "push_channels": Counter(
        "balance_push_channels_total", "Push channels opened or failed to open", ["result"]
    ),
}

_GAUGES: dict[str, Gauge] = {
    "outbox_backlog": Gauge(
        "balance_outbox_backlog", "Outbox rows waiting for delivery (as last seen by a dispatcher)"
    ),
}


class PrometheusMetrics:
    """The Metrics port; names are the keys above (an unknown name is a programming error)."""

    def increment(self, name: str, labels: dict[str, str] | None = None) -> None:
        counter = _COUNTERS[name]
        (counter.labels(**labels) if labels else counter).inc()

    def gauge(self, name: str, value: float) -> None:
        _GAUGES[name].set(value)


def serve_metrics(*, host: str, port: int) -> None:
    """Serve this process's registry at http://host:port/metrics from a daemon thread.

    For processes without the web app (`balance-booking worker`, or the worker thread of
    `serve --workers N`, whose parent serves no requests): the export, outbox and poll series.
    """
    start_http_server(port, addr=host)
