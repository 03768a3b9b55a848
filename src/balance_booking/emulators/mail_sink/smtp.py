"""The SMTP side: aiosmtpd with a handler that stores, refuses (550) or is down (421)."""

from __future__ import annotations

import logging

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from balance_booking.emulators.mail_sink.inbox import Inbox

# 421 closes the channel (RFC 5321 3.8); smtplib then raises an SMTPResponseException with 421.
DOWN = "421 4.3.2 Service not available, closing transmission channel"
REJECTED = "550 5.1.1 mailbox unavailable"
OK = "250 OK"
# Far above any message the product writes; aiosmtpd answers 552 beyond it.
DATA_SIZE_LIMIT = 10 * 1024 * 1024


class _QuietLoginData(logging.Filter):
    """aiosmtpd 1.4 logs its own deprecation of `Session.login_data` on every successful AUTH."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_QuietLoginData())
# aiosmtpd logs every command at INFO, recipients' addresses included; the demo runs the sink in
# the product's process, whose logs must never hold a client's address.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class SinkHandler:
    """aiosmtpd's hooks: MAIL, RCPT and DATA each answer 421 while the inbox is down."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.inbox.down:
            return DOWN
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return OK

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.inbox.down:
            return DOWN
        if self.inbox.is_rejected(address):
            return REJECTED
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return OK

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        if self.inbox.down:
            return DOWN
        raw = envelope.original_content or b""
        self.inbox.add(
            envelope_from=envelope.mail_from or "",
            envelope_to=tuple(envelope.rcpt_tos),
            raw=raw,
        )
        return "250 Message accepted for delivery"


def accept_any_login(*_: object) -> AuthResult:
    """AUTH is offered (without TLS) and not required: any user name and password will do."""
    return AuthResult(success=True)


def smtp_factory(inbox: Inbox, *, hostname: str) -> SMTP:
    """One SMTP protocol instance per connection (`loop.create_server` calls it)."""
    return SMTP(
        SinkHandler(inbox),
        hostname=hostname,
        data_size_limit=DATA_SIZE_LIMIT,
        enable_SMTPUTF8=True,
        decode_data=False,
        authenticator=accept_any_login,
        auth_require_tls=False,
    )
