"""Prometheus counters behind the Metrics port.

Collectors are module-level on purpose: Prometheus registries are process-wide and refuse a second
registration, and several apps (tests) live in one process.
"""

from __future__ import annotations

from prometheus_client import Counter

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
    "sync_runs": Counter("balance_sync_runs_total", "Busy-time syncs", ["result"]),
    "slots_cache": Counter("balance_slots_cache_total", "Availability cache lookups", ["result"]),
}


class PrometheusMetrics:
    """The Metrics port; names are the keys above (an unknown name is a programming error)."""

    def increment(self, name: str, labels: dict[str, str] | None = None) -> None:
        counter = _COUNTERS[name]
        (counter.labels(**labels) if labels else counter).inc()
