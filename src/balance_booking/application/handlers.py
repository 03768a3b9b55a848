"""The one event -> handler registry: what the worker does with each domain event of the outbox.

Read it top to bottom; mypy checks that every kind of DomainEvent has a line here.
"""

from __future__ import annotations

from typing import assert_never

from balance_booking.application.export import (
    CreateCalendarEventForAppointment,
    DeleteCalendarEventForAppointment,
)
from balance_booking.domain.events import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentExpired,
    DomainEvent,
)


class EventHandlers:
    """Routes one outbox event to its use case; True when Google was written to."""

    def __init__(
        self,
        *,
        create_event: CreateCalendarEventForAppointment,
        delete_event: DeleteCalendarEventForAppointment,
    ) -> None:
        self._create_event = create_event
        self._delete_event = delete_event

    def __call__(self, event: DomainEvent) -> bool:
        match event:
            case AppointmentConfirmed():
                return self._create_event.execute(event.appointment_id)
            case AppointmentCancelled():
                if not event.was_confirmed:
                    return False  # a payment hold never reached the calendar
                return self._delete_event.execute(event.appointment_id)
            case AppointmentExpired():
                return False  # likewise: only confirmed appointments are exported
            case _:
                assert_never(event)
