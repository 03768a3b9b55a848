"""Connecting Google Calendar: OAuth with PKCE, encrypted tokens, refresh, status, disconnect."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
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
    IntegrationRecord,
    Metrics,
    OAuthClient,
    OAuthState,
    TokenCipher,
    UnitOfWork,
    UnitOfWorkFactory,
)
from balance_booking.application.reconcile import ReconcileSummary
from balance_booking.domain.calendar_account import IntegrationStatus

_log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
_EARLY_REFRESH = timedelta(minutes=1)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class StartGoogleConnection:
    """Begin OAuth: a single-use state bound to the admin session, PKCE S256, Google's URL."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        oauth: OAuthClient | None,
        cipher: TokenCipher,
        clock: Clock,
    ) -> None:
        self._uow_factory = uow_factory
        self._oauth = oauth
        self._cipher = cipher
        self._clock = clock

    def execute(self, *, session_hash: str | None) -> str:
        if self._oauth is None:
            raise ConflictError("Google OAuth client is not configured (BALANCE_GOOGLE_CLIENT_ID).")
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 chars of [A-Za-z0-9_-]: within RFC 7636's 43..128
        now = self._clock.now()
        with self._uow_factory() as uow:
            uow.oauth_states.delete_expired(now)
            uow.oauth_states.add(
                OAuthState(
                    state_hash=sha256_hex(state),
                    session_hash=session_hash,
                    code_verifier_enc=self._cipher.encrypt(verifier),
                    expires_at=now + STATE_TTL,
                    used_at=None,
                ),
                created_at=now,
            )
            uow.commit()
        return self._oauth.authorization_url(state=state, code_challenge=pkce_challenge(verifier))


OutcomeKind = Literal["connected", "denied", "partial", "failed"]


@dataclass(frozen=True, slots=True)
class ConnectionOutcome:
    """What the callback tells the admin."""

    kind: OutcomeKind
    detail: str | None = None


class StaticTokens:
    """An AccessTokenSource for a token we just received (before anything is stored)."""

    def __init__(self, access_token: str) -> None:
        self._access_token = access_token

    def current(self) -> str:
        return self._access_token

    def refreshed(self, stale: str) -> str:  # noqa: ARG002 - port signature
        raise AccessRevokedError("a fresh token was refused")


