"""The appointment entity and its status model.

    book ──(requires_payment)──> pending_payment ──confirm──> confirmed
      └──(otherwise)────────────────────────────────────────> confirmed
    pending_payment ──expire (hold ran out)──> expired
    pending_payment | confirmed ──cancel──> cancelled
    pending_payment | confirmed ──move──> the same status at another time (a Move kept)

Every transition that the outside world must hear about records a domain event in ``events``;
the unit of work moves them to the outbox in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from balance_booking.domain.availability import load_zone
from balance_booking.domain.errors import InvalidClient, InvalidInterval, InvalidTransition
from balance_booking.domain.events import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentExpired,
    AppointmentHeld,
    AppointmentMoved,
    DomainEvent,
)
from balance_booking.domain.intervals import Interval, to_utc
from balance_booking.domain.services import Service
from balance_booking.domain.slots import OccupiedTime

# The languages messages to a client are written in; the first is the default.
LANGUAGES: tuple[str, ...] = ("ru", "en")


class AppointmentStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


ACTIVE_STATUSES: frozenset[AppointmentStatus] = frozenset(
    {AppointmentStatus.PENDING_PAYMENT, AppointmentStatus.CONFIRMED}
)


class MovedBy(StrEnum):
    CLIENT = "client"
    ADMIN = "admin"


# What an appointment's client name reads once the client's fields are erased (retention or a data
# request): the appointment stays for counts and the calendar, with no one's name on it.
ERASED_NAME = "—"


@dataclass(frozen=True, slots=True)
class Client:
    """Who booked. Only the shape is checked here; the web layer validates the details.

    ``email`` is None only for a client the admin booked without one (e.g. by phone).
    """

    name: str
    email: str | None
    phone: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidClient("client name must not be empty")
        if self.email is None:
            return
        local, at, domain = (
            self.email.partition("@") if isinstance(self.email, str) else ("", "", "")
        )
        if not (local and at and domain):
            raise InvalidClient("client email must look like name@domain")


@dataclass(frozen=True, slots=True)
class Move:
    """One move of an appointment: from where to where, when and by whom (kept for the admin)."""

    sequence: int  # 1 for the first move
    from_start: datetime
    from_end: datetime
    to_start: datetime
    to_end: datetime
    moved_by: MovedBy
    moved_at: datetime


@dataclass
class Appointment:
    """A booking of one service at one time. Times are UTC; buffers are the service's at booking."""

    id: UUID
    service_slug: str
    start: datetime
    end: datetime
    buffer_before: timedelta
    buffer_after: timedelta
    client: Client
    client_timezone: str
    comment: str | None
    status: AppointmentStatus
    hold_expires_at: datetime | None
    created_at: datetime
    language: str = "ru"  # the client's language for messages (LANGUAGES)
    sequence: int = 0  # how many times it moved: the .ics SEQUENCE
    series_id: UUID | None = None  # a weekly series booked by the admin
    moves: tuple[Move, ...] = ()  # oldest first
    events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Repositories rebuild appointments through this constructor too, so a naive datetime
        # from a database driver is caught here rather than in slot arithmetic later.
        self.start = to_utc(self.start, "start")
        self.end = to_utc(self.end, "end")
        self.created_at = to_utc(self.created_at, "created_at")
        if self.hold_expires_at is not None:
            self.hold_expires_at = to_utc(self.hold_expires_at, "hold_expires_at")
        if self.end <= self.start:
            raise InvalidInterval("appointment end must be after its start")
        self.status = AppointmentStatus(self.status)
        if self.language not in LANGUAGES:
            raise InvalidClient(f"language must be one of {', '.join(LANGUAGES)}")

    @classmethod
    def book(
        cls,
        *,
        appointment_id: UUID,
        service: Service,
        start: datetime,
        client: Client,
        client_timezone: str,
        comment: str | None,
        now: datetime,
        hold: timedelta | None = None,
        language: str = LANGUAGES[0],
        confirmed_at_once: bool = False,
        series_id: UUID | None = None,
        notify_client: bool = True,
    ) -> Appointment:
        """A new appointment: a payment hold for paid services, else confirmed at once.

        `confirmed_at_once` skips the hold (the admin booking for a client arranges payment
        themselves); `notify_client` False asks for no confirmation or reminders by e-mail.
        """
        load_zone(client_timezone)
        start = to_utc(start, "start")
        now = to_utc(now, "now")
        if service.requires_payment and not confirmed_at_once:
            if hold is None or hold <= timedelta(0):
                raise ValueError(f"a payment hold must be positive, got {hold}")
            status, hold_expires_at = AppointmentStatus.PENDING_PAYMENT, now + hold
        else:
            status, hold_expires_at = AppointmentStatus.CONFIRMED, None
        appointment = cls(
            id=appointment_id,
            service_slug=service.slug,
            start=start,
            end=start + service.duration,
            buffer_before=service.buffer_before,
            buffer_after=service.buffer_after,
            client=client,
            client_timezone=client_timezone,
            comment=comment,
            status=status,
            hold_expires_at=hold_expires_at,
            created_at=now,
            language=language,
            series_id=series_id,
        )
        if status is AppointmentStatus.CONFIRMED:
            appointment.events.append(
                AppointmentConfirmed(appointment_id, now, notify_client=notify_client)
            )
        else:
            appointment.events.append(AppointmentHeld(appointment_id, now))
        return appointment

    @property
    def is_active(self) -> bool:
        """Pending or confirmed: the appointment holds its time."""
        return self.status in ACTIVE_STATUSES

    def hold_expired(self, now: datetime) -> bool:
        """True for a pending appointment whose hold has run out at ``now`` (expire() is due)."""
        return (
            self.status is AppointmentStatus.PENDING_PAYMENT
            and self.hold_expires_at is not None
            and to_utc(now, "now") >= self.hold_expires_at
        )

    def is_active_at(self, now: datetime) -> bool:
        """Like ``is_active``, but a pending hold past its expiry no longer counts.

        The worker expires holds on a schedule; readers that must not wait for it (slot listing,
        conflict checks) use this instead.
        """
        return self.is_active and not self.hold_expired(now)

    @property
    def occupied(self) -> OccupiedTime:
        return OccupiedTime(
            self.start,
            self.end,
            self.buffer_before,
            self.buffer_after,
            self.service_slug,
            held=self.status is AppointmentStatus.PENDING_PAYMENT,
        )

    def confirm(self, *, now: datetime) -> None:
        """Pending payment -> confirmed, unless the hold has already run out."""
        now = to_utc(now, "now")
        if self.status is not AppointmentStatus.PENDING_PAYMENT:
            raise InvalidTransition(f"cannot confirm an appointment that is {self.status}")
        if self.hold_expired(now):
            raise InvalidTransition("cannot confirm: the payment hold has expired")
        self.status = AppointmentStatus.CONFIRMED
        self.hold_expires_at = None
        self.events.append(AppointmentConfirmed(self.id, now, was_held=True))

    def cancel(self, *, now: datetime) -> None:
        """Pending payment or confirmed -> cancelled."""
        now = to_utc(now, "now")
        if self.status not in ACTIVE_STATUSES:
            raise InvalidTransition(f"cannot cancel an appointment that is {self.status}")
        was_confirmed = self.status is AppointmentStatus.CONFIRMED
        self.status = AppointmentStatus.CANCELLED
        self.events.append(AppointmentCancelled(self.id, now, was_confirmed=was_confirmed))

    def client_may_change(self, service: Service, *, now: datetime) -> bool:
        """Whether the client may still cancel or move it: before the service's cut-off."""
        return to_utc(now, "now") < service.change_deadline(self.start)

    def move(self, *, start: datetime, now: datetime, moved_by: MovedBy) -> None:
        """Pending payment or confirmed -> the same status at `start`, the duration kept.

        The buffers stay those it was booked with; the id and the manage token never change.
        """
        now = to_utc(now, "now")
        start = to_utc(start, "start")
        if self.status not in ACTIVE_STATUSES or self.hold_expired(now):
            raise InvalidTransition(f"cannot move an appointment that is {self.status}")
        if start == self.start:
            raise InvalidTransition("the appointment is already at that time")
        previous = Interval(self.start, self.end)
        self.start, self.end = start, start + (self.end - self.start)
        self.sequence += 1
        self.moves = (
            *self.moves,
            Move(
                sequence=self.sequence,
                from_start=previous.start,
                from_end=previous.end,
                to_start=self.start,
                to_end=self.end,
                moved_by=moved_by,
                moved_at=now,
            ),
        )
        self.events.append(
            AppointmentMoved(
                self.id,
                now,
                sequence=self.sequence,
                was_confirmed=self.status is AppointmentStatus.CONFIRMED,
                previous_start=previous.start,
            )
        )

    def expire(self, *, now: datetime) -> None:
        """Pending payment -> expired, once ``now`` has reached the hold's expiry."""
        now = to_utc(now, "now")
        if not self.hold_expired(now):
            raise InvalidTransition(
                f"cannot expire an appointment that is {self.status}"
                + (
                    " before its hold runs out"
                    if self.status is AppointmentStatus.PENDING_PAYMENT
                    else ""
                )
            )
        self.status = AppointmentStatus.EXPIRED
        self.events.append(AppointmentExpired(self.id, now))

    def as_booked(self, *, hold_expires_at: datetime | None) -> Appointment:
        """A copy showing how the booking was answered (an Idempotency-Key replay), not a change.

        As `book` decides: a payment hold until `hold_expires_at`, else confirmed at once.
        """
        status = (
            AppointmentStatus.CONFIRMED
            if hold_expires_at is None
            else AppointmentStatus.PENDING_PAYMENT
        )
        return replace(self, status=status, hold_expires_at=hold_expires_at, events=[])

    def pull_events(self) -> list[DomainEvent]:
        """Hand the recorded events to the caller (the unit of work) and forget them."""
        pulled, self.events = self.events, []
        return pulled
