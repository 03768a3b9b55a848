"""Ports: the roles the use cases need from the outside world, as small Protocols."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from balance_booking.domain.appointments import Appointment
from balance_booking.domain.availability import Availability
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from balance_booking.domain.slots import OccupiedTime, TimeSlot


class Clock(Protocol):
    """Where "now" comes from (always UTC-aware)."""

    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class AdminToken:
    """An admin API token as stored: only its hash is kept."""

    token_id: int
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CalendarLink:
    """What the booking side needs to know about the Google Calendar integration."""

    connected: bool
    last_success_at: datetime | None
    enabled_override: bool | None  # the admin toggle; None = the environment default
    timezone: str | None = None  # the connected calendar's zone: the owner's default zone


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


class BusyRepository(Protocol):
    """The mirror of Google Calendar busy time."""

    def overlapping(self, window: Interval) -> list[Interval]: ...
    def clear(self) -> None: ...
    def replace_all(self, intervals: list[Interval], *, source: str) -> bool: ...


class AppointmentRepository(Protocol):
    """Appointments (their domain events reach the outbox through application/messages.py)."""

    def occupied_overlapping(
        self, window: Interval, *, now: datetime | None = None
    ) -> list[OccupiedTime]:
        """Active appointments whose buffered time overlaps `window`; with `now`, pending holds
        that ran out by then no longer count."""
        ...

    def next_hold_expiry(self, window: Interval, *, now: datetime) -> datetime | None:
        """When the earliest live payment hold overlapping `window` runs out (cache validity)."""
        ...

    def add(self, appointment: Appointment, *, manage_token_hash: str, now: datetime) -> None:
        """Insert; raises SlotTakenError when the database guard refuses an overlap."""
        ...

    def get(self, appointment_id: UUID) -> Appointment | None: ...
    def get_for_update(self, appointment_id: UUID) -> Appointment | None: ...
    def save(self, appointment: Appointment, *, now: datetime) -> None: ...
    def manage_token_hash(self, appointment_id: UUID) -> str | None: ...
    def due_holds(self, now: datetime) -> list[Appointment]: ...
    def calendar_event(self, appointment_id: UUID) -> CalendarEventState: ...
    def set_calendar_event(
        self, appointment_id: UUID, *, event_id: str | None, state: str, now: datetime
    ) -> None: ...
    def listing(
        self, window: Interval, *, status: str | None
    ) -> list[tuple[Appointment, CalendarEventState]]: ...
    def confirmed_in(self, window: Interval) -> list[tuple[Appointment, CalendarEventState]]: ...


@dataclass(frozen=True, slots=True)
class CalendarEventState:
    """Where an appointment's Google event stands: pending | created | failed | deleted."""

    event_id: str | None
    state: str


class OutboxKind(StrEnum):
    """Who delivers an outbox message: each kind has one handler (application/handlers.py)."""

    GOOGLE_CALENDAR = "google_calendar"


# A message's payload: flat JSON, written and read by the application (application/messages.py).
JsonScalar = str | int | float | bool | None
Payload = Mapping[str, JsonScalar]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMessage:
    """A message to queue, in the same transaction as the change that calls for it."""

    kind: str  # an OutboxKind value
    topic: str  # what the message is about, e.g. the domain event's name: "AppointmentConfirmed"
    payload: Payload
    appointment_id: UUID | None = None
    waitlist_entry_id: UUID | None = None
    # At most one message per key, ever (e.g. one reminder per appointment); None: no limit.
    dedup_key: str | None = None
    not_before: datetime | None = None  # not delivered before then (reminders); None: at once


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxMessage:
    """One queued message as the dispatcher claims it.

    `kind` is a plain str rather than an OutboxKind so that the dispatcher stays generic and a row
    of a kind this version does not know (written by a newer one) can still be listed.
    """

    message_id: int
    kind: str
    topic: str
    attempts: int
    appointment_id: UUID | None = None
    waitlist_entry_id: UUID | None = None
    payload: Payload | None = None  # None if the stored payload cannot be read
    first_failed_at: datetime | None = None  # the first transient failure since (re)queued


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkedMessage:
    """A message given up on, for the admin: what it was, why, and since when."""

    message: OutboxMessage
    reason: str | None
    parked_at: datetime


