"""An in-memory unit of work: every repository of application/ports.py over plain Python data.

Transactions are honest in the one way a single-threaded test can see: entering a unit of work
takes a private working copy of the committed state, every repository reads and writes that
copy, `commit()` swaps it in, and leaving without a commit throws it away. A commit that would
silently overwrite changes another unit of work committed in the meantime raises instead
(`LostUpdateError`): SQL would have serialised or merged the two, a dict cannot, and a use case
that nests writers is breaking the one-transaction-per-call rule anyway.

What it does NOT mimic (tests/contract names each of these): row locks and SKIP LOCKED, SQLite's
BEGIN IMMEDIATE, PostgreSQL's exclusion constraint under real concurrency (the overlap guard here
is a check inside one commit), and unique-constraint violations other than the overlap guard.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self
from uuid import UUID

from balance_booking.application.errors import SlotTakenError
from balance_booking.application.ports import (
    AdminSession,
    AdminSessionRepository,
    AdminToken,
    AdminTokenRepository,
    AdminUser,
    AdminUserRepository,
    AppointmentRepository,
    AuditEntry,
    AuditLog,
    BusyRepository,
    CalendarEventState,
    CalendarLink,
    CalendarState,
    ClientDataRepository,
    ConsentRecord,
    IdempotencyRepository,
    IntegrationRecord,
    IntegrationRepository,
    LoginAttemptRepository,
    OAuthState,
    OAuthStateRepository,
    OfferRepository,
    OutboxRepository,
    ScheduleRepository,
    ServiceRepository,
    StoredResponse,
    ThrottleCount,
    ThrottleRepository,
    TrackingSink,
    UnitOfWork,
    WaitlistEntry,
    WaitlistRepository,
)
from balance_booking.application.ports.integration import blocking_ids
from balance_booking.domain.appointments import (
    ACTIVE_STATUSES,
    ERASED_NAME,
    Appointment,
    AppointmentStatus,
    Client,
)
from balance_booking.domain.availability import Availability
from balance_booking.domain.intervals import Interval, subtract
from balance_booking.domain.offers import EntryStatus, Offer, OfferStatus
from balance_booking.domain.services import Service
from balance_booking.domain.slots import OccupiedTime
from tests.fakes.outbox import FakeOutbox, FakeOutboxRow

_CONNECTED_STATUSES = frozenset({"connected", "needs_reauth", "error"})


class LostUpdateError(RuntimeError):
    """Two units of work changed the fake database at once; the later commit would erase the
    earlier one's changes."""


@dataclass
class StoredAppointment:
    appointment: Appointment
    manage_token_hash: str
    event_id: str | None = None
    sync_state: CalendarState = CalendarState.PENDING
    created_at: datetime | None = None
    updated_at: datetime | None = None
    confirmation_resent_at: datetime | None = None


@dataclass
class StoredAdmin:
    user: AdminUser
    created_at: datetime
    last_login_at: datetime | None = None


@dataclass(frozen=True)
class LoginAttempt:
    email: str
    client_ip: str
    succeeded: bool
    at: datetime


@dataclass(frozen=True)
class TrackedEvent:
    event: str
    properties: dict[str, str]
    at: datetime


