"""OAuth 2.0: consent, code exchange, refresh, revocation and expiry, on Google's paths."""

from __future__ import annotations

import base64
import json
import secrets

from tests.emulator.helpers import (
    CAL,
    CLIENT_ID,
    CLIENT_SECRET,
    EVENTS,
    FREEBUSY,
    REDIRECT_URI,
    Emulator,
    error_reason,
    query_of,
)

EXPIRED = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}


def test_code_exchange_with_pkce_s256_and_basic_auth(emu: Emulator) -> None:
    tokens = emu.tokens([EVENTS, FREEBUSY])
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert set(tokens["scope"].split()) == {EVENTS, FREEBUSY}
    assert tokens["access_token"].startswith("ya29.")
    assert tokens["refresh_token"].startswith("1//")
    assert "id_token" not in tokens
    with emu.api(tokens["access_token"]) as api:
        assert api.get("/calendars/primary/events").status_code == 200


def test_plain_pkce_and_client_secret_post(emu: Emulator) -> None:
    emu.register_client()
    code = emu.code(scopes=[CAL], code_challenge="plain-verifier-" + "x" * 40)
    response = emu.exchange(code, verifier="plain-verifier-" + "x" * 40, basic=False)
    assert response.status_code == 200, response.text


def test_pkce_verifier_mismatch_and_missing(emu: Emulator) -> None:
    emu.register_client()
    verifier = secrets.token_urlsafe(48)
    code = emu.code(scopes=[CAL], verifier=verifier)
    wrong = emu.exchange(code, verifier=verifier + "x")
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    missing = emu.exchange(code)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_grant")
    # Failed attempts do not burn the code: the right verifier still works once.
    assert emu.exchange(code, verifier=verifier).status_code == 200


