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


def test_the_current_token_is_the_stored_one_decrypted(synced: World) -> None:
    [grant] = synced.oauth.grants
    assert synced.tokens.current() == grant.access_tokens[-1]
    assert synced.oauth.calls["refresh"] == 0


def test_tokens_are_stored_encrypted(synced: World) -> None:
    [grant] = synced.oauth.grants
    record = repr(synced.record())
    assert grant.refresh_token not in record
    assert grant.access_tokens[0] not in record


def test_a_token_with_a_minute_left_is_refreshed_before_use(synced: World) -> None:
    first = synced.tokens.current()
    synced.clock.advance(timedelta(minutes=59, seconds=1))
    fresh = synced.tokens.current()
    assert fresh != first
    assert stored_access(synced) == fresh
    assert synced.record().token_expires_at == synced.clock.now() + timedelta(hours=1)
    assert synced.record().refresh_lease_until is None
    assert synced.metrics.count("google_token_refreshed") == 1


def test_a_token_with_more_than_a_minute_left_is_used_as_is(synced: World) -> None:
    first = synced.tokens.current()
    synced.clock.advance(timedelta(minutes=58, seconds=59))
    assert synced.tokens.current() == first
    assert synced.oauth.calls["refresh"] == 0


def test_the_refresh_token_is_kept_when_google_sends_no_new_one(synced: World) -> None:
    before = synced.record().refresh_token_enc
    synced.tokens.refreshed(synced.tokens.current())
    assert synced.record().refresh_token_enc == before


def test_a_401_refreshes_once_and_the_call_goes_through(synced: World) -> None:
    before = synced.tokens.current()
    synced.oauth.expire_access_tokens()  # Google expires it early; our clock disagrees
    assert synced.sync.execute().busy_intervals == 0
    assert synced.oauth.calls["refresh"] == 1
    assert synced.tokens.current() != before


def test_a_second_caller_with_the_same_stale_token_reuses_the_fresh_one(synced: World) -> None:
    stale = synced.tokens.current()
    first = synced.tokens.refreshed(stale)
    second = synced.make_tokens().refreshed(stale)
    assert first == second != stale
    assert synced.oauth.calls["refresh"] == 1


def test_a_caller_waits_for_a_refresh_in_flight_and_reuses_its_token(synced: World) -> None:
    stale = leased_elsewhere(synced)
    waits: list[float] = []

    def the_other_process_finishes(seconds: float) -> None:
        waits.append(seconds)
        other = synced.record()
        other.access_token_enc = synced.cipher.encrypt("fresh-from-elsewhere")
        other.token_expires_at = synced.clock.now() + timedelta(hours=1)
        other.refresh_lease_until = None
        synced.save_record(other)

    tokens = synced.make_tokens(sleep=the_other_process_finishes)
    assert tokens.refreshed(stale) == "fresh-from-elsewhere"
    assert waits == [0.001]
    assert synced.oauth.calls["refresh"] == 0


def test_a_lease_that_never_frees_ends_as_google_unavailable(synced: World) -> None:
    stale = leased_elsewhere(synced)
    tokens = synced.make_tokens(lease=timedelta(milliseconds=1))
    with pytest.raises(GoogleUnavailableError):
        tokens.refreshed(stale)
    assert synced.sleeps, "it polled"
    assert synced.oauth.calls["refresh"] == 0


def test_an_expired_lease_is_taken_over(synced: World) -> None:
    stale = synced.tokens.current()
    record = synced.record()
    synced.save_record(replace(record, refresh_lease_until=synced.clock.now()))
    assert synced.tokens.refreshed(stale) != stale
    assert synced.oauth.calls["refresh"] == 1


def test_concurrent_refreshes_make_one_call_to_google(synced: World) -> None:
    stale = synced.tokens.current()
    results: list[str] = []
    errors: list[BaseException] = []
    slow = threading.Event()

    def slow_google(refresh_token: str) -> None:
        slow.wait(0.05)  # the refresh takes a moment: the others arrive meanwhile

    synced.oauth.on_refresh = slow_google

    def refresh() -> None:
        try:
            results.append(synced.make_tokens(sleep=time.sleep).refreshed(stale))
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
    assert synced.oauth.calls["refresh"] == 1


def test_invalid_grant_means_needs_reauth_and_the_tokens_go(synced: World) -> None:
    synced.oauth.revoke_everything()
    synced.clock.advance(timedelta(hours=2))
    with pytest.raises(AccessRevokedError):
        synced.tokens.current()
    record = synced.record()
    assert (record.status, record.access_token_enc, record.refresh_token_enc) == (
        "needs_reauth",
        None,
        None,
    )
    assert record.account_email == "owner@example.com", "the settings stay for the reconnect"
    assert record.last_sync_error == "Google access was revoked: reconnect the calendar."
    assert synced.metrics.count("google_access_revoked", reason="invalid_grant") == 1


