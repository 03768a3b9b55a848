"""Ports of booking: services, schedule, appointments, idempotency keys, waitlist, tracking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from balance_booking.domain.appointments import Appointment
from balance_booking.domain.availability import Availability
from balance_booking.domain.intervals import Interval
from balance_booking.domain.offers import EntryStatus, Offer
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

    def held_at(self, service_slug: str, start: datetime, *, now: datetime) -> list[Appointment]:
        """Active appointments (confirmed, or a payment hold still running at `now`) of this
        service starting exactly at `start`: who already holds that slot."""
        ...

    def claim_confirmation_resend(
        self, appointment_id: UUID, *, now: datetime, every: timedelta
    ) -> bool:
        """Note that the confirmation is re-sent now, unless it was re-sent less than `every`
        ago (then False and nothing changes); atomic, so two retries at once re-send once."""
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
    status: EntryStatus = EntryStatus.WAITING
    notified_at: datetime | None = None  # no window: told once that free times are back
    language: str = "ru"  # of the page it joined from, and of its e-mails

    @property
    def window(self) -> Interval | None:
        if self.preferred_from is None or self.preferred_to is None:
            return None
        return Interval(self.preferred_from, self.preferred_to)


class WaitlistRepository(Protocol):
    """Waitlist entries, oldest first."""

    def add(self, entry: WaitlistEntry) -> None: ...
    def get(self, entry_id: UUID) -> WaitlistEntry | None: ...
    def waiting(self, *, limit: int) -> list[WaitlistEntry]:
        """Entries with a window, waiting for an offer, longest-waiting first."""
        ...

    def to_notify(self, *, limit: int) -> list[WaitlistEntry]:
        """Waiting entries without a window that were not told yet that times are back."""
        ...

    def open_for(self, service_slug: str, email: str) -> list[WaitlistEntry]:
        """Entries of this service and address (compared case-insensitively) still waiting or
        offered a time, oldest first."""
        ...

    def set_status(self, entry_id: UUID, status: EntryStatus) -> None: ...
    def mark_notified(self, entry_id: UUID, *, at: datetime) -> None: ...
    def delete(self, entry_id: UUID) -> bool: ...
    def list(self) -> list[WaitlistEntry]: ...  # last: its name shadows the builtin below it


class OfferRepository(Protocol):
    """Waitlist offers (their open ones also hold time: AppointmentRepository.occupied_overlapping
    reports them beside appointments)."""

    def add(self, offer: Offer, *, token_hash: str) -> None: ...
    def get(self, offer_id: UUID) -> Offer | None: ...
    def get_for_update(self, offer_id: UUID) -> Offer | None: ...
    def token_hash(self, offer_id: UUID) -> str | None: ...
    def save(self, offer: Offer) -> None: ...
    def run_out(self, now: datetime, *, limit: int) -> list[Offer]:
        """Open offers whose time to answer is over."""
        ...

    def of_entry(self, entry_id: UUID) -> list[Offer]:
        """Every offer an entry had, oldest first."""
        ...

    def open_of_entries(self) -> dict[UUID, Offer]:
        """The open offer of each entry that has one (for the admin's list)."""
        ...


class TrackingSink(Protocol):
    """Product analytics events (tracking plan: booking_slot_selected, booking_conflict)."""

    def track(self, event: str, properties: dict[str, str], *, at: datetime) -> None: ...