class CompleteGoogleConnection:
    """The OAuth callback: check state, exchange the code, check scopes, store tokens encrypted."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        oauth: OAuthClient | None,
        gateways: CalendarGatewayFactory,
        cipher: TokenCipher,
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self._uow_factory = uow_factory
        self._oauth = oauth
        self._gateways = gateways
        self._cipher = cipher
        self._clock = clock
        self._metrics = metrics

    def execute(
        self, *, state: str | None, code: str | None, error: str | None, session_hash: str | None
    ) -> ConnectionOutcome:
        verifier = self._consume_state(state, session_hash=session_hash)
        if error is not None:
            return ConnectionOutcome("denied", error)
        if self._oauth is None or not code:
            return ConnectionOutcome("failed", "no authorization code")
        try:
            grant = self._oauth.exchange_code(code=code, code_verifier=verifier)
        except (OAuthExchangeError, GoogleRequestError, GoogleUnavailableError) as exc:
            _log.warning("google_connect_exchange_failed", extra={"error": type(exc).__name__})
            return ConnectionOutcome("failed", str(exc))
        missing = self._oauth.missing_scopes(grant.scopes)
        if missing:
            self._revoke_quietly(grant.refresh_token or grant.access_token)
            return ConnectionOutcome("partial", " ".join(sorted(missing)))
        if grant.refresh_token is None:
            return ConnectionOutcome("failed", "Google returned no refresh token")
        try:
            email = self._oauth.account_email(grant.access_token)
            calendar = self._gateways(StaticTokens(grant.access_token)).primary_calendar()
        except (GoogleRequestError, GoogleUnavailableError, AccessRevokedError) as exc:
            return ConnectionOutcome("failed", str(exc))
        now = self._clock.now()
        with self._uow_factory() as uow:
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
            record.access_token_enc = self._cipher.encrypt(grant.access_token)
            record.refresh_token_enc = self._cipher.encrypt(grant.refresh_token)
            record.token_expires_at = grant.expires_at
            record.granted_scopes = grant.scopes
            record.last_sync_error = None
            record.refresh_lease_until = None
            uow.integration.save(record, now=now)
            uow.commit()
        self._metrics.increment("google_connected")
        _log.info("google_calendar_connected", extra={"account": email})
        return ConnectionOutcome("connected")

    def _consume_state(self, state: str | None, *, session_hash: str | None) -> str:
        if not state:
            raise InvalidOAuthStateError("The sign-in link is missing its state.")
        now = self._clock.now()
        with self._uow_factory() as uow:
            stored = uow.oauth_states.get_for_update(sha256_hex(state))
            if stored is None or stored.used_at is not None or stored.expires_at <= now:
                raise InvalidOAuthStateError("This sign-in link is unknown, used or expired.")
            if stored.session_hash is not None and stored.session_hash != session_hash:
                raise InvalidOAuthStateError("This sign-in link belongs to another admin session.")
            # Spent before Google is called: a replay fails even if the exchange below fails.
            uow.oauth_states.mark_used(stored.state_hash, now)
            uow.commit()
        try:
            return self._cipher.decrypt(stored.code_verifier_enc)
        except UndecryptableTokenError as exc:
            raise InvalidOAuthStateError("This sign-in link can no longer be verified.") from exc

    def _revoke_quietly(self, token: str) -> None:
        if self._oauth is None:
            return
        try:
            self._oauth.revoke(token)
        except ApplicationError:
            _log.warning("google_revoke_failed")


class GoogleTokens:
    """AccessTokenSource over the stored, encrypted tokens; one refresher at a time everywhere.

    A refresh takes a short lease on the integration row (claimed under the row lock, then
    released) instead of holding a transaction open across the call to Google; other threads and
    processes wait for the lease and then reuse the token it produced.
    """

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        oauth: OAuthClient | None,
        cipher: TokenCipher,
        clock: Clock,
        metrics: Metrics,
        lease: timedelta = timedelta(seconds=30),
        poll_seconds: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._uow_factory = uow_factory
        self._oauth = oauth
        self._cipher = cipher
        self._clock = clock
        self._metrics = metrics
        self._lease = lease
        self._poll_seconds = poll_seconds
        self._sleep = sleep

    def current(self) -> str:
        with self._uow_factory() as uow:
            record = uow.integration.get()
        if record.access_token_enc is None:
            # Disconnected, or already marked needs_reauth (alerted once, when it happened):
            # fail fast without rewriting the row, re-alerting or invalidating every cache.
            raise AccessRevokedError("Google Calendar is not connected.")
        access = self._decrypt_or_revoke(record.access_token_enc)
        if _expiring(record.token_expires_at, now=self._clock.now()):
            return self.refreshed(access)
        return access

    def refreshed(self, stale: str) -> str:
        if self._oauth is None:
            raise AccessRevokedError("Google OAuth client is not configured.")
        deadline = time.monotonic() + self._lease.total_seconds() * 2
        while True:
            claimed, record = self._claim_or_reuse(stale)
            if claimed and record is not None:
                break
            if record is not None:
                return self._decrypt_or_revoke(record.access_token_enc)
            if time.monotonic() > deadline:
                raise GoogleUnavailableError("Another process is still refreshing the token.")
            self._sleep(self._poll_seconds)
        refresh_token = self._decrypt_or_revoke(record.refresh_token_enc)
        try:
            grant = self._oauth.refresh(refresh_token)
        except AccessRevokedError:
            self._mark_needs_reauth("invalid_grant", refused=record.refresh_token_enc)
            raise
        except ApplicationError:
            self._release_lease()
            raise
        with self._uow_factory() as uow:
            latest = uow.integration.get_for_update()
            latest.access_token_enc = self._cipher.encrypt(grant.access_token)
            if grant.refresh_token is not None:
                latest.refresh_token_enc = self._cipher.encrypt(grant.refresh_token)
            latest.token_expires_at = grant.expires_at
            latest.refresh_lease_until = None
            uow.integration.save(latest, now=self._clock.now())
            uow.commit()
        self._metrics.increment("google_token_refreshed")
        return grant.access_token

    def _claim_or_reuse(self, stale: str) -> tuple[bool, IntegrationRecord | None]:
        """(True, row) when we hold the lease; (False, row) when a fresh token exists already;
        (False, None) when someone else holds the lease."""
        now = self._clock.now()
        with self._uow_factory() as uow:
            record = uow.integration.get_for_update()
            if record.status != IntegrationStatus.CONNECTED or record.refresh_token_enc is None:
                raise AccessRevokedError("Google Calendar is not connected.")
            access = self._open(record.access_token_enc)
            if access is None or self._open(record.refresh_token_enc) is None:
                _needs_reauth(record)
                uow.integration.save(record, now=now)
                uow.commit()
                self._alert("undecryptable_token")
                raise AccessRevokedError("The stored Google token cannot be decrypted.")
            if access != stale and not _expiring(record.token_expires_at, now=now):
                return False, record
            if record.refresh_lease_until is not None and record.refresh_lease_until > now:
                return False, None
            record.refresh_lease_until = now + self._lease
            uow.integration.save(record, now=now)
            uow.commit()
            return True, record

    def _open(self, value: str | None) -> str | None:
        """The plaintext, or None when nothing is stored or no key opens it."""
        if value is None:
            return None
        try:
            return self._cipher.decrypt(value)
        except UndecryptableTokenError:
            return None

    def _decrypt_or_revoke(self, value: str | None) -> str:
        plain = self._open(value)
        if plain is None:
            self._mark_needs_reauth("undecryptable_token")
            raise AccessRevokedError("The stored Google token cannot be decrypted.")
        return plain

    def _mark_needs_reauth(self, why: str, *, refused: str | None = None) -> None:
        """`refused`: the stored refresh token Google refused; if the row holds another one by
        now (the admin reconnected while the refresh was in flight), the new grant stands."""
        with self._uow_factory() as uow:
            record = uow.integration.get_for_update()
            if refused is not None and record.refresh_token_enc != refused:
                return
            _needs_reauth(record)
            record.last_sync_error = "Google access was revoked: reconnect the calendar."
            uow.integration.save(record, now=self._clock.now())
            uow.commit()
        self._alert(why)

    def _alert(self, why: str) -> None:
        self._metrics.increment("google_access_revoked", {"reason": why})
        _log.error("google_access_revoked", extra={"reason": why})

    def _release_lease(self) -> None:
        with self._uow_factory() as uow:
            record = uow.integration.get_for_update()
            record.refresh_lease_until = None
            uow.integration.save(record, now=self._clock.now())
            uow.commit()


def _expiring(expires_at: datetime | None, *, now: datetime) -> bool:
    return expires_at is None or expires_at - now < _EARLY_REFRESH


def _needs_reauth(record: IntegrationRecord) -> None:
    """Drop the dead tokens; the settings (calendar, zone, flag) stay for the reconnect."""
    record.status = IntegrationStatus.NEEDS_REAUTH
    record.access_token_enc = None
    record.refresh_token_enc = None
    record.token_expires_at = None
    record.refresh_lease_until = None


@dataclass(frozen=True, slots=True)
class IntegrationStatusView:
    """GET /api/admin/integrations/google-calendar."""

    enabled: bool
    status: IntegrationStatus
    account_email: str | None
    calendar_id: str | None
    timezone: str | None
    last_sync_at: datetime | None
    last_sync_ok: bool | None
    last_error: str | None
    next_sync_at: datetime | None
    busy_intervals: int
    push_active: bool
    push_expires_at: datetime | None
    last_reconcile_at: datetime | None = None
    reconcile: ReconcileSummary | None = None  # what the last sync did to our exported events


class GetIntegrationStatus:
    """The integration status the admin sees."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        enabled_by_default: bool,
        sync_interval: timedelta,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._enabled_by_default = enabled_by_default
        self._sync_interval = sync_interval

    def execute(self) -> IntegrationStatusView:
        with self._uow_factory() as uow:
            return self.view(uow)

    def view(self, uow: UnitOfWork) -> IntegrationStatusView:
        record = uow.integration.get()
        now = self._clock.now()
        connected = record.status == IntegrationStatus.CONNECTED
        next_sync = None
        if connected:
            next_sync = (
                now if record.last_sync_at is None else record.last_sync_at + self._sync_interval
            )
        push_active = (
            record.push_channel_id is not None
            and record.push_expires_at is not None
            and record.push_expires_at > now
        )
        return IntegrationStatusView(
            enabled=self._enabled_by_default if record.enabled is None else record.enabled,
            status=record.status,
            account_email=record.account_email,
            calendar_id=record.calendar_id,
            timezone=record.timezone,
            last_sync_at=record.last_sync_at,
            last_sync_ok=record.last_sync_ok,
            last_error=record.last_sync_error,
            next_sync_at=next_sync,
            busy_intervals=uow.integration.busy_count(),
            push_active=push_active,
            push_expires_at=record.push_expires_at if push_active else None,
            last_reconcile_at=record.last_reconcile_at,
            reconcile=ReconcileSummary.from_json(record.last_reconcile_summary),
        )


