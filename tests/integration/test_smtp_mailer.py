"""SmtpMailer against real SMTP servers on 127.0.0.1 (aiosmtpd, answering as each test scripts):
which failures the outbox retries (MailUnavailableError) and which park the message at once
(MailRejectedError), that trouble after the message was accepted is ignored, and that no address
or credential of SMTP_URL ends up in an error or a log line."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from balance_booking.adapters.ics import IcsFiles
from balance_booking.adapters.mail.compose import MailComposer
from balance_booking.adapters.mail.smtp import SmtpMailer
from balance_booking.application.errors import (
    ApplicationError,
    MailRejectedError,
    MailUnavailableError,
)
from balance_booking.application.ports import Mail, MailKind
from tests.fakes.clock import START, FakeClock

HOST = "127.0.0.1"
CLIENT = "maria.client@example.com"
USER = "smtp-login-7f3a"
PASSWORD = "hunter2/Secret-9c1e"  # the "/" must be percent-encoded in the URL
SECRETS = (USER, PASSWORD, quote(PASSWORD, safe=""), CLIENT)
TIMEOUT = 0.5  # seconds the mailer waits for a silent server
AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@dataclass
class Script:
    """What the server answers, by command; a command not named gets aiosmtpd's usual answer.

    `AUTH: "fail"` refuses every sign-in; `"drop"` (MAIL, RCPT, DATA, QUIT) closes the connection
    without a word; `QUIT: "silence"` never answers. `STARTTLS` present makes the server offer it.
    """

    replies: dict[str, str] = field(default_factory=dict)
    delivered: list[bytes] = field(default_factory=list)  # DATA answered 250
    commands: list[str] = field(default_factory=list)


class ScriptedHandler:
    """aiosmtpd's hooks, answering from a Script."""

    def __init__(self, script: Script) -> None:
        self.script = script

    def _reply(self, command: str, server: SMTP | None = None) -> str | None:
        self.script.commands.append(command)
        reply = self.script.replies.get(command)
        if reply == "drop" and server is not None:
            assert server.transport is not None
            server.transport.abort()  # what is written after this is lost
        return reply

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook name
        self,
        _server: SMTP,
        session: Session,
        _envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        if (reply := self._reply("EHLO")) is not None:
            return [reply]
        session.host_name = hostname
        if "STARTTLS" in self.script.replies:
            responses.insert(-1, "250-STARTTLS")
        return responses

    async def handle_HELO(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, _envelope: Envelope, hostname: str
    ) -> str:
        if (reply := self._reply("HELO")) is not None:
            return reply
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if (reply := self._reply("MAIL", server)) is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if (reply := self._reply("RCPT", server)) is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        if (reply := self._reply("DATA", server)) is not None:
            return reply
        self.script.delivered.append(envelope.original_content or b"")
        return "250 Message accepted for delivery"

    async def handle_QUIT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, _session: Session, _envelope: Envelope
    ) -> str:
        reply = self._reply("QUIT", server)
        if reply == "silence":
            await asyncio.Event().wait()  # until the client gives up and the test ends
        return reply or "221 Bye"

    def authenticate(self, *_: object) -> AuthResult:
        self.script.commands.append("AUTH")
        refused = self.script.replies.get("AUTH") == "fail"
        return AuthResult(success=not refused, handled=False)  # aiosmtpd then answers 535


class ScriptedSMTP(SMTP):
    """aiosmtpd without a TLS context answers STARTTLS with 454; a script may say otherwise."""

    async def smtp_STARTTLS(self, arg: str) -> None:  # noqa: N802, ARG002 - aiosmtpd's name
        assert isinstance(self.event_handler, ScriptedHandler)
        await self.push(self.event_handler._reply("STARTTLS") or "454 TLS not available")


