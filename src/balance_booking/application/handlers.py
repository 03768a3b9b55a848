"""The one outbox kind -> handler registry: who delivers each kind of message the worker claims.

Read it top to bottom; mypy checks that every OutboxKind has a line here. Which messages a domain
event calls for is the other registry, application/messages.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from balance_booking.application.email import EmailMessages
from balance_booking.application.export import GoogleCalendarMessages
from balance_booking.application.outbox import OutboxKindHandler
from balance_booking.application.ports import OutboxKind


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxHandlers:
    """One handler per kind of outbox message, built by bootstrap."""

    google_calendar: GoogleCalendarMessages
    email: EmailMessages | None = None  # None: SMTP_URL unset, e-mail rows wait (none are queued)

    def for_kind(self, kind: OutboxKind) -> OutboxKindHandler | None:
        match kind:
            case OutboxKind.GOOGLE_CALENDAR:
                return self.google_calendar
            case OutboxKind.EMAIL:
                return self.email
            case _:
                assert_never(kind)

    def by_kind(self) -> dict[str, OutboxKindHandler]:
        """Every kind that has a handler here, as the dispatcher takes them."""
        handlers = {kind.value: self.for_kind(kind) for kind in OutboxKind}
        return {kind: handler for kind, handler in handlers.items() if handler is not None}
