"""MailComposer: one Mail -> one MIME message, read back from its bytes as a mail client would."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from balance_booking.adapters.ics import IcsFiles
from balance_booking.adapters.mail.compose import MailComposer, recipient_address
from balance_booking.application.errors import MailRejectedError
from balance_booking.application.ports import (
    CalendarInvite,
    InviteStatus,
    Mail,
    MailKind,
    PractitionerNotice,
)
from tests.fakes.clock import START, FakeClock

APPOINTMENT = UUID("0b6f5b8e-3d1c-4e63-9f3a-6a1f0c2d9e41")
# Thursday 3 December 2026, 11:00 Moscow = 13:00 Yekaterinburg = 08:00 UTC.
AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
MANAGE = f"https://balance.example.org/booking/manage/{APPOINTMENT}?token=t0ken"
MESSAGE_ID = f"<confirmed.{APPOINTMENT}@balance.example.org>"


def invite(**changes: Any) -> CalendarInvite:
    fields: dict[str, Any] = {
        "uid": f"{APPOINTMENT}@balance-booking",
        "sequence": 0,
        "start": AT,
        "end": AT + timedelta(minutes=50),
        "summary": "Консультация",
        "url": MANAGE,
        "stamp": START,
    }
    return CalendarInvite(**(fields | changes))


def mail(**changes: Any) -> Mail:
    fields: dict[str, Any] = {
        "kind": MailKind.CONFIRMED,
        "message_id": MESSAGE_ID,
        "to": "maria@example.com",
        "language": "ru",
        "service_title": "Консультация",
        "start": AT,
        "end": AT + timedelta(minutes=50),
        "timezone": "Asia/Yekaterinburg",
        "recipient_name": "Мария",
        "manage_url": MANAGE,
        "invite": invite(),
    }
    return Mail(**(fields | changes))


@pytest.fixture
def composer() -> MailComposer:
    return MailComposer(
        "Эмоциональный баланс <booking@balance.example.org>",
        calendar_files=IcsFiles(),
        clock=FakeClock(START),
    )


def received(composer: MailComposer, message: Mail) -> EmailMessage:
    """The message as the receiving side parses it from the bytes sent over SMTP."""
    raw = composer.compose(message).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body(message: EmailMessage, content_type: str) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == content_type]
    assert isinstance(part, EmailMessage)
    text = part.get_content()
    assert isinstance(text, str)
    return text


def test_the_headers_name_sender_recipient_and_the_message(composer: MailComposer) -> None:
    message = received(composer, mail())

    assert message["From"].addresses[0].display_name == "Эмоциональный баланс"
    assert message["From"].addresses[0].addr_spec == "booking@balance.example.org"
    assert [a.addr_spec for a in message["To"].addresses] == ["maria@example.com"]
    assert message["Subject"] == "Вы записаны: Консультация"
    assert message["Date"].datetime == START
    assert message["Message-ID"] == MESSAGE_ID
    assert message["Auto-Submitted"] == "auto-generated"
    for name in ("From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted"):
        assert len(message.get_all(name) or []) == 1, name


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", "ru"), ("en", "en"), ("de", "en")],  # unknown: the English text, said as such
)
@pytest.mark.parametrize("kind", [MailKind.CONFIRMED, MailKind.CANCELLED])
def test_every_message_says_its_language(
    composer: MailComposer, kind: MailKind, language: str, expected: str
) -> None:
    invitation = invite() if kind is MailKind.CONFIRMED else None
    message = received(composer, mail(kind=kind, language=language, invite=invitation))

    assert message.get_all("Content-Language") == [expected]
    greeting = "Здравствуйте, Мария!" if expected == "ru" else "Hello Мария,"
    assert greeting in body(message, "text/plain")


def test_a_long_message_id_stays_on_one_line(composer: MailComposer) -> None:
    long_id = f"<practitioner.{APPOINTMENT}.moved.12@{'sub.' * 20}balance.example.org>"
    raw = composer.compose(mail(message_id=long_id)).as_bytes()

    assert f"Message-ID: {long_id}\r\n".encode() in raw


def test_text_and_html_alternatives_say_the_same_in_their_language(
    composer: MailComposer,
) -> None:
    message = received(composer, mail(language="en"))

    assert message.get_content_type() == "multipart/mixed"
    [alternative, _ics] = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    text, html = body(message, "text/plain"), body(message, "text/html")
    for part in (text, html):
        assert "Thursday, 3 December 2026, 1:00\u202fPM (Yekaterinburg)" in part
        assert MANAGE in part
    assert "<html" in html
    assert "<" not in text


def test_html_escapes_what_a_client_typed(composer: MailComposer) -> None:
    notice = mail(
        kind=MailKind.PRACTITIONER,
        to="therapist@balance.example.org",
        notice=PractitionerNotice.BOOKED,
        recipient_name=None,
        client_name="<script>alert(1)</script> Ева",
        client_email="eve@example.com",
        admin_url="https://balance.example.org/admin/schedule/",
        invite=None,
    )
    message = received(composer, notice)

    html = body(message, "text/html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ева" in html
    assert "<script>alert(1)</script> Ева" in body(message, "text/plain")
    assert message.get_content_type() == "multipart/alternative", "no invite, no attachment"


def test_the_invite_is_attached_as_an_ics_file(composer: MailComposer) -> None:
    moved_to = datetime(2026, 12, 4, 6, 30, tzinfo=UTC)
    message = received(
        composer,
        mail(
            kind=MailKind.RESCHEDULED,
            previous_start=AT,
            start=moved_to,
            end=moved_to + timedelta(minutes=50),
            invite=invite(sequence=2, start=moved_to, end=moved_to + timedelta(minutes=50)),
        ),
    )

    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "appointment.ics"
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_content_charset() == "utf-8"
    [event] = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert str(event["UID"]) == f"{APPOINTMENT}@balance-booking"
    assert int(event["SEQUENCE"]) == 2
    assert event.decoded("DTSTART") == moved_to
    assert event.decoded("DTEND") == moved_to + timedelta(minutes=50)
    assert event["DTSTART"].to_ical() == b"20261204T063000Z"
    assert event["DTEND"].to_ical() == b"20261204T072000Z"
    assert str(event["STATUS"]) == InviteStatus.CONFIRMED.value


def test_a_line_break_in_the_subject_cannot_start_a_header(composer: MailComposer) -> None:
    message = received(composer, mail(service_title="Сессия\r\nBcc: victim@example.net"))

    assert message["Bcc"] is None
    assert message["Subject"] == "Вы записаны: Сессия Bcc: victim@example.net"


@pytest.mark.parametrize(
    "address",
    [
        "a..b@example.org",
        ".maria@example.org",
        "maria.@example.org",
        "maria\n@example.org",
        "ma\rria@example.org",
        "maria@example.org\r\nBcc: victim@example.net",
        "maria @example.org",
        "мария@example.org",
        '"maria ivanova"@example.org',
        "maria(comment)@example.org",
        "maria@example@org",
        "<maria@example.org>",
        "Maria <maria@example.org>",
        "maria@",
        "@example.org",
        "maria",
        "",
        "maria@example..org",
        "maria@-example.org",
        "maria@example.org.",
        "maria@exa_mple.org",
        "maria@[192.0.2.1]",
        "maria@" + "a" * 64 + ".org",
        "m" * 65 + "@example.org",
        "maria@" + "sub." * 63 + "org",
    ],
)
def test_an_address_that_cannot_be_sent_to_is_rejected_for_good(
    composer: MailComposer, address: str
) -> None:
    with pytest.raises(MailRejectedError) as refused:
        composer.compose(mail(to=address))

    assert "the recipient's address cannot be used" in str(refused.value)
    local = address.partition("@")[0].strip()
    assert not local or local not in str(refused.value), "the error never repeats the address"


@pytest.mark.parametrize(
    ("address", "sent_as"),
    [
        ("Maria.Ivanova+booking@Example.COM", "Maria.Ivanova+booking@Example.COM"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("x!#$%&'*+/=?^_`{|}~-@example.org", "x!#$%&'*+/=?^_`{|}~-@example.org"),
        ("therapist@localhost", "therapist@localhost"),
        ("maria@почта.рф", "maria@xn--80a1acny.xn--p1ai"),
        ("maria@Пример.Рф", "maria@xn--e1afmkfd.xn--p1ai"),
    ],
)
def test_an_address_that_can_be_sent_to_is_written_in_ascii(
    composer: MailComposer, address: str, sent_as: str
) -> None:
    raw = composer.compose(mail(to=address)).as_bytes()

    assert f"\r\nTo: {sent_as}\r\n".encode() in raw
    assert recipient_address(address).addr_spec == sent_as


ADDRESS_TEXT = st.text(
    alphabet=st.sampled_from("aZ9.-_+@\"'()<>,;:[] \t\r\n\x00é\u0440ß!~"), max_size=30
) | st.builds("{}@{}".format, st.text(max_size=12), st.text(max_size=12))


@given(ADDRESS_TEXT)
def test_any_text_is_either_a_sendable_ascii_address_or_a_rejection(text: str) -> None:
    try:
        address = recipient_address(text)
    except MailRejectedError:
        return
    addr_spec = address.addr_spec
    assert addr_spec.isascii()
    assert addr_spec.isprintable()
    assert " " not in addr_spec
    assert addr_spec.partition("@")[0] == text.rpartition("@")[0], "the local part as given"
    header = EmailMessage(policy=email.policy.SMTP)
    header["To"] = address
    parsed = email.message_from_bytes(header.as_bytes(), policy=email.policy.default)
    assert [a.addr_spec for a in parsed["To"].addresses] == [addr_spec]
