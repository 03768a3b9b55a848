"""One Mail -> one MIME message: From, To, Subject, Date, Message-ID, Auto-Submitted, a plain-text
and an HTML part, and the .ics when the mail carries an invite."""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from balance_booking.adapters.mail.texts import PRACTICE, letter
from balance_booking.application.errors import MailRejectedError
from balance_booking.application.ports import CalendarFiles, Clock, Mail

_TEMPLATES = Path(__file__).parent / "templates"
# RFC 5322 allows 998 characters a line: a Message-ID is never folded (receivers that compare it
# to spot a resent duplicate then see exactly the same value).
_POLICY = SMTP.clone(max_line_length=998)
# Recipients are RFC 5321 dot-strings at a host name. Quoted local parts and address literals are
# legal but all but unused, and on near misses the standard library's address parser raises half a
# dozen exception types (some of them its own bugs), so only this shape ever reaches it.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def one_line(value: str) -> str:
    """Header text on one line: a CR or LF can never start a header of its own."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def recipient_address(to: str) -> Address:
    """The address as it goes into To and RCPT TO, or MailRejectedError: no retry can send it.

    A non-ASCII domain is written in IDNA (`xn--`), which every server takes; a non-ASCII local
    part would need SMTPUTF8 and a header the standard library refuses to write. The error never
    repeats the address.
    """
    local, at, domain = to.rpartition("@")
    if not (local and at and domain):
        reason = "it has no @ with something on both sides"
    elif not local.isascii():
        reason = "it has non-ASCII characters before the @"
    elif len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        reason = "the part before the @ is not a plain dot-separated name"
    else:
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
        if len(domain) > 253 or not _DOMAIN.fullmatch(domain):
            reason = "the part after the @ is not a valid domain name"
        else:
            return Address(addr_spec=f"{local}@{domain}")
    raise MailRejectedError(f"the recipient's address cannot be used: {reason}")


class MailComposer:
    """Renders a Mail with the templates; MAIL_FROM is `Name <address>` or a bare address."""

    def __init__(self, mail_from: str, *, calendar_files: CalendarFiles, clock: Clock) -> None:
        name, address = parseaddr(mail_from)
        if "@" not in address:
            raise ValueError("MAIL_FROM must contain an e-mail address")
        self.sender = address
        self._from = Address(display_name=one_line(name), addr_spec=address)
        self._files = calendar_files
        self._clock = clock
        self._env = Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=select_autoescape(["html"]),
            keep_trailing_newline=True,
        )

    def compose(self, mail: Mail) -> EmailMessage:
        content = letter(mail)
        message = EmailMessage(policy=_POLICY)
        message["From"] = self._from
        message["To"] = recipient_address(mail.to)
        message["Subject"] = one_line(content.subject)
        message["Date"] = format_datetime(self._clock.now())
        message["Message-ID"] = one_line(mail.message_id)
        message["Auto-Submitted"] = "auto-generated"
        practice = PRACTICE.get(content.language, PRACTICE["ru"])
        context = {"letter": content, "practice": practice}
        message.set_content(self._env.get_template("message.txt").render(context))
        message.add_alternative(
            self._env.get_template("message.html").render(context), subtype="html"
        )
        if mail.invite is not None:
            message.add_attachment(
                self._files.invite(mail.invite),
                maintype="text",
                subtype="calendar",
                filename="appointment.ics",
                params={"method": "PUBLISH", "charset": "utf-8"},
            )
        # Last: set_content() clears every Content-* header of the message, and add_alternative()
        # and add_attachment() move them into the first part; set earlier, it would be lost.
        message["Content-Language"] = content.language
        return message
