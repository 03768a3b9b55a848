"""Connecting Google Calendar: OAuth 2.0 authorization code with PKCE, tokens stored encrypted."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from balance_booking.application.errors import (
    AccessRevokedError,
    ApplicationError,
    ConflictError,
    GoogleRequestError,
    GoogleUnavailableError,
    InvalidOAuthStateError,
    OAuthExchangeError,
    UndecryptableTokenError,
)
from balance_booking.application.ports import (
    CalendarGatewayFactory,
    Clock,
    Metrics,
    OAuthClient,
    OAuthState,
    TokenCipher,
    UnitOfWorkFactory,
)
from balance_booking.application.tokens import StaticTokens
from balance_booking.domain.calendar_account import IntegrationStatus

_log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, kw_only=True, slots=True)
class StartGoogleConnection:
    """Begin OAuth: a single-use state bound to the admin session, PKCE S256, Google's URL."""

    uow_factory: UnitOfWorkFactory
    oauth: OAuthClient | None
    cipher: TokenCipher
    clock: Clock

    def execute(self, *, session_hash: str | None) -> str:
        if self.oauth is None:
            raise ConflictError("Google OAuth client is not configured (BALANCE_GOOGLE_CLIENT_ID).")
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 chars of [A-Za-z0-9_-]: within RFC 7636's 43..128
        now = self.clock.now()
        with self.uow_factory() as uow:
            uow.oauth_states.delete_expired(now)
            uow.oauth_states.add(
                OAuthState(
                    state_hash=sha256_hex(state),
                    session_hash=session_hash,
                    code_verifier_enc=self.cipher.encrypt(verifier),
                    expires_at=now + STATE_TTL,
                    used_at=None,
                ),
                created_at=now,
            )
            uow.commit()
        return self.oauth.authorization_url(state=state, code_challenge=pkce_challenge(verifier))


OutcomeKind = Literal["connected", "denied", "partial", "failed"]


@dataclass(frozen=True, slots=True)
class ConnectionOutcome:
    """What the callback tells the admin."""

    kind: OutcomeKind
    detail: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CompleteGoogleConnection:
    """The OAuth callback: check state, exchange the code, check scopes, store tokens encrypted."""

    uow_factory: UnitOfWorkFactory
    oauth: OAuthClient | None
    gateways: CalendarGatewayFactory
    cipher: TokenCipher
    clock: Clock
    metrics: Metrics

    def execute(
        self, *, state: str | None, code: str | None, error: str | None, session_hash: str | None
    ) -> ConnectionOutcome:
        verifier = self._consume_state(state, session_hash=session_hash)
        if error is not None:
            return ConnectionOutcome("denied", error)
        if self.oauth is None or not code:
            return ConnectionOutcome("failed", "no authorization code")
        try:
            grant = self.oauth.exchange_code(code=code, code_verifier=verifier)
        except (OAuthExchangeError, GoogleRequestError, GoogleUnavailableError) as exc:
            _log.warning("google_connect_exchange_failed", extra={"error": type(exc).__name__})
            return ConnectionOutcome("failed", str(exc))
        missing = self.oauth.missing_scopes(grant.scopes)
        if missing:
            # Nothing of this grant is stored. Revoking it would also revoke the grant a working
            # connection holds (Google revokes per client and user, not per token), so only a
            # grant that nothing else relies on is handed back.
            if not self._working_connection():
                self._revoke_quietly(grant.refresh_token or grant.access_token)
            _log.info("google_connect_partial", extra={"missing": sorted(missing)})
            return ConnectionOutcome("partial", " ".join(sorted(missing)))
        if grant.refresh_token is None:
            return ConnectionOutcome("failed", "Google returned no refresh token")
        try:
            email = self.oauth.account_email(grant.access_token)
            calendar = self.gateways(StaticTokens(grant.access_token)).primary_calendar()
        except (GoogleRequestError, GoogleUnavailableError, AccessRevokedError) as exc:
            return ConnectionOutcome("failed", str(exc))
        now = self.clock.now()
        with self.uow_factory() as uow:
            record = uow.integration.get_for_update()
            if record.account_email != email:
                # Another account's busy time must not linger in the mirror.
                uow.busy.clear()
                record.last_success_at = None
                record.last_sync_at = None
                record.last_sync_ok = None
            record.status = IntegrationStatus.CONNECTED
            record.account_email = email
            record.calendar_id = calendar.calendar_id
            record.timezone = calendar.timezone
            record.access_token_enc = self.cipher.encrypt(grant.access_token)
            record.refresh_token_enc = self.cipher.encrypt(grant.refresh_token)
            record.token_expires_at = grant.expires_at
            record.granted_scopes = grant.scopes
            # A Testing-status app's grant ends 7 days after this (refresh_token_expires_in).
            record.consented_at = now
            record.refresh_token_expires_at = grant.refresh_token_expires_at
            record.oauth_client_rejected_at = None
            record.last_sync_error = None
            record.refresh_lease_until = None
            uow.integration.save(record, now=now)
            uow.commit()
        self.metrics.increment("google_connected")
        _log.info("google_calendar_connected", extra={"account": email})
        return ConnectionOutcome("connected")

    def _consume_state(self, state: str | None, *, session_hash: str | None) -> str:
        if not state:
            raise InvalidOAuthStateError("The sign-in link is missing its state.")
        now = self.clock.now()
        with self.uow_factory() as uow:
            stored = uow.oauth_states.get_for_update(sha256_hex(state))
            if stored is None or stored.used_at is not None or stored.expires_at <= now:
                raise InvalidOAuthStateError("This sign-in link is unknown, used or expired.")
            if stored.session_hash is not None and stored.session_hash != session_hash:
                raise InvalidOAuthStateError("This sign-in link belongs to another admin session.")
            # Spent before Google is called: a replay fails even if the exchange below fails.
            uow.oauth_states.mark_used(stored.state_hash, now)
            uow.commit()
        try:
            return self.cipher.decrypt(stored.code_verifier_enc)
        except UndecryptableTokenError as exc:
            raise InvalidOAuthStateError("This sign-in link can no longer be verified.") from exc

    def _working_connection(self) -> bool:
        with self.uow_factory() as uow:
            record = uow.integration.get()
        return record.status == IntegrationStatus.CONNECTED and record.refresh_token_enc is not None

    def _revoke_quietly(self, token: str) -> None:
        if self.oauth is None:
            return
        try:
            self.oauth.revoke(token)
        except ApplicationError:
            _log.warning("google_revoke_failed")
