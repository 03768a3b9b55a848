"""Ports: the roles the use cases need from the outside world, as small Protocols."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from balance_booking.domain.availability import Availability
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from balance_booking.domain.slots import OccupiedTime


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


class AppointmentRepository(Protocol):
    """Appointments, as far as availability needs them."""

    def occupied_overlapping(self, window: Interval) -> list[OccupiedTime]: ...


class AdminTokenRepository(Protocol):
    """Hashed admin API tokens."""

    def add(self, *, name: str, token_hash: str, created_at: datetime) -> AdminToken: ...
    def find_by_hash(self, token_hash: str) -> AdminToken | None: ...


class IntegrationRepository(Protocol):
    """The Google Calendar integration row, read side for booking."""

    def calendar_link(self) -> CalendarLink: ...


class UnitOfWork(Protocol):
    """One transaction: `with uow: ...; uow.commit()`; leaving without commit rolls back."""

    services: ServiceRepository
    schedule: ScheduleRepository
    busy: BusyRepository
    appointments: AppointmentRepository
    admin_tokens: AdminTokenRepository
    integration: IntegrationRepository

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