@contextmanager
def running(script: Script, *, greeting: str | None = None) -> Iterator[int]:
    """An SMTP server on a free loopback port for the block, on its own loop in a thread.

    aiosmtpd always greets with 220; with `greeting`, a bare asyncio server plays one that
    refuses the client at the door with that line and hangs up.
    """
    handler = ScriptedHandler(script)
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def refuse(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert greeting is not None
        writer.write(f"{greeting}\r\n".encode())
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        if greeting is not None:
            server = await asyncio.start_server(refuse, HOST, 0)
        else:
            server = await loop.create_server(
                lambda: ScriptedSMTP(
                    handler,
                    hostname="smtp.test",
                    authenticator=handler.authenticate,
                    auth_require_tls=False,
                    loop=loop,
                ),
                HOST,
                0,
            )
        state.update(port=server.sockets[0].getsockname()[1], loop=loop, stop=stop)
        ready.set()
        async with server:
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the scripted SMTP server did not start"
    try:
        yield state["port"]
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(10)


def mailer(port: int, *, credentials: bool = True) -> SmtpMailer:
    login = f"{USER}:{quote(PASSWORD, safe='')}@" if credentials else ""
    composer = MailComposer(
        "Эмоциональный баланс <booking@balance.example.org>",
        calendar_files=IcsFiles(),
        clock=FakeClock(START),
    )
    return SmtpMailer(f"smtp://{login}{HOST}:{port}", composer, timeout=TIMEOUT)


def confirmation(to: str = CLIENT) -> Mail:
    return Mail(
        kind=MailKind.CONFIRMED,
        message_id="<confirmed.42@balance.example.org>",
        to=to,
        language="ru",
        service_title="Консультация",
        start=AT,
        end=AT + timedelta(minutes=50),
        timezone="Europe/Moscow",
        recipient_name="Мария",
    )


def failure(port: int, *, credentials: bool = True, mail: Mail | None = None) -> ApplicationError:
    with pytest.raises(ApplicationError) as raised:
        mailer(port, credentials=credentials).send(mail or confirmation())
    return raised.value


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def told(error: BaseException) -> str:
    """Everything a log line with exc_info could show of an error."""
    return "".join(traceback.format_exception(error)) + repr(error)


# (script, expected error, what its text says): 4xx anywhere and 5xx before the recipient is
# named are the server's trouble; 5xx for the recipient, the sender or the data is the message's.
CASES = {
    "greeting 421": ({}, "421 4.3.2 Service not available", MailUnavailableError, "SMTP 421 at the greeting"),
    "greeting 554": ({}, "554 5.3.2 No SMTP service here", MailUnavailableError, "SMTP 554 at the greeting"),
    "EHLO and HELO 554": ({"EHLO": "554 5.7.1 Client host rejected", "HELO": "554 5.7.1 Client host rejected"}, None, MailUnavailableError, "SMTP 554 at EHLO"),
    "EHLO and HELO 421": ({"EHLO": "421 4.7.0 Try again later", "HELO": "421 4.7.0 Try again later"}, None, MailUnavailableError, "SMTP 421 at EHLO"),
    "STARTTLS 454": ({"STARTTLS": "454 4.7.0 TLS not available due to temporary reason"}, None, MailUnavailableError, "SMTP 454 at STARTTLS"),
    "STARTTLS 554": ({"STARTTLS": "554 5.7.3 TLS broken"}, None, MailUnavailableError, "SMTP 554 at STARTTLS"),
    "sign-in refused": ({"AUTH": "fail"}, None, MailUnavailableError, "SMTP 535 sign-in refused"),
    "MAIL 421": ({"MAIL": "421 4.3.2 Shutting down"}, None, MailUnavailableError, "SMTP 421 for the sender"),
    "MAIL 451": ({"MAIL": "451 4.3.0 Local error"}, None, MailUnavailableError, "SMTP 451 for the sender"),
    "MAIL 550": ({"MAIL": "550 5.7.1 Sender not allowed"}, None, MailRejectedError, "SMTP 550 for the sender"),
    "RCPT 421": ({"RCPT": "421 4.3.2 Shutting down"}, None, MailUnavailableError, "SMTP 421 for the recipient"),
    "RCPT 450": ({"RCPT": "450 4.2.1 Mailbox busy, try later"}, None, MailUnavailableError, "SMTP 450 for the recipient"),
    "RCPT 550": ({"RCPT": f"550 5.1.1 <{CLIENT}>: Recipient address rejected"}, None, MailRejectedError, "SMTP 550 for the recipient: 5.1.1 <address>: Recipient address rejected"),
    "RCPT 554": ({"RCPT": "554 5.7.1 Relay access denied"}, None, MailRejectedError, "SMTP 554 for the recipient"),
    "DATA 421": ({"DATA": "421 4.3.2 Shutting down"}, None, MailUnavailableError, "SMTP 421 for the message"),
    "DATA 450": ({"DATA": "450 4.7.1 Greylisted, come back later"}, None, MailUnavailableError, "SMTP 450 for the message"),
    "MAIL dropped": ({"MAIL": "drop"}, None, MailUnavailableError, "SMTP failed at sending: SMTPServerDisconnected"),
    "RCPT dropped": ({"RCPT": "drop"}, None, MailUnavailableError, "SMTP failed at sending: SMTPServerDisconnected"),
    "DATA dropped": ({"DATA": "drop"}, None, MailUnavailableError, "SMTP failed at sending: SMTPServerDisconnected"),
    "DATA 554": ({"DATA": "554 5.7.1 Message refused as spam"}, None, MailRejectedError, "SMTP 554 for the message"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_each_failure_is_judged_for_the_outbox(case: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="balance_booking")
    replies, greeting, expected, text = CASES[case]
    script = Script(replies=dict(replies))

    with running(script, greeting=greeting) as port:
        error = failure(port)

    assert type(error) is expected
    assert str(error).startswith(text), str(error)
    assert script.delivered == []
    assert_no_secret(told(error), caplog.text)


def test_an_offered_starttls_that_fails_is_never_skipped_to_send_in_plain_text() -> None:
    script = Script(replies={"STARTTLS": "454 4.7.0 TLS not available"})

    with running(script) as port:
        failure(port)

    assert "STARTTLS" in script.commands
    assert not {"AUTH", "MAIL", "RCPT", "DATA"} & set(script.commands)


def test_a_server_without_ehlo_is_spoken_to_with_helo() -> None:
    script = Script(replies={"EHLO": "502 5.5.1 Command not implemented"})

    with running(script) as port:
        mailer(port, credentials=False).send(confirmation())

    assert script.commands[:2] == ["EHLO", "HELO"]
    assert len(script.delivered) == 1


@pytest.mark.parametrize(
    "quit_reply", ["421 4.3.2 Going away", "554 5.0.0 Whatever", "drop", "silence"]
)
def test_trouble_after_the_message_was_accepted_is_ignored(
    quit_reply: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="balance_booking")
    script = Script(replies={"QUIT": quit_reply})

    with running(script) as port:
        mailer(port).send(confirmation())  # no error: the outbox must not send it again

    [message] = script.delivered
    assert b"Message-ID: <confirmed.42@balance.example.org>" in message
    assert script.commands[-1] == "QUIT"
    assert "smtp_quit_failed" in caplog.text
    assert_no_secret(caplog.text)


def test_a_delivered_message_goes_to_the_recipient_signed_in() -> None:
    script = Script()

    with running(script) as port:
        mailer(port).send(confirmation())

    [message] = script.delivered
    assert f"To: {CLIENT}".encode() in message
    assert b"Content-Language: ru" in message
    assert script.commands == ["EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"]


def test_an_international_domain_travels_in_ascii_to_a_server_without_smtputf8() -> None:
    script = Script()

    with running(script) as port:
        mailer(port).send(confirmation(to="maria@почта.рф"))

    [message] = script.delivered
    assert b"To: maria@xn--80a1acny.xn--p1ai" in message


@pytest.mark.parametrize(
    "address", ["maria..client@example.com", "мария@example.com", "maria\n@example.com"]
)
def test_an_address_that_cannot_be_sent_to_is_rejected_without_talking_to_the_server(
    address: str,
) -> None:
    script = Script()

    with running(script) as port:
        error = failure(port, mail=confirmation(to=address))

    assert type(error) is MailRejectedError
    assert script.commands == [], "not even a connection: nothing to retry"


def test_a_closed_port_and_a_silent_server_are_retried() -> None:
    with socket.create_server((HOST, 0)) as listening:
        port = listening.getsockname()[1]
        silent = failure(port)  # connected (the backlog takes it), never greeted
    refused = failure(port)

    assert type(silent) is MailUnavailableError
    assert str(silent).startswith("SMTP failed at connecting: SMTPServerDisconnected")
    assert "timed out" in str(silent)
    assert type(refused) is MailUnavailableError
    assert "SMTP failed at connecting: ConnectionRefusedError" in str(refused)
    assert_no_secret(told(silent), told(refused))


def test_server_words_repeating_the_credentials_are_scrubbed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="balance_booking")
    script = Script(
        replies={"MAIL": f"553 5.7.1 {USER} (password {PASSWORD}) may not send as <x@y.org>"}
    )

    with running(script) as port:
        error = failure(port)

    assert (
        str(error)
        == "SMTP 553 for the sender: 5.7.1 <secret> (password <secret>) may not send as <address>"
    )
    assert_no_secret(told(error), caplog.text)
