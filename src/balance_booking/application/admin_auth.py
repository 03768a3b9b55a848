"""Admin accounts and sign-in: create an admin, log in with rate limiting, sessions, log out."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from balance_booking.application.audit import identify
from balance_booking.application.edge import address_key
from balance_booking.application.errors import (
    ConflictError,
    InvalidRequestError,
    TooManyAttemptsError,
    UnauthorizedError,
)
from balance_booking.application.ports import (
    AdminSession,
    AdminUser,
    Clock,
    PasswordHasher,
    UnitOfWork,
    UnitOfWorkFactory,
)

MIN_PASSWORD_LENGTH = 10
# Long enough for any passphrase; short enough that nobody can make us hash megabytes.
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 320
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
_MAX_SESSION_ID_LENGTH = 128
DEFAULT_SESSION_TTL = timedelta(hours=12)


def hash_session_id(session_id: str) -> str:
    """Session ids are 256-bit random strings, so SHA-256 is a sufficient at-rest hash."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively and without surrounding blanks."""
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How failed sign-ins slow down the one who fails: per (account, client address), and per
    address across accounts; never the account from everywhere (API.md "Public edge").

    After `free_failures` failures the next try must wait `first_wait`, doubling with each further
    failure up to `max_wait`; a sign-in refused for waiting is not counted (it never reaches the
    password check). A quiet `forget_after` starts afresh; a success clears its (account, address).
    """

    free_failures: int = 4
    free_failures_per_address: int = 50
    first_wait: timedelta = timedelta(seconds=1)
    max_wait: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(days=1)

    def wait_after(self, failures: int, *, free: int) -> timedelta:
        """How long to wait after the last of `failures` failures before the next try."""
        if failures <= free:
            return timedelta(0)
        return min(self.max_wait, self.first_wait * (1 << min(failures - free - 1, 30)))


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session; `session_id` goes into the cookie once and is never stored."""

    session_id: str = field(repr=False)
    session: AdminSession


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateAdmin:
    """Create an admin account with an argon2id-hashed password."""

    uow_factory: UnitOfWorkFactory
    hasher: PasswordHasher
    clock: Clock

    def execute(self, *, email: str, password: str) -> AdminUser:
        email = normalise_email(email)
        local, at, domain = email.partition("@")
        if not (local and at and domain) or len(email) > MAX_EMAIL_LENGTH or " " in email:
            raise InvalidRequestError("Not a valid email address.", field="email")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidRequestError(
                f"The password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password"
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            raise InvalidRequestError(
                f"The password may have at most {MAX_PASSWORD_LENGTH} characters.",
                field="password",
            )
        # Hash before the transaction: the slow part must not hold the write lock.
        password_hash = self.hasher.hash(password)
        with self.uow_factory() as uow:
            if uow.admin_users.by_email(email) is not None:
                raise ConflictError(f"An admin with email {email!r} exists already.")
            admin = uow.admin_users.add(
                email=email, password_hash=password_hash, created_at=self.clock.now()
            )
            uow.commit()
        return admin


class Login:
    """Check an admin's password and open a session; refuse when too many attempts failed."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        clock: Clock,
        session_ttl: timedelta = DEFAULT_SESSION_TTL,
        policy: LoginPolicy | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._clock = clock
        self._session_ttl = session_ttl
        self._policy = policy or LoginPolicy()
        self._dummy_hash: str | None = None

    def execute(self, *, email: str, password: str, client_ip: str) -> SignedIn:
        email = normalise_email(email)[:MAX_EMAIL_LENGTH]
        # Two short transactions around the password check: argon2 is slow on purpose and must
        # not hold SQLite's write lock (every booking waits for it). The price: requests racing
        # through the gate together are all checked, so a limit can be overshot by the number
        # of requests in flight at once (see docs/admin-auth.md).
        with self._uow_factory() as uow:
            now = self._clock.now()
            self._refuse_when_limited(uow, email=email, client_ip=client_ip, now=now)
            admin = uow.admin_users.by_email(email)
        verified = self._verified(admin, password)
        new_hash = None
        if verified is not None and self._hasher.needs_rehash(verified.password_hash):
            new_hash = self._hasher.hash(password)
        with self._uow_factory() as uow:
            now = self._clock.now()
            if verified is None:
                # Counted, never a row per attempt: a flood cannot grow the database.
                window = self._policy.forget_after
                for key in self._keys(email, client_ip):
                    uow.throttles.hit(key, now=now, window=window)
                uow.commit()
                raise UnauthorizedError("Wrong email or password.")
            uow.throttles.reset(self._keys(email, client_ip)[0])
            if new_hash is not None:
                uow.admin_users.set_password_hash(verified.admin_id, new_hash)
            session_id = secrets.token_urlsafe(32)
            session = AdminSession(
                session_hash=hash_session_id(session_id),
                admin_id=verified.admin_id,
                email=verified.email,
                csrf_token=secrets.token_urlsafe(32),
                expires_at=now + self._session_ttl,
            )
            uow.admin_sessions.delete_expired(now)
            uow.admin_sessions.add(session, created_at=now)
            uow.admin_users.record_login(verified.admin_id, now)
            uow.login_attempts.record(email=email, client_ip=client_ip, succeeded=True, at=now)
            identify(verified.email)  # the sign-in is this admin's first audited action
            uow.commit()
        return SignedIn(session_id=session_id, session=session)

    @staticmethod
    def _keys(email: str, client_ip: str) -> tuple[str, str]:
        """The throttle keys: (this account from this address, this address); hashed."""
        return (
            address_key("login", f"{email}\n{client_ip}"),
            address_key("login-address", client_ip),
        )

    def _refuse_when_limited(
        self, uow: UnitOfWork, *, email: str, client_ip: str, now: datetime
    ) -> None:
        policy = self._policy
        pair, address = self._keys(email, client_ip)
        for key, free in (
            (pair, policy.free_failures),
            (address, policy.free_failures_per_address),
        ):
            counted = uow.throttles.peek(key)
            if counted is None or counted.first_at <= now - policy.forget_after:
                continue
            allowed_at = counted.last_at + policy.wait_after(counted.count, free=free)
            if now < allowed_at:
                raise TooManyAttemptsError(
                    "Too many failed sign-in attempts from here; please wait and try again.",
                    retry_after_seconds=max(1, math.ceil((allowed_at - now).total_seconds())),
                )

    def _verified(self, admin: AdminUser | None, password: str) -> AdminUser | None:
        """The admin if the password is theirs, else None."""
        if not password or len(password) > MAX_PASSWORD_LENGTH:
            return None
        if admin is None:
            # Same work as for a real account, so response time does not reveal which emails
            # have one.
            self._hasher.verify(self._dummy(), password)
            return None
        return admin if self._hasher.verify(admin.password_hash, password) else None

    def _dummy(self) -> str:
        # Built on first use (one hash), not in the constructor: most processes never need it.
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(32))
        return self._dummy_hash


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthenticateSession:
    """Resolve a session cookie to its live session, or None; expired sessions are removed."""

    uow_factory: UnitOfWorkFactory
    writer_factory: UnitOfWorkFactory
    clock: Clock

    def execute(self, session_id: str) -> AdminSession | None:
        if not session_id or len(session_id) > _MAX_SESSION_ID_LENGTH:
            return None
        session_hash = hash_session_id(session_id)
        # Every admin request passes here, so the usual path is a read-only transaction; only
        # an expired session needs the writer.
        with self.uow_factory() as uow:
            session = uow.admin_sessions.get(session_hash)
        if session is None:
            return None
        if session.expires_at > self.clock.now():
            return session
        with self.writer_factory() as uow:
            uow.admin_sessions.delete(session_hash)
            uow.commit()
        return None


@dataclass(frozen=True, kw_only=True, slots=True)
class Logout:
    """End a session (unknown or expired ids are ignored: the outcome is the same)."""

    uow_factory: UnitOfWorkFactory

    def execute(self, session_id: str) -> None:
        if not session_id or len(session_id) > _MAX_SESSION_ID_LENGTH:
            return
        with self.uow_factory() as uow:
            uow.admin_sessions.delete(hash_session_id(session_id))
            uow.commit()
