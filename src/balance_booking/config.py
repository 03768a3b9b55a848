"""Settings from the environment (prefix BALANCE_). Built once by the CLI, never at import."""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

GOOGLE_AUTH_URL = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
GOOGLE_REVOKE_URL = "https://oauth2.googleapis.com/revoke"
GOOGLE_USERINFO_URL = "https://openidconnect.googleapis.com/v1/userinfo"
GOOGLE_CALENDAR_API_URL = "https://www.googleapis.com/calendar/v3"

# Secrets shorter than this are refused in prod (a Fernet key is 44 characters).
MIN_SECRET_LENGTH = 32
# Values that must never reach production as secrets (copied from examples and docs).
_PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "dev", "test"})


class Settings(BaseSettings):
    """Every knob of the product; see API.md "Settings"."""

    model_config = SettingsConfigDict(env_prefix="BALANCE_", extra="ignore", frozen=True)

    env: Literal["dev", "prod"] = "dev"
    database_url: str = "sqlite:///./var/balance.db"
    var_dir: Path = Path("var")
    secret_key: SecretStr | None = None
    token_encryption_keys: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    default_timezone: str = "Europe/Moscow"

    google_client_id: str = ""
    google_client_secret: SecretStr = SecretStr("")
    google_auth_url: str = GOOGLE_AUTH_URL
    google_token_url: str = GOOGLE_TOKEN_URL
    google_revoke_url: str = GOOGLE_REVOKE_URL
    google_userinfo_url: str = GOOGLE_USERINFO_URL
    google_calendar_api_url: str = GOOGLE_CALENDAR_API_URL
    google_emulator_url: str | None = None

    gcal_integration_enabled: bool = True
    sync_interval_seconds: int = Field(default=900, ge=10)
    stale_after_seconds: int = Field(default=2700, ge=60)
    live_check_fallback_seconds: int = Field(default=300, ge=0)
    # No live Google check while the mirror was refreshed (push or poll) this recently.
    live_check_fresh_seconds: int = Field(default=5, ge=0, le=60)
    # The live check at booking gives up after this long in total, then follows the fallback.
    live_check_timeout_seconds: float = Field(default=3, gt=0, le=60)
    hold_minutes: int = Field(default=15, ge=1)
    cache_ttl_seconds: int = Field(default=300, ge=0)
    log_level: str = "INFO"
    # Prometheus endpoint of a process that runs the worker without serving the app: `worker`
    # and the parent of `serve --workers N`. Off (None) by default; see docs/deployment.md.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    # E-mail (API.md "E-mail"): off while SMTP_URL is unset.
    smtp_url: SecretStr | None = None  # smtp://[user:pass@]host:port or smtps://...
    mail_from: str = "Эмоциональный баланс <booking@localhost>"
    practitioner_email: str | None = None
    reminders: str = "24h,2h"  # lead times before the start; empty: no reminders

    # The public edge (API.md "Public edge").
    public_write_limit: str = "30/hour"  # public writes per client address; empty: no limit
    max_active_bookings_per_client: int = Field(default=3, ge=1, le=1000)
    metrics_token: SecretStr | None = None  # when set, /metrics needs `Authorization: Bearer`

    # Privacy (API.md "Privacy and data rights"; docs/privacy.md).
    privacy_policy_url: str | None = None  # when set, bookings need the client's consent
    retention_days: int = Field(default=365, ge=1, le=36500)
    # Waitlist offers (API.md "Waitlist offers"): how long a freed slot is held for one entry.
    waitlist_offer_minutes: int = Field(default=60, ge=5, le=24 * 60)

    @field_validator("public_base_url", "google_emulator_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("smtp_url", mode="after")
    @classmethod
    def _smtp_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().startswith(("smtp://", "smtps://")):
            # The message names the setting, never its value (it may hold a password).
            raise ValueError("BALANCE_SMTP_URL must start with smtp:// or smtps://")
        return value

    @field_validator("practitioner_email", mode="after")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("privacy_policy_url", mode="after")
    @classmethod
    def _policy_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("https://", "http://", "/")) or len(value) > 500:
            raise ValueError("PRIVACY_POLICY_URL must be an http(s) URL or a path on this site")
        return value

    @field_validator("reminders", mode="after")
    @classmethod
    def _reminders_parse(cls, value: str) -> str:
        parse_leads(value)
        return value

    @field_validator("public_write_limit", mode="after")
    @classmethod
    def _write_limit_parse(cls, value: str) -> str:
        parse_rate(value)
        return value

    def write_limit(self) -> tuple[int, timedelta] | None:
        """PUBLIC_WRITE_LIMIT as (count, per), or None for no limit."""
        return parse_rate(self.public_write_limit)

    def reminder_leads(self) -> tuple[timedelta, ...]:
        """REMINDERS as lead times, longest first."""
        return parse_leads(self.reminders)

    @model_validator(mode="after")
    def _point_at_emulator(self) -> Settings:
        # One switch points all five Google endpoints at an emulator origin (same paths).
        if self.google_emulator_url:
            base = self.google_emulator_url
            object.__setattr__(self, "google_auth_url", f"{base}/o/oauth2/v2/auth")
            object.__setattr__(self, "google_token_url", f"{base}/token")
            object.__setattr__(self, "google_revoke_url", f"{base}/revoke")
            object.__setattr__(self, "google_userinfo_url", f"{base}/v1/userinfo")
            object.__setattr__(self, "google_calendar_api_url", f"{base}/calendar/v3")
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_in_prod(self) -> Settings:
        if self.env != "prod":
            return self
        for name in ("secret_key", "token_encryption_keys"):
            value = getattr(self, name)
            if value is None or value.get_secret_value().strip().lower() in _PLACEHOLDERS:
                raise ValueError(f"BALANCE_{name.upper()} must be set to a real secret in prod")
            parts = [part.strip() for part in value.get_secret_value().split(",")]
            if any(len(part) < MIN_SECRET_LENGTH for part in parts):
                # The message names the setting and the rule, never the value.
                raise ValueError(
                    f"BALANCE_{name.upper()} must be at least {MIN_SECRET_LENGTH} characters "
                    "(each key) in prod"
                )
        if self.metrics_token is not None and (
            len(self.metrics_token.get_secret_value()) < MIN_SECRET_LENGTH
        ):
            raise ValueError(
                f"BALANCE_METRICS_TOKEN must be at least {MIN_SECRET_LENGTH} characters"
            )
        if not self.public_base_url.startswith("https://") and not _loopback(self.public_base_url):
            raise ValueError("BALANCE_PUBLIC_BASE_URL must be an https:// URL in prod")
        if self.database_url.startswith("sqlite"):
            raise ValueError("BALANCE_DATABASE_URL must point at PostgreSQL in prod")
        return self

    def resolved_secret_key(self) -> str:
        """The key manage links are derived from (HMAC): configured, else generated once into var/.

        Sessions and CSRF tokens are random values kept in the database and need no key.
        """
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _generated_secret(self.var_dir / "secret_key", secrets.token_urlsafe(48))

    def resolved_encryption_keys(self) -> list[str]:
        """Fernet keys for tokens at rest: configured (first encrypts), else one generated key."""
        if self.token_encryption_keys is not None:
            keys = self.token_encryption_keys.get_secret_value().split(",")
            return [key.strip() for key in keys if key.strip()]
        return [_generated_secret(self.var_dir / "token_keys", Fernet.generate_key().decode())]


