"""Google OAuth 2.0 behaviour: authorize requests, consent, codes, tokens, revocation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from balance_booking.emulators.google_calendar import scopes as sc
from balance_booking.emulators.google_calendar.config import EmulatorConfig
from balance_booking.emulators.google_calendar.errors import OAuthError
from balance_booking.emulators.google_calendar.models import (
    AccessToken,
    AuthCode,
    Grant,
    PendingConsent,
    RefreshToken,
    State,
    User,
)
from balance_booking.emulators.google_calendar.store import Store, add_user, random_token
from balance_booking.emulators.google_calendar.timefmt import to_epoch_ms

ISSUER = "https://accounts.google.com"
EXPIRED_OR_REVOKED = "Token has been expired or revoked."


class AuthorizePageError(Exception):
    """An authorize-time error Google shows on its own page instead of redirecting back."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the Calendar API, and with which scopes."""

    email: str
    client_id: str
    scopes: frozenset[str]
    token: str


class TokenRefusedError(Exception):
    """Why a bearer token was refused: missing (no header) or invalid (unknown/expired/revoked)."""

    def __init__(self, *, missing: bool) -> None:
        super().__init__("missing token" if missing else "invalid token")
        self.missing = missing


def _redirect(redirect_uri: str, params: dict[str, str]) -> str:
    separator = "&" if "?" in redirect_uri else "?"
    return f"{redirect_uri}{separator}{urlencode(params)}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if method == "S256":
        computed = _b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
        return hmac.compare_digest(computed, challenge)
    return hmac.compare_digest(verifier, challenge)


