"""GoogleTokens against the fakes: refresh before expiry and on 401, single-flight through the
lease, invalid_grant -> needs_reauth without a retry loop, lost keys, rotation."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from balance_booking.application.errors import AccessRevokedError, GoogleUnavailableError
from tests.unit.application.wiring import World


def stored_access(world: World) -> str:
    record = world.record()
    assert record.access_token_enc is not None
    return world.cipher.decrypt(record.access_token_enc)


def leased_elsewhere(world: World) -> str:
    """Another process holds the refresh lease for 30 seconds; the stale token in hand."""
    stale = world.tokens.current()
    lease = world.clock.now() + timedelta(seconds=30)
    world.save_record(replace(world.record(), refresh_lease_until=lease))
    return stale


def test_the_current_token_is_the_stored_one_decrypted(connected: World) -> None:
    [grant] = connected.oauth.grants
    assert connected.tokens.current() == grant.access_tokens[-1]
    assert connected.oauth.calls["refresh"] == 0


def test_tokens_are_stored_encrypted(connected: World) -> None:
    [grant] = connected.oauth.grants
    record = repr(connected.record())
    assert grant.refresh_token not in record
    assert grant.access_tokens[0] not in record


def test_a_token_with_a_minute_left_is_refreshed_before_use(connected: World) -> None:
    first = connected.tokens.current()
    connected.clock.advance(timedelta(minutes=59, seconds=1))
    fresh = connected.tokens.current()
    assert fresh != first
    assert stored_access(connected) == fresh
    assert connected.record().token_expires_at == connected.clock.now() + timedelta(hours=1)
    assert connected.record().refresh_lease_until is None
    assert connected.metrics.count("google_token_refreshed") == 1


def test_a_token_with_more_than_a_minute_left_is_used_as_is(connected: World) -> None:
    first = connected.tokens.current()
    connected.clock.advance(timedelta(minutes=58, seconds=59))
    assert connected.tokens.current() == first
    assert connected.oauth.calls["refresh"] == 0


def test_the_refresh_token_is_kept_when_google_sends_no_new_one(connected: World) -> None:
    before = connected.record().refresh_token_enc
    connected.tokens.refreshed(connected.tokens.current())
    assert connected.record().refresh_token_enc == before


def test_a_401_refreshes_once_and_the_call_goes_through(connected: World) -> None:
    before = connected.tokens.current()
    connected.oauth.expire_access_tokens()  # Google expires it early; our clock disagrees
    assert connected.sync.execute().busy_intervals == 0
    assert connected.oauth.calls["refresh"] == 1
    assert connected.tokens.current() != before


def test_a_second_caller_with_the_same_stale_token_reuses_the_fresh_one(connected: World) -> None:
    stale = connected.tokens.current()
    first = connected.tokens.refreshed(stale)
    second = connected.make_tokens().refreshed(stale)
    assert first == second != stale
    assert connected.oauth.calls["refresh"] == 1


def test_a_caller_waits_for_a_refresh_in_flight_and_reuses_its_token(connected: World) -> None:
    stale = leased_elsewhere(connected)
    waits: list[float] = []

    def the_other_process_finishes(seconds: float) -> None:
        waits.append(seconds)
        other = connected.record()
        other.access_token_enc = connected.cipher.encrypt("fresh-from-elsewhere")
        other.token_expires_at = connected.clock.now() + timedelta(hours=1)
        other.refresh_lease_until = None
        connected.save_record(other)

    tokens = connected.make_tokens(sleep=the_other_process_finishes)
    assert tokens.refreshed(stale) == "fresh-from-elsewhere"
    assert waits == [0.001]
    assert connected.oauth.calls["refresh"] == 0


def test_a_lease_that_never_frees_ends_as_google_unavailable(connected: World) -> None:
    stale = leased_elsewhere(connected)
    tokens = connected.make_tokens(lease=timedelta(milliseconds=1))
    with pytest.raises(GoogleUnavailableError):
        tokens.refreshed(stale)
    assert connected.sleeps, "it polled"
    assert connected.oauth.calls["refresh"] == 0


def test_an_expired_lease_is_taken_over(connected: World) -> None:
    stale = connected.tokens.current()
    record = connected.record()
    connected.save_record(replace(record, refresh_lease_until=connected.clock.now()))
    assert connected.tokens.refreshed(stale) != stale
    assert connected.oauth.calls["refresh"] == 1


def test_concurrent_refreshes_make_one_call_to_google(connected: World) -> None:
    stale = connected.tokens.current()
    results: list[str] = []
    errors: list[BaseException] = []
    slow = threading.Event()

    def slow_google(refresh_token: str) -> None:
        slow.wait(0.05)  # the refresh takes a moment: the others arrive meanwhile

    connected.oauth.on_refresh = slow_google

    def refresh() -> None:
        try:
            results.append(connected.make_tokens(sleep=time.sleep).refreshed(stale))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    assert len(results) == 8
    assert len(set(results)) == 1, "every caller got the one refreshed token"
    assert results[0] != stale
    assert connected.oauth.calls["refresh"] == 1


def test_invalid_grant_means_needs_reauth_and_the_tokens_go(connected: World) -> None:
    connected.oauth.revoke_everything()
    connected.clock.advance(timedelta(hours=2))
    with pytest.raises(AccessRevokedError):
        connected.tokens.current()
    record = connected.record()
    assert (record.status, record.access_token_enc, record.refresh_token_enc) == (
        "needs_reauth",
        None,
        None,
    )
    assert record.account_email == "owner@example.com", "the settings stay for the reconnect"
    assert record.last_sync_error == "Google access was revoked: reconnect the calendar."
    assert connected.metrics.count("google_access_revoked", reason="invalid_grant") == 1


def test_after_invalid_grant_there_is_no_retry_loop(connected: World) -> None:
    connected.oauth.revoke_everything()
    connected.clock.advance(timedelta(hours=2))
    with pytest.raises(AccessRevokedError):
        connected.tokens.current()
    commits = connected.db.commits
    for _ in range(3):
        with pytest.raises(AccessRevokedError):
            connected.tokens.current()
    assert connected.oauth.calls["refresh"] == 1, "Google is not asked again"
    assert connected.db.commits == commits, "the row is not written again"
    assert connected.metrics.count("google_access_revoked") == 1, "alerted once"


def test_the_status_shows_needs_reauth(connected: World) -> None:
    connected.oauth.revoke_everything()
    connected.clock.advance(timedelta(hours=2))
    with pytest.raises(AccessRevokedError):
        connected.tokens.current()
    view = connected.status.execute()
    assert (view.status, view.account_email) == ("needs_reauth", "owner@example.com")
    assert view.next_sync_at is None


def test_a_refused_refresh_does_not_undo_a_reconnect_made_meanwhile(connected: World) -> None:
    stale = connected.tokens.current()
    connected.oauth.revoke_everything()

    def admin_reconnects_meanwhile(refresh_token: str) -> None:
        connected.oauth.on_refresh = None
        connected.connected(synced=False)

    connected.oauth.on_refresh = admin_reconnects_meanwhile
    with pytest.raises(AccessRevokedError):
        connected.tokens.refreshed(stale)
    record = connected.record()
    assert record.status == "connected"
    assert record.access_token_enc is not None
    assert record.refresh_token_enc is not None
    assert connected.tokens.current() == connected.oauth.live_grants()[0].access_tokens[-1]
    assert connected.metrics.count("google_access_revoked") == 0
    assert connected.sync.execute().busy_intervals == 0


def test_a_transient_refresh_failure_releases_the_lease(connected: World) -> None:
    stale = connected.tokens.current()
    connected.oauth.fail("refresh", GoogleUnavailableError("token endpoint down"))
    with pytest.raises(GoogleUnavailableError):
        connected.tokens.refreshed(stale)
    record = connected.record()
    assert (record.status, record.refresh_lease_until) == ("connected", None)
    assert connected.tokens.refreshed(stale) != stale, "the next attempt may refresh at once"


def test_a_lost_key_means_needs_reauth_not_a_crash(connected: World) -> None:
    connected.cipher.keys = ["key-b"]
    with pytest.raises(AccessRevokedError):
        connected.tokens.current()
    assert connected.record().status == "needs_reauth"
    assert connected.metrics.count("google_access_revoked", reason="undecryptable_token") == 1


def test_a_lost_key_found_during_a_refresh_means_needs_reauth(connected: World) -> None:
    stale = connected.tokens.current()
    connected.cipher.keys = ["key-b"]
    with pytest.raises(AccessRevokedError):
        connected.tokens.refreshed(stale)
    assert connected.record().status == "needs_reauth"
    assert connected.oauth.calls["refresh"] == 0


def test_without_a_connection_there_is_no_token(ready: World) -> None:
    commits = ready.db.commits
    with pytest.raises(AccessRevokedError):
        ready.tokens.current()
    with pytest.raises(AccessRevokedError):
        ready.tokens.refreshed("anything")
    assert ready.db.commits == commits, "nothing written"


def test_without_an_oauth_client_nothing_is_refreshed(connected: World) -> None:
    with pytest.raises(AccessRevokedError):
        connected.make_tokens(oauth=None).refreshed(connected.tokens.current())


def test_rotate_keys_reencrypts_under_the_first_key(connected: World) -> None:
    plaintext = connected.tokens.current()
    report = connected.rotate_keys("key-b", "key-a").execute()
    assert (report.rotated, report.undecryptable) == (3, 0)  # two tokens, one spent state
    connected.cipher.keys = ["key-b"]
    assert connected.tokens.current() == plaintext


def test_rotation_without_the_old_key_marks_needs_reauth(connected: World) -> None:
    report = connected.rotate_keys("key-c").execute()
    assert report.rotated == 0
    assert report.undecryptable == 2  # the tokens, and the OAuth state's verifier
    assert connected.record().status == "needs_reauth"
    assert connected.record().refresh_token_enc is None
