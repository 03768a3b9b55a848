"""ListBusyBlocks: the busy time mirrored from Google Calendar, for the admin's week view."""

from __future__ import annotations

from balance_booking.application.ports import UnitOfWorkFactory
from balance_booking.domain.intervals import Interval


class ListBusyBlocks:
    """Busy intervals of the mirror that overlap a UTC range (as of the last sync)."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def execute(self, window: Interval) -> list[Interval]:
        with self._uow_factory() as uow:
            return uow.busy.overlapping(window)
