"""The sink's state: the last messages (parsed once, on arrival), the outage switch, refused rcpts."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC
from email import message_from_bytes, policy
from email.message import EmailMessage, MIMEPart
from typing import Any

DEFAULT_MAX_MESSAGES = 1000


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str | None
    content_type: str
    content: bytes

    def as_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.content),
        }


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One accepted message: the raw bytes as received and what the JSON API shows of them."""

    id: str
    envelope_from: str
    envelope_to: tuple[str, ...]
    raw: bytes
    sender: str | None
    subject: str | None
    date: str | None
    message_id: str | None
    headers: tuple[tuple[str, str], ...]
    text: str | None
    html: str | None
    attachments: tuple[Attachment, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.sender,
            "to": list(self.envelope_to),
            "subject": self.subject,
            "date": self.date,
            "message_id": self.message_id,
            "text": self.text,
            "html": self.html,
            "attachments": [attachment.as_json() for attachment in self.attachments],
            # Extras beyond API.md, documented in docs/mail-sink.md.
            "envelope_from": self.envelope_from,
            "headers": [list(pair) for pair in self.headers],
        }


def parse_message(
    message_id: str, *, envelope_from: str, envelope_to: tuple[str, ...], raw: bytes
) -> StoredMessage:
    """Parse `raw` with the standard library's modern e-mail policy, tolerating malformed parts."""
    parsed = message_from_bytes(raw, policy=policy.default)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    bodies = [part for part in (text_part, html_part) if part is not None]
    attachments = tuple(
        Attachment(
            filename=part.get_filename(),
            content_type=part.get_content_type(),
            content=_payload(part),
        )
        for part in parsed.walk()
        if not part.is_multipart() and not any(part is body for body in bodies)
    )
    return StoredMessage(
        id=message_id,
        envelope_from=envelope_from,
        envelope_to=envelope_to,
        raw=raw,
        sender=_header(parsed, "From"),
        subject=_header(parsed, "Subject"),
        date=_date(parsed),
        message_id=_header(parsed, "Message-ID"),
        headers=tuple((name, _text(value)) for name, value in parsed.items()),
        text=_content(text_part),
        html=_content(html_part),
        attachments=attachments,
    )


def _text(value: object) -> str:
    return str(value).strip()


def _header(message: EmailMessage, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError):  # a header the policy cannot parse: show it as sent
        value = message.get_all(name, failobj=[None])[0]
    return None if value is None else _text(value)


def _date(message: EmailMessage) -> str | None:
    """The Date header in ISO 8601 with its offset; as sent when it is not a valid date."""
    try:
        header = message.get("Date")
        moment = getattr(header, "datetime", None)
    except (ValueError, IndexError, TypeError):
        return _header(message, "Date")
    if moment is None:
        return None if header is None else _text(header)
    if moment.tzinfo is None:  # "-0000": UTC, the sender's zone unknown (RFC 5322 3.3)
        moment = moment.replace(tzinfo=UTC)
    return str(moment.isoformat())


def _content(part: MIMEPart | None) -> str | None:
    """A body part as text, its lines ending in "\n" (SMTP's CRLF is the wire's, not the text's)."""
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset or broken transfer encoding
        content = _payload(part)
    if isinstance(content, bytes):
        content = content.decode("utf-8", errors="replace")
    return str(content).replace("\r\n", "\n")


def _payload(part: MIMEPart) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


@dataclass
class Inbox:
    """Thread-safe: the SMTP server and the HTTP app may run on different threads."""

    max_messages: int = DEFAULT_MAX_MESSAGES
    down: bool = False
    _messages: deque[StoredMessage] = field(init=False)
    _rejected: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        self._messages = deque(maxlen=self.max_messages)

    def add(self, *, envelope_from: str, envelope_to: tuple[str, ...], raw: bytes) -> StoredMessage:
        with self._lock:  # parsing inside keeps ids and arrival order the same
            stored = parse_message(
                str(next(self._ids)), envelope_from=envelope_from, envelope_to=envelope_to, raw=raw
            )
            self._messages.append(stored)  # the oldest falls out past max_messages
        return stored

    def messages(self) -> list[StoredMessage]:
        """Oldest first."""
        with self._lock:
            return list(self._messages)

    def get(self, message_id: str) -> StoredMessage | None:
        with self._lock:
            return next((m for m in self._messages if m.id == message_id), None)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def set_rejected(self, addresses: list[str]) -> list[str]:
        with self._lock:
            self._rejected = {address.strip().lower() for address in addresses}
            return sorted(self._rejected)

    def rejected(self) -> list[str]:
        with self._lock:
            return sorted(self._rejected)

    def is_rejected(self, address: str) -> bool:
        with self._lock:
            return address.strip().lower() in self._rejected

    def reset(self) -> None:
        """Everything back to a fresh start: no messages, no outage, nobody refused."""
        with self._lock:
            self._messages.clear()
            self._rejected = set()
            self.down = False
