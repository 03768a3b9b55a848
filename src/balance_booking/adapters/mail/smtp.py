"""Sending over SMTP with the standard library: `smtp://` (STARTTLS when offered) or `smtps://`.

Failures are judged for the outbox: the server away, a timeout or a 4xx answer may pass
(MailUnavailableError, retried); a 5xx for the message or its recipient will not
(MailRejectedError, parked). Error texts never carry an address or the URL's password.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from balance_booking.adapters.mail.compose import MailComposer, recipient_address
from balance_booking.application.errors import MailRejectedError, MailUnavailableError
from balance_booking.application.ports import Mail

_ADDRESS = re.compile(r"[^\s<>\"',;:]+@[^\s<>\"',;:]+")


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where to send: parsed from SMTP_URL."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://[user:pass@]host:port or smtps://...")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            implicit_tls=implicit,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _scrub(text: str | bytes) -> str:
    """The server's words with any e-mail address replaced."""
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return _ADDRESS.sub("<address>", words)[:300]


def _judged(code: int, words: str | bytes, what: str) -> MailUnavailableError | MailRejectedError:
    text = f"SMTP {code} {what}: {_scrub(words)}"
    if 500 <= code < 600:
        return MailRejectedError(text)
    return MailUnavailableError(text)


class SmtpMailer:
    """A Mailer: one connection per message (messages are few; reminders spread out)."""

    def __init__(
        self,
        url: str,
        composer: MailComposer,
        *,
        timeout: float = 10.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._server = SmtpServer.from_url(url)
        self._composer = composer
        self._timeout = timeout
        self._tls = tls or ssl.create_default_context()

    def send(self, mail: Mail) -> None:
        message = self._composer.compose(mail)  # MailRejectedError: an address we cannot use
        recipient = recipient_address(mail.to).addr_spec  # as in To: a non-ASCII domain in IDNA
        try:
            with self._connect() as smtp:
                smtp.send_message(message, from_addr=self._composer.sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, words = next(iter(exc.recipients.values()), (550, b"refused"))
            raise _judged(code, words, "for the recipient") from None
        except smtplib.SMTPAuthenticationError as exc:
            # Our credentials, not this message: retried until someone fixes SMTP_URL.
            raise MailUnavailableError(f"SMTP {exc.smtp_code} sign-in refused") from None
        except smtplib.SMTPResponseException as exc:
            raise _judged(exc.smtp_code, exc.smtp_error, "from the server") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailUnavailableError(
                f"SMTP server unreachable: {type(exc).__name__}: {_scrub(str(exc))}"
            ) from None

    def _connect(self) -> smtplib.SMTP:
        server = self._server
        smtp: smtplib.SMTP
        if server.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                server.host, server.port, timeout=self._timeout, context=self._tls
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self._timeout)
        try:
            smtp.ehlo()
            if not server.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            if server.username is not None:
                smtp.login(server.username, server.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp
