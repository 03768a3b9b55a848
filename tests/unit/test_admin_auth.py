"""Admin sign-in use cases against in-memory fakes: timing equaliser, limits, rehash, sessions."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self, cast

import pytest

from balance_booking.application.admin_auth import (
    AuthenticateSession,
    CreateAdmin,
    Login,
    LoginPolicy,
    Logout,
    SignedIn,
    hash_session_id,
)
from balance_booking.application.errors import (
    ConflictError,
    InvalidRequestError,
    TooManyAttemptsError,
    UnauthorizedError,
)
from balance_booking.application.ports import (
    AdminSession,
    AdminUser,
    UnitOfWork,
    UnitOfWorkFactory,
)
from tests.conftest import START, FakeClock

PASSWORD = "a long enough password"


class FakeHasher:
    """Reversible "hashes" with a version tag, and a log of what was asked."""

    def __init__(self, version: int = 2) -> None:
        self.version = version
        self.verified: list[str] = []
        self.hashed = 0

    def hash(self, password: str) -> str:
        self.hashed += 1
        return f"v{self.version}:{password}"

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return password_hash.split(":", 1)[1] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"v{self.version}:")


@dataclass
class Attempt:
    email: str
    client_ip: str
    succeeded: bool
    at: datetime


@dataclass
class FakeStore:
    users: dict[str, AdminUser] = field(default_factory=dict)
    sessions: dict[str, AdminSession] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    created: dict[str, datetime] = field(default_factory=dict)


class FakeAdminUsers:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def add(self, *, email: str, password_hash: str, created_at: datetime) -> AdminUser:
        user = AdminUser(len(self._store.users) + 1, email, password_hash)
        self._store.users[email] = user
        self._store.created[email] = created_at
        return user

    def by_email(self, email: str) -> AdminUser | None:
        return self._store.users.get(email)

    def set_password_hash(self, admin_id: int, password_hash: str) -> None:
        for email, user in self._store.users.items():
            if user.admin_id == admin_id:
                self._store.users[email] = replace(user, password_hash=password_hash)

    def record_login(self, admin_id: int, at: datetime) -> None:
        pass


class FakeSessions:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def add(self, session: AdminSession, *, created_at: datetime) -> None:
        self._store.sessions[session.session_hash] = session
        self._store.created[session.session_hash] = created_at

    def get(self, session_hash: str) -> AdminSession | None:
        return self._store.sessions.get(session_hash)

    def delete(self, session_hash: str) -> None:
        self._store.sessions.pop(session_hash, None)

    def delete_expired(self, now: datetime) -> int:
        expired = [key for key, s in self._store.sessions.items() if s.expires_at <= now]
        for key in expired:
            del self._store.sessions[key]
        return len(expired)


class FakeAttempts:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def record(self, *, email: str, client_ip: str, succeeded: bool, at: datetime) -> None:
        self._store.attempts.append(Attempt(email, client_ip, succeeded, at))

    def failures_since(self, *, email: str, client_ip: str, since: datetime) -> tuple[int, int]:
        failed = [a for a in self._store.attempts if not a.succeeded and a.at >= since]
        return (
            sum(a.email == email for a in failed),
            sum(a.client_ip == client_ip for a in failed),
        )


class FakeUnitOfWork:
    """Only the admin repositories; changes are kept only when committed."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def __enter__(self) -> Self:
        self._working = FakeStore(
            dict(self._store.users),
            dict(self._store.sessions),
            list(self._store.attempts),
            dict(self._store.created),
        )
        self.admin_users = FakeAdminUsers(self._working)
        self.admin_sessions = FakeSessions(self._working)
        self.login_attempts = FakeAttempts(self._working)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass

    def commit(self) -> None:
        self._store.users = dict(self._working.users)
        self._store.sessions = dict(self._working.sessions)
        self._store.attempts = list(self._working.attempts)
        self._store.created = dict(self._working.created)

    def rollback(self) -> None:
        pass


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def hasher() -> FakeHasher:
    return FakeHasher()


def factory(store: FakeStore) -> UnitOfWorkFactory:
    # The fake has only the repositories these use cases touch.
    return lambda: cast("UnitOfWork", FakeUnitOfWork(store))


def create(store: FakeStore, hasher: FakeHasher, clock: FakeClock, **kwargs: str) -> AdminUser:
    use_case = CreateAdmin(uow_factory=factory(store), hasher=hasher, clock=clock)
    arguments = {"email": "owner@example.com", "password": PASSWORD} | kwargs
    return use_case.execute(**arguments)


def make_login(
    store: FakeStore, hasher: FakeHasher, clock: FakeClock, policy: LoginPolicy | None = None
) -> Login:
    return Login(
        uow_factory=factory(store),
        hasher=hasher,
        clock=clock,
        session_ttl=timedelta(hours=12),
        policy=policy,
    )


def test_create_admin_normalises_the_email_and_hashes(
    store: FakeStore, hasher: FakeHasher, clock: FakeClock
) -> None:
    admin = create(store, hasher, clock, email="  Owner@Example.com ")
    assert admin.email == "owner@example.com"
    assert store.users["owner@example.com"].password_hash == f"v2:{PASSWORD}"


