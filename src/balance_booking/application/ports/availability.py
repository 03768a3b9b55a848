"""Port of the slots computation cache (the rendered bytes are web/'s own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from balance_booking.application.ports.integration import CalendarLink
from balance_booking.domain.availability import Availability
from balance_booking.domain.services import Service
from balance_booking.domain.slots import TimeSlot


@dataclass(frozen=True, slots=True)
class CachedAvailability:
    """Everything ListAvailableSlots computed for a (service, range), tagged with its version."""

    version: int
    service: Service
    availability: Availability
    link: CalendarLink
    slots: tuple[TimeSlot, ...]
    valid_until: datetime | None  # a payment hold runs out then: recompute after it


class SlotsCache(Protocol):
    """A bounded, process-local cache of computed availability."""

    def get(self, key: tuple[str, datetime, datetime]) -> CachedAvailability | None: ...
    def put(self, key: tuple[str, datetime, datetime], value: CachedAvailability) -> None: ...