@dataclass
class FakeState:
    """Everything the database holds, as plain data (one committed copy per FakeDatabase)."""

    services: dict[str, Service] = field(default_factory=dict)  # insertion order = position
    schedule: Availability | None = None
    busy: list[tuple[Interval, str]] = field(default_factory=list)
    appointments: dict[UUID, StoredAppointment] = field(default_factory=dict)
    idempotency: dict[str, StoredResponse] = field(default_factory=dict)
    idempotency_at: dict[str, datetime] = field(default_factory=dict)
    waitlist: list[WaitlistEntry] = field(default_factory=list)
    tracking: list[TrackedEvent] = field(default_factory=list)
    admin_tokens: dict[str, AdminToken] = field(default_factory=dict)  # by hash
    integration: IntegrationRecord | None = None
    integration_updated_at: datetime | None = None
    oauth_states: dict[str, OAuthState] = field(default_factory=dict)
    admin_users: dict[int, StoredAdmin] = field(default_factory=dict)
    admin_sessions: dict[str, AdminSession] = field(default_factory=dict)
    login_attempts: list[LoginAttempt] = field(default_factory=list)
    throttles: dict[str, ThrottleCount] = field(default_factory=dict)  # values are frozen
    outbox: dict[int, FakeOutboxRow] = field(default_factory=dict)
    offers: dict[UUID, Offer] = field(default_factory=dict)
    offer_tokens: dict[UUID, str] = field(default_factory=dict)
    consents: list[ConsentRecord] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    erased_at: dict[UUID, datetime] = field(default_factory=dict)
    erase_requested_at: dict[UUID, datetime] = field(default_factory=dict)
    retention_last_run: datetime | None = None
    next_id: int = 1
    data_version: int = 1

    def copy(self) -> FakeState:
        """A copy sharing only immutable values (frozen dataclasses), like a fresh read would."""
        return replace(
            self,
            services=dict(self.services),
            busy=list(self.busy),
            appointments={
                key: replace(stored, appointment=_copy_appointment(stored.appointment))
                for key, stored in self.appointments.items()
            },
            idempotency=dict(self.idempotency),
            idempotency_at=dict(self.idempotency_at),
            waitlist=list(self.waitlist),
            tracking=list(self.tracking),
            admin_tokens=dict(self.admin_tokens),
            integration=copy.deepcopy(self.integration),
            oauth_states=dict(self.oauth_states),
            admin_users={key: replace(stored) for key, stored in self.admin_users.items()},
            admin_sessions=dict(self.admin_sessions),
            login_attempts=list(self.login_attempts),
            throttles=dict(self.throttles),
            outbox=dict(self.outbox),  # rows are frozen
            offers={key: copy.copy(offer) for key, offer in self.offers.items()},
            offer_tokens=dict(self.offer_tokens),
            consents=list(self.consents),
            audit=list(self.audit),
            erased_at=dict(self.erased_at),
            erase_requested_at=dict(self.erase_requested_at),
        )

    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value


def _copy_appointment(appointment: Appointment) -> Appointment:
    return replace(appointment, events=list(appointment.events))


