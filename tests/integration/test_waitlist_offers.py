"""Waitlist offers end to end (API.md "Waitlist offers"), on SQLite and PostgreSQL: a freed slot
goes to the longest-waiting matching entry as an exclusive hold with one e-mail; accept books it,
decline or expiry hands it on; two answers racing for one offer make one appointment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from balance_booking.bootstrap import (
    Container,
    build_app,
    build_outbox_dispatcher,
    build_waitlist_matching,
)
from balance_booking.config import Settings
from tests.conftest import SESSION, FakeClock
from tests.support.booking import WEEKDAYS_10_TO_18
from tests.support.mail import MailSinkClient, with_mail_sink

pytestmark = pytest.mark.both_databases

BASE = "https://balance.example.org"
# Thursday 3 December 2026, 11:00 Moscow (the tests' clock: Monday 30 November, 09:00).
SLOT = "2026-12-03T11:00:00+03:00"
SLOT_UTC = "2026-12-03T08:00:00+00:00"
# A window that holds exactly that one slot.
WINDOW = {
    "preferred_from": "2026-12-03T11:00:00+03:00",
    "preferred_to": "2026-12-03T11:50:00+03:00",
}


@pytest.fixture
def settings(settings: Settings, mail_sink: MailSinkClient) -> Iterator[Settings]:
    yield with_mail_sink(settings, mail_sink, public_base_url=BASE, waitlist_offer_minutes=60)
    mail_sink.reset()


@pytest.fixture
def practice(admin: TestClient) -> TestClient:
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
    assert admin.post("/api/admin/services", json=SESSION).status_code == 201
    return admin


def book(client: TestClient, email: str, start: str = SLOT) -> Any:
    return client.post(
        "/api/public/booking/appointments",
        json={
            "service_slug": "session",
            "start": start,
            "timezone": "Europe/Moscow",
            "client": {"name": "Клиент", "email": email},
        },
    )


def join(client: TestClient, email: str, *, window: bool = True) -> str:
    body = {
        "service_slug": "session",
        "name": f"Ждущий {email}",
        "email": email,
        "timezone": "Asia/Yekaterinburg",
        "language": "en" if email.startswith("en") else "ru",
    } | (WINDOW if window else {})
    answer = client.post("/api/public/booking/waitlist", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def deliver(container: Container) -> None:
    dispatcher = build_outbox_dispatcher(container)
    while dispatcher.execute().claimed:
        pass


def offers_sent(mail_sink: MailSinkClient) -> list[tuple[str, str, str]]:
    """(recipient, offer id, token) of every offer e-mail, oldest first."""
    found = []
    for message in mail_sink.messages():
        if not message["message_id"].startswith("<waitlist_offer."):
            continue
        link = next(word for word in message["text"].split() if "/booking/offers/" in word).strip(
            "<>()"
        )
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}" == BASE
        offer_id = parts.path.rsplit("/", 1)[1]
        found.append((message["to"][0], offer_id, parse_qs(parts.query)["token"][0]))
    return found


def public_starts(client: TestClient) -> list[str]:
    answer = client.get(
        "/api/public/booking/slots",
        params={"service_slug": "session", "from": "2026-12-03", "to": "2026-12-03", "tz": "UTC"},
    )
    assert answer.status_code == 200, answer.text
    return [slot["start"] for slot in answer.json()["slots"]]


def entries(admin: TestClient) -> dict[str, dict[str, Any]]:
    listed = admin.get("/api/admin/waitlist").json()["entries"]
    return {entry["email"]: entry for entry in listed}


def test_a_cancel_offers_the_slot_to_the_longest_waiting_entry_who_declines_to_the_next(
    practice: TestClient, container: Container, clock: FakeClock, mail_sink: MailSinkClient
) -> None:
    taken = book(practice, "first@example.com").json()["appointment"]
    join(practice, "w1@example.com")
    clock.advance(timedelta(minutes=1))
    join(practice, "w2@example.com")
    clock.advance(timedelta(minutes=1))
    join(practice, "w3@example.com")
    match = build_waitlist_matching(container)
    assert match.execute()["offered"] == 0  # nothing free in the window yet

    cancelled = practice.post(f"/api/admin/appointments/{taken['id']}/cancel")
    assert cancelled.status_code == 200
    assert match.execute()["offered"] == 1
    assert match.execute()["offered"] == 0  # one offer per freed slot
    deliver(container)
    [(to, offer_id, token)] = offers_sent(mail_sink)
    assert to == "w1@example.com"
    # The hold: gone from the public answer, and nobody else can book it.
    assert not any(start.startswith("2026-12-03T08:00") for start in public_starts(practice))
    refused = book(practice, "sneaky@example.com")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "slot_unavailable"
    # The practitioner's "why is this time not offered" names the hold (one rule set).
    why = practice.get(
        "/api/admin/availability/explain", params={"service_slug": "session", "start": SLOT}
    ).json()
    assert (why["offered"], [r["code"] for r in why["reasons"]]) == (False, ["held"])
    state = entries(practice)
    assert state["w1@example.com"]["status"] == "offered"
    assert state["w1@example.com"]["offer"]["id"] == offer_id
    assert state["w2@example.com"]["status"] == "waiting"

    seen = practice.get(f"/api/public/booking/offers/{offer_id}", params={"token": token})
    assert seen.status_code == 200
    assert seen.json()["offer"]["start"] == "2026-12-03T13:00:00+05:00"  # the entry's zone
    assert (
        practice.get(
            f"/api/public/booking/offers/{offer_id}", params={"token": "wrong"}
        ).status_code
        == 404
    )
    declined = practice.post(
        f"/api/public/booking/offers/{offer_id}/decline", json={"token": token}
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["offer"]["status"] == "declined"

    assert match.execute()["offered"] == 1
    deliver(container)
    assert [to for to, _, _ in offers_sent(mail_sink)] == ["w1@example.com", "w2@example.com"]
    state = entries(practice)
    assert (state["w1@example.com"]["status"], state["w2@example.com"]["status"]) == (
        "waiting",
        "offered",
    )

    # Nobody answers: after an hour the offer runs out and goes to the next entry; when the
    # last one lets it run out too, the slot is free again for everyone.
    clock.advance(timedelta(minutes=61))
    counts = match.execute()
    assert (counts["expired"], counts["offered"]) == (1, 1)
    assert entries(practice)["w2@example.com"]["status"] == "expired"
    assert entries(practice)["w3@example.com"]["status"] == "offered"
    deliver(container)
    assert [to for to, _, _ in offers_sent(mail_sink)] == [
        "w1@example.com",
        "w2@example.com",
        "w3@example.com",
    ]
    clock.advance(timedelta(minutes=61))
    counts = match.execute()
    assert (counts["expired"], counts["offered"]) == (1, 0)
    assert any(start.startswith("2026-12-03T08:00") for start in public_starts(practice))


def test_accepting_books_the_time_and_a_second_answer_is_refused(
    practice: TestClient, container: Container, mail_sink: MailSinkClient
) -> None:
    taken = book(practice, "first@example.com").json()["appointment"]
    join(practice, "en-w1@example.com")
    assert practice.post(f"/api/admin/appointments/{taken['id']}/cancel").status_code == 200
    match = build_waitlist_matching(container)
    assert match.execute()["offered"] == 1
    deliver(container)
    [(_, offer_id, token)] = offers_sent(mail_sink)
    offer_mail = next(m for m in mail_sink.messages() if m["message_id"].startswith("<waitlist"))
    assert offer_mail["subject"].startswith("A time has opened up")  # the entry's language

    accepted = practice.post(f"/api/public/booking/offers/{offer_id}/accept", json={"token": token})
    assert accepted.status_code == 201, accepted.text
    appointment = accepted.json()["appointment"]
    assert (appointment["status"], appointment["start"]) == (
        "confirmed",
        "2026-12-03T13:00:00+05:00",
    )
    assert appointment["manage_token"]
    again = practice.post(f"/api/public/booking/offers/{offer_id}/accept", json={"token": token})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "offer_closed"
    assert entries(practice)["en-w1@example.com"]["status"] == "booked"
    listed = practice.get(
        "/api/admin/appointments", params={"from": "2026-12-03", "to": "2026-12-03"}
    ).json()["appointments"]
    active = [a for a in listed if a["status"] == "confirmed"]
    assert [(a["client_email"], a["client_name"]) for a in active] == [
        ("en-w1@example.com", "Ждущий en-w1@example.com")
    ]
    deliver(container)
    confirmed = [m for m in mail_sink.messages() if m["message_id"].startswith("<confirmed.")]
    # (The first client's confirmation was never sent: cancelled before the worker got to it.)
    assert [m["to"] for m in confirmed] == [["en-w1@example.com"]]


def test_two_answers_racing_for_one_offer_make_one_appointment(
    practice: TestClient, container: Container, mail_sink: MailSinkClient
) -> None:
    taken = book(practice, "first@example.com").json()["appointment"]
    join(practice, "race@example.com")
    assert practice.post(f"/api/admin/appointments/{taken['id']}/cancel").status_code == 200
    assert build_waitlist_matching(container).execute()["offered"] == 1
    deliver(container)
    [(_, offer_id, token)] = offers_sent(mail_sink)

    barrier = threading.Barrier(4)
    statuses: list[int] = []
    # The apps are built here, one after the other: building FastAPI apps in several threads at
    # once races inside pydantic's schema generation (a warning, an error in this suite).
    with ExitStack() as stack:
        clients = [stack.enter_context(TestClient(build_app(container))) for _ in range(4)]

        def accept(own: TestClient) -> None:
            barrier.wait()
            answer = own.post(
                f"/api/public/booking/offers/{offer_id}/accept", json={"token": token}
            )
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=accept, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(statuses) == [201, 409, 409, 409]
    listed = practice.get(
        "/api/admin/appointments", params={"from": "2026-12-03", "to": "2026-12-03"}
    ).json()["appointments"]
    assert len([a for a in listed if a["status"] == "confirmed"]) == 1


def test_an_entry_without_a_window_is_told_once_that_times_are_back(
    practice: TestClient, container: Container, mail_sink: MailSinkClient
) -> None:
    join(practice, "later@example.com", window=False)
    match = build_waitlist_matching(container)
    assert match.execute()["told"] == 1
    assert match.execute()["told"] == 0
    deliver(container)
    told = [m for m in mail_sink.messages() if m["message_id"].startswith("<waitlist_reopened.")]
    assert [m["to"] for m in told] == [["later@example.com"]]
    assert f"{BASE}/booking/slot/?service=session" in told[0]["text"]


def test_the_practitioner_removes_an_entry_and_its_hold_goes_with_it(
    practice: TestClient, container: Container
) -> None:
    taken = book(practice, "first@example.com").json()["appointment"]
    entry_id = join(practice, "gone@example.com")
    assert practice.post(f"/api/admin/appointments/{taken['id']}/cancel").status_code == 200
    assert build_waitlist_matching(container).execute()["offered"] == 1
    assert not any(start.startswith("2026-12-03T08:00") for start in public_starts(practice))
    assert practice.delete(f"/api/admin/waitlist/{entry_id}").status_code == 204
    assert practice.delete(f"/api/admin/waitlist/{entry_id}").status_code == 404
    assert entries(practice) == {}
    assert any(start.startswith("2026-12-03T08:00") for start in public_starts(practice))
