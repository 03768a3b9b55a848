"""Proves the emulator's OAuth 2.0 endpoints (authorize, token, revoke, userinfo) are accepted by
google-auth-oauthlib's Flow and google-auth's Credentials exactly as Google's are: PKCE S256 and
plain, both client-authentication styles, single-use codes, redirect_uri matching, refresh tokens
only for offline access on (re-)consent, granted scopes, refresh after expiry, and revocation
surfacing as `RefreshError` with `invalid_grant` (protocol doc sections 2.1-2.8)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from googleapiclient.errors import HttpError
from oauthlib.oauth2.rfc6749.errors import InvalidClientError, InvalidGrantError, OAuth2Error

from tests.conformance.harness import (
    OWNER_EMAIL,
    SCOPE_CALENDAR,
    SCOPE_EVENTS,
    SCOPE_FREEBUSY,
    SCOPE_USERINFO_EMAIL,
    EmulatorControl,
    OAuthClient,
    assert_http_error,
    authorize,
    browser,
    follow_consent,
    obtain_credentials,
    parse_forms,
    redirect_query,
    running_emulator,
)


def _consented(client: OAuthClient, **params: str) -> tuple[Flow, str]:
    """A calendar-scope flow that went through consent, and the code the redirect carried."""
    flow = client.flow([SCOPE_CALENDAR])
    return flow, authorize(flow, **params)["code"]


def _stranger(client: OAuthClient) -> OAuthClient:
    """A client on the same emulator that was never registered."""
    return OAuthClient(base=client.base, client_id="nobody.apps.googleusercontent.com")


def _assert_error_page(url: str, statuses: set[int], error: str) -> None:
    """The authorization step answers `url` with an error page naming `error`, not a redirect."""
    response = follow_consent(url)
    assert response.status_code in statuses
    assert "location" not in response.headers
    assert error in response.text


def _refused(flow: Flow, code: str, error: type[OAuth2Error], **fetch: Any) -> OAuth2Error:
    """Exchanging `code` through `flow` fails with `error` (oauthlib's class for the answer)."""
    with pytest.raises(error) as caught:
        flow.fetch_token(code=code, **fetch)
    return caught.value


VERIFIER_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"


def test_s256_code_exchange_returns_offline_tokens_and_credentials(
    oauth_client: OAuthClient, emulator_base: str
) -> None:
    flow = oauth_client.flow([SCOPE_CALENDAR])
    url, _state = flow.authorization_url(prompt="consent")
    sent = redirect_query(url)
    assert sent["code_challenge_method"] == "S256"
    assert sent["access_type"] == "offline"

    query = authorize(flow, prompt="consent")
    assert query["code"]
    assert query["scope"].split() == [SCOPE_CALENDAR]

    token = flow.fetch_token(code=query["code"])
    assert token["token_type"].lower() == "bearer"
    assert token["access_token"]
    assert token["refresh_token"]
    assert isinstance(token["expires_in"], int | float)
    assert 3000 <= float(token["expires_in"]) <= 3600
    assert token["scope"] == [SCOPE_CALENDAR]

    credentials = flow.credentials
    assert credentials.token == token["access_token"]
    assert credentials.refresh_token == token["refresh_token"]
    assert credentials.token_uri == oauth_client.token_uri
    assert credentials.granted_scopes == [SCOPE_CALENDAR]
    assert credentials.expiry is not None
    assert credentials.valid

    primary = oauth_client.calendar(credentials).calendars().get(calendarId="primary")
    assert primary.execute()["id"] == OWNER_EMAIL


def test_plain_pkce_code_exchange(oauth_client: OAuthClient) -> None:
    verifier = (VERIFIER_CHARS * 2)[:64]
    flow = oauth_client.flow([SCOPE_CALENDAR], code_verifier=verifier)
    query = authorize(flow, code_challenge=verifier, code_challenge_method="plain")
    token = flow.fetch_token(code=query["code"])
    assert token["access_token"]


def test_plain_pkce_rejects_a_wrong_verifier(oauth_client: OAuthClient) -> None:
    verifier = (VERIFIER_CHARS * 2)[:64]
    flow = oauth_client.flow([SCOPE_CALENDAR], code_verifier=verifier)
    query = authorize(flow, code_challenge=verifier, code_challenge_method="plain")
    flow.code_verifier = verifier[::-1]
    _refused(flow, query["code"], InvalidGrantError)


def test_challenge_without_method_defaults_to_plain(oauth_client: OAuthClient) -> None:
    # Protocol doc 2.1: a code_challenge without code_challenge_method means "plain".
    verifier = (VERIFIER_CHARS[::-1] * 2)[:50]
    flow = oauth_client.flow([SCOPE_CALENDAR], code_verifier=verifier)
    url, state = flow.authorization_url()
    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    params["code_challenge"] = verifier
    del params["code_challenge_method"]
    response = follow_consent(f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(params)}")
    assert response.is_redirect, response.text[:300]
    query = redirect_query(response.headers["location"])
    assert query["state"] == state
    assert flow.fetch_token(code=query["code"])["access_token"]


def test_s256_challenge_is_checked_against_the_verifier(oauth_client: OAuthClient) -> None:
    flow, code = _consented(oauth_client)
    real = flow.code_verifier
    assert real is not None
    flow.code_verifier = real[:-1] + ("a" if real[-1] != "a" else "b")
    _refused(flow, code, InvalidGrantError)


def test_missing_verifier_after_a_challenge_is_invalid_grant(oauth_client: OAuthClient) -> None:
    flow, code = _consented(oauth_client)
    flow.code_verifier = None
    _refused(flow, code, InvalidGrantError)


def test_code_is_single_use(oauth_client: OAuthClient) -> None:
    flow, code = _consented(oauth_client)
    flow.fetch_token(code=code)
    again = oauth_client.flow([SCOPE_CALENDAR], code_verifier=flow.code_verifier)
    refusal = _refused(again, code, InvalidGrantError)
    assert refusal.error == "invalid_grant"


def test_code_expires(oauth_client: OAuthClient, control: EmulatorControl) -> None:
    flow, code = _consented(oauth_client)
    control.advance_clock(3600)  # codes are short-lived (minutes) at Google
    _refused(flow, code, InvalidGrantError)


def test_unknown_code_is_invalid_grant(oauth_client: OAuthClient) -> None:
    flow, _code = _consented(oauth_client)
    _refused(flow, "4/not-a-code-the-emulator-issued", InvalidGrantError)


def test_token_step_redirect_uri_must_equal_the_authorize_step(oauth_client: OAuthClient) -> None:
    flow, code = _consented(oauth_client)
    flow.redirect_uri = oauth_client.redirect_uri + "/elsewhere"
    refusal = _refused(flow, code, OAuth2Error)
    # Protocol doc 2.4: 400 redirect_uri_mismatch.
    assert refusal.error == "redirect_uri_mismatch"


def test_unregistered_redirect_uri_is_an_error_page_not_a_redirect(
    oauth_client: OAuthClient,
) -> None:
    flow = oauth_client.flow([SCOPE_CALENDAR])
    flow.redirect_uri = "http://127.0.0.1:9/not-registered"
    url, _state = flow.authorization_url()
    _assert_error_page(url, {400}, "redirect_uri_mismatch")


def test_unknown_client_at_authorize_is_an_error_page(oauth_client: OAuthClient) -> None:
    url, _state = _stranger(oauth_client).flow([SCOPE_CALENDAR]).authorization_url()
    _assert_error_page(url, {400, 401}, "invalid_client")


@pytest.mark.parametrize("secret_in_body", [False, True], ids=["basic-auth", "form-body"])
def test_both_client_authentication_styles_are_accepted(
    oauth_client: OAuthClient, secret_in_body: bool
) -> None:
    # requests-oauthlib uses HTTP Basic by default; include_client_id=True moves id and secret
    # into the form body (client_secret_post). Google accepts both (protocol doc 2.2).
    flow, code = _consented(oauth_client)
    token = flow.fetch_token(code=code, include_client_id=secret_in_body)
    assert token["access_token"]


@pytest.mark.parametrize("secret_in_body", [False, True], ids=["basic-auth", "form-body"])
def test_wrong_client_secret_is_invalid_client(
    oauth_client: OAuthClient, secret_in_body: bool
) -> None:
    flow = oauth_client.flow([SCOPE_CALENDAR], client_secret="not-the-secret")
    query = authorize(flow)
    _refused(flow, query["code"], InvalidClientError, include_client_id=secret_in_body)


def test_unknown_client_at_token_endpoint_is_invalid_client(oauth_client: OAuthClient) -> None:
    flow, code = _consented(oauth_client)
    other = _stranger(oauth_client).flow([SCOPE_CALENDAR], code_verifier=flow.code_verifier)
    refusal = _refused(other, code, InvalidClientError)
    assert refusal.description == "The OAuth client was not found."


def test_refresh_token_only_for_offline_access_on_first_or_forced_consent(
    oauth_client: OAuthClient,
) -> None:
    def exchange(**params: str) -> dict[str, object]:
        flow, code = _consented(oauth_client, **params)
        token: dict[str, object] = flow.fetch_token(code=code)
        return token

    assert "refresh_token" not in exchange(access_type="online")
    assert exchange()["refresh_token"]  # first offline consent of this user for this client
    assert "refresh_token" not in exchange()  # already consented, no prompt=consent
    assert exchange(prompt="consent")["refresh_token"]
    assert "refresh_token" not in exchange(access_type="online", prompt="consent")


def test_granted_scopes_are_reported_everywhere(oauth_client: OAuthClient) -> None:
    scopes = [SCOPE_EVENTS, SCOPE_FREEBUSY]
    flow = oauth_client.flow(scopes)
    query = authorize(flow, prompt="consent")
    assert sorted(query["scope"].split()) == sorted(scopes)
    token = flow.fetch_token(code=query["code"])
    assert sorted(token["scope"]) == sorted(scopes)
    assert sorted(flow.credentials.granted_scopes) == sorted(scopes)


def test_include_granted_scopes_unions_earlier_grants(
    oauth_client: OAuthClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The response scope legitimately differs from the request here (doc 2.1, 2.8).
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    obtain_credentials(oauth_client, [SCOPE_FREEBUSY])
    flow = oauth_client.flow([SCOPE_EVENTS])
    query = authorize(flow, prompt="consent", include_granted_scopes="true")
    token = flow.fetch_token(code=query["code"])
    assert sorted(token["scope"]) == sorted([SCOPE_EVENTS, SCOPE_FREEBUSY])


def test_expired_access_token_is_refreshed_by_the_library(
    oauth_client: OAuthClient, emulator_base: str, control: EmulatorControl
) -> None:
    credentials = obtain_credentials(oauth_client, [SCOPE_CALENDAR])
    service = oauth_client.calendar(credentials)
    assert service.calendars().get(calendarId="primary").execute()["id"] == OWNER_EMAIL
    old_token = str(credentials.token)
    refresh_token = credentials.refresh_token

    control.advance_clock(3600 + 60)

    raw = oauth_client.calendar_with_token(old_token)
    with pytest.raises(HttpError) as caught:
        raw.calendars().get(calendarId="primary").execute()
    assert_http_error(caught.value, status=401, reason="authError")

    # google-auth-httplib2 sees the 401, refreshes through token_uri and retries.
    assert service.calendars().get(calendarId="primary").execute()["id"] == OWNER_EMAIL
    assert credentials.token != old_token
    assert credentials.refresh_token == refresh_token


def test_refresh_grant_from_a_bare_refresh_token(
    oauth_client: OAuthClient, emulator_base: str
) -> None:
    granted = obtain_credentials(oauth_client, [SCOPE_CALENDAR])
    credentials = Credentials(
        token=None,
        refresh_token=granted.refresh_token,
        client_id=oauth_client.client_id,
        client_secret=oauth_client.client_secret,
        token_uri=oauth_client.token_uri,
        scopes=[SCOPE_CALENDAR],
    )
    # No token yet: the library refreshes before sending the first request.
    service = oauth_client.calendar(credentials)
    assert service.calendarList().list().execute()["items"]
    assert credentials.token
    assert credentials.expiry is not None

    before = credentials.token
    credentials.refresh(Request())
    assert credentials.token != before
    assert credentials.refresh_token == granted.refresh_token


def _bare(
    client: OAuthClient, refresh_token: str | None, scopes: list[str], **kw: str
) -> Credentials:
    """Credentials as an app restores them from storage: no access token yet."""
    return Credentials(
        token=None,
        refresh_token=refresh_token,
        client_id=client.client_id,
        client_secret=kw.get("client_secret", client.client_secret),
        token_uri=client.token_uri,
        scopes=scopes,
    )


def test_unknown_refresh_token_is_invalid_grant(oauth_client: OAuthClient) -> None:
    credentials = _bare(oauth_client, "1//never-issued", [SCOPE_CALENDAR])
    with pytest.raises(RefreshError) as caught:
        credentials.refresh(Request())
    assert caught.value.args[1]["error"] == "invalid_grant"
    assert caught.value.retryable is False


def test_refresh_with_a_wrong_client_secret_is_invalid_client(oauth_client: OAuthClient) -> None:
    granted = obtain_credentials(oauth_client, [SCOPE_CALENDAR])
    credentials = _bare(
        oauth_client, granted.refresh_token, [SCOPE_CALENDAR], client_secret="not-the-secret"
    )
    with pytest.raises(RefreshError) as caught:
        credentials.refresh(Request())
    assert caught.value.args[1]["error"] == "invalid_client"


def test_refresh_cannot_widen_the_grant(oauth_client: OAuthClient) -> None:
    granted = obtain_credentials(oauth_client, [SCOPE_FREEBUSY])
    credentials = _bare(oauth_client, granted.refresh_token, [SCOPE_CALENDAR])
    with pytest.raises(RefreshError) as caught:
        credentials.refresh(Request())
    assert caught.value.args[1]["error"] == "invalid_scope"


def test_refresh_can_narrow_the_grant(oauth_client: OAuthClient) -> None:
    granted = obtain_credentials(oauth_client, [SCOPE_EVENTS, SCOPE_FREEBUSY])
    narrow = _bare(oauth_client, granted.refresh_token, [SCOPE_FREEBUSY])
    service = oauth_client.calendar(narrow)
    body = {
        "timeMin": "2031-03-04T00:00:00Z",
        "timeMax": "2031-03-05T00:00:00Z",
        "items": [{"id": "primary"}],
    }
    assert service.freebusy().query(body=body).execute()["kind"] == "calendar#freeBusy"
    assert narrow.granted_scopes == [SCOPE_FREEBUSY]
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary").execute()
    assert_http_error(caught.value, status=403, reason="insufficientPermissions")


@pytest.fixture(scope="module")
def short_ttl_client() -> Iterator[tuple[OAuthClient, EmulatorControl]]:
    """An emulator whose access tokens live 5 minutes."""
    with running_emulator(access_token_ttl_seconds=300) as emulator:
        yield emulator


def test_access_token_ttl_is_configurable(
    short_ttl_client: tuple[OAuthClient, EmulatorControl],
) -> None:
    client, control = short_ttl_client
    flow, code = _consented(client)
    token = flow.fetch_token(code=code)
    assert int(token["expires_in"]) == 300
    control.advance_clock(301)
    stale = client.calendar_with_token(token["access_token"])
    with pytest.raises(HttpError) as caught:
        stale.calendars().get(calendarId="primary").execute()
    assert_http_error(caught.value, status=401, reason="authError")


def _assert_revoked(credentials: Credentials) -> None:
    with pytest.raises(RefreshError) as caught:
        credentials.refresh(Request())
    message, body = caught.value.args[0], caught.value.args[1]
    assert message == "invalid_grant: Token has been expired or revoked."
    assert body["error"] == "invalid_grant"
    assert caught.value.retryable is False


def test_revoke_endpoint_kills_the_grant(oauth_client: OAuthClient, emulator_base: str) -> None:
    credentials = obtain_credentials(oauth_client, [SCOPE_CALENDAR])
    access_token = str(credentials.token)
    response = Request()(
        url=oauth_client.revoke_uri,
        method="POST",
        body=urlencode({"token": credentials.refresh_token}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 200
    _assert_revoked(credentials)

    raw = oauth_client.calendar_with_token(access_token)
    with pytest.raises(HttpError) as caught:
        raw.calendars().get(calendarId="primary").execute()
    assert_http_error(caught.value, status=401, reason="authError")


def test_revoke_with_token_in_query_string(oauth_client: OAuthClient) -> None:
    credentials = obtain_credentials(oauth_client, [SCOPE_CALENDAR])
    response = Request()(
        url=f"{oauth_client.revoke_uri}?{urlencode({'token': credentials.refresh_token})}",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 200
    _assert_revoked(credentials)


def test_revoking_an_unknown_token_is_invalid_token(oauth_client: OAuthClient) -> None:
    response = Request()(
        url=oauth_client.revoke_uri,
        method="POST",
        body=b"token=never-issued",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400
    assert json.loads(response.data)["error"] == "invalid_token"


def test_control_api_revocation_surfaces_as_invalid_grant(
    oauth_client: OAuthClient, emulator_base: str, control: EmulatorControl
) -> None:
    credentials = obtain_credentials(oauth_client, [SCOPE_CALENDAR])
    control.revoke_user(OWNER_EMAIL)
    _assert_revoked(credentials)

    # Once the access token expires, the Calendar client's automatic refresh fails the same way.
    control.advance_clock(3600 + 60)
    service = oauth_client.calendar(credentials)
    with pytest.raises(RefreshError, match="invalid_grant"):
        service.calendars().get(calendarId="primary").execute()


def test_userinfo_returns_the_account_email(oauth_client: OAuthClient) -> None:
    credentials = obtain_credentials(oauth_client, [SCOPE_CALENDAR, SCOPE_USERINFO_EMAIL])
    with AuthorizedSession(credentials) as session:
        response = session.get(oauth_client.userinfo_uri)
    assert response.status_code == 200
    info = response.json()
    assert info["email"] == OWNER_EMAIL
    assert info["email_verified"] is True
    assert info["sub"]


def test_userinfo_without_the_email_scope_has_no_email(oauth_client: OAuthClient) -> None:
    credentials = obtain_credentials(oauth_client, [SCOPE_CALENDAR])
    with AuthorizedSession(credentials) as session:
        response = session.get(oauth_client.userinfo_uri)
    assert response.status_code == 200
    assert "email" not in response.json()
    assert response.json()["sub"]


def test_userinfo_without_a_valid_token_is_401(oauth_client: OAuthClient) -> None:
    with AuthorizedSession(Credentials(token="ya29.bogus"), refresh_status_codes=()) as session:
        response = session.get(oauth_client.userinfo_uri)
    assert response.status_code == 401


@pytest.fixture(scope="module")
def consent_page_emulator() -> Iterator[tuple[OAuthClient, EmulatorControl]]:
    """A second emulator that shows the consent screen instead of redirecting at once."""
    with running_emulator(auto_consent=False) as emulator:
        yield emulator


def test_consent_page_can_be_clicked_through(
    consent_page_emulator: tuple[OAuthClient, EmulatorControl],
) -> None:
    client, _control = consent_page_emulator
    flow = client.flow([SCOPE_EVENTS, SCOPE_FREEBUSY])
    url, state = flow.authorization_url(prompt="consent")
    with browser() as person:
        page = person.get(url)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert client.name in page.text
        assert SCOPE_EVENTS in page.text
        assert SCOPE_FREEBUSY in page.text
        (form,) = [f for f in parse_forms(str(page.url), page.text) if f.buttons]
        response = person.request(form.method, form.action, data=form.submission("Allow"))
    assert response.is_redirect, (response.status_code, response.text[:300])
    assert response.headers["location"].startswith(client.redirect_uri + "?")
    query = redirect_query(response.headers["location"])
    assert query["state"] == state
    token = flow.fetch_token(code=query["code"])
    assert token["refresh_token"]
    assert sorted(token["scope"]) == sorted([SCOPE_EVENTS, SCOPE_FREEBUSY])


def test_consent_page_deny_redirects_with_access_denied(
    consent_page_emulator: tuple[OAuthClient, EmulatorControl],
) -> None:
    client, _control = consent_page_emulator
    flow = client.flow([SCOPE_CALENDAR])
    url, state = flow.authorization_url()
    with browser() as person:
        page = person.get(url)
        (form,) = [f for f in parse_forms(str(page.url), page.text) if f.buttons]
        response = person.request(form.method, form.action, data=form.submission("Deny"))
    assert response.is_redirect
    query = redirect_query(response.headers["location"])
    assert query["error"] == "access_denied"
    assert query["state"] == state
    assert "code" not in query
