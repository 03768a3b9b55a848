"""Contract: admin accounts, sessions, login attempts, API tokens; the waitlist."""

from __future__ import annotations

import uuid
from datetime import timedelta

from balance_booking.application.ports import AdminSession, WaitlistEntry
from tests.contract.conftest import Backend
from tests.contract.data import T0, at, service


def test_admin_emails_are_stored_lower_case_and_found_case_insensitively(
    backend: Backend,
) -> None:
    with backend.uow() as uow:
        created = uow.admin_users.add(
            email=" Owner@Example.COM ", password_hash="v1:x", created_at=T0
        )
        uow.commit()
    assert created.email == "owner@example.com"
    with backend.uow() as uow:
        assert uow.admin_users.by_email("OWNER@example.com") == created
        assert uow.admin_users.by_email("other@example.com") is None


def test_password_hashes_can_be_replaced(backend: Backend) -> None:
    with backend.uow() as uow:
        admin = uow.admin_users.add(email="a@example.com", password_hash="v1:x", created_at=T0)
        other = uow.admin_users.add(email="b@example.com", password_hash="v1:y", created_at=T0)
        uow.commit()
    assert admin.admin_id != other.admin_id
    with backend.uow() as uow:
        uow.admin_users.set_password_hash(admin.admin_id, "v2:x")
        uow.admin_users.record_login(admin.admin_id, at(1))
        uow.commit()
    with backend.uow() as uow:
        updated = uow.admin_users.by_email("a@example.com")
        untouched = uow.admin_users.by_email("b@example.com")
    assert updated is not None
    assert updated.password_hash == "v2:x"
    assert untouched == other


def _session(admin_id: int, name: str, *, hours: float) -> AdminSession:
    return AdminSession(
        session_hash=f"hash-{name}",
        admin_id=admin_id,
        email="ignored@example.com",
        csrf_token=f"csrf-{name}",
        expires_at=at(hours),
    )


def test_sessions_carry_the_email_of_their_admin(backend: Backend) -> None:
    with backend.uow() as uow:
        admin = uow.admin_users.add(email="owner@example.com", password_hash="h", created_at=T0)
        uow.admin_sessions.add(_session(admin.admin_id, "a", hours=12), created_at=T0)
        uow.commit()
    with backend.uow() as uow:
        session = uow.admin_sessions.get("hash-a")
        assert uow.admin_sessions.get("hash-b") is None
    assert session == AdminSession(
        session_hash="hash-a",
        admin_id=admin.admin_id,
        email="owner@example.com",
        csrf_token="csrf-a",
        expires_at=at(12),
    )


def test_sessions_are_deleted_one_by_one_or_when_expired(backend: Backend) -> None:
    with backend.uow() as uow:
        admin = uow.admin_users.add(email="owner@example.com", password_hash="h", created_at=T0)
        for name, hours in (("old", -1), ("edge", 0), ("live", 5), ("gone", 5)):
            uow.admin_sessions.add(_session(admin.admin_id, name, hours=hours), created_at=T0)
        uow.commit()
    with backend.uow() as uow:
        uow.admin_sessions.delete("hash-gone")
        uow.admin_sessions.delete("hash-never-existed")
        assert uow.admin_sessions.delete_expired(T0) == 2
        uow.commit()
    with backend.uow() as uow:
        assert uow.admin_sessions.get("hash-live") is not None
        for name in ("old", "edge", "gone"):
            assert uow.admin_sessions.get(f"hash-{name}") is None


def test_throttle_counters_count_per_key_restart_after_their_window_and_prune(
    backend: Backend,
) -> None:
    hour = timedelta(hours=1)
    with backend.uow() as uow:
        throttles = uow.throttles
        assert [throttles.hit("a", now=at(0), window=hour).count for _ in range(3)] == [1, 2, 3]
        later = throttles.hit("a", now=at(0.5), window=hour)
        assert (later.count, later.first_at, later.last_at) == (4, at(0), at(0.5))
        assert throttles.hit("b", now=at(0.5), window=hour).count == 1
        uow.commit()
    with backend.uow() as uow:
        restarted = uow.throttles.hit("a", now=at(1), window=hour)  # the window has passed
        assert (restarted.count, restarted.first_at) == (1, at(1))
        peeked = uow.throttles.peek("b")
        assert peeked is not None
        assert peeked.count == 1
        assert uow.throttles.peek("missing") is None
        uow.throttles.reset("b")
        assert uow.throttles.peek("b") is None
        assert uow.throttles.hit("c", now=at(-5), window=hour).count == 1
        assert uow.throttles.prune(before=at(-1)) == 1
        uow.commit()
    with backend.uow() as uow:
        assert uow.throttles.peek("c") is None
        assert uow.throttles.peek("a") is not None


def test_sign_in_attempts_are_pruned_by_age(backend: Backend) -> None:
    with backend.uow() as uow:
        attempts = uow.login_attempts
        attempts.record(email="Owner@example.com", client_ip="10.0.0.1", succeeded=False, at=at(-1))
        attempts.record(email="owner@example.com", client_ip="10.0.0.2", succeeded=False, at=T0)
        attempts.record(email="other@example.com", client_ip="10.0.0.1", succeeded=False, at=T0)
        attempts.record(email="owner@example.com", client_ip="10.0.0.1", succeeded=True, at=T0)
        attempts.record(email="owner@example.com", client_ip="10.0.0.1", succeeded=False, at=at(-3))
        uow.commit()
    with backend.uow() as uow:
        assert uow.login_attempts.prune(before=at(-1)) == 1  # only the one before, exclusive
        uow.commit()
    with backend.uow() as uow:
        assert uow.login_attempts.prune(before=at(-1)) == 0
        assert uow.login_attempts.prune(before=at(1)) == 4


def test_admin_tokens_are_found_by_hash_only(backend: Backend) -> None:
    with backend.uow() as uow:
        first = uow.admin_tokens.add(name="ci", token_hash="h1", created_at=T0)
        second = uow.admin_tokens.add(name="payments", token_hash="h2", created_at=at(1))
        uow.commit()
    assert first.token_id != second.token_id
    assert (second.name, second.created_at) == ("payments", at(1))
    with backend.uow() as uow:
        assert uow.admin_tokens.find_by_hash("h1") == first
        assert uow.admin_tokens.find_by_hash("h2") == second
        assert uow.admin_tokens.find_by_hash("ci") is None


def test_waitlist_entries_round_trip_oldest_first(backend: Backend) -> None:
    def entry(minutes: int, **changes: object) -> WaitlistEntry:
        fields: dict[str, object] = {
            "entry_id": uuid.uuid4(),
            "service_slug": "session",
            "name": "Анна",
            "email": "anna@example.com",
            "phone": None,
            "timezone": "Europe/Moscow",
            "preferred_from": None,
            "preferred_to": None,
            "comment": None,
            "created_at": T0 + timedelta(minutes=minutes),
        }
        fields.update(changes)
        return WaitlistEntry(**fields)  # type: ignore[arg-type]

    later = entry(5)
    earlier = entry(
        1, phone="+7 900", preferred_from=at(24), preferred_to=at(48), comment="после шести"
    )
    with backend.uow() as uow:
        uow.services.add(service())
        assert uow.waitlist.list() == []
        uow.waitlist.add(later)
        uow.waitlist.add(earlier)
        uow.commit()
    with backend.uow() as uow:
        assert uow.waitlist.list() == [earlier, later]