class _Tx:
    """What the repositories of one unit of work share: the working copy and two flags."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.written = False  # anything at all was written
        self.changed = False  # something availability depends on: bumps the data version

    def write(self, *, availability: bool = False) -> FakeState:
        self.written = True
        self.changed = self.changed or availability
        return self.state


class FakeServices:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def list(self, *, active_only: bool) -> list[Service]:
        return [s for s in self._tx.state.services.values() if s.active or not active_only]

    def get(self, slug: str) -> Service | None:
        return self._tx.state.services.get(slug)

    def add(self, service: Service) -> None:
        self._tx.write(availability=True).services[service.slug] = service

    def update(self, service: Service) -> None:
        state = self._tx.write(availability=True)
        if service.slug in state.services:
            state.services[service.slug] = service

    def delete(self, slug: str) -> bool:
        state = self._tx.state
        if any(s.appointment.service_slug == slug for s in state.appointments.values()):
            return False
        self._tx.write(availability=True).services.pop(slug, None)
        return True


class FakeSchedule:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def get(self) -> Availability | None:
        return self._tx.state.schedule

    def save(self, availability: Availability) -> None:
        # Stored as rows, a weekday without windows is no row at all: it reads back absent.
        weekly = {day: windows for day, windows in availability.weekly.items() if windows}
        self._tx.write(availability=True).schedule = Availability(
            timezone=availability.timezone,
            weekly=weekly,
            overrides=dict(availability.overrides),
            vacations=availability.vacations,
        )


class FakeBusy:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def overlapping(self, window: Interval) -> list[Interval]:
        found = [i for i, _ in self._tx.state.busy if i.overlaps(window)]
        return sorted(found, key=lambda i: i.start)

    def clear(self) -> None:
        self._tx.write(availability=True).busy = []

    def replace_all(self, intervals: list[Interval], *, source: str) -> bool:
        current = sorted((i.start, i.end) for i, _ in self._tx.state.busy)
        fresh = sorted((i.start, i.end) for i in intervals)
        if current == fresh:
            return False
        self._tx.write(availability=True).busy = [(Interval(s, e), source) for s, e in fresh]
        return True

    def forget(self, interval: Interval) -> None:
        if any(block.overlaps(interval) for block, _ in self._tx.state.busy):
            state = self._tx.write(availability=True)
            state.busy = _forget(state.busy, interval)


def _forget(busy: list[tuple[Interval, str]], interval: Interval) -> list[tuple[Interval, str]]:
    return [
        (piece, source)
        for block, source in busy
        for piece in (subtract([block], [interval]) if block.overlaps(interval) else [block])
    ]


class FakeAppointments:
    """Appointments; like PostgreSQL's exclusion constraint, `add` refuses an active overlap."""

    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def _rows(self) -> list[StoredAppointment]:
        return sorted(self._tx.state.appointments.values(), key=lambda s: s.appointment.start)

    def occupied_overlapping(
        self, window: Interval, *, now: datetime | None = None, exclude: UUID | None = None
    ) -> list[OccupiedTime]:
        found = []
        for stored in self._rows():
            appointment = stored.appointment
            if appointment.status not in ACTIVE_STATUSES or appointment.id == exclude:
                continue
            if now is not None and appointment.hold_expired(now):
                continue
            if appointment.occupied.blocked.overlaps(window):
                found.append(appointment.occupied)
        found.extend(  # waitlist offers hold time too
            offer.occupied()
            for offer in self._tx.state.offers.values()
            if offer.status is OfferStatus.OPEN
            and offer.id != exclude
            and (now is None or offer.expires_at > now)
            and offer.blocked.overlaps(window)
        )
        return sorted(found, key=lambda o: o.blocked.start)

    def next_hold_expiry(self, window: Interval, *, now: datetime) -> datetime | None:
        expiries = [
            s.appointment.hold_expires_at
            for s in self._rows()
            if s.appointment.status is AppointmentStatus.PENDING_PAYMENT
            and s.appointment.hold_expires_at is not None
            and s.appointment.hold_expires_at > now
            and s.appointment.occupied.blocked.overlaps(window)
        ]
        expiries += [
            o.expires_at
            for o in self._tx.state.offers.values()
            if o.status is OfferStatus.OPEN and o.expires_at > now and o.blocked.overlaps(window)
        ]
        return min(expiries, default=None)

    def _guard(self, appointment: Appointment) -> None:
        """The exclusion constraint: no two active appointments' buffered times overlap."""
        blocked = appointment.occupied.blocked
        if appointment.status in ACTIVE_STATUSES:
            for stored in self._tx.state.appointments.values():
                other = stored.appointment
                if (
                    other.id != appointment.id
                    and other.status in ACTIVE_STATUSES
                    and other.occupied.blocked.overlaps(blocked)
                ):
                    raise SlotTakenError("The slot was taken a moment ago.")

    def add(self, appointment: Appointment, *, manage_token_hash: str, now: datetime) -> None:
        self._guard(appointment)
        state = self._tx.write(availability=True)
        state.appointments[appointment.id] = StoredAppointment(
            # The row's created_at is the insert time, whatever the object said.
            appointment=replace(_copy_appointment(appointment), created_at=now),
            manage_token_hash=manage_token_hash,
            created_at=now,
            updated_at=now,
        )

    def get(self, appointment_id: UUID) -> Appointment | None:
        stored = self._tx.state.appointments.get(appointment_id)
        return None if stored is None else _copy_appointment(stored.appointment)

    def get_for_update(self, appointment_id: UUID) -> Appointment | None:
        return self.get(appointment_id)

    def save(self, appointment: Appointment, *, now: datetime) -> None:
        state = self._tx.write(availability=True)
        stored = state.appointments.get(appointment.id)
        if stored is not None:
            # Like the SQL UPDATE: the status and the hold, and after a move the time too.
            moved = appointment.sequence != stored.appointment.sequence
            if moved:
                self._guard(appointment)
            stored.appointment = replace(
                stored.appointment,
                status=appointment.status,
                hold_expires_at=appointment.hold_expires_at,
                **(
                    {
                        "start": appointment.start,
                        "end": appointment.end,
                        "sequence": appointment.sequence,
                        "moves": appointment.moves,
                    }
                    if moved
                    else {}
                ),
            )
            stored.updated_at = now

    def active_future_count(self, *, email: str | None, phone: str | None, now: datetime) -> int:
        live = [
            s.appointment
            for s in self._rows()
            if s.appointment.is_active_at(now) and s.appointment.start > now
        ]
        by_email = (
            0
            if email is None
            else sum((a.client.email or "").lower() == email.lower() for a in live)
        )
        by_phone = 0 if phone is None else sum(a.client.phone == phone for a in live)
        return max(by_email, by_phone)

    def held_at(self, service_slug: str, start: datetime, *, now: datetime) -> list[Appointment]:
        return [
            _copy_appointment(s.appointment)
            for s in self._rows()
            if s.appointment.service_slug == service_slug
            and s.appointment.start == start
            and s.appointment.is_active_at(now)
        ]

    def claim_confirmation_resend(
        self, appointment_id: UUID, *, now: datetime, every: timedelta
    ) -> bool:
        stored = self._tx.state.appointments.get(appointment_id)
        if stored is None:
            return False
        last = stored.confirmation_resent_at
        if last is not None and last > now - every:
            return False
        self._tx.write().appointments[appointment_id].confirmation_resent_at = now
        return True

    def in_series(self, series_id: UUID) -> list[Appointment]:
        return [
            _copy_appointment(s.appointment)
            for s in self._rows()
            if s.appointment.series_id == series_id
        ]

    def manage_token_hash(self, appointment_id: UUID) -> str | None:
        stored = self._tx.state.appointments.get(appointment_id)
        return None if stored is None else stored.manage_token_hash

    def due_holds(self, now: datetime) -> list[Appointment]:
        return [
            _copy_appointment(s.appointment)
            for s in self._rows()
            if s.appointment.status is AppointmentStatus.PENDING_PAYMENT
            and s.appointment.hold_expires_at is not None
            and s.appointment.hold_expires_at <= now
        ]

    def calendar_event(self, appointment_id: UUID) -> CalendarEventState:
        stored = self._tx.state.appointments[appointment_id]
        return CalendarEventState(event_id=stored.event_id, state=stored.sync_state)

    def set_calendar_event(
        self, appointment_id: UUID, *, event_id: str | None, state: CalendarState, now: datetime
    ) -> None:
        # As strict as the SQL adapter, which stores `state.value`: a plain string is a bug.
        if not isinstance(state, CalendarState):
            raise TypeError(f"state must be a CalendarState, not {type(state).__name__}")
        stored = self._tx.write().appointments.get(appointment_id)
        if stored is not None:
            stored.event_id = event_id
            stored.sync_state = state
            stored.updated_at = now

    def listing(
        self, window: Interval, *, status: str | None
    ) -> list[tuple[Appointment, CalendarEventState]]:
        return [
            (
                _copy_appointment(s.appointment),
                CalendarEventState(event_id=s.event_id, state=s.sync_state),
            )
            for s in self._rows()
            if s.appointment.start < window.end
            and s.appointment.end > window.start
            and (status is None or s.appointment.status == status)
        ]

    def confirmed_in(self, window: Interval) -> list[tuple[Appointment, CalendarEventState]]:
        return self.listing(window, status=AppointmentStatus.CONFIRMED.value)


