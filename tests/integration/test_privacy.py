"""Privacy and data rights (API.md "Privacy and data rights"), on SQLite and PostgreSQL: consent,
retention by a moved clock, one client's export and erasure. "Gone" is proven the hard way: a raw
read of the SQLite file (and its write-ahead log) or a pg_dump finds none of the unique marker
strings seeded as the client's name, e-mail, phone and comment, while another client's markers,
seeded the same way, are still found (so the scan does see data)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from balance_booking.bootstrap import (
    Container,
    build_app,
    build_container,
    build_outbox_dispatcher,
    build_retention,
    create_admin_token,
)
from balance_booking.config import Settings
from tests.conftest import SESSION, FakeClock
from tests.support.booking import WEEKDAYS_10_TO_18
from tests.support.google import Emulator
from tests.support.mail import MailSinkClient, with_mail_sink
from tests.support.storage_scan import traces

pytestmark = pytest.mark.both_databases

POLICY = "https://balance.example.org/privacy"


@dataclass(frozen=True)
class Person:
    """A client whose every personal field is a unique marker string."""

    name: str
    email: str
    phone: str
    comment: str

    @classmethod
    def new(cls, label: str) -> Person:
        tag = uuid.uuid4().hex[:12]
        digits = str(uuid.uuid4().int)[:10]
        return cls(
            name=f"Клиент-{label}-{tag}",
            email=f"{label.lower()}-{tag}@example.org",
            phone=f"+7 {digits}",
            comment=f"Тревога-{label}-{tag}",
        )

    @property
    def markers(self) -> list[str]:
        return [self.name, self.email, self.phone, self.comment]


def book(client: TestClient, person: Person, start: str, *, consent: bool = True) -> Any:
    return client.post(
        "/api/public/booking/appointments",
        json={
            "service_slug": "session",
            "start": start,
            "timezone": "Europe/Moscow",
            "client": {"name": person.name, "email": person.email, "phone": person.phone},
            "comment": person.comment,
            "consent": consent,
        },
    )


def join_waitlist(client: TestClient, person: Person, *, consent: bool = True) -> Any:
    return client.post(
        "/api/public/booking/waitlist",
        json={
            "service_slug": "session",
            "name": person.name,
            "email": person.email,
            "phone": person.phone,
            "timezone": "Europe/Moscow",
            "comment": person.comment,
            "consent": consent,
        },
    )


def deliver(container: Container) -> None:
    dispatcher = build_outbox_dispatcher(container)
    while dispatcher.execute().claimed:
        pass


@pytest.fixture
def settings(settings: Settings, mail_sink: MailSinkClient) -> Iterator[Settings]:
    yield with_mail_sink(
        settings,
        mail_sink,
        practitioner_email="therapist@balance.example.org",
        privacy_policy_url=POLICY,
        retention_days=30,
    )
    mail_sink.reset()


@pytest.fixture
def practice(admin: TestClient) -> TestClient:
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
    assert admin.post("/api/admin/services", json=SESSION).status_code == 201
    return admin


def test_booking_and_waitlist_need_consent_and_leave_a_record(practice: TestClient) -> None:
    person = Person.new("Consent")
    refused = book(practice, person, "2026-12-03T11:00:00+03:00", consent=False)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "consent_required"
    assert refused.json()["error"]["field"] == "consent"
    assert join_waitlist(practice, person, consent=False).json()["error"]["code"] == (
        "consent_required"
    )

    booked = book(practice, person, "2026-12-03T11:00:00+03:00")
    assert booked.status_code == 201, booked.text
    entry = join_waitlist(practice, person)
    assert entry.status_code == 201, entry.text

    stored = practice.get("/api/admin/clients", params={"email": person.email}).json()
    consents = {(c["appointment_id"], c["waitlist_entry_id"]) for c in stored["consents"]}
    assert consents == {
        (booked.json()["appointment"]["id"], None),
        (None, entry.json()["id"]),
    }
    assert {c["policy_url"] for c in stored["consents"]} == {POLICY}
    assert all(c["given_at"].startswith("2026-11-30") for c in stored["consents"])


def test_without_a_policy_no_consent_is_asked_and_none_recorded(
    settings: Settings, clock: FakeClock
) -> None:
    plain = build_container(settings.model_copy(update={"privacy_policy_url": None}), clock=clock)
    try:
        with TestClient(build_app(plain)) as client:
            client.headers["Authorization"] = f"Bearer {create_admin_token(plain, name='t')}"
            assert client.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
            assert client.post("/api/admin/services", json=SESSION).status_code == 201
            person = Person.new("NoPolicy")
            booked = book(client, person, "2026-12-03T11:00:00+03:00", consent=False)
            assert booked.status_code == 201, booked.text
            stored = client.get("/api/admin/clients", params={"email": person.email}).json()
            assert len(stored["appointments"]) == 1
            assert stored["consents"] == []
    finally:
        plain.close()


def test_retention_erases_the_client_fields_and_keeps_the_appointment(
    practice: TestClient,
    container: Container,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old, recent = Person.new("Old"), Person.new("Recent")
    assert book(practice, old, "2026-12-03T11:00:00+03:00").status_code == 201
    assert join_waitlist(practice, old).status_code == 201
    assert book(practice, recent, "2026-12-10T11:00:00+03:00").status_code == 201
    tracked = practice.post(
        "/api/public/tracking",
        json={
            "event": "booking_conflict",
            "properties": {"service_slug": "session"},
        },
    )
    assert tracked.status_code in {201, 202, 204}, tracked.text
    deliver(container)  # confirmations and practitioner notices: the outbox has rows now
    retention = build_retention(container)

    # 29 days after the old appointment (32 after the waitlist entry and the tracking event):
    # those two go, the appointment stays, and the scan does see its data.
    clock.advance(timedelta(days=3 + 29))
    first = retention.execute()
    assert first is not None
    assert (first["appointments"], first["waitlist_entries"], first["tracking_events"]) == (0, 1, 1)
    assert traces(container.settings.database_url, old.markers) == old.markers

    clock.advance(timedelta(days=2))
    caplog.set_level(logging.DEBUG)
    counts = retention.execute()
    assert counts is not None
    assert (counts["appointments"], counts["waitlist_entries"]) == (1, 0)
    assert traces(container.settings.database_url, old.markers) == []
    assert traces(container.settings.database_url, recent.markers) == recent.markers
    job_log = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert "retention_applied" in job_log
    assert not [m for m in old.markers + recent.markers if m in job_log]

    # Still counted: the appointment is there, anonymous.
    listed = practice.get(
        "/api/admin/appointments", params={"from": "2026-12-03", "to": "2026-12-03"}
    ).json()["appointments"]
    assert [(a["status"], a["client_name"], a["client_email"]) for a in listed] == [
        ("confirmed", "—", None)
    ]
    # Once a day: a second run the same day does nothing, a forced one finds nothing to do.
    assert retention.execute() is None
    again = retention.execute(force=True)
    assert again is not None
    assert again["appointments"] == 0


@pytest.mark.google
def test_export_is_one_clients_data_and_erase_leaves_no_trace(
    *,
    connected: TestClient,
    container: Container,
    clock: FakeClock,
    mail_sink: MailSinkClient,
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    practice = connected
    caplog.set_level(logging.DEBUG)
    me, other = Person.new("Me"), Person.new("Other")
    past = book(practice, me, "2026-12-01T11:00:00+03:00").json()["appointment"]
    future = book(practice, me, "2026-12-03T11:00:00+03:00").json()["appointment"]
    theirs = book(practice, other, "2026-12-02T11:00:00+03:00").json()["appointment"]
    assert join_waitlist(practice, me).status_code == 201
    assert join_waitlist(practice, other).status_code == 201
    deliver(container)
    events = {e["id"]: e for e in emulator.events()}
    listed = practice.get(
        "/api/admin/appointments", params={"from": "2026-12-01", "to": "2026-12-03"}
    ).json()["appointments"]
    google_id = {a["id"]: a["calendar_event"]["id"] for a in listed}
    assert all(google_id[a["id"]] in events for a in (past, future, theirs))
    # Events in Google carry no one's personal data.
    assert not [m for m in me.markers + other.markers if m in str(emulator.events())]
    clock.advance(timedelta(days=2))  # Wednesday: the first appointment is over

    exported = practice.get(
        "/api/admin/clients", params={"email": me.email.upper(), "download": "true"}
    )
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    data = exported.json()
    assert [a["id"] for a in data["appointments"]] == [past["id"], future["id"]]
    assert data["appointments"][1]["comment"] == me.comment
    assert [w["email"] for w in data["waitlist"]] == [me.email]
    assert len(data["consents"]) == 3
    assert not [m for m in other.markers if m in exported.text]
    assert theirs["id"] not in exported.text

    mail_sink.clear()
    erased = practice.post("/api/admin/clients/erase", json={"email": me.email})
    assert erased.status_code == 200, erased.text
    assert erased.json() == {"erased": {"appointments": 2, "cancelled": 1, "waitlist_entries": 1}}
    deliver(container)

    # The future appointment is cancelled and the client is told; the practitioner gets no
    # notice carrying the name of someone who asked to be forgotten; its Google event is gone.
    live = {e["id"] for e in emulator.events() if e.get("status") != "cancelled"}
    assert google_id[future["id"]] not in live
    assert {google_id[past["id"]], google_id[theirs["id"]]} <= live
    listed = practice.get(
        "/api/admin/appointments", params={"from": "2026-12-01", "to": "2026-12-03"}
    ).json()["appointments"]
    statuses = {a["id"]: (a["status"], a["client_name"]) for a in listed}
    assert statuses[future["id"]] == ("cancelled", "—")
    assert statuses[past["id"]] == ("confirmed", "—")
    assert statuses[theirs["id"]] == ("confirmed", other.name)
    kinds = [m["message_id"].strip("<>").split(".")[0] for m in mail_sink.messages()]
    to_me = [k for k, m in zip(kinds, mail_sink.messages(), strict=True) if m["to"] == [me.email]]
    assert to_me == ["cancelled"]
    assert not [
        m
        for m in mail_sink.messages()
        if future["id"] in m["message_id"] and m["message_id"].startswith("<practitioner")
    ]

    assert traces(container.settings.database_url, me.markers) == []
    assert traces(container.settings.database_url, other.markers) == other.markers
    after = practice.get("/api/admin/clients", params={"email": me.email}).json()
    assert after == {"appointments": [], "waitlist": [], "consents": []}
    log = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert not [m for m in me.markers + other.markers if m in log]
    audit = practice.get("/api/admin/audit").json()["entries"]
    assert [e["action"] for e in audit[:3]] == ["client.export", "client.erase", "client.export"]
    assert me.email not in str(audit)
    assert me.email.upper() not in str(audit)
