"""The fakes' own promises that tests/contract cannot check: Google's rules in the calendar and
OAuth fakes, programmable failures, and the unit of work's transactions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from balance_booking.application.errors import (
    AccessRevokedError,
    GoogleRequestError,
    GoogleUnavailableError,
    OAuthExchangeError,
    UndecryptableTokenError,
)
from balance_booking.application.ports import EventDraft
from balance_booking.domain.intervals import Interval
from tests.fakes.calendar import FakeCalendar, FakeCalendarGatewayFactory, FixedTokens
from tests.fakes.clock import START, FakeClock
from tests.fakes.crypto import FakePasswordHasher, FakeTokenCipher
from tests.fakes.oauth import ALL_SCOPES, FakeOAuth, s256
from tests.fakes.system import FakeJobLock, FakeMetrics
from tests.fakes.uow import FakeDatabase

T = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
WINDOW = Interval(T - timedelta(days=1), T + timedelta(days=1))


def gateway(calendar: FakeCalendar | None = None) -> object:
    return FakeCalendarGatewayFactory(calendar or FakeCalendar(now=lambda: T))(FixedTokens())


def draft(event_id: str = "e1", hours: int = 0) -> EventDraft:
    return EventDraft(
        event_id=event_id,
        appointment_id=uuid.uuid4(),
        summary="s",
        description="d",
        start=T + timedelta(hours=hours),
        end=T + timedelta(hours=hours, minutes=50),
        timezone="Europe/Moscow",
    )


def test_a_programmed_failure_hits_the_next_calls_only() -> None:
    calendar = FakeCalendar(now=lambda: T)
    google = FakeCalendarGatewayFactory(calendar)(FixedTokens())
    calendar.unavailable("busy_intervals", times=2)
    for _ in range(2):
        with pytest.raises(GoogleUnavailableError):
            google.busy_intervals(WINDOW)
    assert google.busy_intervals(WINDOW) == []
    assert calendar.calls["busy_intervals"] == 3


def test_failures_are_per_operation_and_keep_their_kind() -> None:
    calendar = FakeCalendar(now=lambda: T)
    google = FakeCalendarGatewayFactory(calendar)(FixedTokens())
    calendar.refuse("insert_event", 403, "forbidden")
    calendar.revoked("delete_event")
    assert google.busy_intervals(WINDOW) == []
    with pytest.raises(GoogleRequestError) as refused:
        google.insert_event(draft())
    assert (refused.value.status, refused.value.reason) == (403, "forbidden")
    with pytest.raises(AccessRevokedError):
        google.delete_event("e1")


def test_an_unknown_operation_is_a_typo_not_a_silent_no_op() -> None:
    with pytest.raises(ValueError, match="unknown gateway operation"):
        FakeCalendar().fail("insert", GoogleUnavailableError("x"))
    with pytest.raises(ValueError, match="unknown OAuth operation"):
        FakeOAuth(FakeClock()).fail("refresh_token", GoogleUnavailableError("x"))


def test_an_outage_lasts_until_recovery() -> None:
    calendar = FakeCalendar(now=lambda: T)
    google = FakeCalendarGatewayFactory(calendar)(FixedTokens())
    calendar.outage()
    with pytest.raises(GoogleUnavailableError):
        google.primary_calendar()
    with pytest.raises(GoogleUnavailableError):
        google.own_events(WINDOW)
    calendar.recover()
    assert google.primary_calendar().calendar_id == "primary"


def test_insert_with_a_known_id_is_409_even_after_a_delete() -> None:
    calendar = FakeCalendar(now=lambda: T)
    google = FakeCalendarGatewayFactory(calendar)(FixedTokens())
    assert google.insert_event(draft()) is True
    assert google.insert_event(draft()) is False
    google.delete_event("e1")
    assert google.insert_event(draft()) is False, "Google keeps deleted ids"
    assert google.patch_event("e1", draft()) is True, "patch undeletes"
    assert [e.event_id for e in calendar.live()] == ["e1"]


def test_a_forgotten_id_can_be_neither_patched_nor_reused() -> None:
    calendar = FakeCalendar(now=lambda: T)
    google = FakeCalendarGatewayFactory(calendar)(FixedTokens())
    google.insert_event(draft())
    calendar.forget("e1")
    assert google.patch_event("e1", draft()) is False
    assert google.insert_event(draft()) is False
    google.delete_event("e1")  # unknown: done


def test_busy_time_is_googles_freebusy_merged_and_clipped() -> None:
    calendar = FakeCalendar(now=lambda: T)
    google = FakeCalendarGatewayFactory(calendar)(FixedTokens())
    calendar.add_busy(T, T + timedelta(hours=1))
    calendar.add_busy(T + timedelta(hours=1), T + timedelta(hours=2))
    calendar.add_busy(T + timedelta(hours=3), T + timedelta(hours=4), transparent=True)
    google.insert_event(draft("ours", hours=5))
    window = Interval(T + timedelta(minutes=30), T + timedelta(hours=10))
    assert google.busy_intervals(window) == [
        Interval(T + timedelta(minutes=30), T + timedelta(hours=2)),
        Interval(T + timedelta(hours=5), T + timedelta(hours=5, minutes=50)),
    ]


def test_own_events_are_the_live_exported_ones_in_the_window() -> None:
    calendar = FakeCalendar(now=lambda: T)
    google = FakeCalendarGatewayFactory(calendar)(FixedTokens())
    calendar.add_busy(T, T + timedelta(hours=1))
    google.insert_event(draft("in"))
    google.insert_event(draft("gone"))
    google.insert_event(draft("far", hours=72))
    google.delete_event("gone")
    assert [e.event_id for e in google.own_events(WINDOW)] == ["in"]


def test_channels_expire_at_googles_cap_and_stop() -> None:
    calendar = FakeCalendar(now=lambda: T, channel_ttl_cap=timedelta(days=7))
    google = FakeCalendarGatewayFactory(calendar)(FixedTokens())
    channel = google.watch_events(
        channel_id="c1", address="https://x/h", token="t", ttl_seconds=10**9
    )
    assert channel.expires_at == T + timedelta(days=7)
    google.stop_channel(channel_id="c1", resource_id="wrong")
    assert calendar.live_channels()
    google.stop_channel(channel_id="c1", resource_id=channel.resource_id)
    assert calendar.live_channels() == []


def test_the_gateway_refreshes_once_on_401_like_the_transport() -> None:
    oauth = FakeOAuth(FakeClock())
    tokens = FixedTokens("not-a-google-token")
    google = FakeCalendarGatewayFactory(FakeCalendar(), accepts=oauth.access_valid)(tokens)
    with pytest.raises(GoogleRequestError) as refused:
        google.primary_calendar()
    assert refused.value.status == 401
    assert tokens.refreshes == 1


def test_oauth_codes_are_single_use_and_bound_to_the_challenge() -> None:
    oauth = FakeOAuth(FakeClock())
    oauth.authorization_url(state="s", code_challenge=s256("v" * 43))
    _, code = oauth.consent()
    with pytest.raises(OAuthExchangeError):
        oauth.exchange_code(code=code, code_verifier="w" * 43)
    grant = oauth.exchange_code(code=code, code_verifier="v" * 43)
    assert grant.scopes == ALL_SCOPES
    assert grant.expires_at == START + timedelta(hours=1)
    with pytest.raises(OAuthExchangeError):
        oauth.exchange_code(code=code, code_verifier="v" * 43)


def test_revoking_any_token_of_a_grant_kills_its_refresh() -> None:
    oauth = FakeOAuth(FakeClock())
    oauth.authorization_url(state="s", code_challenge=s256("v" * 43))
    _, code = oauth.consent()
    grant = oauth.exchange_code(code=code, code_verifier="v" * 43)
    assert grant.refresh_token is not None
    fresh = oauth.refresh(grant.refresh_token)
    assert oauth.access_valid(fresh.access_token)
    oauth.revoke(grant.access_token)
    with pytest.raises(AccessRevokedError):
        oauth.refresh(grant.refresh_token)
    assert not oauth.access_valid(fresh.access_token)
    oauth.revoke("unknown-token")  # already dead: not an error


def test_the_cipher_has_multifernet_rules() -> None:
    old, new = FakeTokenCipher("a"), FakeTokenCipher("b", "a")
    secret = old.encrypt("refresh-token-value")
    assert "refresh-token-value" not in secret
    assert new.decrypt(secret) == "refresh-token-value"
    rotated = new.rotate(secret)
    assert FakeTokenCipher("b").decrypt(rotated) == "refresh-token-value"
    with pytest.raises(UndecryptableTokenError):
        FakeTokenCipher("c").decrypt(secret)
    with pytest.raises(UndecryptableTokenError):
        new.decrypt("garbage")


def test_the_hasher_counts_its_slow_work() -> None:
    hasher = FakePasswordHasher(version=1)
    stored = hasher.hash("pw")
    assert hasher.verify(stored, "pw")
    assert not hasher.verify(stored, "other")
    assert (hasher.hashed, len(hasher.verified)) == (1, 2)
    assert FakePasswordHasher(version=2).needs_rehash(stored)


def test_metrics_are_counted_by_label_subset() -> None:
    metrics = FakeMetrics()
    metrics.increment("google_writes", {"operation": "insert", "result": "created"})
    metrics.increment("google_writes", {"operation": "delete", "result": "deleted"})
    assert metrics.count("google_writes") == 2
    assert metrics.count("google_writes", operation="insert") == 1
    assert metrics.count("google_writes", operation="insert", result="deleted") == 0


def test_the_job_lock_has_one_holder() -> None:
    lock = FakeJobLock()
    with lock.hold("sync") as first, lock.hold("sync") as second:
        assert (first, second) == (True, False)
    lock.held_elsewhere.add("sync")
    with lock.hold("sync") as third:
        assert third is False
    assert lock.taken == ["sync"]


def test_a_unit_of_work_commit_then_more_work_starts_a_new_transaction() -> None:
    database = FakeDatabase()
    with database() as uow:
        uow.tracking.track("a", {}, at=T)
        uow.commit()
        uow.tracking.track("b", {}, at=T)  # not committed: dropped on exit
    assert [t.event for t in database.tracked()] == ["a"]
    assert database.rollbacks == 1


def test_commit_outside_a_unit_of_work_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        FakeDatabase()().commit()