class FakeIdempotency:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def get(self, key: str) -> StoredResponse | None:
        return self._tx.state.idempotency.get(key)

    def add(self, key: str, response: StoredResponse, *, now: datetime) -> None:
        state = self._tx.write()
        state.idempotency[key] = response
        state.idempotency_at[key] = now

    def prune(self, *, before: datetime) -> int:
        old = [key for key, at in self._tx.state.idempotency_at.items() if at < before]
        if old:
            state = self._tx.write()
            for key in old:
                del state.idempotency[key]
                del state.idempotency_at[key]
        return len(old)


class FakeWaitlist:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def add(self, entry: WaitlistEntry) -> None:
        self._tx.write().waitlist.append(entry)

    def _ordered(self) -> list[WaitlistEntry]:
        return sorted(self._tx.state.waitlist, key=lambda e: (e.created_at, str(e.entry_id)))

    def get(self, entry_id: UUID) -> WaitlistEntry | None:
        return next((e for e in self._tx.state.waitlist if e.entry_id == entry_id), None)

    def waiting(self, *, limit: int) -> list[WaitlistEntry]:
        return [
            e for e in self._ordered() if e.status is EntryStatus.WAITING and e.window is not None
        ][:limit]

    def to_notify(self, *, limit: int) -> list[WaitlistEntry]:
        return [
            e
            for e in self._ordered()
            if e.status is EntryStatus.WAITING
            and e.preferred_from is None
            and e.notified_at is None
        ][:limit]

    def _replace(self, entry_id: UUID, **changes: object) -> None:
        state = self._tx.write()
        state.waitlist = [
            replace(e, **changes) if e.entry_id == entry_id else e  # type: ignore[arg-type]
            for e in state.waitlist
        ]

    def open_for(self, service_slug: str, email: str) -> list[WaitlistEntry]:
        return [
            e
            for e in self._ordered()
            if e.service_slug == service_slug
            and e.email.lower() == email.lower()
            and e.status in {EntryStatus.WAITING, EntryStatus.OFFERED}
        ]

    def set_status(self, entry_id: UUID, status: EntryStatus) -> None:
        self._replace(entry_id, status=status)

    def mark_notified(self, entry_id: UUID, *, at: datetime) -> None:
        self._replace(entry_id, notified_at=at)

    def delete(self, entry_id: UUID) -> bool:
        if self.get(entry_id) is None:
            return False
        state = self._tx.write(availability=True)  # an open offer's hold goes with it
        state.waitlist = [e for e in state.waitlist if e.entry_id != entry_id]
        state.offers = {k: o for k, o in state.offers.items() if o.entry_id != entry_id}
        return True

    def list(self) -> list[WaitlistEntry]:
        return self._ordered()


