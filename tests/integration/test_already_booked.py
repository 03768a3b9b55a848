"""409 `already_booked`: a client asking again for the slot they hold is told so (never "someone
else took it") and gets the confirmation with the manage link again, at most once per 10 minutes;
on SQLite and PostgreSQL, e-mail through the real SMTP sink."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container
from balance_booking.config import Settings
from tests.conftest import FakeClock
from tests.integration.test_email import deliver, set_up_practice
from tests.support.mail import MailSinkClient, with_mail_sink

pytestmark = pytest.mark.both_databases

BASE = "https://balance.example.org"
DOMAIN = "balance.example.org"
BOOK = "/api/public/booking/appointments"
START = "2026-12-03T11:00:00+03:00"  # Thursday, three days after the tests' clock
NAME = "Ольга-Маркер-51c2"  # may appear in e-mails, never in an error body or a log line
EMAIL = "olga.marker@example.com"


@pytest.fixture
def settings(settings: Settings, mail_sink: MailSinkClient) -> Iterator[Settings]:
    yield with_mail_sink(settings, mail_sink, public_base_url=BASE)
    mail_sink.reset()


@pytest.fixture
def practice(admin: TestClient) -> TestClient:
    return set_up_practice(admin)


def body(*, email: str = EMAIL, service: str = "session", start: str = START) -> dict[str, Any]:
    return {
        "service_slug": service,
        "start": start,
        "timezone": "Asia/Yekaterinburg",
        "client": {"name": NAME, "email": email, "phone": "+7 900 555-44-33"},
        "language": "ru",
    }


def post(client: TestClient, payload: dict[str, Any], key: str | None = None) -> Any:
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(BOOK, json=payload, headers=headers)


def confirmations(mail_sink: MailSinkClient) -> list[dict[str, Any]]:
    """The client's messages the sink kept (the practitioner gets none here)."""
    return [m for m in mail_sink.messages() if m["to"] == [EMAIL]]


def tracked(container: Container) -> list[str]:
    with container.engine.connect() as connection:
        return list(connection.execute(select(t.tracking_events.c.event)).scalars())


def test_booking_ones_own_slot_again_is_already_booked_not_a_conflict(
    practice: TestClient, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = post(practice, body())
    assert first.status_code == 201, first.text
    appointment = first.json()["appointment"]
    # The address typed in other letter case: the same person.
    again = post(practice, body(email="Olga.MARKER@Example.COM"))
    assert again.status_code == 409, again.text
    answer = again.json()
    assert answer == {
        "error": {"code": "already_booked", "message": "You are already booked for this time."},
        "email_resent": True,
    }
    # Nothing the request did not carry: no id, no token, no name, no other booking's data.
    text = again.text
    for secret in (appointment["id"], appointment["manage_token"], NAME, EMAIL):
        assert secret not in text
    assert tracked(container) == [], "not a booking_conflict"
    with container.engine.connect() as connection:
        assert len(connection.execute(select(t.appointments.c.id)).all()) == 1
    assert "booking_already_held" in caplog.text
    assert NAME not in caplog.text
    assert EMAIL not in caplog.text.lower()


def test_the_confirmation_with_the_manage_link_is_sent_again_at_most_every_10_minutes(
    practice: TestClient, container: Container, mail_sink: MailSinkClient, clock: FakeClock
) -> None:
    appointment = post(practice, body()).json()["appointment"]
    deliver(container)
    assert len(confirmations(mail_sink)) == 1
    assert post(practice, body()).status_code == 409
    deliver(container)
    first, resent = confirmations(mail_sink)
    assert first["message_id"] == f"<confirmed.{appointment['id']}@{DOMAIN}>"
    assert resent["message_id"].startswith(f"<confirmed.{appointment['id']}.again-")
    link = next(
        word
        for word in resent["text"].split()
        if word.startswith(f"{BASE}/booking/manage/{appointment['id']}?token=")
    )
    assert link.rpartition("token=")[2] == appointment["manage_token"]
    assert (
        practice.get(urlsplit(link).path, params={"token": appointment["manage_token"]}).status_code
        == 200
    )
    # Within 10 minutes: still already_booked (and said so), but no third message.
    clock.advance(timedelta(minutes=9, seconds=59))
    again = post(practice, body())
    assert again.status_code == 409
    assert again.json()["email_resent"] is True
    assert deliver(container) == 0
    assert len(confirmations(mail_sink)) == 2
    # Ten minutes after the re-send: once more.
    clock.advance(timedelta(seconds=1))
    assert post(practice, body()).status_code == 409
    deliver(container)
    assert len(confirmations(mail_sink)) == 3
    with container.engine.connect() as connection:
        resent_at = connection.execute(select(t.appointments.c.confirmation_resent_at)).scalar_one()
    assert resent_at == clock.now()


def test_the_idempotency_key_replays_first_and_another_key_is_already_booked(
    practice: TestClient,
) -> None:
    first = post(practice, body(), key="key-1")
    assert first.status_code == 201
    replay = post(practice, body(), key="key-1")
    assert replay.status_code == 201, "the same request is answered as the first time"
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    # The page reloaded (a new key), or no key at all: already booked.
    assert post(practice, body(), key="key-2").json()["error"]["code"] == "already_booked"
    assert post(practice, body()).json()["error"]["code"] == "already_booked"
    # The key with another body is still refused as reuse.
    other = post(practice, body(start="2026-12-03T12:00:00+03:00"), key="key-1")
    assert other.status_code == 422
    # A refused attempt stored nothing under its key: asked again, it is answered afresh.
    assert post(practice, body(), key="key-2").json()["error"]["code"] == "already_booked"


def test_someone_else_or_another_service_at_that_time_is_still_slot_unavailable(
    practice: TestClient, container: Container
) -> None:
    assert post(practice, body()).status_code == 201
    other = post(practice, body(email="someone.else@example.com"))
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "slot_unavailable"
    assert "email_resent" not in other.json()
    same_person_other_service = post(practice, body(service="paid"))
    assert same_person_other_service.json()["error"]["code"] == "slot_unavailable"
    assert tracked(container) == ["booking_conflict", "booking_conflict"]


def test_a_running_payment_hold_is_already_booked_and_its_message_is_sent_again(
    practice: TestClient, container: Container, mail_sink: MailSinkClient, clock: FakeClock
) -> None:
    held = post(practice, body(service="paid")).json()["appointment"]
    assert held["status"] == "pending_payment"
    deliver(container)
    again = post(practice, body(service="paid"))
    assert again.json()["error"]["code"] == "already_booked"
    deliver(container)
    kinds = [m["message_id"].strip("<>").split(".")[0] for m in confirmations(mail_sink)]
    assert kinds == ["pending_payment", "pending_payment"]
    # Once the hold has run out, the time is free again: booking it is a new booking.
    clock.advance(timedelta(minutes=16))
    rebooked = post(practice, body(service="paid"))
    assert rebooked.status_code == 201, rebooked.text
    assert rebooked.json()["appointment"]["id"] != held["id"]


def test_after_a_cancellation_the_slot_is_simply_booked_again(practice: TestClient) -> None:
    appointment = post(practice, body()).json()["appointment"]
    cancelled = practice.post(
        f"{BOOK}/{appointment['id']}/cancel", json={"token": appointment["manage_token"]}
    )
    assert cancelled.status_code == 200
    assert post(practice, body()).status_code == 201
