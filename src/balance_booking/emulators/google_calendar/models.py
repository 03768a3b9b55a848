"""The emulator's whole state as pydantic models, so the state file is one JSON round trip."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class User(BaseModel):
    email: str
    name: str
    sub: str  # stable numeric-looking subject id, like Google's
    timezone: str


class Calendar(BaseModel):
    id: str
    owner_email: str
    summary: str
    timezone: str
    primary: bool = False
    description: str = ""


class OAuthClient(BaseModel):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    name: str = "Emulated OAuth client"


class Grant(BaseModel):
    """What one user consented to for one client (the union over time, as Google remembers it)."""

    email: str
    client_id: str
    scopes: list[str]
    # Offline access is its own consent ("have offline access"): the first offline grant
    # returns a refresh token even if the user had already consented online.
    offline: bool = False


class RefreshToken(BaseModel):
    token: str
    email: str
    client_id: str
    scopes: list[str]
    revoked: bool = False
    # Time-limited grants (e.g. an app in Testing status: 7 days); None: no expiry.
    expires_at_ms: int | None = None


class AccessToken(BaseModel):
    token: str
    email: str
    client_id: str
    scopes: list[str]
    expires_at_ms: int
    refresh_token: str | None = None
    revoked: bool = False


class AuthCode(BaseModel):
    code: str
    client_id: str
    redirect_uri: str
    email: str
    scopes: list[str]
    expires_at_ms: int
    issue_refresh_token: bool
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    nonce: str | None = None
    used: bool = False


class PendingConsent(BaseModel):
    """An authorize request waiting for the person on the consent screen."""

    request_id: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    state: str | None
    access_type: str
    prompt: list[str]
    include_granted_scopes: bool
    login_hint: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    expires_at_ms: int


class EventRecord(BaseModel):
    """A stored event in Google's JSON form plus the change sequence used by sync tokens."""

    calendar_id: str
    resource: dict[str, Any]
    seq: int  # global change sequence number of the last modification
    order: int  # insertion order, the stable default listing order


class Channel(BaseModel):
    id: str
    resource_id: str
    resource_uri: str
    calendar_id: str
    address: str
    token: str | None
    expiration_ms: int
    email: str
    client_id: str
    last_message_number: int = 1
    stopped: bool = False


class ConsentPolicy(BaseModel):
    """How auto-consent answers (a test knob): allow everything, a subset, or deny."""

    action: str = "allow"  # allow | deny | manual
    scopes: list[str] | None = None  # grant only these of the requested (None = all)
    email: str | None = None  # account to pick (None = login_hint or the default user)


class EmulatorSettings(BaseModel):
    """Behaviours of real Google that depend on the account or the project
    (`/_emulator/settings`); `POST /_emulator/reset` restores the configured defaults."""

    # Refresh tokens die this long after consent and announce `refresh_token_expires_in`
    # (Google: 7 days for an External app in Testing status); None: they live until revoked.
    refresh_token_lifetime_seconds: int | None = Field(default=None, ge=1)
    # Writes (PATCH/PUT) to an event deleted in Google: 403 `forbidden` as Google answers, or
    # "restore" (the write undeletes it, the emulator's behaviour before this setting).
    deleted_event_writes: Literal["forbidden", "restore"] = "forbidden"
    # freeBusy windows longer than this get 400 timeRangeTooLong.
    freebusy_max_days: int = Field(default=90, ge=1)
    # Per-calendar freeBusy errors answered inside a 200, by calendar id (e.g. "internalError").
    freebusy_errors: dict[str, str] = Field(default_factory=dict)


class State(BaseModel):
    users: dict[str, User] = Field(default_factory=dict)
    calendars: dict[str, Calendar] = Field(default_factory=dict)
    clients: dict[str, OAuthClient] = Field(default_factory=dict)
    grants: list[Grant] = Field(default_factory=list)
    refresh_tokens: dict[str, RefreshToken] = Field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = Field(default_factory=dict)
    auth_codes: dict[str, AuthCode] = Field(default_factory=dict)
    pending_consents: dict[str, PendingConsent] = Field(default_factory=dict)
    events: dict[str, dict[str, EventRecord]] = Field(default_factory=dict)  # calendar -> id -> rec
    channels: dict[str, Channel] = Field(default_factory=dict)
    change_seq: int = 0
    event_order: int = 0
    # Sync tokens minted before this generation are refused with 410 (per calendar).
    sync_generation: dict[str, int] = Field(default_factory=dict)
    consent_policy: ConsentPolicy | None = None
    clock_offset_seconds: float = 0.0
    settings: EmulatorSettings = Field(default_factory=EmulatorSettings)

    def grant_for(self, email: str, client_id: str) -> Grant | None:
        for grant in self.grants:
            if grant.email == email and grant.client_id == client_id:
                return grant
        return None