class FakeOffers:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def add(self, offer: Offer, *, token_hash: str) -> None:
        state = self._tx.write(availability=True)
        state.offers[offer.id] = copy.copy(offer)
        state.offer_tokens[offer.id] = token_hash

    def get(self, offer_id: UUID) -> Offer | None:
        offer = self._tx.state.offers.get(offer_id)
        return None if offer is None else copy.copy(offer)

    def get_for_update(self, offer_id: UUID) -> Offer | None:
        return self.get(offer_id)

    def token_hash(self, offer_id: UUID) -> str | None:
        return self._tx.state.offer_tokens.get(offer_id)

    def save(self, offer: Offer) -> None:
        self._tx.write(availability=True).offers[offer.id] = copy.copy(offer)

    def run_out(self, now: datetime, *, limit: int) -> list[Offer]:
        due = [
            o
            for o in self._tx.state.offers.values()
            if o.status is OfferStatus.OPEN and o.expires_at <= now
        ]
        return [copy.copy(o) for o in sorted(due, key=lambda o: o.expires_at)[:limit]]

    def of_entry(self, entry_id: UUID) -> list[Offer]:
        mine = [o for o in self._tx.state.offers.values() if o.entry_id == entry_id]
        return [copy.copy(o) for o in sorted(mine, key=lambda o: (o.created_at, str(o.id)))]

    def open_of_entries(self) -> dict[UUID, Offer]:
        return {
            o.entry_id: copy.copy(o)
            for o in self._tx.state.offers.values()
            if o.status is OfferStatus.OPEN
        }


class FakeTracking:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def track(self, event: str, properties: dict[str, str], *, at: datetime) -> None:
        self._tx.write().tracking.append(TrackedEvent(event, dict(properties), at))


def _same_email(stored: str | None, wanted: str) -> bool:
    return stored is not None and stored.lower() == wanted.strip().lower()


class FakeClientData:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def appointment_ids(self, email: str) -> list[UUID]:
        rows = [
            stored.appointment
            for stored in self._tx.state.appointments.values()
            if _same_email(stored.appointment.client.email, email)
        ]
        return [a.id for a in sorted(rows, key=lambda a: (a.start, str(a.id)))]

    def waitlist(self, email: str) -> list[WaitlistEntry]:
        entries = [e for e in self._tx.state.waitlist if _same_email(e.email, email)]
        return sorted(entries, key=lambda e: (e.created_at, str(e.entry_id)))

    def consents(
        self, *, appointment_ids: Sequence[UUID], waitlist_entry_ids: Sequence[UUID]
    ) -> list[ConsentRecord]:
        records = [
            record
            for record in self._tx.state.consents
            if (record.appointment_id is not None and record.appointment_id in appointment_ids)
            or (
                record.waitlist_entry_id is not None
                and record.waitlist_entry_id in waitlist_entry_ids
            )
        ]
        return sorted(records, key=lambda r: (r.given_at, str(r.consent_id)))

    def add_consent(self, record: ConsentRecord) -> None:
        self._tx.write().consents.append(record)

    def erase_appointments(self, appointment_ids: Sequence[UUID], *, now: datetime) -> int:
        state = self._tx.write()
        erased = 0
        for appointment_id in appointment_ids:
            stored = state.appointments.get(appointment_id)
            if stored is None:
                continue
            erased += 1
            stored.appointment.client = Client(name=ERASED_NAME, email=None)
            stored.appointment.comment = None
            state.erased_at.setdefault(appointment_id, now)
            state.erase_requested_at.pop(appointment_id, None)
            for key in [
                k for k, v in state.idempotency.items() if v.appointment_id == appointment_id
            ]:
                del state.idempotency[key]
                del state.idempotency_at[key]
            for row in list(state.outbox.values()):
                if row.appointment_id == appointment_id and row.last_error is not None:
                    state.outbox[row.message_id] = replace(row, last_error=None)
        return erased

    def request_erasure(self, appointment_ids: Sequence[UUID], *, now: datetime) -> None:
        if appointment_ids:
            state = self._tx.write()
            for appointment_id in appointment_ids:
                state.erase_requested_at[appointment_id] = now

    def erasure_requested(self, appointment_id: UUID) -> bool:
        return appointment_id in self._tx.state.erase_requested_at

    def erasures_due(self, *, requested_before: datetime, limit: int) -> list[UUID]:
        due = sorted(
            (at, key)
            for key, at in self._tx.state.erase_requested_at.items()
            if at < requested_before
        )
        return [key for _, key in due[:limit]]

    def ended_unerased(self, *, ended_before: datetime, limit: int) -> list[UUID]:
        rows = sorted(
            (stored.appointment.end, stored.appointment.id)
            for stored in self._tx.state.appointments.values()
            if stored.appointment.end < ended_before
            and stored.appointment.id not in self._tx.state.erased_at
        )
        return [appointment_id for _, appointment_id in rows[:limit]]

    def delete_waitlist(self, entry_ids: Sequence[UUID]) -> int:
        doomed = [e for e in self._tx.state.waitlist if e.entry_id in entry_ids]
        if doomed:
            state = self._tx.write()
            state.waitlist = [e for e in state.waitlist if e.entry_id not in entry_ids]
        return len(doomed)

    def waitlist_created_before(self, before: datetime, *, limit: int) -> list[UUID]:
        rows = [e for e in self._tx.state.waitlist if e.created_at < before]
        return [e.entry_id for e in sorted(rows, key=lambda e: e.created_at)[:limit]]

    def prune_tracking(self, *, before: datetime) -> int:
        old = [e for e in self._tx.state.tracking if e.at < before]
        if old:
            state = self._tx.write()
            state.tracking = [e for e in state.tracking if e.at >= before]
        return len(old)

    def last_retention_run(self) -> datetime | None:
        return self._tx.state.retention_last_run

    def record_retention_run(self, at: datetime) -> None:
        self._tx.write().retention_last_run = at


