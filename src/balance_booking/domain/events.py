"""Facts about appointments that happened; the outbox delivers them after the commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class AppointmentHeld:
    """A new appointment waits for payment: its time is held until the hold runs out."""

    appointment_id: UUID
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class AppointmentConfirmed:
    """The appointment is confirmed: it should now appear in the owner's calendar.

    ``was_held`` tells a confirmed payment hold from an appointment confirmed at booking;
    ``notify_client`` is False when the admin booked it and asked for no e-mail to the client.
    """

    appointment_id: UUID
    occurred_at: datetime
    was_held: bool = False
    notify_client: bool = True


@dataclass(frozen=True, slots=True)
class AppointmentCancelled:
    """The appointment was cancelled; ``was_confirmed`` says whether a calendar event exists."""

    appointment_id: UUID
    occurred_at: datetime
    was_confirmed: bool


@dataclass(frozen=True, slots=True)
class AppointmentExpired:
    """An unpaid hold ran out; its time is free again."""

    appointment_id: UUID
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class AppointmentMoved:
    """The appointment moved to another time (same id, same manage token).

    ``sequence`` counts the moves so far (the .ics SEQUENCE); ``was_confirmed`` says whether a
    calendar event exists to be moved in place; ``previous_start`` is where it was.
    """

    appointment_id: UUID
    occurred_at: datetime
    sequence: int
    was_confirmed: bool
    previous_start: datetime


DomainEvent = (
    AppointmentHeld
    | AppointmentConfirmed
    | AppointmentCancelled
    | AppointmentExpired
    | AppointmentMoved
)
