"""The system clock: the production implementation of the Clock port."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Real time, UTC-aware."""

    def now(self) -> datetime:
        return datetime.now(UTC)
