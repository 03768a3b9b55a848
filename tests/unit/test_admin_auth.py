"""Admin sign-in use cases against the shared fakes: timing equaliser, limits, rehash, sessions."""

from __future__ import annotations

from datetime import timedelta

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
from balance_booking.application.ports import AdminUser
from tests.fakes.clock import START, FakeClock
from tests.fakes.crypto import FakePasswordHasher as FakeHasher
from tests.fakes.uow import FakeDatabase

PASSWORD = "a long enough password"


@pytest.fixture
def store() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def hasher() -> FakeHasher:
    return FakeHasher()


def users(store: FakeDatabase) -> dict[str, AdminUser]:
    return {stored.user.email: stored.user for stored in store.state.admin_users.values()}


def create(store: FakeDatabase, hasher: FakeHasher, clock: FakeClock, **kwargs: str) -> AdminUser:
    use_case = CreateAdmin(uow_factory=store, hasher=hasher, clock=clock)
    arguments = {"email": "owner@example.com", "password": PASSWORD} | kwargs
    return use_case.execute(**arguments)


def sign_in(store: FakeDatabase, hasher: FakeHasher, clock: FakeClock) -> SignedIn:
    """The owner (created first) signs in with the right password."""
    create(store, hasher, clock)
    return make_login(store, hasher, clock).execute(
        email="owner@example.com", password=PASSWORD, client_ip="10.0.0.1"
    )


def make_login(
    store: FakeDatabase, hasher: FakeHasher, clock: FakeClock, policy: LoginPolicy | None = None
) -> Login:
    return Login(
        uow_factory=store,
        hasher=hasher,
        clock=clock,
        session_ttl=timedelta(hours=12),
        policy=policy,
    )


def test_create_admin_normalises_the_email_and_hashes(
    store: FakeDatabase, hasher: FakeHasher, clock: FakeClock
) -> None:
    admin = create(store, hasher, clock, email="  Owner@Example.com ")
    assert admin.email == "owner@example.com"
    assert users(store)["owner@example.com"].password_hash == f"v2:{PASSWORD}"


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
    store: FakeDatabase,
    hasher: FakeHasher,
    clock: FakeClock,
    email: str,
    password: str,
    field_name: str,
) -> None:
    with pytest.raises(InvalidRequestError) as error:
        create(store, hasher, clock, email=email, password=password)
    assert error.value.field == field_name
    assert not users(store)


def test_create_admin_refuses_a_duplicate(
    store: FakeDatabase, hasher: FakeHasher, clock: FakeClock
) -> None:
    create(store, hasher, clock)
    with pytest.raises(ConflictError):
        create(store, hasher, clock, email="OWNER@example.com")


def test_login_opens_a_session_with_a_hashed_id(
    store: FakeDatabase, hasher: FakeHasher, clock: FakeClock
) -> None:
    signed_in = sign_in(store, hasher, clock)
    assert len(signed_in.session_id) >= 43
    assert signed_in.session_id not in repr(signed_in)
    assert list(store.state.admin_sessions) == [hash_session_id(signed_in.session_id)]
    assert signed_in.session.expires_at == START + timedelta(hours=12)
    assert len(signed_in.session.csrf_token) >= 43
    assert store.state.login_attempts[-1].succeeded


def test_unknown_email_costs_one_verification_like_a_real_one(
    store: FakeDatabase, hasher: FakeHasher, clock: FakeClock
) -> None:
    login = make_login(store, hasher, clock)
    with pytest.raises(UnauthorizedError):
        login.execute(email="nobody@example.com", password=PASSWORD, client_ip="10.0.0.1")
    assert len(hasher.verified) == 1
    assert store.state.login_attempts == [], "a refusal is counted, not stored"


