"""Ports of the slots cache (computed availability and its renderings)."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    # Finished answers rendered by the caller (e.g. JSON in one zone), by variant; each is valid
    # until the entry is, and no longer than its own `fresh_until`. Bounded: see MAX_RENDERED.
    rendered: dict[str, RenderedAnswer] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RenderedAnswer:
    """A caller's rendering of an availability answer, and until when it stays the same."""

    body: bytes
    fresh_until: datetime | None


class SlotsCache(Protocol):
    """A bounded, process-local cache of computed availability."""

    def get(self, key: tuple[str, datetime, datetime]) -> CachedAvailability | None: ...
    def put(self, key: tuple[str, datetime, datetime], value: CachedAvailability) -> None: ...
