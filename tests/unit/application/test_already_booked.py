"""BookAppointment's answer to a client booking the slot they hold: AlreadyBookedError, the
confirmation queued again at most once per 10 minutes, nothing when the practice sends no e-mail
(tests/integration/test_already_booked.py runs it over HTTP, both databases, real SMTP)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from balance_booking.application.errors import AlreadyBookedError
from balance_booking.application.messages import MailPolicy
from balance_booking.domain.appointments import Client
from tests.unit.application.wiring import CLIENT, SlotUnavailableError, World, request


def client_rows(world: World) -> list[str]:
    return [
        str(row.payload["reference"])
        for row in world.db.outbox_rows()
        if row.kind == "email" and row.payload and "notice" not in row.payload
    ]


def test_without_e_mail_it_is_already_booked_and_says_nothing_was_sent(ready: World) -> None:
    ready.book.execute(request())
    with pytest.raises(AlreadyBookedError) as refused:
        ready.book.execute(request())
    assert refused.value.email_resent is False
    assert ready.db.tracked() == []
    assert ready.metrics.count("already_booked") == 1


def test_the_confirmation_is_queued_again_at_most_every_ten_minutes() -> None:
    world = World(mail=MailPolicy(enabled=True)).given()
    booked = world.book.execute(request()).appointment
    for _ in range(3):
        with pytest.raises(AlreadyBookedError) as refused:
            world.book.execute(request(client=replace(CLIENT, email="ANNA@example.COM")))
        assert refused.value.email_resent is True
    world.clock.advance(timedelta(minutes=10))
    with pytest.raises(AlreadyBookedError):
        world.book.execute(request())
    again = [ref for ref in client_rows(world) if ".again-" in ref]
    assert len(again) == 2, client_rows(world)
    assert all(ref.startswith(f"confirmed.{booked.id}.again-") for ref in again)


def test_another_person_at_that_time_is_a_conflict(ready: World) -> None:
    ready.book.execute(request())
    with pytest.raises(SlotUnavailableError):
        ready.book.execute(request(client=Client(name="Борис", email="boris@example.com")))
    assert [t.event for t in ready.db.tracked()] == ["booking_conflict"]