def test_codes_are_single_use(emu: Emulator) -> None:
    emu.register_client()
    code = emu.code(scopes=[CAL])
    assert emu.exchange(code).status_code == 200
    again = emu.exchange(code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    unknown = emu.exchange("4/not-a-code")
    assert unknown.json() == {"error": "invalid_grant", "error_description": "Malformed auth code."}


def test_codes_expire(emu: Emulator) -> None:
    emu.register_client()
    code = emu.code(scopes=[CAL])
    emu.advance(601)
    assert emu.exchange(code).json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_exactly(emu: Emulator) -> None:
    emu.register_client()
    page = emu.authorize(scopes=[CAL], redirect_uri=REDIRECT_URI + "/")
    assert page.status_code == 400
    assert "redirect_uri_mismatch" in page.text
    code = emu.code(scopes=[CAL])
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI + "x"}
    response = emu.http.post("/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))
    assert (response.status_code, response.json()["error"]) == (400, "redirect_uri_mismatch")


def test_client_authentication_errors(emu: Emulator) -> None:
    emu.register_client()
    code = emu.code(scopes=[CAL])
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    unknown = emu.http.post("/token", data=form, auth=("nobody", "x"))
    assert unknown.status_code == 401
    assert unknown.json() == {
        "error": "invalid_client",
        "error_description": "The OAuth client was not found.",
    }
    wrong = emu.http.post("/token", data=form, auth=(CLIENT_ID, "wrong"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    anonymous = emu.http.post("/token", data=form)
    assert (anonymous.status_code, anonymous.json()["error"]) == (400, "invalid_request")
    bad_grant = emu.http.post(
        "/token", data={"grant_type": "password"}, auth=(CLIENT_ID, CLIENT_SECRET)
    )
    assert bad_grant.json()["error"] == "unsupported_grant_type"


def test_authorize_page_errors(emu: Emulator) -> None:
    unknown = emu.authorize(scopes=[CAL])
    assert unknown.status_code == 401
    assert "invalid_client" in unknown.text
    emu.register_client()
    bad_scope = emu.authorize(scopes=["https://www.googleapis.com/auth/drive"])
    assert bad_scope.status_code == 400
    assert "invalid_scope" in bad_scope.text
    no_scope = emu.authorize(scopes=[])
    assert no_scope.status_code == 400


def test_refresh_grant(emu: Emulator) -> None:
    tokens = emu.tokens([EVENTS])
    refreshed = emu.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert "refresh_token" not in body
    assert body["scope"] == EVENTS
    assert body["access_token"] != tokens["access_token"]
    narrower = emu.refresh(tokens["refresh_token"], scope=EVENTS)
    assert narrower.status_code == 200
    broader = emu.refresh(tokens["refresh_token"], scope=f"{EVENTS} {CAL}")
    assert (broader.status_code, broader.json()["error"]) == (400, "invalid_scope")
    garbage = emu.refresh("1//nonsense")
    assert (garbage.status_code, garbage.json()) == (400, EXPIRED)


def test_refresh_token_only_on_first_offline_consent_or_prompt_consent(emu: Emulator) -> None:
    online_first = emu.tokens([CAL], access_type="online")
    assert "refresh_token" not in online_first
    # Offline access is a consent of its own: the first offline grant still yields a token.
    first = emu.tokens([CAL])
    assert "refresh_token" in first
    second = emu.tokens([CAL])
    assert "refresh_token" not in second
    forced = emu.tokens([CAL], prompt="consent")
    assert "refresh_token" in forced
    online = emu.tokens([CAL], access_type="online", prompt="consent")
    assert "refresh_token" not in online


def test_id_token_when_openid_requested_and_email_alias(emu: Emulator) -> None:
    tokens = emu.tokens(["openid", "email", EVENTS])
    # Google answers the short "email" scope with the userinfo URL.
    assert set(tokens["scope"].split()) == {
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        EVENTS,
    }
    _, claims, _ = tokens["id_token"].split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert decoded["email"] == "owner@example.com"
    assert decoded["aud"] == CLIENT_ID
    assert decoded["iss"] == "https://accounts.google.com"
    info = emu.http.get(
        "/v1/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.json()["email"] == "owner@example.com"
    assert info.json()["email_verified"] is True
    legacy = emu.http.get(
        "/oauth2/v2/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert legacy.json()["email"] == "owner@example.com"
    anonymous = emu.http.get("/oauth2/v3/userinfo")
    assert anonymous.status_code == 401


def test_revoke_refresh_token_kills_the_grant(emu: Emulator) -> None:
    tokens = emu.tokens([CAL])
    response = emu.http.post("/revoke", data={"token": tokens["refresh_token"]})
    assert response.status_code == 200
    assert emu.refresh(tokens["refresh_token"]).json() == EXPIRED
    with emu.api(tokens["access_token"]) as api:
        assert error_reason(api.get("/users/me/calendarList")) == (401, "authError")
    again = emu.http.post("/revoke", data={"token": tokens["refresh_token"]})
    assert (again.status_code, again.json()["error"]) == (400, "invalid_token")
    # A new consent is a first consent again: a fresh refresh token comes back.
    assert "refresh_token" in emu.tokens([CAL])


def test_revoke_access_token_via_query_string(emu: Emulator) -> None:
    tokens = emu.tokens([CAL])
    assert emu.http.post("/revoke", params={"token": tokens["access_token"]}).status_code == 200
    assert emu.refresh(tokens["refresh_token"]).json() == EXPIRED


def test_control_revoke_of_a_user(emu: Emulator) -> None:
    tokens = emu.tokens([CAL])
    response = emu.http.post("/_emulator/revoke", json={"email": "owner@example.com"})
    assert response.json()["revoked_tokens"] >= 2
    assert emu.refresh(tokens["refresh_token"]).json() == EXPIRED
    with emu.api(tokens["access_token"]) as api:
        assert api.get("/calendars/primary").status_code == 401


def test_access_tokens_expire_on_the_emulator_clock(emu: Emulator) -> None:
    tokens = emu.tokens([CAL])
    with emu.api(tokens["access_token"]) as api:
        assert api.get("/calendars/primary").status_code == 200
        emu.advance(3600)
        expired = api.get("/calendars/primary")
        assert error_reason(expired) == (401, "authError")
        assert expired.json()["error"]["errors"][0]["message"] == "Invalid Credentials"
        assert expired.headers["www-authenticate"].startswith(
            'Bearer realm="https://accounts.google.com/"'
        )
        assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    fresh = emu.refresh(tokens["refresh_token"]).json()
    with emu.api(fresh["access_token"]) as api:
        assert api.get("/calendars/primary").status_code == 200


def test_missing_token_is_401(emu: Emulator) -> None:
    response = emu.http.get("/calendar/v3/users/me/calendarList")
    assert response.status_code == 401
    assert "www-authenticate" in response.headers
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_scope_checks_per_method(emu: Emulator) -> None:
    tokens = emu.tokens([EVENTS, FREEBUSY])
    with emu.api(tokens["access_token"]) as api:
        listing = api.get("/users/me/calendarList")
        assert error_reason(listing) == (403, "insufficientPermissions")
        assert (
            listing.json()["error"]["message"] == "Request had insufficient authentication scopes."
        )
        assert api.get("/calendars/primary").status_code == 403
        assert api.get("/calendars/primary/events").status_code == 200
        body = {
            "timeMin": "2025-01-01T00:00:00Z",
            "timeMax": "2025-01-02T00:00:00Z",
            "items": [{"id": "primary"}],
        }
        assert api.post("/freeBusy", json=body).status_code == 200
    read_only = emu.tokens([f"{CAL}.events.readonly"], prompt="consent")
    with emu.api(read_only["access_token"]) as api:
        assert api.get("/calendars/primary/events").status_code == 200
        insert = api.post(
            "/calendars/primary/events",
            json={"start": {"date": "2025-01-01"}, "end": {"date": "2025-01-02"}},
        )
        assert error_reason(insert) == (403, "insufficientPermissions")
        assert error_reason(api.post("/freeBusy", json=body)) == (403, "insufficientPermissions")


def test_manual_consent_page_partial_grant(emu: Emulator) -> None:
    emu.register_client(name="Balance booking")
    emu.http.post("/_emulator/consent", json={"action": "manual"}).raise_for_status()
    page = emu.authorize(scopes=["openid", EVENTS, FREEBUSY], access_type="offline")
    assert page.status_code == 200
    assert "Balance booking" in page.text
    assert "View and edit events on all your calendars" in page.text
    assert "Allow" in page.text
    request_id = page.text.split('name="request_id" value="')[1].split('"')[0]
    # The person unticks the freebusy scope and allows the rest.
    answer = emu.http.post(
        "/o/oauth2/v2/auth/consent",
        data={
            "request_id": request_id,
            "action": "allow",
            "email": "owner@example.com",
            "scope": [EVENTS],
        },
    )
    assert answer.status_code == 302
    query = query_of(answer.headers["location"])
    assert set(query["scope"].split()) == {"openid", EVENTS}
    tokens = emu.exchange(query["code"]).json()
    assert set(tokens["scope"].split()) == {"openid", EVENTS}


def test_consent_form_without_scope_fields_grants_everything(emu: Emulator) -> None:
    emu.register_client()
    emu.http.post("/_emulator/consent", json={"action": "manual"}).raise_for_status()
    page = emu.authorize(scopes=[EVENTS, FREEBUSY])
    request_id = page.text.split('name="request_id" value="')[1].split('"')[0]
    answer = emu.http.post(
        "/o/oauth2/v2/auth/consent", data={"request_id": request_id, "action": "allow"}
    )
    assert set(query_of(answer.headers["location"])["scope"].split()) == {EVENTS, FREEBUSY}
    stale = emu.http.post(
        "/o/oauth2/v2/auth/consent", data={"request_id": request_id, "action": "allow"}
    )
    assert stale.status_code == 400


def test_manual_consent_deny(emu: Emulator) -> None:
    emu.register_client()
    emu.http.post("/_emulator/consent", json={"action": "manual"}).raise_for_status()
    page = emu.authorize(scopes=[CAL])
    request_id = page.text.split('name="request_id" value="')[1].split('"')[0]
    answer = emu.http.post(
        "/o/oauth2/v2/auth/consent", data={"request_id": request_id, "action": "deny"}
    )
    assert answer.status_code == 302
    assert query_of(answer.headers["location"]) == {"error": "access_denied", "state": "xyz"}


def test_consent_policy_deny_and_subset(emu: Emulator) -> None:
    emu.register_client()
    emu.http.post("/_emulator/consent", json={"action": "deny"}).raise_for_status()
    denied = emu.authorize(scopes=[CAL])
    assert query_of(denied.headers["location"])["error"] == "access_denied"
    emu.http.post("/_emulator/consent", json={"action": "allow", "scopes": [EVENTS]})
    partial = emu.authorize(scopes=[EVENTS, FREEBUSY])
    assert query_of(partial.headers["location"])["scope"] == EVENTS


def test_prompt_none_and_incremental_scopes(emu: Emulator) -> None:
    emu.register_client()
    silent = emu.authorize(scopes=[CAL], prompt="none")
    assert query_of(silent.headers["location"])["error"] == "consent_required"
    emu.tokens([EVENTS])
    again = emu.authorize(scopes=[EVENTS], prompt="none")
    assert "code" in query_of(again.headers["location"])
    union = emu.tokens([FREEBUSY], include_granted_scopes="true")
    assert set(union["scope"].split()) == {EVENTS, FREEBUSY}


def test_new_user_via_login_hint_gets_a_primary_calendar(emu: Emulator) -> None:
    tokens = emu.tokens([CAL], login_hint="someone@example.org")
    with emu.api(tokens["access_token"]) as api:
        calendar = api.get("/calendars/primary").json()
    assert calendar["id"] == "someone@example.org"
    assert calendar["timeZone"] == "Europe/Moscow"