def test_failures_slow_down_that_address_only_with_growing_waits(
    store: FakeDatabase, hasher: FakeHasher, clock: FakeClock
) -> None:
    create(store, hasher, clock)
    login = make_login(store, hasher, clock, LoginPolicy(free_failures=2))
    for _ in range(2):
        with pytest.raises(UnauthorizedError):
            login.execute(email="owner@example.com", password="wrong one!", client_ip="1.1.1.1")
    with pytest.raises(UnauthorizedError):  # the third one is still checked ...
        login.execute(email="owner@example.com", password="wrong one!", client_ip="1.1.1.1")
    checks = len(hasher.verified)
    with pytest.raises(TooManyAttemptsError) as error:  # ... and then this address waits
        login.execute(email="owner@example.com", password=PASSWORD, client_ip="1.1.1.1")
    assert error.value.retry_after_seconds == 1
    assert len(hasher.verified) == checks, "refused without checking the password"
    # The right password from another address is never refused because of them.
    login.execute(email="owner@example.com", password=PASSWORD, client_ip="2.2.2.2")
    clock.advance(timedelta(seconds=1))
    with pytest.raises(UnauthorizedError):
        login.execute(email="owner@example.com", password="wrong one!", client_ip="1.1.1.1")
    with pytest.raises(TooManyAttemptsError) as doubled:
        login.execute(email="owner@example.com", password=PASSWORD, client_ip="1.1.1.1")
    assert doubled.value.retry_after_seconds == 2
    clock.advance(timedelta(seconds=2))
    login.execute(email="owner@example.com", password=PASSWORD, client_ip="1.1.1.1")
    # A success starts that pair afresh.
    with pytest.raises(UnauthorizedError):
        login.execute(email="owner@example.com", password="wrong one!", client_ip="1.1.1.1")
    assert len(store.state.throttles) == 2  # this pair, and this address across accounts


def test_the_waits_double_and_are_capped() -> None:
    policy = LoginPolicy()
    assert policy.wait_after(4, free=4) == timedelta(0)
    assert policy.wait_after(5, free=4) == timedelta(seconds=1)
    assert policy.wait_after(14, free=4) == timedelta(seconds=512)
    assert policy.wait_after(500, free=4) == timedelta(minutes=15)


def test_a_flood_from_one_address_across_accounts_slows_that_address(
    store: FakeDatabase, hasher: FakeHasher, clock: FakeClock
) -> None:
    login = make_login(store, hasher, clock, LoginPolicy(free_failures_per_address=3))
    for number in range(3):
        with pytest.raises(UnauthorizedError):
            login.execute(email=f"u{number}@example.com", password="x" * 12, client_ip="9.9.9.9")
    with pytest.raises(UnauthorizedError):
        login.execute(email="fresh@example.com", password="x" * 12, client_ip="9.9.9.9")
    with pytest.raises(TooManyAttemptsError):
        login.execute(email="fresh2@example.com", password="x" * 12, client_ip="9.9.9.9")
    with pytest.raises(UnauthorizedError):
        login.execute(email="fresh@example.com", password="x" * 12, client_ip="8.8.8.8")


def test_oversized_passwords_are_refused_without_hashing(
    store: FakeDatabase, hasher: FakeHasher, clock: FakeClock
) -> None:
    create(store, hasher, clock)
    with pytest.raises(UnauthorizedError):
        make_login(store, hasher, clock).execute(
            email="owner@example.com", password="x" * 5000, client_ip="10.0.0.1"
        )
    assert hasher.verified == []
    assert store.state.login_attempts == []


def test_outdated_hashes_are_replaced_at_login(store: FakeDatabase, clock: FakeClock) -> None:
    create(store, FakeHasher(version=1), clock)
    current = FakeHasher(version=2)
    make_login(store, current, clock).execute(
        email="owner@example.com", password=PASSWORD, client_ip="10.0.0.1"
    )
    assert users(store)["owner@example.com"].password_hash == f"v2:{PASSWORD}"


def test_sessions_expire_and_are_deleted(
    store: FakeDatabase, hasher: FakeHasher, clock: FakeClock
) -> None:
    signed_in = sign_in(store, hasher, clock)
    authenticate = AuthenticateSession(
        uow_factory=store,
        writer_factory=store,
        clock=clock,
    )
    assert authenticate.execute(signed_in.session_id) == signed_in.session
    assert authenticate.execute(signed_in.session_id + "x") is None
    assert authenticate.execute("x" * 500) is None
    assert authenticate.execute("") is None
    clock.advance(timedelta(hours=12))
    assert authenticate.execute(signed_in.session_id) is None
    assert not store.state.admin_sessions


def test_logout_forgets_the_session(
    store: FakeDatabase, hasher: FakeHasher, clock: FakeClock
) -> None:
    signed_in = sign_in(store, hasher, clock)
    Logout(uow_factory=store).execute(signed_in.session_id)
    assert not store.state.admin_sessions