class FakeAuditLog:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def add(self, entry: AuditEntry) -> None:
        state = self._tx.write()
        state.audit.append(replace(entry, entry_id=len(state.audit) + 1))

    def between(
        self, start: datetime, end: datetime, *, before_id: int | None, limit: int
    ) -> list[AuditEntry]:
        rows = [
            entry
            for entry in reversed(self._tx.state.audit)
            if start <= entry.at < end and (before_id is None or (entry.entry_id or 0) < before_id)
        ]
        return rows[:limit]


class FakeAdminTokens:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def add(
        self,
        *,
        name: str,
        token_hash: str,
        created_at: datetime,
        expires_at: datetime | None = None,
    ) -> AdminToken:
        state = self._tx.write()
        token = AdminToken(
            token_id=state.new_id(), name=name, created_at=created_at, expires_at=expires_at
        )
        state.admin_tokens[token_hash] = token
        return token

    def find_by_hash(self, token_hash: str) -> AdminToken | None:
        return self._tx.state.admin_tokens.get(token_hash)

    def list(self) -> list[AdminToken]:
        return sorted(self._tx.state.admin_tokens.values(), key=lambda token: token.token_id)

    def delete(self, token_id: int) -> bool:
        for token_hash, token in self._tx.state.admin_tokens.items():
            if token.token_id == token_id:
                del self._tx.write().admin_tokens[token_hash]
                return True
        return False

    def touch(self, token_id: int, *, at: datetime) -> None:
        for token_hash, token in self._tx.state.admin_tokens.items():
            if token.token_id == token_id:
                self._tx.write().admin_tokens[token_hash] = replace(token, last_used_at=at)
                return


class FakeIntegration:
    """The single integration row; reads hand out copies (IntegrationRecord is mutable)."""

    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def calendar_link(self) -> CalendarLink:
        record = self._tx.state.integration
        if record is None:
            return CalendarLink(connected=False, last_success_at=None, enabled_override=None)
        return CalendarLink(
            connected=record.status in _CONNECTED_STATUSES,
            last_success_at=record.last_success_at,
            enabled_override=record.enabled,
            timezone=record.timezone,
            blocking_calendar_ids=blocking_ids(record.blocking_calendar_ids),
        )

    def get(self) -> IntegrationRecord:
        record = self._tx.state.integration
        return IntegrationRecord() if record is None else copy.deepcopy(record)

    def get_for_update(self) -> IntegrationRecord:
        return self.get()

    def save(self, record: IntegrationRecord, *, now: datetime) -> None:
        state = self._tx.write(availability=True)
        state.integration = copy.deepcopy(record)
        state.integration_updated_at = now

    def busy_count(self) -> int:
        return len(self._tx.state.busy)

    def advance_push_message(self, *, channel_id: str, number: int) -> bool:
        record = self._tx.state.integration
        if record is None or record.push_channel_id != channel_id:
            return False
        if (record.push_last_message_number or 0) >= number:
            return False
        stored = self._tx.write().integration
        assert stored is not None
        stored.push_last_message_number = number
        return True


