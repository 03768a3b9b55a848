"""Waitlist offers: a freed slot held for one waitlist entry until it is accepted, declined or
the offer runs out (API.md "Waitlist offers"; docs/waitlist.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from balance_booking.domain.errors import InvalidTransition
from balance_booking.domain.intervals import Interval, to_utc
from balance_booking.domain.services import Service
from balance_booking.domain.slots import OccupiedTime


class EntryStatus(StrEnum):
    """Where a waitlist entry stands."""

    WAITING = "waiting"  # in the queue for a slot in its window
    OFFERED = "offered"  # a slot is held for it now
    BOOKED = "booked"  # it accepted an offer
    EXPIRED = "expired"  # it let an offer run out, or its window has passed


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the time could not be booked after all (e.g. busy in Google)


@dataclass(slots=True, kw_only=True)
class Offer:
    """One freed slot held for one entry; it holds the slot (with the service's buffers) exactly
    as a payment hold does, until `expires_at`."""

    id: UUID
    entry_id: UUID
    service_slug: str
    start: datetime
    end: datetime
    buffer_before: timedelta
    buffer_after: timedelta
    status: OfferStatus
    expires_at: datetime
    created_at: datetime
    decided_at: datetime | None = None
    appointment_id: UUID | None = None

    @classmethod
    def make(
        cls,
        *,
        offer_id: UUID,
        entry_id: UUID,
        service: Service,
        start: datetime,
        now: datetime,
        hold: timedelta,
    ) -> Offer:
        start = to_utc(start, "start")
        return cls(
            id=offer_id,
            entry_id=entry_id,
            service_slug=service.slug,
            start=start,
            end=start + service.duration,
            buffer_before=service.buffer_before,
            buffer_after=service.buffer_after,
            status=OfferStatus.OPEN,
            expires_at=to_utc(now, "now") + hold,
            created_at=to_utc(now, "now"),
        )

    @property
    def slot(self) -> Interval:
        return Interval(self.start, self.end)

    @property
    def blocked(self) -> Interval:
        return self.slot.expanded(before=self.buffer_before, after=self.buffer_after)

    def is_open_at(self, now: datetime) -> bool:
        return self.status is OfferStatus.OPEN and now < self.expires_at

    def occupied(self) -> OccupiedTime:
        return OccupiedTime(
            start=self.start,
            end=self.end,
            buffer_before=self.buffer_before,
            buffer_after=self.buffer_after,
            service_slug=self.service_slug,
            held=True,  # explained as "held", like a payment hold
        )

    def _close(self, status: OfferStatus, *, now: datetime) -> None:
        if self.status is not OfferStatus.OPEN:
            raise InvalidTransition(f"the offer is {self.status.value}")
        self.status = status
        self.decided_at = to_utc(now, "now")

    def accept(self, appointment_id: UUID, *, now: datetime) -> None:
        if now >= self.expires_at:
            raise InvalidTransition("the offer has run out")
        self._close(OfferStatus.ACCEPTED, now=now)
        self.appointment_id = appointment_id

    def decline(self, *, now: datetime) -> None:
        self._close(OfferStatus.DECLINED, now=now)

    def expire(self, *, now: datetime) -> None:
        self._close(OfferStatus.EXPIRED, now=now)

    def withdraw(self, *, now: datetime) -> None:
        self._close(OfferStatus.WITHDRAWN, now=now)
