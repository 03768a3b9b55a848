"""Connecting and disconnecting Google against the fakes: the OAuth state (single use, bound
to the session, ten minutes), PKCE S256, scopes, tokens at rest, disconnect, the feature flag."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from balance_booking.application.errors import (
    AccessRevokedError,
    ConflictError,
    GoogleRequestError,
    GoogleUnavailableError,
    InvalidOAuthStateError,
)
from balance_booking.domain.intervals import Interval
from tests.fakes.clock import START
from tests.fakes.oauth import SCOPE_EVENTS, SCOPE_FREEBUSY, s256
from tests.unit.application.wiring import (
    STATE_TTL,
    StartGoogleConnection,
    StaticTokens,
    World,
    moscow,
    pkce_challenge,
    sha256_hex,
)

SESSION_HASH = "admin-session"


def start(world: World, session: str | None = SESSION_HASH) -> tuple[str, str]:
    """Start the flow and let the admin consent: (state, code)."""
    url = world.start_connection.execute(session_hash=session)
    return world.oauth.consent(url)


def complete(
    world: World,
    state: str | None,
    code: str | None,
    *,
    error: str | None = None,
    session: str | None = SESSION_HASH,
) -> str:
    outcome = world.complete_connection.execute(
        state=state, code=code, error=error, session_hash=session
    )
    return outcome.kind if outcome.detail is None else f"{outcome.kind}: {outcome.detail}"


def test_start_asks_google_with_a_fresh_state_and_an_s256_challenge(ready: World) -> None:
    url = ready.start_connection.execute(session_hash=SESSION_HASH)
    query = parse_qs(urlsplit(url).query)
    state, challenge = query["state"][0], query["code_challenge"][0]
    assert len(state) >= 43
    assert len(challenge) == 43
    with ready.db() as uow:
        stored = uow.oauth_states.get_for_update(sha256_hex(state))
    assert stored is not None
    assert stored.session_hash == SESSION_HASH
    assert stored.expires_at == START + STATE_TTL == START + timedelta(minutes=10)
    assert stored.used_at is None
    verifier = ready.cipher.decrypt(stored.code_verifier_enc)
    assert 43 <= len(verifier) <= 128
    assert pkce_challenge(verifier) == challenge
    assert state not in repr(ready.db.state), "only the state's hash is kept"


def test_every_start_has_its_own_state_and_verifier(ready: World) -> None:
    first = ready.start_connection.execute(session_hash=SESSION_HASH)
    second = ready.start_connection.execute(session_hash=SESSION_HASH)
    assert parse_qs(urlsplit(first).query)["state"] != parse_qs(urlsplit(second).query)["state"]
    assert len(ready.db.state.oauth_states) == 2


def test_start_clears_expired_states(ready: World) -> None:
    ready.start_connection.execute(session_hash=SESSION_HASH)
    ready.clock.advance(timedelta(minutes=10))
    ready.start_connection.execute(session_hash=SESSION_HASH)
    assert len(ready.db.state.oauth_states) == 1


def test_start_without_an_oauth_client_is_a_conflict(ready: World) -> None:
    start_without = StartGoogleConnection(
        uow_factory=ready.db, oauth=None, cipher=ready.cipher, clock=ready.clock
    )
    with pytest.raises(ConflictError):
        start_without.execute(session_hash=SESSION_HASH)


def test_the_pkce_challenge_is_rfc_7636_s256() -> None:
    # The example of RFC 7636 appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce_challenge(verifier) == s256(verifier)


def test_a_completed_flow_connects_and_stores_the_tokens_encrypted(ready: World) -> None:
    state, code = start(ready)
    assert complete(ready, state, code) == "connected"
    record = ready.record()
    [grant] = ready.oauth.grants
    assert record.status == "connected"
    assert (record.account_email, record.calendar_id, record.timezone) == (
        "owner@example.com",
        "primary",
        "Europe/Moscow",
    )
    assert record.access_token_enc is not None
    assert record.refresh_token_enc is not None
    assert ready.cipher.decrypt(record.refresh_token_enc) == grant.refresh_token
    assert grant.refresh_token not in repr(record)
    assert record.token_expires_at == START + timedelta(hours=1)
    assert SCOPE_EVENTS in record.granted_scopes
    assert ready.metrics.count("google_connected") == 1


def test_the_exchange_proves_the_verifier_of_this_start(ready: World) -> None:
    state, code = start(ready)
    complete(ready, state, code)
    assert ready.oauth.calls["exchange_code"] == 1
    assert ready.oauth.live_grants(), "the fake checked S256(verifier) against the challenge"


@pytest.mark.parametrize("state", [None, ""], ids=["none", "empty"])
def test_a_missing_state_is_refused(ready: World, state: str | None) -> None:
    with pytest.raises(InvalidOAuthStateError):
        complete(ready, state, "code")


def test_a_forged_state_is_refused_and_nothing_stored(ready: World) -> None:
    start(ready)
    with pytest.raises(InvalidOAuthStateError):
        complete(ready, "forged-state-value", "code")
    assert ready.record().status == "disconnected"
    assert ready.oauth.calls["exchange_code"] == 0


def test_a_state_is_single_use(ready: World) -> None:
    state, code = start(ready)
    assert complete(ready, state, code) == "connected"
    with pytest.raises(InvalidOAuthStateError):
        complete(ready, state, code)


def test_a_state_is_spent_even_when_the_exchange_fails(ready: World) -> None:
    state, code = start(ready)
    ready.oauth.fail("exchange_code", GoogleUnavailableError("token endpoint down"))
    assert complete(ready, state, code).startswith("failed")
    with pytest.raises(InvalidOAuthStateError):
        complete(ready, state, code)


@pytest.mark.parametrize(
    ("wait", "valid"),
    [
        (timedelta(minutes=9, seconds=59), True),
        (timedelta(minutes=10), False),
        (timedelta(minutes=11), False),
    ],
    ids=["9m59s", "10m", "11m"],
)
def test_a_state_lives_ten_minutes(ready: World, wait: timedelta, valid: bool) -> None:
    state, code = start(ready)
    ready.clock.advance(wait)
    if valid:
        assert complete(ready, state, code) == "connected"
    else:
        with pytest.raises(InvalidOAuthStateError):
            complete(ready, state, code)
        assert ready.record().status == "disconnected"


def test_a_state_belongs_to_the_session_that_started_it(ready: World) -> None:
    state, code = start(ready, session="session-a")
    with pytest.raises(InvalidOAuthStateError):
        complete(ready, state, code, session="session-b")
    with pytest.raises(InvalidOAuthStateError):
        complete(ready, state, code, session=None)


def test_a_state_started_without_a_session_is_accepted_from_any(ready: World) -> None:
    state, code = start(ready, session=None)
    assert complete(ready, state, code, session="whoever") == "connected"


def test_access_denied_stores_nothing_and_spends_the_state(ready: World) -> None:
    state, _ = start(ready)
    assert complete(ready, state, None, error="access_denied") == "denied: access_denied"
    assert ready.record().status == "disconnected"
    assert ready.oauth.calls["exchange_code"] == 0
    with pytest.raises(InvalidOAuthStateError):
        complete(ready, state, "code")


def test_no_code_is_a_failure(ready: World) -> None:
    state, _ = start(ready)
    assert complete(ready, state, None) == "failed: no authorization code"


def test_a_verifier_that_does_not_match_the_challenge_is_refused_by_google(ready: World) -> None:
    state, code = start(ready)
    with ready.db() as uow:
        uow.oauth_states.set_verifier(sha256_hex(state), ready.cipher.encrypt("x" * 64))
        uow.commit()
    outcome = complete(ready, state, code)
    assert outcome.startswith("failed")
    assert "invalid_grant" in outcome
    assert ready.record().status == "disconnected"


def test_a_partial_grant_is_refused_and_revoked(ready: World) -> None:
    url = ready.start_connection.execute(session_hash=SESSION_HASH)
    state, code = ready.oauth.consent(url, scopes=frozenset({SCOPE_FREEBUSY, "openid", "email"}))
    outcome = complete(ready, state, code)
    assert outcome == f"partial: {SCOPE_EVENTS}"
    assert ready.oauth.live_grants() == []
    assert ready.record().status == "disconnected"


def test_a_partial_re_consent_keeps_the_working_connection(synced: World) -> None:
    before = synced.record()
    url = synced.start_connection.execute(session_hash=SESSION_HASH)
    state, code = synced.oauth.consent(url, scopes=frozenset({SCOPE_FREEBUSY, "openid", "email"}))
    assert complete(synced, state, code) == f"partial: {SCOPE_EVENTS}"
    assert synced.oauth.revoke_calls == [], "revoking would end the working grant too"
    after = synced.record()
    assert after.status == "connected"
    assert after.refresh_token_enc == before.refresh_token_enc, "nothing new stored"
    assert synced.sync.execute().busy_intervals >= 0  # the old grant still works


def test_a_grant_without_the_email_scope_is_partial(ready: World) -> None:
    url = ready.start_connection.execute(session_hash=SESSION_HASH)
    state, code = ready.oauth.consent(url, scopes=frozenset({SCOPE_EVENTS, SCOPE_FREEBUSY}))
    assert complete(ready, state, code) == "partial: email"


def test_no_refresh_token_is_a_failure(ready: World) -> None:
    ready.oauth.omit_refresh_token = True
    state, code = start(ready)
    assert complete(ready, state, code) == "failed: Google returned no refresh token"
    assert ready.record().status == "disconnected"


@pytest.mark.parametrize("failing", ["calendar", "userinfo"])
def test_google_failing_after_the_exchange_is_a_failure(ready: World, failing: str) -> None:
    if failing == "calendar":
        ready.calendar.unavailable("primary_calendar")
    else:
        ready.oauth.fail(
            "account_email", GoogleRequestError("userinfo failed", status=500, reason=None)
        )
    state, code = start(ready)
    assert complete(ready, state, code).startswith("failed")
    assert ready.record().status == "disconnected"


def test_the_calendar_zone_comes_from_google(ready: World) -> None:
    ready.calendar.timezone = "Asia/Kathmandu"
    state, code = start(ready)
    complete(ready, state, code)
    assert ready.record().timezone == "Asia/Kathmandu"


def test_a_verifier_no_key_can_open_is_an_invalid_state(ready: World) -> None:
    state, code = start(ready)
    ready.cipher.keys = ["key-b"]
    with pytest.raises(InvalidOAuthStateError):
        complete(ready, state, code)


def test_reconnecting_as_another_account_drops_the_old_busy_time(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 13), moscow(1, 14))
    synced.sync.execute()
    synced.oauth.email = "someone-else@example.com"
    synced.connect(synced=False)
    record = synced.record()
    assert record.account_email == "someone-else@example.com"
    assert (record.last_success_at, record.last_sync_at, record.last_sync_ok) == (None, None, None)
    assert synced.list_busy.execute(Interval(moscow(1, 0), moscow(2, 0))) == []


def test_reconnecting_as_the_same_account_keeps_the_mirror(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 13), moscow(1, 14))
    synced.sync.execute()
    synced.connect(synced=False)
    assert synced.record().last_success_at == START
    assert synced.list_busy.execute(Interval(moscow(1, 0), moscow(2, 0)))


def test_reconnecting_after_revocation_clears_needs_reauth(synced: World) -> None:
    synced.oauth.revoke_everything()
    synced.clock.advance(timedelta(hours=2))
    with pytest.raises(AccessRevokedError):
        synced.tokens.current()
    synced.connect()
    assert synced.record().status == "connected"
    assert synced.record().last_sync_error is None


def test_static_tokens_cannot_be_refreshed() -> None:
    tokens = StaticTokens("fresh")
    assert tokens.current() == "fresh"
    with pytest.raises(AccessRevokedError):
        tokens.refreshed("fresh")


# --- disconnect -------------------------------------------------------------------------


def test_disconnect_revokes_at_google_and_deletes_the_tokens(synced: World) -> None:
    [grant] = synced.oauth.grants
    view = synced.disconnect.execute()
    assert synced.oauth.revoke_calls == [grant.refresh_token]
    assert synced.oauth.live_grants() == []
    record = synced.record()
    assert (record.status, record.access_token_enc, record.refresh_token_enc) == (
        "disconnected",
        None,
        None,
    )
    assert (record.token_expires_at, record.last_success_at) == (None, None)
    assert view.status == "disconnected"


def test_disconnect_keeps_the_settings(synced: World) -> None:
    synced.set_enabled.execute(enabled=True)
    view = synced.disconnect.execute()
    assert (view.account_email, view.calendar_id, view.timezone) == (
        "owner@example.com",
        "primary",
        "Europe/Moscow",
    )
    assert synced.record().enabled is True


def test_disconnect_empties_the_mirror(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 13), moscow(1, 14))
    synced.sync.execute()
    assert synced.disconnect.execute().busy_intervals == 0


def test_disconnect_stops_the_push_channel(synced: World) -> None:
    assert synced.ensure_push.execute().kind == "created"
    synced.disconnect.execute()
    assert synced.calendar.live_channels() == []
    record = synced.record()
    assert (record.push_channel_id, record.push_resource_id, record.push_expires_at) == (
        None,
        None,
        None,
    )


def test_disconnect_completes_even_when_google_refuses(synced: World) -> None:
    synced.ensure_push.execute()
    synced.calendar.unavailable("stop_channel")
    synced.oauth.fail("revoke", GoogleUnavailableError("down"))
    assert synced.disconnect.execute().status == "disconnected"
    assert synced.record().refresh_token_enc is None


def test_disconnect_with_undecryptable_tokens_clears_them_without_revoking(
    synced: World,
) -> None:
    synced.cipher.keys = ["key-b"]
    synced.disconnect.execute()
    assert synced.oauth.calls["revoke"] == 0
    assert synced.record().status == "disconnected"


def test_disconnect_when_never_connected_is_harmless(ready: World) -> None:
    assert ready.disconnect.execute().status == "disconnected"
    assert ready.oauth.calls["revoke"] == 0


def test_the_feature_flag_toggles_over_the_default(synced: World) -> None:
    assert synced.status.execute().enabled is True
    assert synced.set_enabled.execute(enabled=False).enabled is False
    assert synced.status.execute().enabled is False
    assert synced.set_enabled.execute(enabled=True).enabled is True


def test_the_default_flag_comes_from_the_environment() -> None:
    world = World(enabled_by_default=False).given()
    assert world.status.execute().enabled is False


def test_the_status_of_a_never_connected_integration(ready: World) -> None:
    view = ready.status.execute()
    assert (view.status, view.next_sync_at, view.push_active, view.reconcile) == (
        "disconnected",
        None,
        False,
        None,
    )