class FakeOAuthStates:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def add(self, state: OAuthState, *, created_at: datetime) -> None:  # noqa: ARG002
        self._tx.write().oauth_states[state.state_hash] = state

    def get_for_update(self, state_hash: str) -> OAuthState | None:
        return self._tx.state.oauth_states.get(state_hash)

    def mark_used(self, state_hash: str, at: datetime) -> None:
        states = self._tx.write().oauth_states
        if state_hash in states:
            states[state_hash] = replace(states[state_hash], used_at=at)

    def delete_expired(self, now: datetime) -> int:
        return _delete_expired(self._tx, "oauth_states", now)

    def all_verifiers(self) -> list[tuple[str, str]]:
        return [(h, s.code_verifier_enc) for h, s in self._tx.state.oauth_states.items()]

    def set_verifier(self, state_hash: str, code_verifier_enc: str) -> None:
        states = self._tx.write().oauth_states
        if state_hash in states:
            states[state_hash] = replace(states[state_hash], code_verifier_enc=code_verifier_enc)


def _delete_expired(tx: _Tx, table: str, now: datetime) -> int:
    """Delete the rows of `table` (a dict of things with `expires_at`) expired by `now`."""
    rows: dict[str, OAuthState | AdminSession] = getattr(tx.state, table)
    expired = [key for key, row in rows.items() if row.expires_at <= now]
    if expired:
        writable: dict[str, OAuthState | AdminSession] = getattr(tx.write(), table)
        for key in expired:
            del writable[key]
    return len(expired)


def _email(value: str) -> str:
    return value.strip().lower()


class FakeAdminUsers:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def add(self, *, email: str, password_hash: str, created_at: datetime) -> AdminUser:
        state = self._tx.write()
        user = AdminUser(admin_id=state.new_id(), email=_email(email), password_hash=password_hash)
        state.admin_users[user.admin_id] = StoredAdmin(user, created_at)
        return user

    def by_email(self, email: str) -> AdminUser | None:
        wanted = _email(email)
        return next(
            (s.user for s in self._tx.state.admin_users.values() if s.user.email == wanted), None
        )

    def set_password_hash(self, admin_id: int, password_hash: str) -> None:
        stored = self._tx.write().admin_users.get(admin_id)
        if stored is not None:
            stored.user = replace(stored.user, password_hash=password_hash)

    def record_login(self, admin_id: int, at: datetime) -> None:
        stored = self._tx.write().admin_users.get(admin_id)
        if stored is not None:
            stored.last_login_at = at


class FakeAdminSessions:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def add(self, session: AdminSession, *, created_at: datetime) -> None:  # noqa: ARG002
        self._tx.write().admin_sessions[session.session_hash] = session

    def get(self, session_hash: str) -> AdminSession | None:
        session = self._tx.state.admin_sessions.get(session_hash)
        if session is None:
            return None
        # Like the SQL join: the email comes from the admin's account as it is now.
        admin = self._tx.state.admin_users.get(session.admin_id)
        return None if admin is None else replace(session, email=admin.user.email)

    def delete(self, session_hash: str) -> None:
        if session_hash in self._tx.state.admin_sessions:
            del self._tx.write().admin_sessions[session_hash]

    def delete_expired(self, now: datetime) -> int:
        return _delete_expired(self._tx, "admin_sessions", now)


class FakeLoginAttempts:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def record(self, *, email: str, client_ip: str, succeeded: bool, at: datetime) -> None:
        self._tx.write().login_attempts.append(
            LoginAttempt(_email(email)[:320], client_ip[:64], succeeded, at)
        )

    def prune(self, *, before: datetime) -> int:
        kept = [a for a in self._tx.state.login_attempts if a.at >= before]
        dropped = len(self._tx.state.login_attempts) - len(kept)
        if dropped:
            self._tx.write().login_attempts = kept
        return dropped


class FakeThrottles:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def hit(self, key: str, *, now: datetime, window: timedelta) -> ThrottleCount:
        state = self._tx.write()
        current = state.throttles.get(key)
        if current is None or current.first_at <= now - window:
            counted = ThrottleCount(count=1, first_at=now, last_at=now)
        else:
            counted = ThrottleCount(count=current.count + 1, first_at=current.first_at, last_at=now)
        state.throttles[key] = counted
        return counted

    def peek(self, key: str) -> ThrottleCount | None:
        return self._tx.state.throttles.get(key)

    def reset(self, key: str) -> None:
        if key in self._tx.state.throttles:
            del self._tx.write().throttles[key]

    def prune(self, *, before: datetime) -> int:
        old = [key for key, value in self._tx.state.throttles.items() if value.last_at < before]
        if old:
            state = self._tx.write()
            for key in old:
                del state.throttles[key]
        return len(old)


