"""ListBusyBlocks: the busy time mirrored from Google Calendar, for the admin's week view."""

from __future__ import annotations

from dataclasses import dataclass

from balance_booking.application.ports import UnitOfWorkFactory
from balance_booking.domain.intervals import Interval


@dataclass(frozen=True, kw_only=True, slots=True)
class ListBusyBlocks:
    """Busy intervals of the mirror that overlap a UTC range (as of the last sync)."""

    uow_factory: UnitOfWorkFactory

    def execute(self, window: Interval) -> list[Interval]:
        with self.uow_factory() as uow:
            return uow.busy.overlapping(window)
