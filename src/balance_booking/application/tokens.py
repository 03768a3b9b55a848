"""Google access tokens: encrypted at rest, refreshed once for all processes, keys rotated."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from balance_booking.application import deadline as call_deadline
from balance_booking.application.deadline import DeadlineExceededError
from balance_booking.application.errors import (
    AccessRevokedError,
    ApplicationError,
    GoogleUnavailableError,
    OAuthClientRejectedError,
    UndecryptableTokenError,
)
from balance_booking.application.ports import (
    Clock,
    IntegrationRecord,
    Metrics,
    OAuthClient,
    TokenCipher,
    UnitOfWorkFactory,
)
from balance_booking.domain.calendar_account import IntegrationStatus

_log = logging.getLogger(__name__)

_EARLY_REFRESH = timedelta(minutes=1)
# An app in "Testing" publishing status with an External audience gets refresh tokens that die
# 7 days after consent (Google's OAuth docs, "Refresh token expiration"); invalid_grant within
# this band around that day is explained as such to the admin.
TESTING_TOKEN_LIFETIME = timedelta(days=7)
_TESTING_BAND = timedelta(hours=12)

REVOKED_MESSAGE = "Google access was revoked: reconnect the calendar."
TESTING_STATUS_MESSAGE = (
    "Google stopped accepting the refresh token about 7 days after consent: the OAuth app is "
    "probably in Testing publishing status (External audience), where Google gives 7-day "
    "tokens. Publish the app (In production) in the Google Cloud console, or use an Internal "
    "app in Google Workspace, then reconnect the calendar (docs/deployment.md)."
)
CLIENT_REJECTED_MESSAGE = (
    "Google rejected the OAuth client credentials ({error}): check BALANCE_GOOGLE_CLIENT_ID and "
    "BALANCE_GOOGLE_CLIENT_SECRET and that the client still exists in the Google Cloud console. "
    "Writes to Google are held and resume by themselves once a refresh succeeds."
)


def revoked_message(record: IntegrationRecord, *, now: datetime) -> str:
    """Why the admin must reconnect, in words: a Testing-status app's 7-day token, or revoked."""
    expired = record.refresh_token_expires_at is not None and record.refresh_token_expires_at <= (
        now + _TESTING_BAND
    )
    testing = (
        record.consented_at is not None
        and abs((now - record.consented_at) - TESTING_TOKEN_LIFETIME) <= _TESTING_BAND
    )
    return TESTING_STATUS_MESSAGE if expired or testing else REVOKED_MESSAGE


class StaticTokens:
    """An AccessTokenSource for a token we just received (before anything is stored)."""

    def __init__(self, access_token: str) -> None:
        self._access_token = access_token

    def current(self) -> str:
        return self._access_token

    def refreshed(self, stale: str) -> str:  # noqa: ARG002 - port signature
        raise AccessRevokedError("a fresh token was refused")


