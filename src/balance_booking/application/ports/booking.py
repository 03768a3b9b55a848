"""Ports of booking: services, schedule, appointments, idempotency keys, waitlist, tracking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from balance_booking.domain.appointments import Appointment
from balance_booking.domain.availability import Availability
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from balance_booking.domain.slots import OccupiedTime


class ServiceRepository(Protocol):
    """Session types."""

    def list(self, *, active_only: bool) -> list[Service]: ...
    def get(self, slug: str) -> Service | None: ...
    def add(self, service: Service) -> None: ...
    def update(self, service: Service) -> None: ...
    def delete(self, slug: str) -> bool: ...


class ScheduleRepository(Protocol):
    """The owner's weekly hours and date overrides."""

    def get(self) -> Availability | None: ...
    def save(self, availability: Availability) -> None: ...


class AppointmentRepository(Protocol):
    """Appointments (their domain events reach the outbox through application/messages.py)."""

    def occupied_overlapping(
        self, window: Interval, *, now: datetime | None = None, exclude: UUID | None = None
    ) -> list[OccupiedTime]:
        """Active appointments whose buffered time overlaps `window`; with `now`, pending holds
        that ran out by then no longer count; `exclude` leaves one appointment out (the one
        being moved)."""
        ...

    def next_hold_expiry(self, window: Interval, *, now: datetime) -> datetime | None:
        """When the earliest live payment hold overlapping `window` runs out (cache validity)."""
        ...

    def add(self, appointment: Appointment, *, manage_token_hash: str, now: datetime) -> None:
        """Insert; raises SlotTakenError when the database guard refuses an overlap."""
        ...

    def get(self, appointment_id: UUID) -> Appointment | None: ...
    def get_for_update(self, appointment_id: UUID) -> Appointment | None: ...
    def save(self, appointment: Appointment, *, now: datetime) -> None:
        """Store its status and, after a move, its time and the move (history kept); raises
        SlotTakenError when the database guard refuses the new time."""
        ...

    def active_future_count(self, *, email: str | None, phone: str | None, now: datetime) -> int:
        """The most future active appointments one of these contacts holds (e-mail compared
        case-insensitively; each contact counted on its own)."""
        ...

    def in_series(self, series_id: UUID) -> list[Appointment]:
        """Every occurrence of a weekly series, by start."""
        ...

    def manage_token_hash(self, appointment_id: UUID) -> str | None: ...
    def due_holds(self, now: datetime) -> list[Appointment]: ...
    def calendar_event(self, appointment_id: UUID) -> CalendarEventState: ...
    def set_calendar_event(
        self, appointment_id: UUID, *, event_id: str | None, state: CalendarState, now: datetime
    ) -> None: ...
    def listing(
        self, window: Interval, *, status: str | None
    ) -> list[tuple[Appointment, CalendarEventState]]: ...
    def confirmed_in(self, window: Interval) -> list[tuple[Appointment, CalendarEventState]]: ...


class CalendarState(StrEnum):
    """Where an appointment's Google event stands (API.md `calendar_event.state`)."""

    PENDING = "pending"  # not exported yet (or never will be: holds, cancelled before export)
    CREATED = "created"
    FAILED = "failed"  # Google refused for good; the outbox row is parked
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class CalendarEventState:
    """An appointment's Google event: its id (once exported) and where it stands."""

    event_id: str | None
    state: CalendarState


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A booking response kept for Idempotency-Key replays."""

    request_hash: str
    appointment_id: UUID
    body: str


class IdempotencyRepository(Protocol):
    """Idempotency-Key -> the first response."""

    def get(self, key: str) -> StoredResponse | None: ...
    def add(self, key: str, response: StoredResponse, *, now: datetime) -> None: ...
    def prune(self, *, before: datetime) -> int:
        """Forget keys stored before `before`; how many."""
        ...


@dataclass(frozen=True, slots=True)
class WaitlistEntry:
    """A client asking to be told when a slot frees up."""

    entry_id: UUID
    service_slug: str
    name: str
    email: str
    phone: str | None
    timezone: str
    preferred_from: datetime | None
    preferred_to: datetime | None
    comment: str | None
    created_at: datetime


class WaitlistRepository(Protocol):
    """Waitlist entries."""

    def add(self, entry: WaitlistEntry) -> None: ...
    def list(self) -> list[WaitlistEntry]: ...


class TrackingSink(Protocol):
    """Product analytics events (tracking plan: booking_slot_selected, booking_conflict)."""

    def track(self, event: str, properties: dict[str, str], *, at: datetime) -> None: ...
