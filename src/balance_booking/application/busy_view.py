"""ListBusyBlocks: the busy time mirrored from Google Calendar, for the admin's week view."""

from __future__ import annotations

from dataclasses import dataclass

from balance_booking.application.ports import CalendarState, UnitOfWork, UnitOfWorkFactory
from balance_booking.domain.intervals import Interval, subtract


def busy_without_own_events(uow: UnitOfWork, window: Interval) -> list[Interval]:
    """The mirror's busy time overlapping ``window``, less the time of our own Google events.

    freeBusy answers anonymous intervals, so each confirmed appointment whose event exists in
    Google (`created`) comes back as busy time at its own start..end. The admin sees those as
    bookings; only the rest is someone else's busy time. Only the appointment's own time is
    taken out: a personal event overlapping it, or merged with it by Google, keeps the part
    that lies outside the appointment.
    """
    busy = uow.busy.overlapping(window)
    if not busy:
        return busy
    reach = Interval(min(block.start for block in busy), max(block.end for block in busy))
    own = [
        Interval(appointment.start, appointment.end)
        for appointment, event in uow.appointments.confirmed_in(reach)
        if event.state is CalendarState.CREATED
    ]
    if not own:
        return busy
    return [block for block in subtract(busy, own) if block.overlaps(window)]


@dataclass(frozen=True, kw_only=True, slots=True)
class ListBusyBlocks:
    """Busy intervals of the mirror that overlap a UTC range (as of the last sync), without the
    time of our own exported appointments."""

    uow_factory: UnitOfWorkFactory

    def execute(self, window: Interval) -> list[Interval]:
        with self.uow_factory() as uow:
            return busy_without_own_events(uow, window)
