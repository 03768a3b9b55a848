"""Google's OAuth 2.0 endpoints for a web-server app (authorization code + PKCE S256)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

import httpx

from balance_booking.adapters.google_calendar.transport import GoogleTransport, error_reason
from balance_booking.application.errors import (
    AccessRevokedError,
    GoogleRequestError,
    OAuthClientRejectedError,
    OAuthExchangeError,
)
from balance_booking.application.ports import Clock, TokenGrant

# Least privilege (docs/deployment.md, "Scopes"): calendar.events.owned covers every events call
# we make (insert, patch, delete, list, watch) and channels.stop, on calendars the owner owns
# (Google's discovery document, revision 20261030); calendar.events would read and change every
# calendar the owner can see. calendar.freebusy reads busy time only.
SCOPE_EVENTS = "https://www.googleapis.com/auth/calendar.events.owned"
SCOPE_EVENTS_BROAD = "https://www.googleapis.com/auth/calendar.events"
SCOPE_FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"
# Optional: the names of the owner's calendars, to choose which ones block time (without it
# only the primary calendar does). calendarList.list accepts no narrower scope.
SCOPE_CALENDAR_LIST = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
# Minimal scopes: write our own events and read busy time; openid+email label the account.
REQUESTED_SCOPES = (SCOPE_EVENTS, SCOPE_FREEBUSY, SCOPE_CALENDAR_LIST, "openid", "email")
REQUIRED_SCOPES = frozenset({SCOPE_EVENTS, SCOPE_FREEBUSY})
# Token-endpoint errors that blame the OAuth client, not the grant (RFC 6749 5.2; Google adds
# deleted_client for a client deleted in the Cloud console).
CLIENT_ERRORS = frozenset({"invalid_client", "deleted_client", "unauthorized_client"})
# Google may answer with the long form of the email scope.
_EMAIL_SCOPES = frozenset({"email", "https://www.googleapis.com/auth/userinfo.email"})


class GoogleOAuthClient:
    """The OAuthClient port over httpx; client credentials and URLs come from Settings."""

    def __init__(
        self,
        transport: GoogleTransport,
        *,
        clock: Clock,
        client_id: str,
        client_secret: str,
        auth_url: str,
        token_url: str,
        revoke_url: str,
        userinfo_url: str,
        redirect_uri: str,
    ) -> None:
        self._transport = transport
        self._clock = clock
        self._client_id = client_id
        self._client_secret = client_secret
        self._auth_url = auth_url
        self._token_url = token_url
        self._revoke_url = revoke_url
        self._userinfo_url = userinfo_url
        self._redirect_uri = redirect_uri

    def __repr__(self) -> str:
        return f"GoogleOAuthClient(client_id={self._client_id!r}, secret=<redacted>)"

    def authorization_url(self, *, state: str, code_challenge: str) -> str:
        query = {
            "client_id": self._client_id,
            "redirect_uri": self._redirect_uri,
            "response_type": "code",
            "scope": " ".join(REQUESTED_SCOPES),
            "access_type": "offline",
            "prompt": "consent",
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self._auth_url}?{urlencode(query)}"

    def exchange_code(self, *, code: str, code_verifier: str) -> TokenGrant:
        response = self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "redirect_uri": self._redirect_uri,
            }
        )
        if not response.is_success:
            error = error_reason(response) or "server_error"
            raise OAuthExchangeError(
                f"Google refused the authorization code ({error}).", error=error
            )
        return self._grant(response)

    def refresh(self, refresh_token: str) -> TokenGrant:
        response = self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
        error = error_reason(response)
        if response.status_code == 400 and error == "invalid_grant":
            raise AccessRevokedError("Google revoked our access (invalid_grant).")
        if error in CLIENT_ERRORS:
            # Our client id/secret, not the owner's grant: retrying or reconnecting cannot help
            # until the configuration is fixed (docs/export.md, "Failure classes").
            raise OAuthClientRejectedError(
                f"Google rejected the OAuth client credentials ({error}).", error=error
            )
        if not response.is_success:
            raise GoogleRequestError(
                "token refresh failed", status=response.status_code, reason=error_reason(response)
            )
        return self._grant(response)

    def revoke(self, token: str) -> None:
        response = self._transport.send("POST", self._revoke_url, data={"token": token})
        # 400 invalid_token means it is already dead, which is what we wanted.
        if not response.is_success and response.status_code != 400:
            raise GoogleRequestError(
                "revoke failed", status=response.status_code, reason=error_reason(response)
            )

    def account_email(self, access_token: str) -> str:
        response = self._transport.send(
            "GET", self._userinfo_url, headers={"Authorization": f"Bearer {access_token}"}
        )
        if not response.is_success:
            raise GoogleRequestError(
                "userinfo failed", status=response.status_code, reason=error_reason(response)
            )
        email = response.json().get("email")
        if not isinstance(email, str) or not email:
            raise GoogleRequestError("userinfo has no email", status=200, reason=None)
        return email

    def missing_scopes(self, granted: frozenset[str]) -> frozenset[str]:
        missing = set(REQUIRED_SCOPES - granted)
        if SCOPE_EVENTS_BROAD in granted:
            # The broader scope covers the narrow one (grants made before the switch).
            missing.discard(SCOPE_EVENTS)
        if not granted & _EMAIL_SCOPES:
            missing.add("email")
        return frozenset(missing)

    def _token_request(self, form: dict[str, str]) -> httpx.Response:
        # client_secret_post: Google accepts both; the body keeps the Authorization header free.
        body = form | {"client_id": self._client_id, "client_secret": self._client_secret}
        return self._transport.send("POST", self._token_url, data=body)

    def _grant(self, response: httpx.Response) -> TokenGrant:
        body = response.json()
        expires_in = int(body.get("expires_in", 3600))
        now = self._clock.now()
        # Present only for time-limited grants (e.g. an app in Testing status: 7 days).
        refresh_expires_in = body.get("refresh_token_expires_in")
        return TokenGrant(
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token"),
            expires_at=now + timedelta(seconds=expires_in),
            scopes=frozenset(str(body.get("scope", "")).split()),
            refresh_token_expires_at=None
            if refresh_expires_in is None
            else now + timedelta(seconds=int(refresh_expires_in)),
        )


def token_expired(expires_at: datetime | None, *, now: datetime) -> bool:
    """Refresh a little early (google-auth uses 3 min 45 s); one minute is our margin."""
    return expires_at is None or expires_at - now < timedelta(minutes=1)
