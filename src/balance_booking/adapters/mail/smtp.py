"""Sending over SMTP with the standard library: `smtp://` (STARTTLS when offered) or `smtps://`.

Failures are judged for the outbox by where they happen (docs/email.md has the table):

- before the transaction (connecting, the greeting, EHLO/HELO, STARTTLS, sign-in) the server or
  our settings are at fault, never the message: always MailUnavailableError (retried);
- in the transaction (MAIL, RCPT, DATA) a 4xx answer may pass (MailUnavailableError) and a 5xx
  will not (MailRejectedError, parked); a lost connection is retried;
- after DATA was answered 250 the message is delivered: trouble with QUIT is only logged.

Error texts and log lines never carry an e-mail address nor the user name or password of the URL.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from balance_booking.adapters.mail.compose import MailComposer, recipient_address
from balance_booking.application.errors import MailRejectedError, MailUnavailableError
from balance_booking.application.ports import Mail

_log = logging.getLogger(__name__)

_ADDRESS = re.compile(r"<?[^\s<>\"',;:]+@[^\s<>\"',;:]+>?")  # "<a@b>" -> "<address>" too


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where to send: parsed from SMTP_URL. The credentials stay out of repr()."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None = field(repr=False)
    password: str | None = field(repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        # The message names the setting, never its value: urlsplit's own errors quote pieces of
        # it (a password with a "/" in it ends up in "Port could not be cast ... as 'pass'").
        invalid = "SMTP_URL must look like smtp://[user:pass@]host:port or smtps://..."
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValueError(invalid) from None
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError(invalid)
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=port or (465 if implicit else 25),
            implicit_tls=implicit,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def scrub(self, text: str | bytes) -> str:
        """Words from the server or the socket layer with every address and credential replaced."""
        words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        for secret in sorted(filter(None, (self.password, self.username)), key=len, reverse=True):
            words = words.replace(secret, "<secret>")
        return _ADDRESS.sub("<address>", words)[:300]


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
        smtp = self._open()
        try:
            smtp.send_message(message, from_addr=self._composer.sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, words = next(iter(exc.recipients.values()), (550, b"refused"))
            raise self._judged(code, words, "for the recipient") from None
        except smtplib.SMTPSenderRefused as exc:
            raise self._judged(exc.smtp_code, exc.smtp_error, "for the sender") from None
        except smtplib.SMTPDataError as exc:
            raise self._judged(exc.smtp_code, exc.smtp_error, "for the message") from None
        except smtplib.SMTPResponseException as exc:
            raise self._judged(exc.smtp_code, exc.smtp_error, "from the server") from None
        except (smtplib.SMTPException, OSError) as exc:
            # A lost connection, a timeout, or SMTPUTF8 missing for a non-ASCII MAIL_FROM (the
            # recipient is always ASCII by now): not this message's fault.
            raise self._failed("sending", exc) from None
        finally:
            self._goodbye(smtp)

    def _open(self) -> smtplib.SMTP:
        """A connection ready for MAIL FROM; any failure on the way is the server's or ours."""
        server = self._server
        stage = "connecting"
        smtp: smtplib.SMTP | None = None
        try:
            if server.implicit_tls:
                smtp = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=self._timeout, context=self._tls
                )
            else:
                smtp = smtplib.SMTP(server.host, server.port, timeout=self._timeout)
            stage = "EHLO"
            smtp.ehlo_or_helo_if_needed()  # falls back to HELO, as RFC 5321 asks
            if not server.implicit_tls and smtp.has_extn("starttls"):
                # Offered but failing is an error, never a fall back to plain text.
                stage = "STARTTLS"
                smtp.starttls(context=self._tls)
                stage = "EHLO"
                smtp.ehlo_or_helo_if_needed()
            if server.username is not None:
                stage = "sign-in"
                smtp.login(server.username, server.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            # Our credentials, not this message: retried until someone fixes SMTP_URL. Some servers
            # echo what was sent in their words, so they are left out.
            self._close(smtp)
            raise MailUnavailableError(f"SMTP {exc.smtp_code} sign-in refused") from None
        except smtplib.SMTPResponseException as exc:
            # Even a 5xx here (a blocked client, no service, TLS broken) refuses every message
            # alike before any recipient is named: the server's trouble, to be retried, not a
            # reason to park this one message.
            self._close(smtp)
            where = "the greeting" if isinstance(exc, smtplib.SMTPConnectError) else stage
            raise MailUnavailableError(
                f"SMTP {exc.smtp_code} at {where}: {server.scrub(exc.smtp_error)}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._close(smtp)
            raise self._failed(stage, exc) from None
        return smtp

    def _judged(
        self, code: int, words: str | bytes, what: str
    ) -> MailUnavailableError | MailRejectedError:
        text = f"SMTP {code} {what}: {self._server.scrub(words)}"
        if 500 <= code < 600:
            return MailRejectedError(text)
        return MailUnavailableError(text)

    def _failed(self, stage: str, exc: Exception) -> MailUnavailableError:
        return MailUnavailableError(
            f"SMTP failed at {stage}: {type(exc).__name__}: {self._server.scrub(str(exc))}"
        )

    def _goodbye(self, smtp: smtplib.SMTP) -> None:
        """QUIT, politely; whatever it answers, the message's fate was decided before it."""
        words: str | bytes
        try:
            code, words = smtp.quit()
        except (smtplib.SMTPException, OSError) as exc:
            # After DATA was answered 250 the message is delivered: raising here would make the
            # outbox send it again. (After a failure the connection is often gone already.)
            code, words = 0, f"{type(exc).__name__}: {exc}"
        finally:
            self._close(smtp)
        if code != 221:
            _log.debug("smtp_quit_failed", extra={"error": f"{code} {self._server.scrub(words)}"})

    @staticmethod
    def _close(smtp: smtplib.SMTP | None) -> None:
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()