class FakeUnitOfWork:
    """`with uow: ...; uow.commit()` over a private working copy of the FakeDatabase."""

    services: ServiceRepository
    schedule: ScheduleRepository
    busy: BusyRepository
    appointments: AppointmentRepository
    admin_tokens: AdminTokenRepository
    integration: IntegrationRepository
    oauth_states: OAuthStateRepository
    outbox: OutboxRepository
    idempotency: IdempotencyRepository
    waitlist: WaitlistRepository
    offers: OfferRepository
    tracking: TrackingSink
    admin_users: AdminUserRepository
    admin_sessions: AdminSessionRepository
    login_attempts: LoginAttemptRepository
    throttles: ThrottleRepository
    client_data: ClientDataRepository
    audit: AuditLog

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self._tx: _Tx | None = None
        self._generation = 0
        self.committed = False

    def __enter__(self) -> Self:
        if self._tx is not None:
            raise RuntimeError("a unit of work is entered once")
        # Threads take turns, as SQLite's writers do (BEGIN IMMEDIATE); one thread may nest.
        self._database.turn.acquire()
        self._begin()
        return self

    def _begin(self) -> None:
        state, self._generation = self._database.snapshot()
        tx = self._tx = _Tx(state)
        self.outbox = FakeOutbox(tx.state.outbox, new_id=tx.state.new_id, touch=tx.write)
        self.services = FakeServices(tx)
        self.schedule = FakeSchedule(tx)
        self.busy = FakeBusy(tx)
        self.appointments = FakeAppointments(tx)
        self.idempotency = FakeIdempotency(tx)
        self.waitlist = FakeWaitlist(tx)
        self.offers = FakeOffers(tx)
        self.tracking = FakeTracking(tx)
        self.admin_tokens = FakeAdminTokens(tx)
        self.integration = FakeIntegration(tx)
        self.oauth_states = FakeOAuthStates(tx)
        self.admin_users = FakeAdminUsers(tx)
        self.admin_sessions = FakeAdminSessions(tx)
        self.login_attempts = FakeLoginAttempts(tx)
        self.throttles = FakeThrottles(tx)
        self.client_data = FakeClientData(tx)
        self.audit = FakeAuditLog(tx)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tx is not None and self._tx.written:
            self._database.rollbacks += 1
        if self._tx is not None:
            self._tx = None
            self._database.turn.release()

    def commit(self) -> None:
        tx = self._tx
        if tx is None:
            raise RuntimeError("commit outside the unit of work")
        hook = self._database.before_commit
        committed = None if hook is None else hook(self)
        if tx.written:
            self._database.install(tx.state, generation=self._generation, changed=tx.changed)
            self.committed = True
        if committed is not None:
            committed()
        # Later statements start a new transaction on the committed state, as SQL does.
        self._begin()

    def rollback(self) -> None:
        if self._tx is not None:
            self._begin()


class FakeDatabase:
    """The committed state plus a factory of units of work over it (a UnitOfWorkFactory)."""

    def __init__(
        self,
        state: FakeState | None = None,
        *,
        before_commit: Callable[[UnitOfWork], Callable[[], None] | None] | None = None,
    ) -> None:
        self.before_commit = before_commit  # as SqlUnitOfWorkFactory's (the audit trail)
        self._state = state or FakeState()
        self._generation = 0
        self._lock = threading.Lock()
        self.turn = threading.RLock()
        self.commits = 0
        self.rollbacks = 0  # units of work that wrote and were left without a commit
        self.opened = 0

    def __call__(self) -> FakeUnitOfWork:
        self.opened += 1
        return FakeUnitOfWork(self)

    def snapshot(self) -> tuple[FakeState, int]:
        with self._lock:
            return self._state.copy(), self._generation

    def install(self, state: FakeState, *, generation: int, changed: bool) -> None:
        with self._lock:
            if generation != self._generation:
                raise LostUpdateError(
                    "another unit of work committed after this one began; "
                    "its changes would be overwritten"
                )
            if changed:
                state.data_version += 1
            self._state = state.copy()
            self._generation += 1
            self.commits += 1

    @property
    def state(self) -> FakeState:
        """The committed state, for assertions (a copy: change it through a unit of work)."""
        with self._lock:
            return self._state.copy()

    @property
    def data_version(self) -> int:
        with self._lock:
            return self._state.data_version

    def outbox_rows(self) -> list[FakeOutboxRow]:
        return sorted(self.state.outbox.values(), key=lambda row: row.message_id)

    def tracked(self) -> list[TrackedEvent]:
        return self.state.tracking


class FakeDataVersion:
    """DataVersionReader over a FakeDatabase: the version its commits bump."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.reads = 0

    def current(self) -> int:
        self.reads += 1
        return self._database.data_version