def parse_leads(text: str) -> tuple[timedelta, ...]:
    """`24h,2h,30m` -> lead times, longest first; empty -> none. Each is whole minutes, > 0."""
    leads: set[timedelta] = set()
    for part in (piece.strip().lower() for piece in text.split(",")):
        if not part:
            continue
        number, unit = part[:-1], part[-1:]
        if not number.isdigit() or unit not in {"h", "m", "d"} or int(number) == 0:
            raise ValueError(f"BALANCE_REMINDERS: {part!r} is not a lead time like 24h, 2h or 30m")
        minutes = int(number) * {"m": 1, "h": 60, "d": 1440}[unit]
        leads.add(timedelta(minutes=minutes))
    return tuple(sorted(leads, reverse=True))


def _loopback(url: str) -> bool:
    """An http URL on this machine only (a rehearsal of a deployment: nothing crosses a network)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_RATE_UNITS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}


def parse_rate(text: str) -> tuple[int, timedelta] | None:
    """`30/hour` -> (30, 1 hour); also per second, minute or day; empty -> None (no limit)."""
    if not text.strip():
        return None
    count, _, unit = text.strip().lower().partition("/")
    if not count.isdigit() or int(count) == 0 or unit not in _RATE_UNITS:
        raise ValueError(f"{text!r} is not a rate like 30/hour (per second, minute, hour or day)")
    return int(count), _RATE_UNITS[unit]


def _generated_secret(path: Path, fresh: str) -> str:
    """Read a secret file from var/, creating it with 0600 permissions on first use."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(fresh)
    return fresh