class OutboxRepository(Protocol):
    """Messages to deliver after commit; claimed with a lease so each is handled by one worker."""

    def append(self, messages: Sequence[NewMessage], *, now: datetime) -> int:
        """Queue `messages`; one whose dedup_key is already in the outbox is dropped.

        Returns how many were queued.
        """
        ...

    def claim_due(
        self, *, kinds: Collection[str], now: datetime, limit: int, lease: timedelta
    ) -> list[OutboxMessage]:
        """Lease up to `limit` due rows of `kinds`, oldest first.

        A row waits while an older row of the same kind and the same appointment is pending and
        due, so an appointment's Google writes happen in order; other kinds never wait for it.
        """
        ...

    def release(self, message_ids: list[int], *, now: datetime) -> None:
        """Hand claimed rows back untried (no attempt counted), due again at once."""
        ...

    def mark_done(self, message_id: int, *, now: datetime) -> None: ...
    def retry_later(self, message_id: int, *, at: datetime, error: str, now: datetime) -> None:
        """Count a failed attempt and make the row due again at `at`."""
        ...

    def park(self, message_id: int, *, error: str, now: datetime) -> None: ...
    def requeue(self, message_id: int, *, now: datetime) -> bool:
        """A parked row is pending and due again (the admin retries it); False if not parked."""
        ...

    def backlog(self) -> int:
        """Pending rows, of every kind."""
        ...

    def parked(self) -> list[ParkedMessage]: ...


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


class AdminTokenRepository(Protocol):
    """Hashed admin API tokens."""

    def add(self, *, name: str, token_hash: str, created_at: datetime) -> AdminToken: ...
    def find_by_hash(self, token_hash: str) -> AdminToken | None: ...


class IntegrationRepository(Protocol):
    """The Google Calendar integration row."""

    def calendar_link(self) -> CalendarLink: ...
    def get(self) -> IntegrationRecord: ...
    def get_for_update(self) -> IntegrationRecord:
        """The row, locked for this transaction (PostgreSQL FOR UPDATE; SQLite's write lock)."""
        ...

    def save(self, record: IntegrationRecord, *, now: datetime) -> None: ...
    def busy_count(self) -> int: ...
    def advance_push_message(self, *, channel_id: str, number: int) -> bool:
        """Record `number` for the stored channel if it beats the last one (one atomic write).

        False when it does not (a replay or an older message) or the channel is no longer ours.
        Push bookkeeping does not change availability, so it leaves the data version alone.
        """
        ...


