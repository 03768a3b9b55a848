"""E-mail end to end against a real SMTP server (the mail sink), on SQLite and PostgreSQL: the
HTTP change writes outbox rows, the worker's dispatcher sends them, the sink receives them."""

from __future__ import annotations

import email
import email.policy
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import icalendar
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from balance_booking.application.booking import ExpireHolds
from balance_booking.bootstrap import Container, build_outbox_dispatcher, create_admin
from balance_booking.config import Settings
from tests.conftest import FakeClock
from tests.support.mail import MailSinkClient

pytestmark = pytest.mark.both_databases

BASE = "https://balance.example.org"
PRACTITIONER = "therapist@balance.example.org"
DOMAIN = "balance.example.org"
NAME = "Мария-Маркер-7f3a"  # a unique marker: it may appear in e-mails, never in logs
WEEKDAYS = {
    "timezone": "Europe/Moscow",
    "weekly": {d: [["10:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "overrides": [],
}
# Thursday 3 December 2026, 11:00 Moscow: three days after the tests' clock (Monday 09:00).
START = "2026-12-03T11:00:00+03:00"
START_UTC = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings, mail_sink: MailSinkClient) -> Iterator[Settings]:
    mail_sink.reset()
    yield settings.model_copy(
        update={
            "smtp_url": SecretStr(mail_sink.smtp_url),
            "mail_from": f"Эмоциональный баланс <booking@{DOMAIN}>",
            "practitioner_email": PRACTITIONER,
            "public_base_url": BASE,
        }
    )
    mail_sink.reset()


@pytest.fixture
def practice(admin: TestClient) -> TestClient:
    return set_up_practice(admin)


def set_up_practice(admin: TestClient) -> TestClient:
    """Weekday hours, a free service ("session") and a paid one ("paid")."""
    assert admin.put("/api/admin/schedule", json=WEEKDAYS).status_code == 200
    for slug, paid in (("session", False), ("paid", True)):
        created = admin.post(
            "/api/admin/services",
            json={
                "slug": slug,
                "title": "Консультация" if slug == "session" else "Платная",
                "duration_minutes": 50,
                "slot_step_minutes": 60,
                "requires_payment": paid,
            },
        )
        assert created.status_code == 201, created.text
    return admin


def book(
    client: TestClient,
    *,
    service: str = "session",
    language: str = "ru",
    name: str = NAME,
    start: str = START,
) -> dict[str, Any]:
    answer = client.post(
        "/api/public/booking/appointments",
        json={
            "service_slug": service,
            "start": start,
            "timezone": "Asia/Yekaterinburg",
            "client": {"name": name, "email": "maria@example.com", "phone": "+7 900 111-22-33"},
            "language": language,
        },
    )
    assert answer.status_code == 201, answer.text
    appointment: dict[str, Any] = answer.json()["appointment"]
    return appointment


def deliver(container: Container) -> int:
    """Run the worker's outbox dispatcher until nothing is due; how many rows it finished."""
    dispatcher = build_outbox_dispatcher(container)
    finished = 0
    while (report := dispatcher.execute()).claimed:
        finished += report.done + report.parked
    return finished


def parsed(mail_sink: MailSinkClient, message: dict[str, Any]) -> EmailMessage:
    raw = mail_sink.raw(message["id"])
    parsed_message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed_message, EmailMessage)
    return parsed_message


def received(mail_sink: MailSinkClient) -> list[tuple[str, str]]:
    """(Message-ID kind, first recipient) of every message the sink kept, oldest first."""
    return [
        (message["message_id"].strip("<>").split(".")[0], message["to"][0])
        for message in mail_sink.messages()
    ]


def test_a_booking_sends_the_confirmation_and_tells_the_practitioner(
    practice: TestClient,
    container: Container,
    mail_sink: MailSinkClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    appointment = book(practice)
    deliver(container)
    confirmation, notice = mail_sink.messages()
    assert confirmation["to"] == ["maria@example.com"]
    assert confirmation["message_id"] == f"<confirmed.{appointment['id']}@{DOMAIN}>"
    message = parsed(mail_sink, confirmation)
    assert message["Auto-Submitted"] == "auto-generated"
    assert DOMAIN in message["From"]
    assert confirmation["text"]
    assert confirmation["html"]
    # The manage link: from PUBLIC_BASE_URL, and following it opens this appointment.
    link = next(
        word
        for word in confirmation["text"].split()
        if word.startswith(f"{BASE}/booking/manage/{appointment['id']}?token=")
    )
    token = link.rpartition("token=")[2]
    assert token == appointment["manage_token"]
    opened = practice.get(urlsplit(link).path, params={"token": token})
    assert opened.status_code == 200
    # The .ics: DTSTART is the booked instant, in UTC.
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == START_UTC
    assert event["DTSTART"].to_ical().decode().endswith("Z")
    # The practitioner's notice names the client; the client's message does not go there.
    assert notice["to"] == [PRACTITIONER]
    assert notice["message_id"] == f"<practitioner.{appointment['id']}.booked@{DOMAIN}>"
    assert NAME in notice["text"]
    assert deliver(container) == 0
    assert len(mail_sink.messages()) == 2, "each message exactly once"
    # Sent, and logged as such, without the client's name or address in any log line.
    assert "email_sent" in caplog.text
    assert NAME not in caplog.text
    assert "maria@example.com" not in caplog.text


@pytest.mark.parametrize("by", ["client", "admin"])
def test_a_cancellation_is_told_once(
    practice: TestClient, container: Container, mail_sink: MailSinkClient, by: str
) -> None:
    appointment = book(practice)
    deliver(container)
    mail_sink.clear()
    if by == "client":
        answer = practice.post(
            f"/api/public/booking/appointments/{appointment['id']}/cancel",
            json={"token": appointment["manage_token"]},
        )
    else:
        answer = practice.post(f"/api/admin/appointments/{appointment['id']}/cancel")
    assert answer.status_code == 200, answer.text
    deliver(container)
    deliver(container)
    assert received(mail_sink) == [
        ("cancelled", "maria@example.com"),
        ("practitioner", PRACTITIONER),
    ]


def test_a_lapsed_hold_is_told_once(
    practice: TestClient, container: Container, mail_sink: MailSinkClient, clock: FakeClock
) -> None:
    book(practice, service="paid")
    deliver(container)
    assert received(mail_sink) == [
        ("pending_payment", "maria@example.com"),
        ("practitioner", PRACTITIONER),
    ]
    mail_sink.clear()
    clock.advance(timedelta(minutes=16))
    expire = ExpireHolds(writers=container.writers, clock=clock, messages=container.messages)
    assert expire.execute() == 1
    deliver(container)
    assert received(mail_sink) == [
        ("cancelled", "maria@example.com"),
        ("practitioner", PRACTITIONER),
    ]


def test_smtp_down_never_blocks_a_booking_and_the_message_arrives_once_when_back(
    practice: TestClient, container: Container, mail_sink: MailSinkClient, clock: FakeClock
) -> None:
    mail_sink.outage(True)
    book(practice)
    assert deliver(container) == 0, "421: retried later, nothing finished"
    status = practice.get("/api/admin/integrations/email").json()
    assert status["status"] == "failing"
    assert "421" in status["last_error"]
    mail_sink.outage(False)
    clock.advance(timedelta(minutes=2))
    deliver(container)
    assert [kind for kind, _ in received(mail_sink)] == ["confirmed", "practitioner"]
    assert practice.get("/api/admin/integrations/email").json()["status"] == "ok"


def test_reminders_by_a_moved_clock_once_each_and_none_after_a_cancel(
    practice: TestClient, container: Container, mail_sink: MailSinkClient, clock: FakeClock
) -> None:
    appointment = book(practice)
    deliver(container)
    mail_sink.clear()
    clock.set(START_UTC - timedelta(hours=24))
    deliver(container)
    clock.set(START_UTC - timedelta(hours=2))
    deliver(container)
    deliver(container)
    ids = [message["message_id"] for message in mail_sink.messages()]
    assert ids == [
        f"<reminder.{appointment['id']}.24h@{DOMAIN}>",
        f"<reminder.{appointment['id']}.2h@{DOMAIN}>",
    ]
    # A second appointment, cancelled: its reminders never go out.
    clock.set(START_UTC - timedelta(days=3))
    other = book(practice, name="Второй Клиент", start="2026-12-03T13:00:00+03:00")
    assert (
        practice.post(
            f"/api/public/booking/appointments/{other['id']}/cancel",
            json={"token": other["manage_token"]},
        ).status_code
        == 200
    )
    deliver(container)
    mail_sink.clear()
    clock.set(START_UTC + timedelta(hours=1))  # past all of its reminder times
    deliver(container)
    assert mail_sink.messages() == []


def reschedule(client: TestClient, appointment: dict[str, Any], start: str) -> None:
    answer = client.post(
        f"/api/public/booking/appointments/{appointment['id']}/reschedule",
        json={"token": appointment["manage_token"], "start": start},
    )
    assert answer.status_code == 200, answer.text


def test_a_move_is_told_once_per_move_with_a_newer_ics_and_reminders_follow_the_new_time(
    practice: TestClient, container: Container, mail_sink: MailSinkClient, clock: FakeClock
) -> None:
    appointment = book(practice)
    deliver(container)
    mail_sink.clear()
    reschedule(practice, appointment, "2026-12-03T15:00:00+03:00")
    deliver(container)
    deliver(container)
    moved, notice = mail_sink.messages()
    assert moved["message_id"] == f"<rescheduled.{appointment['id']}.1@{DOMAIN}>"
    assert moved["to"] == ["maria@example.com"]
    assert "17:00" in moved["text"], "the new time, in the client's zone (Yekaterinburg)"
    assert "13:00" in moved["text"], "and the old one"
    assert notice["message_id"] == f"<practitioner.{appointment['id']}.moved.1@{DOMAIN}>"
    assert notice["to"] == [PRACTITIONER]
    (ics,) = [
        part
        for part in parsed(mail_sink, moved).iter_attachments()
        if part.get_content_type() == "text/calendar"
    ]
    event = icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert str(event["UID"]) == f"{appointment['id']}@balance-booking"
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    # Moved again before anything was sent: only the newest move is told, numbered 2.
    mail_sink.clear()
    reschedule(practice, appointment, "2026-12-03T16:00:00+03:00")
    reschedule(practice, appointment, "2026-12-03T17:00:00+03:00")
    deliver(container)
    assert [m["message_id"] for m in mail_sink.messages() if m["to"] != [PRACTITIONER]] == [
        f"<rescheduled.{appointment['id']}.3@{DOMAIN}>"
    ]
    # Reminders go by the new time (17:00 Moscow = 14:00 UTC), once each; none by the old one.
    mail_sink.clear()
    new_start = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    clock.set(START_UTC - timedelta(hours=2))  # the old 2 h time: only the new 24 h one is due
    deliver(container)
    (day_before,) = mail_sink.messages()
    assert day_before["message_id"] == f"<reminder.{appointment['id']}.24h@{DOMAIN}>"
    assert "19:00" in day_before["subject"], "the new time (14:00 UTC) in Yekaterinburg"
    clock.set(new_start - timedelta(hours=2))
    deliver(container)
    deliver(container)
    reminders = [m["message_id"] for m in mail_sink.messages()]
    assert reminders == [
        f"<reminder.{appointment['id']}.24h@{DOMAIN}>",
        f"<reminder.{appointment['id']}.2h@{DOMAIN}>",
    ]


def test_the_host_header_reaches_no_link_in_an_email(
    practice: TestClient, container: Container, mail_sink: MailSinkClient
) -> None:
    answer = practice.post(
        "/api/public/booking/appointments",
        headers={"Host": "evil.example"},
        json={
            "service_slug": "session",
            "start": START,
            "timezone": "Europe/Moscow",
            "client": {"name": NAME, "email": "maria@example.com"},
        },
    )
    assert answer.status_code == 201, answer.text
    deliver(container)
    messages = mail_sink.messages()
    assert messages
    for message in messages:
        raw = mail_sink.raw(message["id"]).decode("utf-8", "replace")
        assert "evil.example" not in raw
        assert "evil.example" not in message["text"] + message["html"]
    assert BASE in messages[0]["text"]


def test_an_admin_booking_without_notify_sends_the_client_nothing(
    practice: TestClient, container: Container, mail_sink: MailSinkClient, clock: FakeClock
) -> None:
    answer = practice.post(
        "/api/admin/appointments",
        json={
            "service_slug": "session",
            "start": START,
            "timezone": "Europe/Moscow",
            "client": {"name": NAME, "email": "maria@example.com"},
            "notify": False,
        },
    )
    assert answer.status_code == 201, answer.text
    clock.set(START_UTC - timedelta(hours=1))
    deliver(container)
    assert received(mail_sink) == [("practitioner", PRACTITIONER)]


def test_a_refused_address_parks_that_message_only_and_the_admin_retries_it(
    practice: TestClient, container: Container, mail_sink: MailSinkClient
) -> None:
    mail_sink.reject(["maria@example.com"])
    appointment = book(practice)
    deliver(container)
    assert received(mail_sink) == [("practitioner", PRACTITIONER)]
    [parked] = practice.get("/api/admin/outbox/parked").json()["messages"]
    assert (parked["kind"], parked["topic"], parked["appointment_id"]) == (
        "email",
        "confirmed",
        appointment["id"],
    )
    assert "550" in parked["reason"]
    assert "maria@example.com" not in parked["reason"]
    mail_sink.reject([])
    retried = practice.post(f"/api/admin/outbox/{parked['id']}/retry")
    assert retried.status_code == 200
    assert practice.post(f"/api/admin/outbox/{parked['id']}/retry").status_code == 404
    deliver(container)
    assert [kind for kind, _ in received(mail_sink)] == ["practitioner", "confirmed"]
    assert practice.get("/api/admin/outbox/parked").json()["messages"] == []


def test_english_and_russian_messages(
    practice: TestClient, container: Container, mail_sink: MailSinkClient
) -> None:
    book(practice, language="en")
    deliver(container)
    english, notice = mail_sink.messages()
    assert english["subject"] == "You are booked: Консультация"
    assert "Thursday, 3 December 2026, 1:00\u202fPM (Yekaterinburg)" in english["text"]
    assert notice["subject"].startswith("Новая запись: четверг, 3 декабря 2026, 11:00 (Москва)")


def test_a_line_break_in_a_name_cannot_add_a_header(
    practice: TestClient, container: Container, mail_sink: MailSinkClient
) -> None:
    answer = practice.post(
        "/api/public/booking/appointments",
        json={
            "service_slug": "session",
            "start": START,
            "timezone": "Europe/Moscow",
            "client": {
                "name": "Eve\r\nBcc: victim@example.net",
                "email": "eve@example.com",
            },
        },
    )
    assert answer.status_code == 201, answer.text  # names may hold anything; headers may not
    deliver(container)
    for message in mail_sink.messages():
        assert "victim@example.net" not in message["to"]
        headers = parsed(mail_sink, message)
        assert headers["Bcc"] is None
        assert all("victim" not in str(value) for value in headers.values())


def test_the_integrations_page_shows_email_and_retries_a_parked_message(
    practice: TestClient, container: Container, mail_sink: MailSinkClient
) -> None:
    mail_sink.reject(["maria@example.com"])
    book(practice)
    deliver(container)
    [parked] = practice.get("/api/admin/outbox/parked").json()["messages"]
    # A browser: the admin signs in with a (Secure, since the base URL is https) session cookie.
    page = TestClient(practice.app, base_url="https://testserver")
    create_admin(container, email="owner@example.org", password="a long passphrase")
    signed_in = page.post(
        "/admin/login",
        data={"email": "owner@example.org", "password": "a long passphrase", "next": ""},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    html = page.get("/admin/settings/integrations").text
    assert 'data-email-status="ok"' in html
    assert f'data-parked-id="{parked["id"]}"' in html
    assert "550" in html
    csrf = page.get("/api/admin/session").json()["csrf_token"]
    mail_sink.reject([])
    retried = page.post(
        f"/admin/settings/integrations/outbox/{parked['id']}/retry",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert retried.status_code == 303
    assert retried.headers["location"].endswith("result=retried")
    deliver(container)
    assert [kind for kind, _ in received(mail_sink)] == ["practitioner", "confirmed"]
    assert "data-parked-id" not in page.get("/admin/settings/integrations").text
