"""Ports every use case shares: time, metrics, the unit of work, cluster-wide locks."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from balance_booking.application.ports.admin import (
    AdminSessionRepository,
    AdminTokenRepository,
    AdminUserRepository,
    LoginAttemptRepository,
    ThrottleRepository,
)
from balance_booking.application.ports.booking import (
    AppointmentRepository,
    IdempotencyRepository,
    ScheduleRepository,
    ServiceRepository,
    TrackingSink,
    WaitlistRepository,
)
from balance_booking.application.ports.calendar import BusyRepository
from balance_booking.application.ports.integration import (
    IntegrationRepository,
    OAuthStateRepository,
)
from balance_booking.application.ports.outbox import OutboxRepository
from balance_booking.application.ports.privacy import AuditLog, ClientDataRepository


class Clock(Protocol):
    """Where "now" comes from (always UTC-aware)."""

    def now(self) -> datetime: ...


class Metrics(Protocol):
    """Counters for the few things an operator alerts on (names listed in the adapter)."""

    def increment(self, name: str, labels: dict[str, str] | None = None) -> None: ...
    def gauge(self, name: str, value: float) -> None: ...


class DataVersionReader(Protocol):
    """The current data version (changes with every write that affects availability)."""

    def current(self) -> int: ...


class JobLock(Protocol):
    """Cluster-wide mutual exclusion for periodic jobs (a PostgreSQL advisory lock)."""

    def hold(self, name: str) -> AbstractContextManager[bool]:
        """Enter to try the lock: yields True if this process now holds it, else False."""
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
    throttles: ThrottleRepository
    client_data: ClientDataRepository
    audit: AuditLog

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
