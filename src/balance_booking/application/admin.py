"""Admin use cases: the schedule, the services and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from typing import Any

from balance_booking.application.availability import load_availability
from balance_booking.application.errors import ConflictError, NotFoundError
from balance_booking.application.ports import AdminToken, Clock, UnitOfWorkFactory
from balance_booking.domain.availability import Availability
from balance_booking.domain.services import Service


class GetSchedule:
    """The owner's weekly hours and date overrides."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory, default_timezone: str) -> None:
        self._uow_factory = uow_factory
        self._default_timezone = default_timezone

    def execute(self) -> Availability:
        with self._uow_factory() as uow:
            return load_availability(uow, default_timezone=self._default_timezone)


class ReplaceSchedule:
    """Replace the weekly hours and overrides as a whole (PUT semantics)."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def execute(self, availability: Availability) -> Availability:
        with self._uow_factory() as uow:
            uow.schedule.save(availability)
            uow.commit()
        return availability


class ListServices:
    """Every service, active or not, for the admin."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def execute(self) -> list[Service]:
        with self._uow_factory() as uow:
            return uow.services.list(active_only=False)


class CreateService:
    """Add a service; its slug must be new."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def execute(self, service: Service) -> Service:
        with self._uow_factory() as uow:
            if uow.services.get(service.slug) is not None:
                raise ConflictError(f"A service with slug {service.slug!r} exists already.")
            uow.services.add(service)
            uow.commit()
        return service


class UpdateService:
    """Change some fields of a service; the domain re-validates the whole result."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def execute(self, slug: str, changes: dict[str, Any]) -> Service:
        with self._uow_factory() as uow:
            current = uow.services.get(slug)
            if current is None:
                raise NotFoundError(f"Unknown service {slug!r}.")
            updated = replace(current, **changes)
            uow.services.update(updated)
            uow.commit()
        return updated


class DeleteService:
    """Remove a service that has never been booked; booked ones are deactivated instead."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def execute(self, slug: str) -> None:
        with self._uow_factory() as uow:
            current = uow.services.get(slug)
            if current is None:
                raise NotFoundError(f"Unknown service {slug!r}.")
            if not uow.services.delete(slug):
                # Appointments still point at it: keep the history, stop offering it.
                uow.services.update(replace(current, active=False))
            uow.commit()


def hash_api_token(token: str) -> str:
    """API tokens are 256-bit random strings, so a plain SHA-256 is a sufficient at-rest hash."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly created admin token; `secret` is shown once and never stored."""

    token: AdminToken
    secret: str


class CreateAdminToken:
    """Issue an admin API token (stored hashed)."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    def execute(self, *, name: str) -> IssuedToken:
        secret = "bb_" + secrets.token_urlsafe(32)
        with self._uow_factory() as uow:
            token = uow.admin_tokens.add(
                name=name, token_hash=hash_api_token(secret), created_at=self._clock.now()
            )
            uow.commit()
        return IssuedToken(token=token, secret=secret)


class AuthenticateAdminToken:
    """Resolve a bearer token to the admin token it was issued as, or None."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def execute(self, presented: str) -> AdminToken | None:
        # Lookup by hash: the hash is the index, so no secret is ever compared byte by byte.
        with self._uow_factory() as uow:
            return uow.admin_tokens.find_by_hash(hash_api_token(presented))
