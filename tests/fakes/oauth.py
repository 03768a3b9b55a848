"""A fake Google authorization server behind the OAuthClient port.

Codes are bound to the PKCE challenge of the authorization URL they came from and are single
use; a grant has one refresh token and the access tokens issued from it; revoking any of them
kills the grant, after which a refresh is `invalid_grant` (AccessRevokedError), as GoogleOAuthClient
reports it. Failures are programmed per operation; every call is counted.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from balance_booking.application.errors import (
    AccessRevokedError,
    GoogleRequestError,
    OAuthExchangeError,
)
from balance_booking.application.ports import Clock, TokenGrant

SCOPE_EVENTS = "https://www.googleapis.com/auth/calendar.events.owned"
SCOPE_FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"
ALL_SCOPES = frozenset({SCOPE_EVENTS, SCOPE_FREEBUSY, "openid", "email"})
REQUIRED_SCOPES = frozenset({SCOPE_EVENTS, SCOPE_FREEBUSY})
AUTH_URL = "https://accounts.example/o/oauth2/v2/auth"
OPERATIONS = frozenset(
    {"authorization_url", "exchange_code", "refresh", "revoke", "account_email", "missing_scopes"}
)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class FakeGrant:
    email: str
    scopes: frozenset[str]
    refresh_token: str
    access_tokens: list[str] = field(default_factory=list)
    revoked: bool = False


@dataclass
class _Code:
    challenge: str
    email: str
    scopes: frozenset[str]
    used: bool = False


class FakeOAuth:
    """The OAuthClient port, with Google's rules for codes, grants and revocation."""

    def __init__(
        self,
        clock: Clock,
        *,
        email: str = "owner@example.com",
        lifetime: timedelta = timedelta(hours=1),
    ) -> None:
        self._clock = clock
        self.email = email
        self.lifetime = lifetime
        self.calls: Counter[str] = Counter()
        self.grants: list[FakeGrant] = []
        self.authorizations: dict[str, str] = {}  # state -> code challenge
        self.omit_refresh_token = False
        self.expired: set[str] = set()  # access tokens Google expired early (401)
        self.revoke_calls: list[str] = []
        self.on_refresh: Callable[[str], None] | None = None  # runs inside refresh (races)
        self._codes: dict[str, _Code] = {}
        self._failures: dict[str, deque[Exception]] = {}
        self._ids = itertools.count(1)

    # --- programming -----------------------------------------------------------------------
    def fail(self, operation: str, error: Exception, *, times: int = 1) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"unknown OAuth operation {operation!r}")
        self._failures.setdefault(operation, deque()).extend([error] * times)

    def _call(self, operation: str) -> None:
        self.calls[operation] += 1
        queue = self._failures.get(operation)
        if queue:
            raise queue.popleft()

    def consent(
        self,
        url: str | None = None,
        *,
        scopes: frozenset[str] = ALL_SCOPES,
        email: str | None = None,
    ) -> tuple[str, str]:
        """The admin clicks "Allow" on `url` (default: the last one): (state, code)."""
        if url is None:
            state = list(self.authorizations)[-1]
        else:
            state = parse_qs(urlsplit(url).query)["state"][0]
        code = f"code-{next(self._ids)}"
        self._codes[code] = _Code(self.authorizations[state], email or self.email, scopes)
        return state, code

    def revoke_everything(self) -> None:
        """The owner removes our access in their Google account."""
        for grant in self.grants:
            grant.revoked = True

    def expire_access_tokens(self) -> None:
        """Google considers every access token issued so far expired (401 on next use)."""
        for grant in self.grants:
            self.expired.update(grant.access_tokens)

    def access_valid(self, access_token: str) -> bool:
        grant = self._grant_of(access_token)
        return grant is not None and not grant.revoked and access_token not in self.expired

    def live_grants(self) -> list[FakeGrant]:
        return [g for g in self.grants if not g.revoked]

    def _grant_of(self, token: str) -> FakeGrant | None:
        return next(
            (g for g in self.grants if token == g.refresh_token or token in g.access_tokens), None
        )

    def _access(self, grant: FakeGrant) -> str:
        token = f"access-{next(self._ids)}"
        grant.access_tokens.append(token)
        return token

    # --- the port ------------------------------------------------------------------------
    def authorization_url(self, *, state: str, code_challenge: str) -> str:
        self._call("authorization_url")
        self.authorizations[state] = code_challenge
        query = {"state": state, "code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{AUTH_URL}?{urlencode(query)}"

    def exchange_code(self, *, code: str, code_verifier: str) -> TokenGrant:
        self._call("exchange_code")
        found = self._codes.get(code)
        if found is None or found.used or s256(code_verifier) != found.challenge:
            raise OAuthExchangeError(
                "Google refused the authorization code (invalid_grant).", error="invalid_grant"
            )
        found.used = True
        grant = FakeGrant(found.email, found.scopes, f"refresh-{next(self._ids)}")
        self.grants.append(grant)
        return TokenGrant(
            access_token=self._access(grant),
            refresh_token=None if self.omit_refresh_token else grant.refresh_token,
            expires_at=self._clock.now() + self.lifetime,
            scopes=grant.scopes,
        )

    def refresh(self, refresh_token: str) -> TokenGrant:
        self._call("refresh")
        if self.on_refresh is not None:
            self.on_refresh(refresh_token)
        grant = self._grant_of(refresh_token)
        if grant is None or grant.revoked or grant.refresh_token != refresh_token:
            raise AccessRevokedError("Google revoked our access (invalid_grant).")
        return TokenGrant(
            access_token=self._access(grant),
            refresh_token=None,
            expires_at=self._clock.now() + self.lifetime,
            scopes=grant.scopes,
        )

    def revoke(self, token: str) -> None:
        self._call("revoke")
        self.revoke_calls.append(token)
        grant = self._grant_of(token)
        if grant is not None:  # an unknown token is 400 invalid_token: already dead, fine
            # Like Google: revoking withdraws the app's access for that user, every token of it.
            for other in self.grants:
                if other.email == grant.email:
                    other.revoked = True

    def account_email(self, access_token: str) -> str:
        self._call("account_email")
        grant = self._grant_of(access_token)
        if grant is None or grant.revoked:
            raise GoogleRequestError("userinfo failed", status=401, reason="invalid_token")
        return grant.email

    def missing_scopes(self, granted: frozenset[str]) -> frozenset[str]:
        self._call("missing_scopes")
        missing = set(REQUIRED_SCOPES - granted)
        if not granted & {"email", "https://www.googleapis.com/auth/userinfo.email"}:
            missing.add("email")
        return frozenset(missing)