def test_after_invalid_grant_there_is_no_retry_loop(synced: World) -> None:
    synced.oauth.revoke_everything()
    synced.clock.advance(timedelta(hours=2))
    with pytest.raises(AccessRevokedError):
        synced.tokens.current()
    commits = synced.db.commits
    for _ in range(3):
        with pytest.raises(AccessRevokedError):
            synced.tokens.current()
    assert synced.oauth.calls["refresh"] == 1, "Google is not asked again"
    assert synced.db.commits == commits, "the row is not written again"
    assert synced.metrics.count("google_access_revoked") == 1, "alerted once"


def test_the_status_shows_needs_reauth(synced: World) -> None:
    synced.oauth.revoke_everything()
    synced.clock.advance(timedelta(hours=2))
    with pytest.raises(AccessRevokedError):
        synced.tokens.current()
    view = synced.status.execute()
    assert (view.status, view.account_email) == ("needs_reauth", "owner@example.com")
    assert view.next_sync_at is None


def test_a_refused_refresh_does_not_undo_a_reconnect_made_meanwhile(synced: World) -> None:
    stale = synced.tokens.current()
    synced.oauth.revoke_everything()

    def admin_reconnects_meanwhile(refresh_token: str) -> None:
        synced.oauth.on_refresh = None
        synced.connect(synced=False)

    synced.oauth.on_refresh = admin_reconnects_meanwhile
    with pytest.raises(AccessRevokedError):
        synced.tokens.refreshed(stale)
    record = synced.record()
    assert record.status == "connected"
    assert record.access_token_enc is not None
    assert record.refresh_token_enc is not None
    assert synced.tokens.current() == synced.oauth.live_grants()[0].access_tokens[-1]
    assert synced.metrics.count("google_access_revoked") == 0
    assert synced.sync.execute().busy_intervals == 0


def test_a_transient_refresh_failure_releases_the_lease(synced: World) -> None:
    stale = synced.tokens.current()
    synced.oauth.fail("refresh", GoogleUnavailableError("token endpoint down"))
    with pytest.raises(GoogleUnavailableError):
        synced.tokens.refreshed(stale)
    record = synced.record()
    assert (record.status, record.refresh_lease_until) == ("connected", None)
    assert synced.tokens.refreshed(stale) != stale, "the next attempt may refresh at once"


def test_a_lost_key_means_needs_reauth_not_a_crash(synced: World) -> None:
    synced.cipher.keys = ["key-b"]
    with pytest.raises(AccessRevokedError):
        synced.tokens.current()
    assert synced.record().status == "needs_reauth"
    assert synced.metrics.count("google_access_revoked", reason="undecryptable_token") == 1


def test_a_lost_key_found_during_a_refresh_means_needs_reauth(synced: World) -> None:
    stale = synced.tokens.current()
    synced.cipher.keys = ["key-b"]
    with pytest.raises(AccessRevokedError):
        synced.tokens.refreshed(stale)
    assert synced.record().status == "needs_reauth"
    assert synced.oauth.calls["refresh"] == 0


def test_without_a_connection_there_is_no_token(ready: World) -> None:
    commits = ready.db.commits
    with pytest.raises(AccessRevokedError):
        ready.tokens.current()
    with pytest.raises(AccessRevokedError):
        ready.tokens.refreshed("anything")
    assert ready.db.commits == commits, "nothing written"


def test_without_an_oauth_client_nothing_is_refreshed(synced: World) -> None:
    with pytest.raises(AccessRevokedError):
        synced.make_tokens(oauth=None).refreshed(synced.tokens.current())


def test_rotate_keys_reencrypts_under_the_first_key(synced: World) -> None:
    plaintext = synced.tokens.current()
    report = synced.rotate_keys("key-b", "key-a").execute()
    assert (report.rotated, report.undecryptable) == (3, 0)  # two tokens, one spent state
    synced.cipher.keys = ["key-b"]
    assert synced.tokens.current() == plaintext


def test_rotation_without_the_old_key_marks_needs_reauth(synced: World) -> None:
    report = synced.rotate_keys("key-c").execute()
    assert report.rotated == 0
    assert report.undecryptable == 2  # the tokens, and the OAuth state's verifier
    assert synced.record().status == "needs_reauth"
    assert synced.record().refresh_token_enc is None
