"""Admin use cases: the schedule, the services and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from balance_booking.application.audit import describe_target
from balance_booking.application.availability import load_availability
from balance_booking.application.errors import ConflictError, NotFoundError
from balance_booking.application.ports import AdminToken, Clock, UnitOfWorkFactory
from balance_booking.domain.availability import Availability
from balance_booking.domain.services import Service


@dataclass(frozen=True, kw_only=True, slots=True)
class GetSchedule:
    """The owner's weekly hours and date overrides."""

    uow_factory: UnitOfWorkFactory
    default_timezone: str

    def execute(self) -> Availability:
        with self.uow_factory() as uow:
            return load_availability(uow, default_timezone=self.default_timezone)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplaceSchedule:
    """Replace the weekly hours and overrides as a whole (PUT semantics)."""

    uow_factory: UnitOfWorkFactory

    def execute(self, availability: Availability) -> Availability:
        with self.uow_factory() as uow:
            uow.schedule.save(availability)
            uow.commit()
        return availability


@dataclass(frozen=True, kw_only=True, slots=True)
class ListServices:
    """Every service, active or not, for the admin."""

    uow_factory: UnitOfWorkFactory

    def execute(self) -> list[Service]:
        with self.uow_factory() as uow:
            return uow.services.list(active_only=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateService:
    """Add a service; its slug must be new."""

    uow_factory: UnitOfWorkFactory

    def execute(self, service: Service) -> Service:
        with self.uow_factory() as uow:
            if uow.services.get(service.slug) is not None:
                raise ConflictError(f"A service with slug {service.slug!r} exists already.")
            uow.services.add(service)
            describe_target(f"slug={service.slug}")
            uow.commit()
        return service


@dataclass(frozen=True, kw_only=True, slots=True)
class UpdateService:
    """Change some fields of a service; the domain re-validates the whole result."""

    uow_factory: UnitOfWorkFactory

    def execute(self, slug: str, changes: dict[str, Any]) -> Service:
        with self.uow_factory() as uow:
            current = uow.services.get(slug)
            if current is None:
                raise NotFoundError(f"Unknown service {slug!r}.")
            updated = replace(current, **changes)
            uow.services.update(updated)
            uow.commit()
        return updated


@dataclass(frozen=True, kw_only=True, slots=True)
class DeleteService:
    """Remove a service that has never been booked; booked ones are deactivated instead."""

    uow_factory: UnitOfWorkFactory

    def execute(self, slug: str) -> None:
        with self.uow_factory() as uow:
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


DEFAULT_TOKEN_LIFETIME = timedelta(days=90)
# A token's use is written down at most this often (an admin page makes several calls a second).
_USE_RECORDED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateAdminToken:
    """Issue an admin API token (stored hashed), valid for `lifetime` (None: no expiry)."""

    uow_factory: UnitOfWorkFactory
    clock: Clock

    def execute(
        self, *, name: str, lifetime: timedelta | None = DEFAULT_TOKEN_LIFETIME
    ) -> IssuedToken:
        secret = "bb_" + secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.uow_factory() as uow:
            token = uow.admin_tokens.add(
                name=name,
                token_hash=hash_api_token(secret),
                created_at=now,
                expires_at=None if lifetime is None else now + lifetime,
            )
            uow.commit()
        return IssuedToken(token=token, secret=secret)


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthenticateAdminToken:
    """Resolve a bearer token to the live admin token it was issued as, or None (unknown,
    revoked or expired); records when it was last used."""

    uow_factory: UnitOfWorkFactory  # reads the token
    writers: UnitOfWorkFactory  # records its use, at most once a minute
    clock: Clock

    def execute(self, presented: str) -> AdminToken | None:
        now = self.clock.now()
        # Lookup by hash: the hash is the index, so no secret is ever compared byte by byte.
        with self.uow_factory() as uow:
            token = uow.admin_tokens.find_by_hash(hash_api_token(presented))
        if token is None or (token.expires_at is not None and token.expires_at <= now):
            return None
        # A read transaction for every call; a write (SQLite's one write lock) only when the
        # recorded last use is a minute old.
        if token.last_used_at is None or now - token.last_used_at >= _USE_RECORDED_EVERY:
            with self.writers() as uow:
                uow.admin_tokens.touch(token.token_id, at=now)
                uow.commit()
        return token


@dataclass(frozen=True, kw_only=True, slots=True)
class ListAdminTokens:
    """The admin tokens (name, created, last used, expiry; never a secret or a hash)."""

    uow_factory: UnitOfWorkFactory

    def execute(self) -> list[AdminToken]:
        with self.uow_factory() as uow:
            return uow.admin_tokens.list()


@dataclass(frozen=True, kw_only=True, slots=True)
class RevokeAdminToken:
    """Delete a token: it answers 401 from then on."""

    uow_factory: UnitOfWorkFactory

    def execute(self, token_id: int) -> None:
        with self.uow_factory() as uow:
            if not uow.admin_tokens.delete(token_id):
                raise NotFoundError("Unknown token.")
            uow.commit()
