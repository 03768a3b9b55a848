"""The Google Calendar connection as the domain sees it (the spec's GoogleCalendarAccount)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class IntegrationStatus(StrEnum):
    """Where the connection stands; `needs_reauth` means Google revoked our access."""

    DISCONNECTED = "disconnected"
    CONNECTED = "connected"
    NEEDS_REAUTH = "needs_reauth"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class GoogleCalendarAccount:
    """Value object of integration config: which calendar, whose, in which zone."""

    account_email: str
    calendar_id: str
    timezone: str