class OAuthService:
    def __init__(self, *, store: Store, config: EmulatorConfig) -> None:
        self._store = store
        self._config = config

    @property
    def default_email(self) -> str:
        return self._config.default_user_email

    def _now_ms(self) -> int:
        return to_epoch_ms(self._store.clock.now())

    # -- authorize ---------------------------------------------------------------------------

    def begin(self, params: Mapping[str, str]) -> PendingConsent:
        """Validate an authorize request; errors Google shows on its own page raise."""
        client_id = params.get("client_id", "")
        with self._store.write() as state:
            client = state.clients.get(client_id)
            if client is None:
                raise AuthorizePageError(401, "invalid_client", "The OAuth client was not found.")
            redirect_uri = params.get("redirect_uri", "")
            if redirect_uri not in client.redirect_uris:
                raise AuthorizePageError(
                    400,
                    "redirect_uri_mismatch",
                    f"You can't sign in to this app because it doesn't comply with Google's OAuth "
                    f"2.0 policy. redirect_uri={redirect_uri}",
                )
            if params.get("response_type") != "code":
                raise AuthorizePageError(
                    400,
                    "unsupported_response_type",
                    "Invalid response_type: " + params.get("response_type", ""),
                )
            requested = sc.normalize_scopes(params.get("scope", ""))
            if not requested:
                raise AuthorizePageError(
                    400, "invalid_request", "Missing required parameter: scope"
                )
            unknown = [s for s in requested if s not in sc.KNOWN_SCOPES]
            if unknown:
                raise AuthorizePageError(
                    400,
                    "invalid_scope",
                    f"Some requested scopes were invalid. {{invalid={unknown}}}",
                )
            challenge = params.get("code_challenge")
            method = params.get("code_challenge_method") or ("plain" if challenge else None)
            if method not in {None, "plain", "S256"}:
                raise AuthorizePageError(
                    400, "invalid_request", f"Invalid code_challenge_method: {method}"
                )
            prompt = params.get("prompt", "").split()
            if "none" in prompt and len(prompt) > 1:
                raise AuthorizePageError(
                    400, "invalid_request", "prompt=none must not be combined with other values"
                )
            pending = PendingConsent(
                request_id=secrets.token_urlsafe(16),
                client_id=client_id,
                redirect_uri=redirect_uri,
                scopes=requested,
                state=params.get("state"),
                access_type=params.get("access_type", "online"),
                prompt=prompt,
                include_granted_scopes=params.get("include_granted_scopes", "") == "true",
                login_hint=params.get("login_hint"),
                code_challenge=challenge,
                code_challenge_method=method,
                nonce=params.get("nonce"),
                expires_at_ms=self._now_ms() + 3_600_000,
            )
            _prune(state, now_ms=self._now_ms())
            state.pending_consents[pending.request_id] = pending
            return pending

    def pending(self, request_id: str) -> PendingConsent | None:
        with self._store.read() as state:
            found = state.pending_consents.get(request_id)
            if found is None or found.expires_at_ms < self._now_ms():
                return None
            return found.model_copy()

    def silent_answer(self, pending: PendingConsent) -> str | None:
        """prompt=none: a code if the user already granted everything, else consent_required."""
        if "none" not in pending.prompt:
            return None
        email = pending.login_hint or self._config.default_user_email
        with self._store.read() as state:
            grant = state.grant_for(email, pending.client_id)
            covered = grant is not None and set(pending.scopes) <= set(grant.scopes)
        if not covered:
            return self.deny(pending, error="consent_required")
        return self.approve(pending, email=email, chosen=None)

    def deny(self, pending: PendingConsent, *, error: str = "access_denied") -> str:
        with self._store.write() as state:
            state.pending_consents.pop(pending.request_id, None)
        params = {"error": error}
        if pending.state is not None:
            params["state"] = pending.state
        return _redirect(pending.redirect_uri, params)

    def approve(self, pending: PendingConsent, *, email: str, chosen: list[str] | None) -> str:
        """Grant the chosen scopes (sign-in scopes always) and redirect back with a code."""
        requested = pending.scopes
        granted = [s for s in requested if chosen is None or s in chosen or s in sc.BASIC_SCOPES]
        now_ms = self._now_ms()
        with self._store.write() as state:
            state.pending_consents.pop(pending.request_id, None)
            add_user(state, email=email, timezone=self._config.default_timezone)
            grant = state.grant_for(email, pending.client_id)
            offline = pending.access_type == "offline"
            issue_refresh = offline and (
                grant is None or not grant.offline or "consent" in pending.prompt
            )
            if grant is None:
                grant = Grant(email=email, client_id=pending.client_id, scopes=[])
                state.grants.append(grant)
            # Google remembers everything ever granted to the client for this user.
            grant.scopes = sorted(set(grant.scopes) | set(granted))
            token_scopes = (
                sorted(set(granted) | set(grant.scopes))
                if pending.include_granted_scopes
                else sorted(granted)
            )
            grant.offline = grant.offline or offline
            code = AuthCode(
                code=random_token("4/0Aemu"),
                client_id=pending.client_id,
                redirect_uri=pending.redirect_uri,
                email=email,
                scopes=token_scopes,
                expires_at_ms=now_ms + self._config.auth_code_ttl_seconds * 1000,
                issue_refresh_token=issue_refresh,
                code_challenge=pending.code_challenge,
                code_challenge_method=pending.code_challenge_method,
                nonce=pending.nonce,
            )
            state.auth_codes[code.code] = code
        params = {"code": code.code, "scope": " ".join(token_scopes)}
        if pending.state is not None:
            params = {"state": pending.state, **params}
        params.update({"authuser": "0", "prompt": "consent"})
        return _redirect(pending.redirect_uri, params)

    def auto_decision(self, pending: PendingConsent) -> str | None:
        """The redirect URL when auto-consent (or the control-API policy) decides; else None."""
        with self._store.read() as state:
            policy = state.consent_policy
        if policy is None:
            if not self._config.auto_consent:
                return None
            return self.approve(pending, email=self._pick_email(pending, None), chosen=None)
        if policy.action == "manual":
            return None
        if policy.action == "deny":
            return self.deny(pending)
        return self.approve(
            pending, email=self._pick_email(pending, policy.email), chosen=policy.scopes
        )

    def _pick_email(self, pending: PendingConsent, forced: str | None) -> str:
        if forced:
            return forced
        if pending.login_hint and "@" in pending.login_hint:
            return pending.login_hint
        return self._config.default_user_email

    # -- token endpoint ----------------------------------------------------------------------

    def token(self, form: Mapping[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        with self._store.write() as state:
            client_id = self._authenticate_client(state, form, basic)
            grant_type = form.get("grant_type")
            if not grant_type:
                raise OAuthError(
                    400, "invalid_request", "Required parameter is missing: grant_type"
                )
            if grant_type == "authorization_code":
                return self._exchange_code(state, client_id, form)
            if grant_type == "refresh_token":
                return self._refresh(state, client_id, form)
            raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    @staticmethod
    def _authenticate_client(
        state: State, form: Mapping[str, str], basic: tuple[str, str] | None
    ) -> str:
        """client_secret_basic or client_secret_post, both accepted as at Google."""
        if basic is not None:
            client_id, secret = basic
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id:
            raise OAuthError(400, "invalid_request", "Could not determine client ID from request.")
        client = state.clients.get(client_id)
        if client is None:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if not secret or not hmac.compare_digest(secret, client.client_secret):
            raise OAuthError(401, "invalid_client", "Unauthorized")
        return client_id

    def _exchange_code(
        self, state: State, client_id: str, form: Mapping[str, str]
    ) -> dict[str, Any]:
        raw_code = form.get("code")
        if not raw_code:
            raise OAuthError(400, "invalid_request", "Missing required parameter: code")
        code = state.auth_codes.get(raw_code)
        if code is None:
            raise OAuthError(400, "invalid_grant", "Malformed auth code.")
        if code.used or code.expires_at_ms < self._now_ms() or code.client_id != client_id:
            raise OAuthError(400, "invalid_grant", "Bad Request")
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
        if code.code_challenge is not None:
            verifier = form.get("code_verifier")
            if not verifier:
                raise OAuthError(400, "invalid_grant", "Missing code verifier.")
            if not pkce_matches(
                verifier, code.code_challenge, code.code_challenge_method or "plain"
            ):
                raise OAuthError(400, "invalid_grant", "Invalid code verifier.")
        code.used = True
        refresh: RefreshToken | None = None
        if code.issue_refresh_token:
            lifetime = state.settings.refresh_token_lifetime_seconds
            refresh = RefreshToken(
                token=random_token("1//0emu"),
                email=code.email,
                client_id=client_id,
                scopes=code.scopes,
                # Counted from consent, like Google's 7 days for an app in Testing status.
                expires_at_ms=None if lifetime is None else self._now_ms() + lifetime * 1000,
            )
            state.refresh_tokens[refresh.token] = refresh
        return self._issue(
            state,
            email=code.email,
            client_id=client_id,
            scopes=code.scopes,
            refresh=refresh,
            include_refresh=refresh is not None,
            nonce=code.nonce,
        )

    def _refresh(self, state: State, client_id: str, form: Mapping[str, str]) -> dict[str, Any]:
        raw = form.get("refresh_token")
        if not raw:
            raise OAuthError(400, "invalid_request", "Missing required parameter: refresh_token")
        refresh = state.refresh_tokens.get(raw)
        if refresh is None or refresh.revoked:
            raise OAuthError(400, "invalid_grant", EXPIRED_OR_REVOKED)
        if refresh.expires_at_ms is not None and refresh.expires_at_ms <= self._now_ms():
            raise OAuthError(400, "invalid_grant", EXPIRED_OR_REVOKED)
        if refresh.client_id != client_id:
            raise OAuthError(401, "unauthorized_client", "Unauthorized")
        scopes = refresh.scopes
        if form.get("scope"):
            asked = sc.normalize_scopes(form["scope"])
            missing = [s for s in asked if s not in refresh.scopes]
            if missing:
                raise OAuthError(
                    400,
                    "invalid_scope",
                    f"Some requested scopes were not granted: {' '.join(missing)}",
                )
            scopes = asked
        return self._issue(
            state,
            email=refresh.email,
            client_id=client_id,
            scopes=scopes,
            refresh=refresh,
            include_refresh=False,
            nonce=None,
        )

    def _issue(
        self,
        state: State,
        *,
        email: str,
        client_id: str,
        scopes: list[str],
        refresh: RefreshToken | None,
        include_refresh: bool,
        nonce: str | None,
    ) -> dict[str, Any]:
        now = self._store.clock.now()
        ttl = self._config.access_token_ttl_seconds
        access = AccessToken(
            token=random_token("ya29.emu"),
            email=email,
            client_id=client_id,
            scopes=scopes,
            expires_at_ms=to_epoch_ms(now + timedelta(seconds=ttl)),
            refresh_token=refresh.token if refresh else None,
        )
        state.access_tokens[access.token] = access
        response: dict[str, Any] = {
            "access_token": access.token,
            "expires_in": ttl,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        if include_refresh and refresh is not None:
            response["refresh_token"] = refresh.token
        if refresh is not None and refresh.expires_at_ms is not None:
            # Time-limited access announces what is left of the grant, on every token answer.
            left_ms = refresh.expires_at_ms - to_epoch_ms(now)
            response["refresh_token_expires_in"] = max(0, left_ms // 1000)
        if sc.OPENID in scopes:
            user = state.users[email]
            client = state.clients[client_id]
            response["id_token"] = make_id_token(
                user=user,
                client_id=client_id,
                key=client.client_secret,
                scopes=scopes,
                issued_at=int(now.timestamp()),
                ttl=ttl,
                nonce=nonce,
                access_token=access.token,
            )
        return response

    # -- revocation and bearer checks --------------------------------------------------------

    def revoke(self, token: str) -> None:
        with self._store.write() as state:
            refresh = state.refresh_tokens.get(token)
            access = state.access_tokens.get(token)
            if refresh is None and access is not None and access.refresh_token:
                refresh = state.refresh_tokens.get(access.refresh_token)
            if refresh is None and access is None:
                raise OAuthError(400, "invalid_token", "Token expired or revoked")
            if (refresh is None or refresh.revoked) and (access is None or access.revoked):
                raise OAuthError(400, "invalid_token", "Token expired or revoked")
            if access is not None:
                access.revoked = True
            if refresh is not None:
                # Revoking either token ends the whole grant: the next consent starts afresh.
                self._revoke_grant(state, refresh.email, refresh.client_id)

    def revoke_user(self, email: str, client_id: str | None = None) -> int:
        """Control API: the user withdrew access (all clients, or one). Returns tokens revoked."""
        with self._store.write() as state:
            clients = (
                {client_id}
                if client_id
                else {g.client_id for g in state.grants if g.email == email}
            )
            clients |= {
                t.client_id
                for t in state.refresh_tokens.values()
                if t.email == email and not client_id
            }
            count = 0
            for cid in clients:
                count += self._revoke_grant(state, email, cid)
            return count

    @staticmethod
    def _revoke_grant(state: State, email: str, client_id: str) -> int:
        count = 0
        for refresh in state.refresh_tokens.values():
            if refresh.email == email and refresh.client_id == client_id and not refresh.revoked:
                refresh.revoked = True
                count += 1
        for access in state.access_tokens.values():
            if access.email == email and access.client_id == client_id and not access.revoked:
                access.revoked = True
                count += 1
        state.grants = [
            g for g in state.grants if not (g.email == email and g.client_id == client_id)
        ]
        return count

    def principal(self, token: str | None) -> Principal:
        if not token:
            raise TokenRefusedError(missing=True)
        with self._store.read() as state:
            access = state.access_tokens.get(token)
            if access is None or access.revoked or access.expires_at_ms <= self._now_ms():
                raise TokenRefusedError(missing=False)
            return Principal(
                email=access.email,
                client_id=access.client_id,
                scopes=frozenset(access.scopes),
                token=token,
            )

    def userinfo(self, principal: Principal, *, legacy: bool) -> dict[str, Any]:
        """OIDC claims filtered by the granted identity scopes."""
        with self._store.read() as state:
            user = state.users[principal.email]
        info: dict[str, Any] = {"id": user.sub} if legacy else {"sub": user.sub}
        if sc.USERINFO_EMAIL in principal.scopes:
            info["email"] = user.email
            info["verified_email" if legacy else "email_verified"] = True
        if sc.USERINFO_PROFILE in principal.scopes:
            info["name"] = user.name
            info["given_name"] = user.name
            info["picture"] = "https://lh3.googleusercontent.com/a/default-user"
        return info

    def tokeninfo(self, token: str) -> dict[str, Any]:
        with self._store.read() as state:
            access = state.access_tokens.get(token)
            now_ms = self._now_ms()
            if access is None or access.revoked or access.expires_at_ms <= now_ms:
                raise OAuthError(400, "invalid_token", "Invalid Value")
            user = state.users[access.email]
            info: dict[str, Any] = {
                "azp": access.client_id,
                "aud": access.client_id,
                "sub": user.sub,
                "scope": " ".join(access.scopes),
                "exp": str(access.expires_at_ms // 1000),
                "expires_in": str(max(0, (access.expires_at_ms - now_ms) // 1000)),
                "access_type": "offline" if access.refresh_token else "online",
            }
            if sc.USERINFO_EMAIL in access.scopes:
                info["email"] = user.email
                info["email_verified"] = "true"
            return info


def _prune(state: State, *, now_ms: int) -> None:
    """Forget finished authorize requests, codes and access tokens so the state file stays small."""
    state.pending_consents = {
        k: v for k, v in state.pending_consents.items() if v.expires_at_ms > now_ms
    }
    state.auth_codes = {
        k: v for k, v in state.auth_codes.items() if v.expires_at_ms > now_ms and not v.used
    }
    # Expired tokens are kept a day so the state dump still shows them; either way they get 401.
    state.access_tokens = {
        k: v for k, v in state.access_tokens.items() if v.expires_at_ms > now_ms - 86_400_000
    }


def make_id_token(
    *,
    user: User,
    client_id: str,
    key: str,
    scopes: list[str],
    issued_at: int,
    ttl: int,
    nonce: str | None,
    access_token: str,
) -> str:
    """An HS256 JWT keyed with the client secret: google-auth-oauthlib stores it unverified."""
    header = {"alg": "HS256", "typ": "JWT", "kid": "gcal-emulator"}
    digest = hashlib.sha256(access_token.encode()).digest()
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "azp": client_id,
        "aud": client_id,
        "sub": user.sub,
        "at_hash": _b64url(digest[: len(digest) // 2]),
        "iat": issued_at,
        "exp": issued_at + ttl,
    }
    if sc.USERINFO_EMAIL in scopes:
        claims["email"] = user.email
        claims["email_verified"] = True
    if sc.USERINFO_PROFILE in scopes:
        claims["name"] = user.name
    if nonce:
        claims["nonce"] = nonce
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"
