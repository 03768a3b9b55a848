"""Privacy use cases and the audit mechanism against the fakes: consent, export, erasure (and the
erasure that waits for its e-mail), the daily retention job, one audit entry per admin action."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from balance_booking.application.errors import ConsentRequiredError
from balance_booking.application.messages import MailPolicy
from balance_booking.application.privacy import finish_erasure
from balance_booking.domain.appointments import ERASED_NAME, AppointmentStatus, Client
from tests.unit.application.wiring import (
    CLIENT,
    ListAuditLog,
    World,
    auditing,
    identify,
    moscow,
    request,
)

POLICY = "https://balance.example.org/privacy"
OTHER = Client(name="Борис", email="boris@example.com")


def test_consent_is_required_when_a_policy_is_set_and_recorded_with_the_booking() -> None:
    world = World(privacy_policy_url=POLICY).given()
    with pytest.raises(ConsentRequiredError):
        world.book.execute(request())
    with pytest.raises(ConsentRequiredError):
        world.join_waitlist.execute(
            service_slug="session",
            client=CLIENT,
            timezone="Europe/Moscow",
            preferred=None,
            comment=None,
        )
    assert world.db.state.appointments == {}
    booked = world.book.execute(replace(request(), consent=True))
    (record,) = world.db.state.consents
    assert (record.appointment_id, record.policy_url, record.given_at) == (
        booked.appointment.id,
        POLICY,
        world.clock.now(),
    )


def test_without_a_policy_nothing_is_asked_and_nothing_recorded(ready: World) -> None:
    ready.book.execute(request())
    assert ready.db.state.consents == []


def test_the_export_holds_one_clients_data_only(ready: World) -> None:
    mine = ready.book.execute(request(moscow(1, 12))).appointment
    ready.book.execute(request(moscow(1, 14), client=OTHER))
    ready.join_waitlist.execute(
        service_slug="session",
        client=CLIENT,
        timezone="Europe/Moscow",
        preferred=None,
        comment="утром",
    )
    data = ready.export_client.execute("ANNA@example.com")
    assert [a.id for a, _ in data.appointments] == [mine.id]
    assert [w.email for w in data.waitlist] == ["anna@example.com"]


def test_erasure_cancels_the_future_and_erases_now_when_no_email_needs_the_address(
    ready: World,
) -> None:
    past = ready.book.execute(request(moscow(1, 12))).appointment
    future = ready.book.execute(request(moscow(3, 12))).appointment
    kept = ready.book.execute(request(moscow(3, 14), client=OTHER)).appointment
    ready.clock.advance(timedelta(days=2))
    counts = ready.erase_client.execute("anna@example.com")
    assert counts == {"appointments": 2, "cancelled": 1, "waitlist_entries": 0}
    assert ready.appointment(future.id).status is AppointmentStatus.CANCELLED
    assert ready.appointment(past.id).status is AppointmentStatus.CONFIRMED
    for erased in (past.id, future.id):
        assert ready.appointment(erased).client == Client(name=ERASED_NAME, email=None)
        assert ready.appointment(erased).comment is None
    assert ready.appointment(kept.id).client == OTHER


def test_with_email_on_the_cancelled_one_waits_for_its_message_and_no_practitioner_notice(
    world: World,
) -> None:
    mail = replace(world, mail=MailPolicy(enabled=True, practitioner=True)).given()
    future = mail.book.execute(request(moscow(3, 12))).appointment
    mail.erase_client.execute("anna@example.com")
    assert mail.appointment(future.id).client == CLIENT  # the cancellation e-mail needs it
    pending = {
        (row.topic, row.dedup_key)
        for row in mail.db.outbox_rows()
        if row.status == "pending" and row.kind == "email"
    }
    assert ("cancelled", f"email:cancelled.{future.id}") in pending
    assert not [key for topic, key in pending if topic == "practitioner" and "cancelled" in key]
    with mail.db() as uow:
        assert finish_erasure(uow, future.id, now=mail.clock.now())
        uow.commit()
    assert mail.appointment(future.id).client.email is None
    with mail.db() as uow:
        assert not finish_erasure(uow, future.id, now=mail.clock.now())  # once


def test_retention_runs_once_a_day_and_erases_exactly_what_is_due(world: World) -> None:
    mail = replace(world, mail=MailPolicy(enabled=True)).given()
    old = mail.book.execute(request(moscow(1, 12))).appointment
    young = mail.book.execute(request(moscow(2, 12), client=OTHER)).appointment
    waiting = mail.book.execute(request(moscow(3, 12), client=Client("В", "v@example.com")))
    mail.erase_client.execute("v@example.com")  # waits for its e-mail, which never goes
    job = mail.retention(days=30)
    mail.clock.advance(timedelta(days=31, hours=8))  # 1 Dec 12:50 + 30 days has passed
    counts = job.execute()
    assert counts is not None
    # The old one by retention; the waiting one's erasure waited two days for its e-mail.
    assert (counts["appointments"], counts["requested_erasures"]) == (1, 1)
    assert mail.appointment(old.id).client.email is None
    assert mail.appointment(waiting.appointment.id).client.email is None
    assert mail.appointment(young.id).client == OTHER
    assert job.execute() is None  # again the same day: skipped
    mail.clock.advance(timedelta(days=1))
    again = job.execute()
    assert again is not None
    assert again["appointments"] == 1  # the young one's 30 days are over now


def test_an_erasure_waiting_too_long_for_its_email_is_done_anyway(world: World) -> None:
    mail = replace(world, mail=MailPolicy(enabled=True)).given()
    future = mail.book.execute(request(moscow(18, 12))).appointment
    mail.erase_client.execute("anna@example.com")
    mail.clock.advance(timedelta(days=3))
    counts = mail.retention(days=365).execute()
    assert counts is not None
    assert counts["requested_erasures"] == 1
    assert mail.appointment(future.id).client.email is None


def test_an_admin_action_writes_one_entry_in_its_own_transaction(ready: World) -> None:
    with auditing("appointment.cancel", target="appointment_id=x", ip="198.51.100.7"):
        identify("therapist@example.org")
        booked = ready.book.execute(request())  # two write transactions: one entry
        ready.cancel.execute(booked.appointment.id, token=None)
    with auditing("service.update", ip="198.51.100.7"):
        pass  # nothing committed: no entry
    with auditing("admin.sign_in", ip="198.51.100.7"):
        ready.book.execute(request(moscow(1, 14)))  # no actor: nobody signed in, no entry
    ready.book.execute(request(moscow(1, 16)))  # not an admin action at all
    entries = ListAuditLog(ready.db).execute(moscow(1, 0) - timedelta(days=2), moscow(2, 0))
    assert [(e.actor, e.action, e.target, e.ip) for e in entries] == [
        ("therapist@example.org", "appointment.cancel", "appointment_id=x", "198.51.100.7")
    ]


def test_a_rolled_back_action_leaves_no_entry_and_the_next_commit_carries_it(ready: World) -> None:
    with auditing("service.update", ip=None):
        identify("token:ci")
        with ready.db() as uow:
            uow.tracking.track(
                "booking_conflict", {"service_slug": "session"}, at=ready.clock.now()
            )
            # leaves without commit: rolled back, and with it the entry
        assert ready.db.state.audit == []
        ready.book.execute(request())
    assert [e.actor for e in ready.db.state.audit] == ["token:ci"]