class SetIntegrationEnabled:
    """The gcal_integration_enabled flag (admin toggle over the environment default)."""

    def __init__(
        self, *, uow_factory: UnitOfWorkFactory, clock: Clock, status: GetIntegrationStatus
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._status = status

    def execute(self, *, enabled: bool) -> IntegrationStatusView:
        with self._uow_factory() as uow:
            record = uow.integration.get_for_update()
            record.enabled = enabled
            uow.integration.save(record, now=self._clock.now())
            uow.commit()
            return self._status.view(uow)


class DisconnectGoogleCalendar:
    """Revoke at Google, stop the push channel, delete the tokens; keep the settings."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        oauth: OAuthClient | None,
        gateways: CalendarGatewayFactory,
        cipher: TokenCipher,
        clock: Clock,
        status: GetIntegrationStatus,
    ) -> None:
        self._uow_factory = uow_factory
        self._oauth = oauth
        self._gateways = gateways
        self._cipher = cipher
        self._clock = clock
        self._status = status

    def execute(self) -> IntegrationStatusView:
        with self._uow_factory() as uow:
            record = uow.integration.get()
        access = self._plain(record.access_token_enc)
        refresh = self._plain(record.refresh_token_enc)
        if access and record.push_channel_id and record.push_resource_id:
            try:
                self._gateways(StaticTokens(access)).stop_channel(
                    channel_id=record.push_channel_id, resource_id=record.push_resource_id
                )
            except ApplicationError:
                _log.warning("google_channel_stop_failed")
        if self._oauth is not None and (refresh or access):
            try:
                self._oauth.revoke(refresh or access or "")
            except ApplicationError:
                # The tokens are deleted below anyway; the admin can also revoke in Google.
                _log.warning("google_revoke_failed")
        with self._uow_factory() as uow:
            record = uow.integration.get_for_update()
            record.status = IntegrationStatus.DISCONNECTED
            record.access_token_enc = None
            record.refresh_token_enc = None
            record.token_expires_at = None
            record.refresh_lease_until = None
            record.push_channel_id = None
            record.push_resource_id = None
            record.push_expires_at = None
            record.last_success_at = None
            uow.busy.clear()
            uow.integration.save(record, now=self._clock.now())
            uow.commit()
            return self._status.view(uow)

    def _plain(self, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return self._cipher.decrypt(value)
        except UndecryptableTokenError:
            return None  # nothing to revoke with; the row is cleared below anyway


@dataclass(frozen=True, slots=True)
class RotationReport:
    """What rotate-keys did."""

    rotated: int
    undecryptable: int


class RotateTokenKeys:
    """Re-encrypt every stored secret under the first key; unreadable tokens -> needs_reauth."""

    def __init__(
        self, *, uow_factory: UnitOfWorkFactory, cipher: TokenCipher, clock: Clock
    ) -> None:
        self._uow_factory = uow_factory
        self._cipher = cipher
        self._clock = clock

    def execute(self) -> RotationReport:
        rotated = undecryptable = 0
        now = self._clock.now()
        with self._uow_factory() as uow:
            record = uow.integration.get_for_update()
            try:
                if record.access_token_enc is not None:
                    record.access_token_enc = self._cipher.rotate(record.access_token_enc)
                    rotated += 1
                if record.refresh_token_enc is not None:
                    record.refresh_token_enc = self._cipher.rotate(record.refresh_token_enc)
                    rotated += 1
            except UndecryptableTokenError:
                undecryptable += 1
                _needs_reauth(record)
            uow.integration.save(record, now=now)
            for state_hash, verifier in uow.oauth_states.all_verifiers():
                try:
                    uow.oauth_states.set_verifier(state_hash, self._cipher.rotate(verifier))
                    rotated += 1
                except UndecryptableTokenError:
                    undecryptable += 1
                    uow.oauth_states.mark_used(state_hash, now)
            uow.commit()
        return RotationReport(rotated=rotated, undecryptable=undecryptable)
