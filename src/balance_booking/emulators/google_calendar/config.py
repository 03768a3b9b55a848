"""Settings of one emulator instance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """How the emulator behaves; every field has a default that mirrors Google where known."""

    auto_consent: bool = False
    # JSON file: loaded at start if it exists, rewritten atomically after every mutation.
    state_path: Path | None = None
    access_token_ttl_seconds: int = 3600
    # Google refuses long freeBusy windows with 400 timeRangeTooLong; the real cap is undocumented
    # (Cal.com chunks at 90 days). The default of the freebusy_max_days setting.
    freebusy_max_range_days: int = 90
    # Defaults of the account-dependent settings (models.EmulatorSettings, /_emulator/settings).
    refresh_token_lifetime_seconds: int | None = None
    deleted_event_writes: str = "forbidden"
    # None: sync tokens never expire on their own (POST /_emulator/expire-sync-tokens still works).
    sync_token_ttl_seconds: int | None = None
    default_user_email: str = "owner@example.com"
    default_timezone: str = "Europe/Moscow"
    # Channels live 7 days unless asked otherwise (documented default); longer requests are capped.
    channel_default_ttl_seconds: int = 604_800
    channel_max_ttl_seconds: int = 2_592_000
    # Pause before each push re-delivery after a 5xx or a connection error; its length bounds retries.
    push_retry_delays_seconds: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
    push_timeout_seconds: float = 5.0
    # Authorization codes are short-lived at Google (minutes); exchange must happen within this.
    auth_code_ttl_seconds: int = 600
