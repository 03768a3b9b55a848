"""The development mail sink: real SMTP in, the JSON API and the inbox page out."""

from __future__ import annotations

import signal
import smtplib
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import free_port
from tests.support.mail import MailSinkClient, running_mail_sink
from tests.support.processes import CLI, wait_until_up

SENDER = "Эмоциональный баланс <booking@example.org>"
SENT_AT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


@pytest.fixture
def sink(mail_sink: MailSinkClient) -> Iterator[MailSinkClient]:
    mail_sink.reset()
    yield mail_sink
    mail_sink.reset()


def message(subject: str = "Запись подтверждена", *, html: bool = True) -> EmailMessage:
    built = EmailMessage()
    built["From"] = SENDER
    built["To"] = "Клиент <client@example.org>"
    built["Subject"] = subject
    built["Date"] = format_datetime(SENT_AT)
    built["Message-ID"] = "<confirmed.42@example.org>"
    built["Auto-Submitted"] = "auto-generated"
    built.set_content("Здравствуйте!\nВаша запись подтверждена.")
    if html:
        built.add_alternative("<p>Здравствуйте!</p><script>alert(1)</script>", subtype="html")
    return built


def send(
    sink: MailSinkClient, mail: EmailMessage, to: list[str] | None = None
) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP(sink.smtp_host, sink.smtp_port, timeout=10) as smtp:
        return smtp.send_message(mail, to_addrs=to)


def test_a_message_with_text_html_and_attachment_is_kept_with_every_field(
    sink: MailSinkClient,
) -> None:
    mail = message()
    mail.add_attachment(ICS, maintype="text", subtype="calendar", filename="запись.ics")

    refused = send(sink, mail, to=["client@example.org", "copy@example.org"])

    assert refused == {}
    [kept] = sink.wait_for(1)
    assert set(kept) >= {
        "id", "from", "to", "subject", "date", "message_id", "text", "html", "attachments"
    }  # fmt: skip
    assert kept["from"] == SENDER
    assert kept["to"] == ["client@example.org", "copy@example.org"]  # the envelope, not To:
    assert kept["subject"] == "Запись подтверждена"
    assert kept["date"] == "2026-12-03T09:30:00+00:00"
    assert kept["message_id"] == "<confirmed.42@example.org>"
    assert kept["text"] == "Здравствуйте!\nВаша запись подтверждена.\n"
    assert kept["html"] == "<p>Здравствуйте!</p><script>alert(1)</script>\n"
    assert kept["attachments"] == [
        {"filename": "запись.ics", "content_type": "text/calendar", "size": len(ICS)}
    ]
    assert kept["envelope_from"] == "booking@example.org"
    assert ["Auto-Submitted", "auto-generated"] in kept["headers"]


def test_raw_is_the_message_as_received(sink: MailSinkClient) -> None:
    send(sink, message())
    [kept] = sink.wait_for(1)

    response = sink.http.get(f"/_mail/messages/{kept['id']}/raw")

    assert response.status_code == 200
    assert response.headers["content-type"] == "message/rfc822"
    parsed = message_from_bytes(response.content, policy=policy.default)
    assert parsed["Subject"] == "Запись подтверждена"
    assert b"=?utf-8?" in response.content  # the non-ASCII subject travelled encoded
    assert sink.http.get("/_mail/messages/999999/raw").status_code == 404


def test_messages_are_listed_oldest_first_and_delete_clears_them(sink: MailSinkClient) -> None:
    for number in range(3):
        send(sink, message(f"Письмо {number}"))

    assert [m["subject"] for m in sink.wait_for(3)] == ["Письмо 0", "Письмо 1", "Письмо 2"]
    deleted = sink.http.delete("/_mail/messages")

    assert deleted.status_code == 204
    assert sink.messages() == []


def test_a_text_only_message_has_no_html_part(sink: MailSinkClient) -> None:
    send(sink, message(html=False))
    [kept] = sink.wait_for(1)

    assert kept["html"] is None
    assert kept["attachments"] == []
    assert sink.http.get(f"/_mail/messages/{kept['id']}/html").status_code == 404


def test_outage_answers_421_until_it_is_lifted(sink: MailSinkClient) -> None:
    answer = sink.http.post("/_mail/outage", json={"down": True})
    assert answer.status_code == 200
    assert answer.json() == {"down": True}

    with pytest.raises(smtplib.SMTPResponseException) as refused:
        send(sink, message())
    assert refused.value.smtp_code == 421

    sink.outage(False)
    send(sink, message())
    assert len(sink.wait_for(1)) == 1  # only the message sent after the outage


