"""Moving an appointment (the client with the manage token, or the admin) and the admin's own
bookings: one for a client who phoned, or a weekly series; cancelling the rest of a series.

Every change runs under the guards of booking (application/booking.py): checked locally, then
live against Google (never holding a write lock meanwhile), then written under the database guard
(SQLite: BEGIN IMMEDIATE and a re-check; PostgreSQL: the exclusion constraint). A move keeps the
appointment's id and manage token; its Google event moves in place through the outbox.

The client is held to the public rules (the time must be offered, before the service's change
cut-off). The admin may book and move inside the minimum notice, beyond the horizon, past the
daily limit and outside working hours, but never onto busy or booked time (domain/collisions.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from balance_booking.application.audit import describe_target, ids_target
from balance_booking.application.availability import load_availability
from balance_booking.application.booking import CHANGE_WINDOW_CLOSED, Booked, ManageTokens
from balance_booking.application.errors import (
    ApplicationError,
    ChangeWindowClosedError,
    ConflictError,
    NotFoundError,
    SlotTakenError,
)
from balance_booking.application.messages import Messages
from balance_booking.application.ports import Clock, UnitOfWork, UnitOfWorkFactory
from balance_booking.application.slot_guard import (
    BookingRequest,
    SlotGuard,
    SlotSnapshot,
    SlotUnavailableError,
)
from balance_booking.domain.appointments import LANGUAGES, Appointment, Client, MovedBy
from balance_booking.domain.availability import load_zone
from balance_booking.domain.collisions import Collision, collisions, weekly_starts
from balance_booking.domain.errors import InvalidTransition
from balance_booking.domain.intervals import Interval, merge, subtract

_log = logging.getLogger(__name__)


class CollisionError(ApplicationError):
    """The admin's time (or some occurrences of a series) meets busy or booked time.

    `conflicts` names every colliding occurrence with its first reason; nothing was stored.
    """

    def __init__(self, message: str, *, conflicts: list[tuple[Interval, Collision]]) -> None:
        super().__init__(message)
        self.conflicts = conflicts


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminBookingRequest:
    """What the admin books for a client: one time, or `weekly` occurrences from it."""

    service_slug: str
    start: datetime
    timezone: str  # the client's, for their messages and the answer
    client: Client
    comment: str | None
    notify: bool  # e-mail the client a confirmation and reminders
    weekly: int | None = None  # a weekly series of that many occurrences
    language: str = LANGUAGES[0]


def find_collisions(
    uow: UnitOfWork,
    snapshot: SlotSnapshot,
    slots: Sequence[Interval],
    *,
    now: datetime,
    extra_busy: Sequence[Interval] = (),
    moving: Appointment | None = None,
) -> list[tuple[Interval, Collision]]:
    """The admin's test: each slot's first collision, with what the database says now."""
    service = snapshot.service
    span = Interval(
        min(slot.start for slot in slots) - service.buffer_before,
        max(slot.end for slot in slots) + service.buffer_after,
    )
    busy = uow.busy.overlapping(span) if snapshot.use_busy else []
    exclude = None
    if moving is not None:  # its own Google event is busy time until the move reaches Google
        busy = subtract(busy, [Interval(moving.start, moving.end)])
        exclude = moving.id
    busy = merge([*busy, *extra_busy])
    occupied = uow.appointments.occupied_overlapping(span, now=now, exclude=exclude)
    found = []
    for slot in slots:
        reasons = collisions(
            slot=slot,
            buffer_before=service.buffer_before,
            buffer_after=service.buffer_after,
            busy=busy,
            appointments=occupied,
            now=now,
        )
        if reasons:
            found.append((slot, reasons[0]))
    return found


def _refuse(found: list[tuple[Interval, Collision]]) -> CollisionError:
    return CollisionError("This time collides with busy or booked time.", conflicts=found)


@dataclass(frozen=True, kw_only=True, slots=True)
class BookForClient:
    """The admin books one time, or a weekly series, for a client: all or nothing."""

    guard: SlotGuard
    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    clock: Clock
    messages: Messages
    manage_tokens: ManageTokens

    def execute(self, request: AdminBookingRequest) -> list[Booked]:
        load_zone(request.timezone)
        now = self.clock.now()
        snapshot = self.guard.snapshot(request.service_slug, now=now)
        service = snapshot.service
        with self.readers() as uow:
            owner_zone = load_availability(uow, default_timezone=self.guard.default_timezone)
            starts = weekly_starts(request.start, request.weekly or 1, owner_zone.timezone)
            slots = [Interval(start, start + service.duration) for start in starts]
            found = find_collisions(uow, snapshot, slots, now=now)
        if found:
            raise _refuse(found)
        span = Interval(
            slots[0].start - service.buffer_before, slots[-1].end + service.buffer_after
        )
        live = self.guard.live_busy_in(snapshot, span, now=now)
        if live:
            with self.readers() as uow:
                found = find_collisions(uow, snapshot, slots, now=now, extra_busy=live)
            if found:
                raise _refuse(found)
        series_id = uuid.uuid4() if request.weekly is not None else None
        try:
            return self._insert(
                request, snapshot, slots=slots, series_id=series_id, live=live, now=now
            )
        except SlotTakenError:
            # PostgreSQL's guard saw a concurrent writer: name what collides now.
            with self.readers() as uow:
                found = find_collisions(uow, snapshot, slots, now=now, extra_busy=live)
            raise _refuse(found) from None

    def _insert(
        self,
        request: AdminBookingRequest,
        snapshot: SlotSnapshot,
        *,
        slots: list[Interval],
        series_id: UUID | None,
        live: list[Interval],
        now: datetime,
    ) -> list[Booked]:
        booked = []
        with self.writers() as uow:
            found = find_collisions(uow, snapshot, slots, now=now, extra_busy=live)
            if found:
                raise _refuse(found)
            for lapsed in uow.appointments.due_holds(now):
                lapsed.expire(now=now)
                self.messages.save_appointment(uow, lapsed, now=now)
            for slot in slots:
                appointment = Appointment.book(
                    appointment_id=uuid.uuid4(),
                    service=snapshot.service,
                    start=slot.start,
                    client=request.client,
                    client_timezone=request.timezone,
                    comment=request.comment,
                    now=now,
                    language=request.language,
                    confirmed_at_once=True,
                    series_id=series_id,
                    notify_client=request.notify,
                )
                token = self.manage_tokens.token(appointment.id)
                self.messages.add_appointment(
                    uow, appointment, manage_token_hash=self.manage_tokens.hash(token), now=now
                )
                booked.append(Booked(appointment=appointment, manage_token=token, replayed=False))
            describe_target(ids_target("appointment", [b.appointment.id for b in booked]))
            uow.commit()
        _log.info(
            "admin_booked",
            extra={"occurrences": len(booked), "series_id": str(series_id) if series_id else None},
        )
        return booked


@dataclass(frozen=True, kw_only=True, slots=True)
class RescheduleAppointment:
    """Move an appointment to `start`: the client (token) under the public rules and the
    cut-off, the admin (no token) under the admin's. Same id, same manage token."""

    guard: SlotGuard
    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    clock: Clock
    messages: Messages
    manage_tokens: ManageTokens

    def execute(
        self,
        appointment_id: UUID,
        *,
        start: datetime,
        token: str | None,
        timezone: str | None = None,
    ) -> Appointment:
        now = self.clock.now()
        by = MovedBy.ADMIN if token is None else MovedBy.CLIENT
        current = self._current(appointment_id, token, now=now)
        if timezone is not None:
            load_zone(timezone)
        if current.start == start:
            return current  # already there: nothing to move
        snapshot = self.guard.snapshot(current.service_slug, now=now)
        if by is MovedBy.CLIENT and not current.client_may_change(snapshot.service, now=now):
            raise ChangeWindowClosedError(CHANGE_WINDOW_CLOSED)
        service = snapshot.service
        slot = Interval(start, start + (current.end - current.start))
        request = BookingRequest(
            service_slug=current.service_slug,
            start=start,
            timezone=timezone or current.client_timezone,
            client=current.client,
            comment=current.comment,
        )
        try:
            self._check(snapshot, current, request, slot, by=by, extra_busy=[], now=now)
            buffered = slot.expanded(before=service.buffer_before, after=service.buffer_after)
            # The appointment's own event is busy in Google until the move reaches it.
            live = subtract(
                self.guard.live_busy(snapshot, buffered, now=now),
                [Interval(current.start, current.end)],
            )
            if any(busy.overlaps(buffered) for busy in live):
                self._check(snapshot, current, request, slot, by=by, extra_busy=live, now=now)
            return self._write(
                appointment_id, token, snapshot=snapshot, request=request, slot=slot, by=by, now=now
            )
        except SlotTakenError:
            # PostgreSQL's guard saw a concurrent writer: answer as a conflict found earlier.
            self._check(snapshot, current, request, slot, by=by, extra_busy=[], now=now)
            raise ConflictError("The time was taken a moment ago.") from None
        except SlotUnavailableError:
            if by is MovedBy.CLIENT:
                self.guard.record_conflict(current.service_slug, now=now)
            raise

    def _current(self, appointment_id: UUID, token: str | None, *, now: datetime) -> Appointment:
        with self.readers() as uow:
            appointment = self._owned(uow, appointment_id, token, lock=False)
        if not appointment.is_active_at(now):
            raise ConflictError(f"The appointment is {appointment.status}; it cannot be moved.")
        return appointment

    def _owned(
        self, uow: UnitOfWork, appointment_id: UUID, token: str | None, *, lock: bool = True
    ) -> Appointment:
        """The appointment (locked for the write); a wrong token looks like an unknown id."""
        if token is not None:
            stored = uow.appointments.manage_token_hash(appointment_id)
            if not self.manage_tokens.matches(stored, token):
                raise NotFoundError("Unknown appointment.")
        appointments = uow.appointments
        appointment = (appointments.get_for_update if lock else appointments.get)(appointment_id)
        if appointment is None:
            raise NotFoundError("Unknown appointment.")
        return appointment

    def _check(
        self,
        snapshot: SlotSnapshot,
        current: Appointment,
        request: BookingRequest,
        slot: Interval,
        *,
        by: MovedBy,
        extra_busy: list[Interval],
        now: datetime,
        uow: UnitOfWork | None = None,
    ) -> None:
        """Raise the conflict if `slot` cannot take the appointment (in `uow`, or a reader): the
        client's under the public rules (409 with alternatives), the admin's with collisions."""
        if uow is None:
            with self.readers() as reader:
                self._check(
                    snapshot,
                    current,
                    request,
                    slot,
                    by=by,
                    extra_busy=extra_busy,
                    now=now,
                    uow=reader,
                )
            return
        moving = Interval(current.start, current.end)
        if by is MovedBy.CLIENT:
            if not self.guard.offered(
                uow,
                snapshot,
                slot.start,
                now=now,
                extra_busy=extra_busy,
                moving=moving,
                exclude=current.id,
            ):
                raise self.guard.conflict(
                    uow,
                    snapshot,
                    request,
                    now=now,
                    extra_busy=extra_busy,
                    moving=moving,
                    exclude=current.id,
                )
            return
        found = find_collisions(
            uow, snapshot, [slot], now=now, extra_busy=extra_busy, moving=current
        )
        if found:
            raise _refuse(found)

    def _write(
        self,
        appointment_id: UUID,
        token: str | None,
        *,
        snapshot: SlotSnapshot,
        request: BookingRequest,
        slot: Interval,
        by: MovedBy,
        now: datetime,
    ) -> Appointment:
        with self.writers() as uow:
            appointment = self._owned(uow, appointment_id, token)
            if not appointment.is_active_at(now):
                raise ConflictError(f"The appointment is {appointment.status}; it cannot be moved.")
            if by is MovedBy.CLIENT and not appointment.client_may_change(
                snapshot.service, now=now
            ):
                raise ChangeWindowClosedError(CHANGE_WINDOW_CLOSED)
            # Re-checked under the write lock (SQLite) / before the constraint (PostgreSQL).
            self._check(
                snapshot, appointment, request, slot, by=by, extra_busy=[], now=now, uow=uow
            )
            for lapsed in uow.appointments.due_holds(now):
                lapsed.expire(now=now)
                self.messages.save_appointment(uow, lapsed, now=now)
            try:
                appointment.move(start=slot.start, now=now, moved_by=by)
            except InvalidTransition as exc:
                raise ConflictError(str(exc)) from exc
            self.messages.save_appointment(uow, appointment, now=now)
            uow.commit()
        _log.info(
            "appointment_moved",
            extra={"appointment_id": str(appointment_id), "by": by.value},
        )
        return appointment


_CLOSED = "This appointment can no longer be changed online; please contact the practitioner."


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelSeries:
    """Cancel the occurrences of a weekly series that have not started yet."""

    writers: UnitOfWorkFactory
    clock: Clock
    messages: Messages

    def execute(self, series_id: UUID) -> int:
        now = self.clock.now()
        cancelled = 0
        with self.writers() as uow:
            occurrences = uow.appointments.in_series(series_id)
            if not occurrences:
                raise NotFoundError("Unknown series.")
            for appointment in occurrences:
                if appointment.start > now and appointment.is_active:
                    appointment.cancel(now=now)
                    self.messages.save_appointment(uow, appointment, now=now)
                    cancelled += 1
            uow.commit()
        return cancelled