@pytest.mark.parametrize(
    ("email", "password", "field_name"),
    [
        ("owner@example.com", "too-short", "password"),
        ("owner@example.com", "x" * 1025, "password"),
        ("not-an-email", PASSWORD, "email"),
        ("@example.com", PASSWORD, "email"),
        ("owner@", PASSWORD, "email"),
    ],
)
def test_create_admin_refuses_bad_input(
    *,
    store: FakeStore,
    hasher: FakeHasher,
    clock: FakeClock,
    email: str,
    password: str,
    field_name: str,
) -> None:
    with pytest.raises(InvalidRequestError) as error:
        create(store, hasher, clock, email=email, password=password)
    assert error.value.field == field_name
    assert not store.users


def test_create_admin_refuses_a_duplicate(
    store: FakeStore, hasher: FakeHasher, clock: FakeClock
) -> None:
    create(store, hasher, clock)
    with pytest.raises(ConflictError):
        create(store, hasher, clock, email="OWNER@example.com")


def test_login_opens_a_session_with_a_hashed_id(
    store: FakeStore, hasher: FakeHasher, clock: FakeClock
) -> None:
    create(store, hasher, clock)
    signed_in = make_login(store, hasher, clock).execute(
        email="owner@example.com", password=PASSWORD, client_ip="10.0.0.1"
    )
    assert len(signed_in.session_id) >= 43
    assert signed_in.session_id not in repr(signed_in)
    assert list(store.sessions) == [hash_session_id(signed_in.session_id)]
    assert signed_in.session.expires_at == START + timedelta(hours=12)
    assert len(signed_in.session.csrf_token) >= 43
    assert store.attempts[-1].succeeded


def test_unknown_email_costs_one_verification_like_a_real_one(
    store: FakeStore, hasher: FakeHasher, clock: FakeClock
) -> None:
    login = make_login(store, hasher, clock)
    with pytest.raises(UnauthorizedError):
        login.execute(email="nobody@example.com", password=PASSWORD, client_ip="10.0.0.1")
    assert len(hasher.verified) == 1
    assert [a.succeeded for a in store.attempts] == [False]


def test_rate_limit_refuses_without_checking_the_password(
    store: FakeStore, hasher: FakeHasher, clock: FakeClock
) -> None:
    create(store, hasher, clock)
    login = make_login(store, hasher, clock, LoginPolicy(max_failures_per_email=2))
    for _ in range(2):
        with pytest.raises(UnauthorizedError):
            login.execute(email="owner@example.com", password="wrong one!", client_ip="1.1.1.1")
    checks = len(hasher.verified)
    with pytest.raises(TooManyAttemptsError) as error:
        login.execute(email="owner@example.com", password=PASSWORD, client_ip="2.2.2.2")
    assert error.value.retry_after_seconds == 900
    assert len(hasher.verified) == checks
    assert len(store.attempts) == 3
    assert not store.sessions


def test_rate_limit_per_address_spans_emails(
    store: FakeStore, hasher: FakeHasher, clock: FakeClock
) -> None:
    login = make_login(store, hasher, clock, LoginPolicy(max_failures_per_ip=3))
    for number in range(3):
        with pytest.raises(UnauthorizedError):
            login.execute(email=f"u{number}@example.com", password="x" * 12, client_ip="9.9.9.9")
    with pytest.raises(TooManyAttemptsError):
        login.execute(email="fresh@example.com", password="x" * 12, client_ip="9.9.9.9")
    with pytest.raises(UnauthorizedError):
        login.execute(email="fresh@example.com", password="x" * 12, client_ip="8.8.8.8")


def test_oversized_passwords_are_refused_without_hashing(
    store: FakeStore, hasher: FakeHasher, clock: FakeClock
) -> None:
    create(store, hasher, clock)
    with pytest.raises(UnauthorizedError):
        make_login(store, hasher, clock).execute(
            email="owner@example.com", password="x" * 5000, client_ip="10.0.0.1"
        )
    assert hasher.verified == []
    assert [a.succeeded for a in store.attempts] == [False]


def test_outdated_hashes_are_replaced_at_login(store: FakeStore, clock: FakeClock) -> None:
    create(store, FakeHasher(version=1), clock)
    current = FakeHasher(version=2)
    make_login(store, current, clock).execute(
        email="owner@example.com", password=PASSWORD, client_ip="10.0.0.1"
    )
    assert store.users["owner@example.com"].password_hash == f"v2:{PASSWORD}"


def test_sessions_expire_and_are_deleted(
    store: FakeStore, hasher: FakeHasher, clock: FakeClock
) -> None:
    create(store, hasher, clock)
    signed_in: SignedIn = make_login(store, hasher, clock).execute(
        email="owner@example.com", password=PASSWORD, client_ip="10.0.0.1"
    )
    authenticate = AuthenticateSession(
        uow_factory=factory(store),
        writer_factory=factory(store),
        clock=clock,
    )
    assert authenticate.execute(signed_in.session_id) == signed_in.session
    assert authenticate.execute(signed_in.session_id + "x") is None
    assert authenticate.execute("x" * 500) is None
    assert authenticate.execute("") is None
    clock.advance(timedelta(hours=12))
    assert authenticate.execute(signed_in.session_id) is None
    assert not store.sessions


def test_logout_forgets_the_session(store: FakeStore, hasher: FakeHasher, clock: FakeClock) -> None:
    create(store, hasher, clock)
    signed_in = make_login(store, hasher, clock).execute(
        email="owner@example.com", password=PASSWORD, client_ip="10.0.0.1"
    )
    Logout(uow_factory=factory(store)).execute(signed_in.session_id)
    assert not store.sessions
