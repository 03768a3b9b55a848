"""Appointments and the Idempotency-Key store: SQL rows in, domain objects out."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    delete,
    func,
    insert,
    not_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.changes import ChangeTracker
from balance_booking.adapters.db.types import UtcDateTime
from balance_booking.application.errors import SlotTakenError
from balance_booking.application.ports import (
    CalendarEventState,
    CalendarState,
    StoredResponse,
)
from balance_booking.domain.appointments import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Client,
    Move,
    MovedBy,
)
from balance_booking.domain.intervals import Interval
from balance_booking.domain.offers import OfferStatus
from balance_booking.domain.slots import OccupiedTime

_ACTIVE = [status.value for status in ACTIVE_STATUSES]


def _minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


def _appointment(row: Row[Any], moves: tuple[Move, ...] = ()) -> Appointment:
    return Appointment(
        id=row.id,
        service_slug=row.service_slug,
        start=row.start_at,
        end=row.end_at,
        buffer_before=timedelta(minutes=row.buffer_before_minutes),
        buffer_after=timedelta(minutes=row.buffer_after_minutes),
        client=Client(name=row.client_name, email=row.client_email, phone=row.client_phone),
        client_timezone=row.client_timezone,
        comment=row.comment,
        status=AppointmentStatus(row.status),
        hold_expires_at=row.hold_expires_at,
        created_at=row.created_at,
        language=row.language,
        sequence=row.sequence,
        series_id=row.series_id,
        moves=moves,
    )


def _occupied(row: Any, *, held: bool) -> OccupiedTime:  # appointment or offer columns
    return OccupiedTime(
        start=row.start_at,
        end=row.end_at,
        buffer_before=timedelta(minutes=row.buffer_before_minutes),
        buffer_after=timedelta(minutes=row.buffer_after_minutes),
        service_slug=row.service_slug,
        held=held,
    )


def _move(row: Row[Any]) -> Move:
    return Move(
        sequence=row.sequence,
        from_start=row.from_start_at,
        from_end=row.from_end_at,
        to_start=row.to_start_at,
        to_end=row.to_end_at,
        moved_by=MovedBy(row.moved_by),
        moved_at=row.moved_at,
    )


def _event_state(row: Any) -> CalendarEventState:  # any row with the two columns
    return CalendarEventState(
        event_id=row.google_event_id, state=CalendarState(row.calendar_sync_state)
    )


# The slots miss path and every booking check read occupied time: the statements are built
# once per shape and only bound afterwards (building one, with its cache key, cost more than
# running it on SQLite). Parameters: start, end (the window), now, exclude.
_START = bindparam("start", type_=UtcDateTime)
_END = bindparam("end", type_=UtcDateTime)
_NOW = bindparam("now", type_=UtcDateTime)


@cache
def _occupied_overlapping(*, with_now: bool, with_exclude: bool) -> Any:
    c = t.appointments.c
    conditions = [c.status.in_(_ACTIVE), c.blocked_start_at < _END, c.blocked_end_at > _START]
    if with_exclude:
        conditions.append(c.id != bindparam("exclude", type_=c.id.type))
    if with_now:
        lapsed = and_(
            c.status == AppointmentStatus.PENDING_PAYMENT.value, c.hold_expires_at <= _NOW
        )
        conditions.append(not_(lapsed))
    return (
        select(
            c.start_at,
            c.end_at,
            c.buffer_before_minutes,
            c.buffer_after_minutes,
            c.service_slug,
            c.status,
        )
        .where(*conditions)
        .order_by(c.blocked_start_at)
    )


@cache
def _open_offers(*, with_now: bool, with_exclude: bool) -> Any:
    o = t.waitlist_offers.c
    conditions = [
        o.status == OfferStatus.OPEN.value,
        o.blocked_start_at < _END,
        o.blocked_end_at > _START,
    ]
    if with_now:
        conditions.append(o.expires_at > _NOW)
    if with_exclude:
        conditions.append(o.id != bindparam("exclude", type_=o.id.type))
    return select(
        o.start_at,
        o.end_at,
        o.buffer_before_minutes,
        o.buffer_after_minutes,
        o.service_slug,
    ).where(*conditions)


def _earliest_expiry(columns: Any, expires_at: Any, status: str) -> Any:
    """When the first hold of `status` overlapping the window runs out (one table's rows)."""
    return select(func.min(expires_at, type_=UtcDateTime)).where(
        columns.status == status,
        expires_at > _NOW,
        columns.blocked_start_at < _END,
        columns.blocked_end_at > _START,
    )


_NEXT_HOLD_EXPIRY = _earliest_expiry(
    t.appointments.c, t.appointments.c.hold_expires_at, AppointmentStatus.PENDING_PAYMENT.value
)
_NEXT_OFFER_EXPIRY = _earliest_expiry(
    t.waitlist_offers.c, t.waitlist_offers.c.expires_at, OfferStatus.OPEN.value
)


class SqlAppointments:
    """Appointments (their domain events reach the outbox through application/messages.py)."""

    def __init__(self, connection: Connection, changes: ChangeTracker) -> None:
        self._connection = connection
        self._changes = changes

    def occupied_overlapping(
        self, window: Interval, *, now: datetime | None = None, exclude: UUID | None = None
    ) -> list[OccupiedTime]:
        params = {"start": window.start, "end": window.end, "now": now, "exclude": exclude}
        rows = self._connection.execute(
            _occupied_overlapping(with_now=now is not None, with_exclude=exclude is not None),
            params,
        )
        pending = AppointmentStatus.PENDING_PAYMENT.value
        occupied = [_occupied(row, held=row.status == pending) for row in rows]
        # Waitlist offers hold their time like payment holds (API.md "Waitlist offers").
        offers = self._connection.execute(
            _open_offers(with_now=now is not None, with_exclude=exclude is not None), params
        )
        held = [_occupied(row, held=True) for row in offers]
        return sorted([*occupied, *held], key=lambda item: item.start) if held else occupied

    def next_hold_expiry(self, window: Interval, *, now: datetime) -> datetime | None:
        params = {"start": window.start, "end": window.end, "now": now}
        value: datetime | None = self._connection.execute(
            _NEXT_HOLD_EXPIRY, params
        ).scalar_one_or_none()
        # A waitlist offer that runs out frees its time too.
        offer: datetime | None = self._connection.execute(
            _NEXT_OFFER_EXPIRY, params
        ).scalar_one_or_none()
        return min((v for v in (value, offer) if v is not None), default=None)

    def add(self, appointment: Appointment, *, manage_token_hash: str, now: datetime) -> None:
        blocked = appointment.occupied.blocked
        values = {
            "id": appointment.id,
            "service_slug": appointment.service_slug,
            "start_at": appointment.start,
            "end_at": appointment.end,
            "blocked_start_at": blocked.start,
            "blocked_end_at": blocked.end,
            "buffer_before_minutes": _minutes(appointment.buffer_before),
            "buffer_after_minutes": _minutes(appointment.buffer_after),
            "client_timezone": appointment.client_timezone,
            "language": appointment.language,
            "client_name": appointment.client.name,
            "client_email": appointment.client.email,
            "client_phone": appointment.client.phone,
            "comment": appointment.comment,
            "status": appointment.status.value,
            "hold_expires_at": appointment.hold_expires_at,
            "sequence": appointment.sequence,
            "series_id": appointment.series_id,
            "manage_token_hash": manage_token_hash,
            "calendar_sync_state": CalendarState.PENDING.value,
            "created_at": now,
            "updated_at": now,
        }
        self._guarded(insert(t.appointments).values(**values))
        self._changes.mark()

    def _guarded(self, statement: Any) -> None:
        """Run an insert or update the PostgreSQL exclusion constraint may refuse; a savepoint
        keeps the surrounding transaction usable if it does."""
        try:
            with self._connection.begin_nested():
                self._connection.execute(statement)
        except IntegrityError as exc:
            if "ex_appointments_no_overlap" in str(exc.orig):
                raise SlotTakenError("The slot was taken a moment ago.") from exc
            raise

    def get(self, appointment_id: UUID) -> Appointment | None:
        row = self._connection.execute(
            select(t.appointments).where(t.appointments.c.id == appointment_id)
        ).first()
        return None if row is None else self._with_moves([row])[0]

    def get_for_update(self, appointment_id: UUID) -> Appointment | None:
        query = select(t.appointments).where(t.appointments.c.id == appointment_id)
        if self._connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        return None if row is None else self._with_moves([row])[0]

    def _with_moves(self, rows: list[Row[Any]]) -> list[Appointment]:
        """Appointments from rows, with the move history of those that ever moved."""
        moved = [row.id for row in rows if row.sequence]
        history: dict[UUID, list[Move]] = {}
        if moved:
            m = t.appointment_moves.c
            for move_row in self._connection.execute(
                select(t.appointment_moves)
                .where(m.appointment_id.in_(moved))
                .order_by(m.appointment_id, m.sequence)
            ):
                history.setdefault(move_row.appointment_id, []).append(_move(move_row))
        return [_appointment(row, tuple(history.get(row.id, ()))) for row in rows]

    def save(self, appointment: Appointment, *, now: datetime) -> None:
        c = t.appointments.c
        stored = self._connection.execute(
            select(c.sequence).where(c.id == appointment.id)
        ).scalar_one()
        values: dict[str, Any] = {
            "status": appointment.status.value,
            "hold_expires_at": appointment.hold_expires_at,
            "updated_at": now,
        }
        if appointment.sequence != stored:  # it moved: the time and the guard's interval too
            blocked = appointment.occupied.blocked
            values |= {
                "start_at": appointment.start,
                "end_at": appointment.end,
                "blocked_start_at": blocked.start,
                "blocked_end_at": blocked.end,
                "sequence": appointment.sequence,
            }
        self._guarded(update(t.appointments).where(c.id == appointment.id).values(**values))
        new_moves = [move for move in appointment.moves if move.sequence > stored]
        if new_moves:
            self._connection.execute(
                insert(t.appointment_moves),
                [
                    {
                        "appointment_id": appointment.id,
                        "sequence": move.sequence,
                        "from_start_at": move.from_start,
                        "from_end_at": move.from_end,
                        "to_start_at": move.to_start,
                        "to_end_at": move.to_end,
                        "moved_by": move.moved_by.value,
                        "moved_at": move.moved_at,
                    }
                    for move in new_moves
                ],
            )
        self._changes.mark()

    def active_future_count(self, *, email: str | None, phone: str | None, now: datetime) -> int:
        c = t.appointments.c
        live = [
            c.status.in_(_ACTIVE),
            c.start_at > now,
            not_(
                and_(c.status == AppointmentStatus.PENDING_PAYMENT.value, c.hold_expires_at <= now)
            ),
        ]
        contacts = [
            func.lower(c.client_email) == email.lower() if email is not None else None,
            c.client_phone == phone if phone is not None else None,
        ]
        return max(
            [
                self._connection.execute(
                    select(func.count()).select_from(t.appointments).where(*live, matches)
                ).scalar_one()
                for matches in contacts
                if matches is not None
            ],
            default=0,
        )

    def held_at(self, service_slug: str, start: datetime, *, now: datetime) -> list[Appointment]:
        c = t.appointments.c
        rows = self._connection.execute(
            select(t.appointments).where(
                c.service_slug == service_slug,
                c.start_at == start,
                c.status.in_(_ACTIVE),
                not_(
                    and_(
                        c.status == AppointmentStatus.PENDING_PAYMENT.value,
                        c.hold_expires_at <= now,
                    )
                ),
            )
        )
        return self._with_moves(list(rows))

    def claim_confirmation_resend(
        self, appointment_id: UUID, *, now: datetime, every: timedelta
    ) -> bool:
        c = t.appointments.c
        # One conditional UPDATE: of two retries at once, only one finds the old value.
        claimed = self._connection.execute(
            update(t.appointments)
            .where(
                c.id == appointment_id,
                (c.confirmation_resent_at.is_(None)) | (c.confirmation_resent_at <= now - every),
            )
            .values(confirmation_resent_at=now)
        )
        return claimed.rowcount == 1

    def in_series(self, series_id: UUID) -> list[Appointment]:
        c = t.appointments.c
        rows = list(
            self._connection.execute(
                select(t.appointments).where(c.series_id == series_id).order_by(c.start_at)
            )
        )
        return self._with_moves(rows)

    def manage_token_hash(self, appointment_id: UUID) -> str | None:
        value: str | None = self._connection.execute(
            select(t.appointments.c.manage_token_hash).where(t.appointments.c.id == appointment_id)
        ).scalar_one_or_none()
        return value

    def due_holds(self, now: datetime) -> list[Appointment]:
        c = t.appointments.c
        rows = self._connection.execute(
            select(t.appointments).where(
                c.status == AppointmentStatus.PENDING_PAYMENT.value, c.hold_expires_at <= now
            )
        )
        return self._with_moves(list(rows))

    def calendar_event(self, appointment_id: UUID) -> CalendarEventState:
        c = t.appointments.c
        row = self._connection.execute(
            select(c.google_event_id, c.calendar_sync_state).where(c.id == appointment_id)
        ).one()
        return _event_state(row)

    def set_calendar_event(
        self, appointment_id: UUID, *, event_id: str | None, state: CalendarState, now: datetime
    ) -> None:
        self._connection.execute(
            update(t.appointments)
            .where(t.appointments.c.id == appointment_id)
            .values(google_event_id=event_id, calendar_sync_state=state.value, updated_at=now)
        )

    def listing(
        self, window: Interval, *, status: str | None
    ) -> list[tuple[Appointment, CalendarEventState]]:
        c = t.appointments.c
        query = (
            select(t.appointments)
            .where(c.start_at < window.end, c.end_at > window.start)
            .order_by(c.start_at)
        )
        if status is not None:
            query = query.where(c.status == status)
        rows = list(self._connection.execute(query))
        return list(zip(self._with_moves(rows), map(_event_state, rows), strict=True))

    def confirmed_in(self, window: Interval) -> list[tuple[Appointment, CalendarEventState]]:
        return self.listing(window, status=AppointmentStatus.CONFIRMED.value)


class SqlIdempotencyKeys:
    """Idempotency-Key -> the first successful booking response."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, key: str) -> StoredResponse | None:
        c = t.idempotency_keys.c
        row = self._connection.execute(
            select(c.request_hash, c.appointment_id, c.response).where(c.key == key)
        ).first()
        return (
            None
            if row is None
            else StoredResponse(row.request_hash, row.appointment_id, row.response)
        )

    def add(self, key: str, response: StoredResponse, *, now: datetime) -> None:
        self._connection.execute(
            insert(t.idempotency_keys).values(
                key=key,
                request_hash=response.request_hash,
                appointment_id=response.appointment_id,
                response=response.body,
                created_at=now,
            )
        )

    def prune(self, *, before: datetime) -> int:
        c = t.idempotency_keys.c
        result = self._connection.execute(delete(t.idempotency_keys).where(c.created_at < before))
        return int(result.rowcount)