class UnitOfWork(Protocol):
    """One transaction: `with uow: ...; uow.commit()`; leaving without commit rolls back."""

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
    tracking: TrackingSink
    admin_users: AdminUserRepository
    admin_sessions: AdminSessionRepository
    login_attempts: LoginAttemptRepository

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work per use-case call."""

    def __call__(self) -> UnitOfWork: ...


class PasswordHasher(Protocol):
    """A slow, salted password hash (argon2id in production)."""

    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class AdminUser:
    """An admin account."""

    admin_id: int
    email: str
    password_hash: str


@dataclass(frozen=True, slots=True)
class AdminSession:
    """A signed-in admin: the cookie holds a random id, storage only its hash."""

    session_hash: str
    admin_id: int
    email: str
    csrf_token: str
    expires_at: datetime


class AdminUserRepository(Protocol):
    """Admin accounts."""

    def add(self, *, email: str, password_hash: str, created_at: datetime) -> AdminUser: ...
    def by_email(self, email: str) -> AdminUser | None: ...
    def set_password_hash(self, admin_id: int, password_hash: str) -> None: ...
    def record_login(self, admin_id: int, at: datetime) -> None: ...


class AdminSessionRepository(Protocol):
    """Server-side admin sessions."""

    def add(self, session: AdminSession, *, created_at: datetime) -> None: ...
    def get(self, session_hash: str) -> AdminSession | None: ...
    def delete(self, session_hash: str) -> None: ...
    def delete_expired(self, now: datetime) -> int: ...


class LoginAttemptRepository(Protocol):
    """Login attempts, for rate limiting."""

    def record(self, *, email: str, client_ip: str, succeeded: bool, at: datetime) -> None: ...
    def failures_since(self, *, email: str, client_ip: str, since: datetime) -> tuple[int, int]:
        """Failed attempts since `since`: (for this email, from this address)."""
        ...


class TokenCipher(Protocol):
    """Symmetric encryption of secrets at rest, with key rotation."""

    def encrypt(self, plaintext: str) -> str: ...
    def decrypt(self, ciphertext: str) -> str:
        """Raises UndecryptableTokenError when no configured key opens it."""
        ...

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the first key; raises UndecryptableTokenError."""
        ...


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What Google's token endpoint granted."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scopes: frozenset[str]


class OAuthClient(Protocol):
    """Google's OAuth 2.0 endpoints (authorization code + PKCE, refresh, revoke, userinfo)."""

    def authorization_url(self, *, state: str, code_challenge: str) -> str: ...
    def exchange_code(self, *, code: str, code_verifier: str) -> TokenGrant: ...
    def refresh(self, refresh_token: str) -> TokenGrant: ...
    def revoke(self, token: str) -> None: ...
    def account_email(self, access_token: str) -> str: ...
    def missing_scopes(self, granted: frozenset[str]) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    """The calendar we sync with."""

    calendar_id: str
    timezone: str


class AccessTokenSource(Protocol):
    """Hands the gateway a valid access token; refreshes once when Google says it is stale."""

    def current(self) -> str: ...
    def refreshed(self, stale: str) -> str: ...


class CalendarGateway(Protocol):
    """The spec's IGoogleCalendarService: everything the product asks of Google Calendar."""

    def primary_calendar(self) -> CalendarInfo: ...
    def busy_intervals(self, window: Interval) -> list[Interval]: ...
    def stop_channel(self, *, channel_id: str, resource_id: str) -> None: ...
    def watch_events(
        self, *, channel_id: str, address: str, token: str, ttl_seconds: int
    ) -> PushChannel:
        """Ask Google to POST to `address` whenever the primary calendar's events change."""
        ...

    def insert_event(self, draft: EventDraft) -> bool:
        """Create the event under `draft.event_id`; False when that id exists already (409)."""
        ...

    def patch_event(self, event_id: str, draft: EventDraft) -> bool:
        """Make the event look like `draft` again (status confirmed too); False when unknown."""
        ...

    def delete_event(self, event_id: str) -> None:
        """Delete the event; one that is unknown or already deleted counts as done."""
        ...

    def own_events(self, window: Interval) -> list[OwnEvent]:
        """Every live event this product exported that overlaps `window` (a deleted one reads
        as missing)."""
        ...


@dataclass(frozen=True, slots=True)
class EventDraft:
    """What an appointment's calendar event should say; the gateway turns it into Google JSON."""

    event_id: str
    appointment_id: UUID
    summary: str
    description: str
    start: datetime
    end: datetime
    timezone: str  # the owner's IANA zone: how Google shows the times


@dataclass(frozen=True, slots=True)
class OwnEvent:
    """One of our exported events as Google holds it now (found by its private property)."""

    event_id: str
    appointment_id: UUID
    start: datetime | None  # None when it is no longer a timed event (e.g. made all-day)
    end: datetime | None
    cancelled: bool


