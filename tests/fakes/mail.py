"""A Mailer we own: keeps what it was asked to send, and fails on demand like an SMTP server."""

from __future__ import annotations

from balance_booking.application.errors import MailRejectedError, MailUnavailableError
from balance_booking.application.ports import Mail


class FakeMailer:
    """`down` makes every send fail as a server that cannot be reached; addresses in `refused`
    are rejected for good (5xx). `sent` keeps every message accepted, in order."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self.down = False
        self.refused: set[str] = set()
        self.attempts = 0

    def send(self, mail: Mail) -> None:
        self.attempts += 1
        if self.down:
            raise MailUnavailableError("SMTP connection refused")
        if mail.to in self.refused:
            raise MailRejectedError("SMTP 550 5.1.1 <address>: mailbox unavailable")
        self.sent.append(mail)

    def kinds(self) -> list[str]:
        return [mail.kind.value for mail in self.sent]

    def to(self, address: str) -> list[Mail]:
        return [mail for mail in self.sent if mail.to == address]
