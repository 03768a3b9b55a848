"""Ports of the Google connection: the integration row, OAuth, pending authorizations, secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from balance_booking.domain.calendar_account import IntegrationStatus


@dataclass(frozen=True, slots=True)
class CalendarLink:
    """What the booking side needs to know about the Google Calendar integration."""

    connected: bool
    last_success_at: datetime | None
    enabled_override: bool | None  # the admin toggle; None = the environment default
    timezone: str | None = None  # the connected calendar's zone: the owner's default zone
    # The owner's calendars whose busy time blocks slots (bookings go to the primary one).
    blocking_calendar_ids: tuple[str, ...] = ("primary",)


def blocking_ids(stored: str | None) -> tuple[str, ...]:
    """The stored list of blocking calendars (space-separated ids); the primary by default."""
    ids = tuple(stored.split()) if stored else ()
    return ids or ("primary",)


class IntegrationRepository(Protocol):
    """The Google Calendar integration row."""

    def calendar_link(self) -> CalendarLink: ...
    def get(self) -> IntegrationRecord: ...
    def get_for_update(self) -> IntegrationRecord:
        """The row, locked for this transaction (PostgreSQL FOR UPDATE; SQLite's write lock)."""
        ...

    def save(self, record: IntegrationRecord, *, now: datetime) -> None: ...
    def busy_count(self) -> int: ...
    def advance_push_message(self, *, channel_id: str, number: int) -> bool:
        """Record `number` for the stored channel if it beats the last one (one atomic write).

        False when it does not (a replay or an older message) or the channel is no longer ours.
        Push bookkeeping does not change availability, so it leaves the data version alone.
        """
        ...


@dataclass
class IntegrationRecord:
    """The Google Calendar integration row as the use cases read and write it."""

    status: IntegrationStatus = IntegrationStatus.DISCONNECTED
    enabled: bool | None = None
    calendar_id: str | None = None
    account_email: str | None = None
    timezone: str | None = None
    access_token_enc: str | None = None
    refresh_token_enc: str | None = None
    token_expires_at: datetime | None = None
    granted_scopes: frozenset[str] = frozenset()
    last_sync_at: datetime | None = None
    last_sync_ok: bool | None = None
    last_sync_error: str | None = None
    last_success_at: datetime | None = None
    push_channel_id: str | None = None
    push_resource_id: str | None = None
    push_expires_at: datetime | None = None
    push_token_hash: str | None = None  # SHA-256 hex of the channel token; the token is not kept
    push_last_message_number: int | None = None
    refresh_lease_until: datetime | None = None
    # Reconciliation of our exported events at the last sync (JSON counts; see application/export)
    last_reconcile_at: datetime | None = None
    last_reconcile_summary: str | None = None
    # Google fidelity, round 2 (migration 0012):
    consented_at: datetime | None = None  # when the owner last granted access (the OAuth callback)
    refresh_token_expires_at: datetime | None = None  # time-limited grants only
    # Set when the token endpoint rejected our OAuth client; Google writes are held until a
    # refresh succeeds again.
    oauth_client_rejected_at: datetime | None = None
    # 403 quotaExceeded: no writes to Google before this instant.
    google_writes_paused_until: datetime | None = None
    # Calendars whose busy time blocks slots, space-separated ids; None: the primary only.
    blocking_calendar_ids: str | None = None


@dataclass(frozen=True, slots=True)
class OAuthState:
    """A pending authorization: single use, bound to the admin session that started it."""

    state_hash: str
    session_hash: str | None
    code_verifier_enc: str
    expires_at: datetime
    used_at: datetime | None


class OAuthStateRepository(Protocol):
    """Pending OAuth authorizations."""

    def add(self, state: OAuthState, *, created_at: datetime) -> None: ...
    def get_for_update(self, state_hash: str) -> OAuthState | None: ...
    def mark_used(self, state_hash: str, at: datetime) -> None: ...
    def delete_expired(self, now: datetime) -> int: ...
    def all_verifiers(self) -> list[tuple[str, str]]: ...
    def set_verifier(self, state_hash: str, code_verifier_enc: str) -> None: ...


class TokenCipher(Protocol):
    """Symmetric encryption of secrets at rest, with key rotation."""

    def encrypt(self, plaintext: str) -> str: ...
    def decrypt(self, ciphertext: str) -> str:
        """Raises UndecryptableTokenError when no configured key opens it."""
        ...

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the first key; raises UndecryptableTokenError."""
        ...


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What Google's token endpoint granted."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scopes: frozenset[str]
    # From `refresh_token_expires_in`: when the grant itself ends (time-limited access only).
    refresh_token_expires_at: datetime | None = None


class OAuthClient(Protocol):
    """Google's OAuth 2.0 endpoints (authorization code + PKCE, refresh, revoke, userinfo)."""

    def authorization_url(self, *, state: str, code_challenge: str) -> str: ...
    def exchange_code(self, *, code: str, code_verifier: str) -> TokenGrant: ...
    def refresh(self, refresh_token: str) -> TokenGrant: ...
    def revoke(self, token: str) -> None: ...
    def account_email(self, access_token: str) -> str: ...
    def missing_scopes(self, granted: frozenset[str]) -> frozenset[str]: ...