@pytest.mark.parametrize("step", ["rcpt", "data"])
def test_an_outage_starting_mid_transaction_answers_421_at_the_next_step(
    sink: MailSinkClient, step: str
) -> None:
    with smtplib.SMTP(sink.smtp_host, sink.smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.mail("booking@example.org")[0] == 250
        if step == "data":
            assert smtp.rcpt("client@example.org")[0] == 250
        sink.outage(True)
        if step == "rcpt":
            code, _ = smtp.rcpt("client@example.org")
        else:
            code, _ = smtp.data(message().as_bytes())
    assert code == 421
    sink.outage(False)
    assert sink.messages() == []


def test_rejected_addresses_get_550_and_the_others_still_receive(sink: MailSinkClient) -> None:
    answer = sink.http.post("/_mail/reject", json={"addresses": ["Gone@Example.org"]})
    assert answer.json() == {"addresses": ["gone@example.org"]}
    assert sink.http.get("/_mail/reject").json() == {"addresses": ["gone@example.org"]}

    refused = send(sink, message(), to=["gone@example.org", "client@example.org"])

    assert refused == {"gone@example.org": (550, b"5.1.1 mailbox unavailable")}
    [kept] = sink.wait_for(1)
    assert kept["to"] == ["client@example.org"]
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(sink, message(), to=["gone@example.org"])


def test_clearing_messages_keeps_the_refused_addresses_and_reset_drops_them(
    sink: MailSinkClient,
) -> None:
    sink.reject(["gone@example.org"])
    sink.outage(True)

    sink.clear()
    assert sink.http.get("/_mail/reject").json() == {"addresses": ["gone@example.org"]}
    assert sink.http.post("/_mail/reset").status_code == 204

    assert sink.http.get("/_mail/reject").json() == {"addresses": []}
    assert sink.http.get("/_mail/outage").json() == {"down": False}
    assert send(sink, message(), to=["gone@example.org"]) == {}


def test_bad_control_bodies_are_422(sink: MailSinkClient) -> None:
    assert sink.http.post("/_mail/outage", json={"down": "yes"}).status_code == 422
    assert sink.http.post("/_mail/outage", json={}).status_code == 422
    assert sink.http.post("/_mail/reject", json={"addresses": "x@example.org"}).status_code == 422


def test_any_login_is_accepted(sink: MailSinkClient) -> None:
    with smtplib.SMTP(sink.smtp_host, sink.smtp_port, timeout=10) as smtp:
        smtp.login("user", "password")
        smtp.send_message(message())
    assert len(sink.wait_for(1)) == 1


def test_inbox_page_lists_newest_first_and_escapes_subjects(sink: MailSinkClient) -> None:
    send(sink, message("Первое"))
    send(sink, message("<script>alert('x')</script>"))
    sink.wait_for(2)

    page = sink.http.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert page.text.index("&lt;script&gt;") < page.text.index("Первое")
    assert "<link" not in page.text
    assert " src=" not in page.text  # no external assets


def test_message_page_shows_headers_text_attachments_and_a_sandboxed_html_part(
    sink: MailSinkClient,
) -> None:
    mail = message()
    mail.add_attachment(ICS, maintype="text", subtype="calendar", filename="invite.ics")
    send(sink, mail)
    [kept] = sink.wait_for(1)

    page = sink.http.get(f"/messages/{kept['id']}")
    html_part = sink.http.get(f"/_mail/messages/{kept['id']}/html")
    attachment = sink.http.get(f"/_mail/messages/{kept['id']}/attachments/0")

    assert page.status_code == 200
    assert "Auto-Submitted" in page.text
    assert "Ваша запись подтверждена." in page.text
    assert "invite.ics" in page.text
    assert f'<iframe sandbox src="/_mail/messages/{kept["id"]}/html"' in page.text
    assert "<script>" not in page.text  # the HTML part stays inside the iframe
    assert html_part.headers["content-security-policy"] == "sandbox"
    assert html_part.text == kept["html"]
    assert attachment.content == ICS
    assert sink.http.get("/messages/999999").status_code == 404


def test_only_the_last_messages_are_kept() -> None:
    with running_mail_sink(max_messages=3) as small:
        for number in range(5):
            send(small, message(f"Письмо {number}"))

        kept = small.wait_for(3)

        assert [m["subject"] for m in kept] == ["Письмо 2", "Письмо 3", "Письмо 4"]
        assert small.http.get(f"/_mail/messages/{kept[0]['id']}/raw").status_code == 200


def test_the_cli_subcommand_serves_smtp_and_the_inbox(tmp_path: Path) -> None:
    smtp_port, http_port = free_port(), free_port()
    output = tmp_path / "mail-sink.log"
    with output.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [*CLI, "mail-sink", "--smtp-port", str(smtp_port), "--port", str(http_port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_until_up(base, process=process)
        with httpx.Client(base_url=base, timeout=10) as http:
            client = MailSinkClient(
                smtp_host="127.0.0.1", smtp_port=smtp_port, http_url=base, http=http
            )
            send(client, message())
            assert client.wait_for(1)[0]["to"] == ["client@example.org"]
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
    printed = output.read_text()
    assert code == 0, printed
    assert f"http://127.0.0.1:{http_port}/" in printed
    assert f"smtp://127.0.0.1:{smtp_port}" in printed
