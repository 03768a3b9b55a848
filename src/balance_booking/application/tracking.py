"""Product analytics: events of the tracking plan, stored for the product team."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from balance_booking.application.errors import (
    InvalidRequestError,
)
from balance_booking.application.ports import (
    Clock,
    UnitOfWorkFactory,
)

_log = logging.getLogger(__name__)


TRACKING_PLAN: dict[str, frozenset[str]] = {
    "booking_slot_selected": frozenset({"slot_start_at", "timezone", "service_slug"}),
    "booking_conflict": frozenset({"service_slug"}),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class TrackEvent:
    """Store a product-analytics event if the tracking plan knows it."""

    writers: UnitOfWorkFactory
    clock: Clock

    def execute(self, event: str, properties: dict[str, str]) -> None:
        required = TRACKING_PLAN.get(event)
        if required is None:
            raise InvalidRequestError(f"Unknown event {event!r}.", field="event")
        missing = sorted(required - properties.keys())
        if missing:
            raise InvalidRequestError(
                f"Missing properties: {', '.join(missing)}.", field="properties"
            )
        with self.writers() as uow:
            uow.tracking.track(
                event, {key: properties[key] for key in sorted(required)}, at=self.clock.now()
            )
            uow.commit()
        _log.info("tracking_event", extra={"event": event})