@dataclass(frozen=True, kw_only=True, slots=True)
class GoogleTokens:
    """AccessTokenSource over the stored, encrypted tokens; one refresher at a time everywhere.

    A refresh takes a short lease on the integration row (claimed under the row lock, then
    released) instead of holding a transaction open across the call to Google; other threads and
    processes wait for the lease and then reuse the token it produced.
    """

    uow_factory: UnitOfWorkFactory
    oauth: OAuthClient | None
    cipher: TokenCipher
    clock: Clock
    metrics: Metrics
    lease: timedelta = timedelta(seconds=30)
    poll_seconds: float = 0.1
    sleep: Callable[[float], None] = time.sleep

    def current(self) -> str:
        with self.uow_factory() as uow:
            record = uow.integration.get()
        if record.access_token_enc is None:
            # Disconnected, or already marked needs_reauth (alerted once, when it happened):
            # fail fast without rewriting the row, re-alerting or invalidating every cache.
            raise AccessRevokedError("Google Calendar is not connected.")
        access = self._decrypt_or_revoke(record.access_token_enc)
        if _expiring(record.token_expires_at, now=self.clock.now()):
            return self.refreshed(access)
        return access

    def refreshed(self, stale: str) -> str:
        if self.oauth is None:
            raise AccessRevokedError("Google OAuth client is not configured.")
        deadline = time.monotonic() + self.lease.total_seconds() * 2
        while True:
            claimed, record = self._claim_or_reuse(stale)
            if claimed and record is not None:
                break
            if record is not None:
                return self._decrypt_or_revoke(record.access_token_enc)
            if time.monotonic() > deadline:
                raise GoogleUnavailableError("Another process is still refreshing the token.")
            # A caller with a time budget (the live check at booking) stops waiting at its end.
            budget = call_deadline.remaining()
            if budget is not None and budget <= 0:
                raise DeadlineExceededError("Another process is still refreshing the token.")
            self.sleep(self.poll_seconds if budget is None else min(self.poll_seconds, budget))
        refresh_token = self._decrypt_or_revoke(record.refresh_token_enc)
        try:
            grant = self.oauth.refresh(refresh_token)
        except AccessRevokedError:
            self._mark_needs_reauth("invalid_grant", refused=record.refresh_token_enc)
            raise
        except OAuthClientRejectedError as exc:
            self._client_rejected(exc)
            raise
        except ApplicationError:
            self._release_lease()
            raise
        with self.uow_factory() as uow:
            latest = uow.integration.get_for_update()
            latest.access_token_enc = self.cipher.encrypt(grant.access_token)
            if grant.refresh_token is not None:
                latest.refresh_token_enc = self.cipher.encrypt(grant.refresh_token)
            if grant.refresh_token_expires_at is not None:
                latest.refresh_token_expires_at = grant.refresh_token_expires_at
            latest.token_expires_at = grant.expires_at
            latest.refresh_lease_until = None
            if latest.oauth_client_rejected_at is not None:
                # The configuration was fixed: held Google writes go out again.
                latest.oauth_client_rejected_at = None
                latest.last_sync_error = None
                _log.info("google_oauth_client_accepted_again")
            uow.integration.save(latest, now=self.clock.now())
            uow.commit()
        self.metrics.increment("google_token_refreshed")
        return grant.access_token

    def _claim_or_reuse(self, stale: str) -> tuple[bool, IntegrationRecord | None]:
        """(True, row) when we hold the lease; (False, row) when a fresh token exists already;
        (False, None) when someone else holds the lease."""
        now = self.clock.now()
        with self.uow_factory() as uow:
            record = uow.integration.get_for_update()
            if record.status != IntegrationStatus.CONNECTED or record.refresh_token_enc is None:
                raise AccessRevokedError("Google Calendar is not connected.")
            access = self._open(record.access_token_enc)
            if access is None or self._open(record.refresh_token_enc) is None:
                needs_reauth(record)
                uow.integration.save(record, now=now)
                uow.commit()
                self._alert("undecryptable_token")
                raise AccessRevokedError("The stored Google token cannot be decrypted.")
            if access != stale and not _expiring(record.token_expires_at, now=now):
                return False, record
            if record.refresh_lease_until is not None and record.refresh_lease_until > now:
                return False, None
            record.refresh_lease_until = now + self.lease
            uow.integration.save(record, now=now)
            uow.commit()
            return True, record

    def _open(self, value: str | None) -> str | None:
        """The plaintext, or None when nothing is stored or no key opens it."""
        if value is None:
            return None
        try:
            return self.cipher.decrypt(value)
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
        with self.uow_factory() as uow:
            record = uow.integration.get_for_update()
            if refused is not None and record.refresh_token_enc != refused:
                return
            message = revoked_message(record, now=self.clock.now())
            needs_reauth(record)
            record.last_sync_error = message
            uow.integration.save(record, now=self.clock.now())
            uow.commit()
        self._alert(why)

    def _client_rejected(self, exc: OAuthClientRejectedError) -> None:
        """Hold, never park: record the configuration error for the admin; tokens stay."""
        now = self.clock.now()
        with self.uow_factory() as uow:
            record = uow.integration.get_for_update()
            record.refresh_lease_until = None
            if record.oauth_client_rejected_at is None:
                record.oauth_client_rejected_at = now
            record.last_sync_error = CLIENT_REJECTED_MESSAGE.format(error=exc.error)
            uow.integration.save(record, now=now)
            uow.commit()
        self.metrics.increment("google_oauth_client_rejected", {"error": exc.error})
        _log.error("google_oauth_client_rejected", extra={"error": exc.error})

    def _alert(self, why: str) -> None:
        self.metrics.increment("google_access_revoked", {"reason": why})
        _log.error("google_access_revoked", extra={"reason": why})

    def _release_lease(self) -> None:
        with self.uow_factory() as uow:
            record = uow.integration.get_for_update()
            record.refresh_lease_until = None
            uow.integration.save(record, now=self.clock.now())
            uow.commit()


def _expiring(expires_at: datetime | None, *, now: datetime) -> bool:
    return expires_at is None or expires_at - now < _EARLY_REFRESH


def needs_reauth(record: IntegrationRecord) -> None:
    """Drop the dead tokens; the settings (calendar, zone, flag) stay for the reconnect."""
    record.status = IntegrationStatus.NEEDS_REAUTH
    record.access_token_enc = None
    record.refresh_token_enc = None
    record.token_expires_at = None
    record.refresh_lease_until = None
    record.refresh_token_expires_at = None


@dataclass(frozen=True, slots=True)
class RotationReport:
    """What rotate-keys did."""

    rotated: int
    undecryptable: int


@dataclass(frozen=True, kw_only=True, slots=True)
class RotateTokenKeys:
    """Re-encrypt every stored secret under the first key; unreadable tokens -> needs_reauth."""

    uow_factory: UnitOfWorkFactory
    cipher: TokenCipher
    clock: Clock

    def execute(self) -> RotationReport:
        rotated = undecryptable = 0
        now = self.clock.now()
        with self.uow_factory() as uow:
            record = uow.integration.get_for_update()
            try:
                if record.access_token_enc is not None:
                    record.access_token_enc = self.cipher.rotate(record.access_token_enc)
                    rotated += 1
                if record.refresh_token_enc is not None:
                    record.refresh_token_enc = self.cipher.rotate(record.refresh_token_enc)
                    rotated += 1
            except UndecryptableTokenError:
                undecryptable += 1
                needs_reauth(record)
            uow.integration.save(record, now=now)
            for state_hash, verifier in uow.oauth_states.all_verifiers():
                try:
                    uow.oauth_states.set_verifier(state_hash, self.cipher.rotate(verifier))
                    rotated += 1
                except UndecryptableTokenError:
                    undecryptable += 1
                    uow.oauth_states.mark_used(state_hash, now)
            uow.commit()
        return RotationReport(rotated=rotated, undecryptable=undecryptable)
