"""Admin use cases against the fakes: the schedule, services (create, update, delete) and API
tokens; admin sign-in rules that were tested only over HTTP."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from balance_booking.application.admin import ListAdminTokens, RevokeAdminToken
from balance_booking.application.errors import (
    ConflictError,
    NotFoundError,
    TooManyAttemptsError,
    UnauthorizedError,
)
from balance_booking.domain.availability import Availability, LocalWindow
from balance_booking.domain.errors import InvalidService
from balance_booking.domain.intervals import Interval
from tests.fakes.clock import START
from tests.unit.application.wiring import (
    SESSION,
    WEEKDAYS_10_TO_18,
    World,
    hash_api_token,
    hash_session_id,
    moscow,
    request,
)

PASSWORD = "a long enough password"
MOSCOW = ZoneInfo("Europe/Moscow")


# --- schedule ---------------------------------------------------------------------------


def test_before_any_hours_the_schedule_is_empty_in_the_default_zone(world: World) -> None:
    schedule = world.get_schedule.execute()
    assert schedule == Availability(timezone="Europe/Moscow")


def test_a_replaced_schedule_reads_back_and_changes_the_slots(world: World) -> None:
    world.given(replace(SESSION, slot_step=None, duration=timedelta(minutes=60)), schedule=None)
    schedule = replace(
        WEEKDAYS_10_TO_18,
        overrides={
            date(2026, 12, 31): (),
            date(2026, 12, 30): (
                LocalWindow.parse("10:00", "12:00"),
                LocalWindow.parse("13:00", "14:00"),
            ),
        },
    )
    assert world.replace_schedule.execute(schedule) == schedule
    assert world.get_schedule.execute() == schedule
    last_days = Interval(moscow(1, 0) + timedelta(days=29), moscow(1, 0) + timedelta(days=31))
    starts = world.list_slots.execute(service_slug="session", window=last_days).slots
    # 30 December: only the override's hours; 31 December: a day off.
    assert [s.start.astimezone(MOSCOW).strftime("%d %H:%M") for s in starts] == [
        "30 10:00",
        "30 11:00",
        "30 13:00",
    ]


def test_a_schedule_in_another_zone_moves_the_instants(world: World) -> None:
    world.given(replace(SESSION, slot_step=None, duration=timedelta(minutes=60)), schedule=None)
    world.replace_schedule.execute(replace(WEEKDAYS_10_TO_18, timezone="Asia/Kolkata"))
    result = world.list_slots.execute(
        service_slug="session", window=Interval(moscow(1, 0), moscow(2, 0))
    )
    assert result.availability.timezone == "Asia/Kolkata"
    assert result.slots[0].start == moscow(1, 7, 30)  # 10:00 in Kolkata


def test_replacing_the_schedule_is_all_or_nothing(ready: World) -> None:
    ready.replace_schedule.execute(Availability(timezone="UTC"))
    assert ready.get_schedule.execute() == Availability(timezone="UTC")


# --- services ---------------------------------------------------------------------------


def test_services_are_listed_in_creation_order_active_or_not(world: World) -> None:
    world.create_service.execute(replace(SESSION, slug="b"))
    world.create_service.execute(replace(SESSION, slug="a", active=False))
    assert [s.slug for s in world.list_services.execute()] == ["b", "a"]


def test_a_duplicate_slug_is_a_conflict(ready: World) -> None:
    with pytest.raises(ConflictError):
        ready.create_service.execute(replace(SESSION, title="Другая"))
    assert ready.list_services.execute() == [SESSION]


def test_an_update_changes_only_the_given_fields(ready: World) -> None:
    updated = ready.update_service.execute(
        "session",
        {
            "buffer_after": timedelta(minutes=10),
            "slot_step": timedelta(minutes=60),
            "daily_limit": 3,
        },
    )
    assert (updated.buffer_after, updated.daily_limit, updated.title) == (
        timedelta(minutes=10),
        3,
        "Сессия",
    )
    assert ready.list_services.execute() == [updated]
    cleared = ready.update_service.execute("session", {"daily_limit": None})
    assert cleared.daily_limit is None


@pytest.mark.parametrize(
    "changes",
    [
        {"duration": timedelta(0)},
        {"duration": timedelta(minutes=7, seconds=30)},
        {"max_days_ahead": 0},
        {"daily_limit": 0},
        {"title": ""},
        {"buffer_before": timedelta(minutes=-5)},
    ],
    ids=["zero-duration", "half-minute", "horizon", "limit", "empty-title", "negative-buffer"],
)
def test_an_update_is_validated_as_a_whole_and_nothing_changes(
    ready: World, changes: dict[str, object]
) -> None:
    with pytest.raises(InvalidService):
        ready.update_service.execute("session", changes)
    assert ready.list_services.execute() == [SESSION]


def test_updating_an_unknown_service_is_not_found(ready: World) -> None:
    with pytest.raises(NotFoundError):
        ready.update_service.execute("nope", {"title": "x"})


def test_a_service_never_booked_is_deleted(ready: World) -> None:
    ready.delete_service.execute("session")
    assert ready.list_services.execute() == []
    with pytest.raises(NotFoundError):
        ready.delete_service.execute("session")


def test_a_booked_service_is_deactivated_instead_of_deleted(ready: World) -> None:
    ready.book.execute(request())
    ready.delete_service.execute("session")
    assert ready.list_services.execute() == [replace(SESSION, active=False)]
    assert ready.public_services.execute() == []


def test_an_update_is_seen_by_the_slots_at_once(ready: World) -> None:
    day = Interval(moscow(1, 0), moscow(2, 0))
    assert len(ready.list_slots.execute(service_slug="session", window=day).slots) == 8
    ready.update_service.execute("session", {"slot_step": timedelta(minutes=120)})
    assert len(ready.list_slots.execute(service_slug="session", window=day).slots) == 4


# --- admin API tokens -------------------------------------------------------------------


def test_an_issued_token_is_shown_once_and_stored_hashed(world: World) -> None:
    issued = world.create_token.execute(name="payments")
    assert issued.secret.startswith("bb_")
    assert len(issued.secret) >= 40
    assert (issued.token.name, issued.token.created_at) == ("payments", START)
    assert issued.secret not in repr(world.db.state)
    assert hash_api_token(issued.secret) in world.db.state.admin_tokens


def test_a_token_authenticates_as_what_it_was_issued_as(world: World) -> None:
    issued = world.create_token.execute(name="payments")
    other = world.create_token.execute(name="ci")
    assert world.authenticate_token.execute(issued.secret) == issued.token
    assert world.authenticate_token.execute(other.secret) == other.token
    assert world.authenticate_token.execute(issued.secret + "x") is None
    assert world.authenticate_token.execute("") is None


def test_tokens_expire_are_listed_with_their_last_use_and_can_be_revoked(world: World) -> None:
    short = world.create_token.execute(name="short", lifetime=timedelta(days=1))
    forever = world.create_token.execute(name="forever", lifetime=None)
    assert short.token.expires_at == START + timedelta(days=1)
    world.clock.advance(timedelta(hours=2))
    assert world.authenticate_token.execute(short.secret) is not None
    listed = ListAdminTokens(uow_factory=world.db).execute()
    assert [(t.name, t.last_used_at, t.expires_at) for t in listed] == [
        ("short", START + timedelta(hours=2), START + timedelta(days=1)),
        ("forever", None, None),
    ]
    assert "secret" not in repr(listed)
    assert short.secret not in repr(listed)
    world.clock.advance(timedelta(days=1))
    assert world.authenticate_token.execute(short.secret) is None, "expired"
    assert world.authenticate_token.execute(forever.secret) is not None
    RevokeAdminToken(uow_factory=world.db).execute(forever.token.token_id)
    assert world.authenticate_token.execute(forever.secret) is None, "revoked"
    with pytest.raises(NotFoundError):
        RevokeAdminToken(uow_factory=world.db).execute(forever.token.token_id)


# --- admin sign-in (over HTTP in tests/integration/test_admin_auth.py before) ---------------


@pytest.fixture
def owner(world: World) -> World:
    world.create_admin.execute(email="owner@example.com", password=PASSWORD)
    return world


def login(
    world: World,
    *,
    email: str = "owner@example.com",
    password: str = PASSWORD,
    ip: str = "10.0.0.1",
) -> str:
    return world.login.execute(email=email, password=password, client_ip=ip).session_id


def test_emails_are_case_insensitive_at_sign_in(owner: World) -> None:
    assert login(owner, email="  Owner@Example.COM ")


def test_a_wrong_password_and_an_unknown_email_look_the_same(owner: World) -> None:
    with pytest.raises(UnauthorizedError) as wrong:
        login(owner, password="not the password")
    with pytest.raises(UnauthorizedError) as unknown:
        login(owner, email="nobody@example.com")
    assert str(wrong.value) == str(unknown.value)
    assert owner.db.state.admin_sessions == {}


def test_failures_slow_down_that_address_never_the_account(owner: World) -> None:
    for _ in range(5):
        with pytest.raises(UnauthorizedError):
            login(owner, password="wrong password!")
    with pytest.raises(TooManyAttemptsError) as limited:
        login(owner)  # even the right password waits, from this address
    assert limited.value.retry_after_seconds == 1
    assert login(owner, ip="10.0.0.2"), "another address is not refused"
    owner.clock.advance(timedelta(seconds=1))
    assert login(owner)


def test_a_session_lasts_twelve_hours(owner: World) -> None:
    session_id = login(owner)
    owner.clock.advance(timedelta(hours=12) - timedelta(seconds=1))
    assert owner.authenticate_session.execute(session_id) is not None
    owner.clock.advance(timedelta(seconds=1))
    assert owner.authenticate_session.execute(session_id) is None
    assert hash_session_id(session_id) not in owner.db.state.admin_sessions


def test_a_session_knows_its_admin_and_csrf_token(owner: World) -> None:
    signed_in = owner.login.execute(
        email="owner@example.com", password=PASSWORD, client_ip="1.2.3.4"
    )
    session = owner.authenticate_session.execute(signed_in.session_id)
    assert session is not None
    assert session.email == "owner@example.com"
    assert session.csrf_token == signed_in.session.csrf_token
    assert session.expires_at == START + timedelta(hours=12)


def test_sign_in_clears_sessions_that_expired(owner: World) -> None:
    old = login(owner)
    owner.clock.advance(timedelta(hours=13))
    login(owner)
    assert hash_session_id(old) not in owner.db.state.admin_sessions
    assert len(owner.db.state.admin_sessions) == 1


def test_logout_ends_only_that_session(owner: World) -> None:
    first, second = login(owner), login(owner)
    owner.logout.execute(first)
    assert owner.authenticate_session.execute(first) is None
    assert owner.authenticate_session.execute(second) is not None
    owner.logout.execute("")  # ignored
    owner.logout.execute(str(uuid.uuid4()))  # unknown: ignored


def test_sign_in_is_recorded(owner: World) -> None:
    login(owner, ip="10.9.8.7")
    [attempt] = owner.db.state.login_attempts
    assert (attempt.email, attempt.client_ip, attempt.succeeded) == (
        "owner@example.com",
        "10.9.8.7",
        True,
    )
    [stored] = owner.db.state.admin_users.values()
    assert stored.last_login_at == START
