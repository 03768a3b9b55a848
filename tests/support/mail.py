"""The development mail sink as a test double for SMTP: a live server and a small client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from balance_booking.config import Settings
from balance_booking.emulators.mail_sink.server import MailSink

POLL_SECONDS = 0.02


@dataclass(frozen=True)
class MailSinkClient:
    """A running sink: where to send (`smtp_url`, `smtp_host`, `smtp_port`) and its JSON API."""

    smtp_host: str
    smtp_port: int
    http_url: str
    http: httpx.Client

    @property
    def smtp_url(self) -> str:
        return f"smtp://{self.smtp_host}:{self.smtp_port}"

    def messages(self) -> list[dict[str, Any]]:
        """Every message kept, oldest first (the JSON of `GET /_mail/messages`)."""
        response = self.http.get("/_mail/messages")
        response.raise_for_status()
        body: list[dict[str, Any]] = response.json()
        return body

    def raw(self, message_id: str) -> bytes:
        response = self.http.get(f"/_mail/messages/{message_id}/raw")
        response.raise_for_status()
        return response.content

    def clear(self) -> None:
        """Drop the messages (outage and refused addresses stay)."""
        self.http.delete("/_mail/messages").raise_for_status()

    def outage(self, down: bool) -> None:
        """While down, MAIL FROM, RCPT TO and DATA answer 421."""
        self.http.post("/_mail/outage", json={"down": down}).raise_for_status()

    def reject(self, addresses: list[str]) -> None:
        """RCPT TO for these addresses answers 550 (replaces the list; [] refuses nobody)."""
        self.http.post("/_mail/reject", json={"addresses": addresses}).raise_for_status()

    def reset(self) -> None:
        """No messages, no outage, nobody refused."""
        self.http.post("/_mail/reset").raise_for_status()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Poll until at least `count` messages are kept; return them all (oldest first)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages()
            if len(messages) >= count:
                return messages
            if time.monotonic() > deadline:
                subjects = [message["subject"] for message in messages]
                raise AssertionError(
                    f"expected {count} message(s) within {timeout} s, got {len(messages)}: "
                    f"{subjects}"
                )
            time.sleep(POLL_SECONDS)


@contextmanager
def running_mail_sink(*, max_messages: int = 1000) -> Iterator[MailSinkClient]:
    """A sink on free loopback ports for the block (SMTP and HTTP in one background thread)."""
    with (
        MailSink(max_messages=max_messages) as sink,
        httpx.Client(base_url=sink.http_url, timeout=10) as http,
    ):
        yield MailSinkClient(
            smtp_host=sink.host, smtp_port=sink.smtp_port, http_url=sink.http_url, http=http
        )


def with_mail_sink(settings: Settings, mail_sink: MailSinkClient, **overrides: object) -> Settings:
    """`settings` sending e-mail to the session's sink (the tests' sender domain), plus
    `overrides`; the sink is emptied first."""
    mail_sink.reset()
    return settings.model_copy(
        update={
            "smtp_url": SecretStr(mail_sink.smtp_url),
            "mail_from": "Эмоциональный баланс <booking@balance.example.org>",
            **overrides,
        }
    )
