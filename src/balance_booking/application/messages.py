"""The one domain event -> outbox messages registry: what each fact asks to be delivered.

Read it top to bottom; mypy checks that every kind of DomainEvent has a line here. Use cases
store an appointment through `add_appointment` / `save_appointment`, which queue the messages of
its new events in the same transaction (DESIGN.md section 6: side effects after commit).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import assert_never
from uuid import UUID

from balance_booking.application.ports import (
    NewMessage,
    OutboxKind,
    OutboxMessage,
    Payload,
    UnitOfWork,
)
from balance_booking.domain.appointments import Appointment
from balance_booking.domain.events import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentExpired,
    DomainEvent,
)


def messages_for(event: DomainEvent) -> list[NewMessage]:
    """The outbox messages one domain event calls for."""
    match event:
        case AppointmentConfirmed():
            return [calendar_message(event)]  # the event appears in the owner's calendar
        case AppointmentCancelled():
            # A payment hold never reached the calendar: only a confirmed one has an event to go.
            return [calendar_message(event)] if event.was_confirmed else []
        case AppointmentExpired():
            return []  # likewise: only confirmed appointments are exported
        case _:
            assert_never(event)


def queue_messages(uow: UnitOfWork, events: Iterable[DomainEvent], *, now: datetime) -> None:
    """Queue the messages of `events` in the outbox of this unit of work (not committed)."""
    messages = [message for event in events for message in messages_for(event)]
    if messages:
        uow.outbox.append(messages, now=now)


def add_appointment(
    uow: UnitOfWork, appointment: Appointment, *, manage_token_hash: str, now: datetime
) -> None:
    """Insert a new appointment and queue the messages of its events, in one transaction."""
    events = appointment.pull_events()
    uow.appointments.add(appointment, manage_token_hash=manage_token_hash, now=now)
    queue_messages(uow, events, now=now)


def save_appointment(uow: UnitOfWork, appointment: Appointment, *, now: datetime) -> None:
    """Store an appointment's new state and queue the messages of its events, in one transaction."""
    events = appointment.pull_events()
    uow.appointments.save(appointment, now=now)
    queue_messages(uow, events, now=now)


def calendar_message(event: DomainEvent) -> NewMessage:
    """A google_calendar message carries the domain event itself (its id and time, no client)."""
    payload: dict[str, str | bool] = {
        "appointment_id": str(event.appointment_id),
        "occurred_at": event.occurred_at.isoformat(),
    }
    if isinstance(event, AppointmentCancelled):
        payload["was_confirmed"] = event.was_confirmed
    return NewMessage(
        kind=OutboxKind.GOOGLE_CALENDAR,
        topic=type(event).__name__,
        payload=payload,
        appointment_id=event.appointment_id,
    )


def event_of(message: OutboxMessage) -> DomainEvent | None:
    """The domain event a google_calendar message was written from; None if it cannot be read."""
    if message.payload is None:
        return None
    return _event(message.topic, message.payload)


def _event(topic: str, data: Payload) -> DomainEvent | None:
    try:
        appointment_id = UUID(str(data["appointment_id"]))
        occurred_at = datetime.fromisoformat(str(data["occurred_at"]))
        if topic == AppointmentCancelled.__name__:
            was_confirmed = data["was_confirmed"]
            if not isinstance(was_confirmed, bool):
                return None
            return AppointmentCancelled(appointment_id, occurred_at, was_confirmed=was_confirmed)
        if topic == AppointmentConfirmed.__name__:
            return AppointmentConfirmed(appointment_id, occurred_at)
        if topic == AppointmentExpired.__name__:
            return AppointmentExpired(appointment_id, occurred_at)
    except (ValueError, KeyError, TypeError):
        return None
    return None
