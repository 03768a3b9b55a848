"""Ports of admin accounts: users, sessions, login attempts, API tokens, password hashing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AdminToken:
    """An admin API token as stored: only its hash is kept."""

    token_id: int
    name: str
    created_at: datetime
    expires_at: datetime | None = None  # None: never expires
    last_used_at: datetime | None = None


class AdminTokenRepository(Protocol):
    """Hashed admin API tokens."""

    def add(
        self,
        *,
        name: str,
        token_hash: str,
        created_at: datetime,
        expires_at: datetime | None = None,
    ) -> AdminToken: ...
    def find_by_hash(self, token_hash: str) -> AdminToken | None: ...
    def list(self) -> list[AdminToken]:
        """Every token, oldest first (never their hashes)."""
        ...

    def delete(self, token_id: int) -> bool:
        """Revoke: True if it existed."""
        ...

    def touch(self, token_id: int, *, at: datetime) -> None:
        """Record a use."""
        ...


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


@dataclass(frozen=True, slots=True)
class ThrottleCount:
    """How many events a throttled key has seen since `first_at` (its window's start)."""

    count: int
    first_at: datetime
    last_at: datetime


class ThrottleRepository(Protocol):
    """Counters per key (a client address; an account and an address): one row each, never a
    row per request, so a flood cannot grow the table."""

    def hit(self, key: str, *, now: datetime, window: timedelta) -> ThrottleCount:
        """Count one event for `key`; once `window` has passed since the count began, it starts
        again at 1. Atomic: concurrent hits are all counted."""
        ...

    def peek(self, key: str) -> ThrottleCount | None: ...
    def reset(self, key: str) -> None: ...
    def prune(self, *, before: datetime) -> int:
        """Forget keys last hit before `before`; how many were forgotten."""
        ...


class LoginAttemptRepository(Protocol):
    """Successful sign-ins (who, from where, when); refused ones are only counted (throttles)."""

    def record(self, *, email: str, client_ip: str, succeeded: bool, at: datetime) -> None: ...
    def prune(self, *, before: datetime) -> int:
        """Delete attempts older than `before`; how many."""
        ...
