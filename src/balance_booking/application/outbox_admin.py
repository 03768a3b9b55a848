"""What the admin sees of the outbox: e-mail health, the parked messages, and retrying one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from balance_booking.application.errors import NotFoundError
from balance_booking.application.ports import (
    Clock,
    OutboxKind,
    ParkedMessage,
    UnitOfWorkFactory,
)


class EmailStatus(StrEnum):
    OFF = "off"  # SMTP_URL unset: nothing is queued
    OK = "ok"
    FAILING = "failing"  # a message has been failing since `failing_since`


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailStatusView:
    enabled: bool
    status: EmailStatus
    failing_since: datetime | None
    last_error: str | None
    pending: int
    parked: int
    practitioner_notices: bool
    reminders: tuple[str, ...]  # lead times as configured, e.g. ("24h", "2h")


@dataclass(frozen=True, slots=True, kw_only=True)
class GetEmailStatus:
    """E-mail as the integrations page shows it: off, ok, or failing since T with the error."""

    readers: UnitOfWorkFactory
    enabled: bool
    practitioner_notices: bool
    reminders: tuple[str, ...]

    def execute(self) -> EmailStatusView:
        with self.readers() as uow:
            health = uow.outbox.health(OutboxKind.EMAIL)
        if not self.enabled:
            status = EmailStatus.OFF
        elif health.failing_since is not None:
            status = EmailStatus.FAILING
        else:
            status = EmailStatus.OK
        return EmailStatusView(
            enabled=self.enabled,
            status=status,
            failing_since=health.failing_since,
            last_error=health.last_error,
            pending=health.pending,
            parked=health.parked,
            practitioner_notices=self.practitioner_notices,
            reminders=self.reminders,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ListParkedMessages:
    """Messages of every kind given up on, oldest first, with the reason."""

    readers: UnitOfWorkFactory

    def execute(self) -> list[ParkedMessage]:
        with self.readers() as uow:
            return uow.outbox.parked()


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryParkedMessage:
    """The admin asks for one more try: the parked row is due again at once."""

    writers: UnitOfWorkFactory
    clock: Clock

    def execute(self, message_id: int) -> None:
        with self.writers() as uow:
            if not uow.outbox.requeue(message_id, now=self.clock.now()):
                raise NotFoundError("There is no parked message with this id.")
            uow.commit()