@dataclass(frozen=True, slots=True)
class PushChannel:
    """A push channel Google opened for us (events.watch); it has no renewal, only a successor."""

    channel_id: str
    resource_id: str
    expires_at: datetime


class CalendarGatewayFactory(Protocol):
    """Builds a gateway that authenticates with the given token source."""

    def __call__(self, tokens: AccessTokenSource) -> CalendarGateway: ...


@dataclass
class IntegrationRecord:
    """The Google Calendar integration row as the use cases read and write it."""

    status: str = "disconnected"
    enabled: bool | None = None
    calendar_id: str | None = None
    account_email: str | None = None
    timezone: str | None = None
    access_token_enc: str | None = None
    refresh_token_enc: str | None = None
    token_expires_at: datetime | None = None
    granted_scopes: frozenset[str] = frozenset()
    last_sync_at: datetime | None = None
    last_sync_ok: bool | None = None
    last_sync_error: str | None = None
    last_success_at: datetime | None = None
    push_channel_id: str | None = None
    push_resource_id: str | None = None
    push_expires_at: datetime | None = None
    push_token_hash: str | None = None  # SHA-256 hex of the channel token; the token is not kept
    push_last_message_number: int | None = None
    refresh_lease_until: datetime | None = None
    # Reconciliation of our exported events at the last sync (JSON counts; see application/export)
    last_reconcile_at: datetime | None = None
    last_reconcile_summary: str | None = None


@dataclass(frozen=True, slots=True)
class OAuthState:
    """A pending authorization: single use, bound to the admin session that started it."""

    state_hash: str
    session_hash: str | None
    code_verifier_enc: str
    expires_at: datetime
    used_at: datetime | None


class OAuthStateRepository(Protocol):
    """Pending OAuth authorizations."""

    def add(self, state: OAuthState, *, created_at: datetime) -> None: ...
    def get_for_update(self, state_hash: str) -> OAuthState | None: ...
    def mark_used(self, state_hash: str, at: datetime) -> None: ...
    def delete_expired(self, now: datetime) -> int: ...
    def all_verifiers(self) -> list[tuple[str, str]]: ...
    def set_verifier(self, state_hash: str, code_verifier_enc: str) -> None: ...


class Metrics(Protocol):
    """Counters for the few things an operator alerts on (names listed in the adapter)."""

    def increment(self, name: str, labels: dict[str, str] | None = None) -> None: ...
    def gauge(self, name: str, value: float) -> None: ...


class DataVersionReader(Protocol):
    """The current data version (changes with every write that affects availability)."""

    def current(self) -> int: ...


@dataclass(frozen=True, slots=True)
class CachedAvailability:
    """Everything ListAvailableSlots computed for a (service, range), tagged with its version."""

    version: int
    service: Service
    availability: Availability
    link: CalendarLink
    slots: tuple[TimeSlot, ...]
    valid_until: datetime | None  # a payment hold runs out then: recompute after it
    # Finished answers rendered by the caller (e.g. JSON in one zone), by variant; each is valid
    # until the entry is, and no longer than its own `fresh_until`. Bounded: see MAX_RENDERED.
    rendered: dict[str, RenderedAnswer] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RenderedAnswer:
    """A caller's rendering of an availability answer, and until when it stays the same."""

    body: bytes
    fresh_until: datetime | None


class SlotsCache(Protocol):
    """A bounded, process-local cache of computed availability."""

    def get(self, key: tuple[str, datetime, datetime]) -> CachedAvailability | None: ...
    def put(self, key: tuple[str, datetime, datetime], value: CachedAvailability) -> None: ...


class JobLock(Protocol):
    """Cluster-wide mutual exclusion for periodic jobs (a PostgreSQL advisory lock)."""

    def hold(self, name: str) -> AbstractContextManager[bool]:
        """Enter to try the lock: yields True if this process now holds it, else False."""
        ...
