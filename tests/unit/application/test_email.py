"""E-mail through the outbox, on fakes: which messages a change queues, what each says, retries,
parking, reminders by a moved clock, and that e-mail never waits for Google."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest

from balance_booking.application.email import EmailMessages, MailLinks, mail_domain
from balance_booking.application.messages import MailPolicy
from balance_booking.application.outbox import Backoff, OutboxDispatcher
from balance_booking.application.outbox_admin import (
    EmailStatus,
    GetEmailStatus,
    ListParkedMessages,
    RetryParkedMessage,
)
from balance_booking.application.ports import (
    InviteStatus,
    Mail,
    MailKind,
    OutboxKind,
    PractitionerNotice,
)
from balance_booking.domain.appointments import AppointmentStatus
from tests.fakes.clock import START
from tests.fakes.mail import FakeMailer
from tests.fakes.outbox import FakeOutboxRow
from tests.unit.application.wiring import CLIENT, SESSION, World, moscow, request

PRACTITIONER = "therapist@example.org"
PAID = replace(SESSION, slug="paid", title="Платная", requires_payment=True)
MAIL_ON = MailPolicy(
    enabled=True, practitioner=True, reminders=(timedelta(hours=24), timedelta(hours=2))
)


@dataclass
class Post:
    """A world with e-mail on: the fakes, the email kind's handler and the dispatcher."""

    world: World
    mailer: FakeMailer

    def dispatcher(self) -> OutboxDispatcher:
        world = self.world
        handlers = {OutboxKind.EMAIL.value: self.handler()}
        if world.record().status == "connected":
            handlers[OutboxKind.GOOGLE_CALENDAR.value] = world.google_messages  # type: ignore[assignment]
        return OutboxDispatcher(
            readers=world.db,
            writers=world.db,
            handlers=handlers,
            clock=world.clock,
            metrics=world.metrics,
            backoff=Backoff(jitter=lambda: 0.0),
        )

    def handler(self) -> EmailMessages:
        world = self.world
        return EmailMessages(
            readers=world.db,
            writers=world.db,
            mailer=self.mailer,
            links=MailLinks(
                public_base_url="https://balance.example.org",
                manage_tokens=world.manage_tokens,
            ),
            domain=mail_domain("Эмоциональный баланс <booking@balance.example.org>"),
            practitioner_email=PRACTITIONER,
            default_timezone="Europe/Moscow",
            clock=world.clock,
        )

    def deliver(self) -> list[Mail]:
        """Run the dispatcher until nothing is due; the messages sent by this call."""
        before = len(self.mailer.sent)
        while self.dispatcher().execute().claimed:
            pass
        return self.mailer.sent[before:]

    def pending(self, topic: MailKind) -> list[FakeOutboxRow]:
        return [
            row
            for row in self.world.db.outbox_rows()
            if row.kind == OutboxKind.EMAIL and row.topic == topic and row.status == "pending"
        ]


@pytest.fixture
def post() -> Post:
    world = World(mail=MAIL_ON).given(SESSION, PAID)
    return Post(world=world, mailer=FakeMailer())


def book(post: Post, *, service: str = "session", day: int = 2, hour: int = 11) -> UUID:
    booked = post.world.book.execute(request(moscow(day, hour), service=service))
    return booked.appointment.id


def kinds(mails: list[Mail]) -> list[tuple[str, str | None]]:
    return [(m.kind.value, None if m.notice is None else m.notice.value) for m in mails]


# --- what a change queues and what each message says -------------------------------------------


def test_a_booking_confirms_to_the_client_and_tells_the_practitioner(post: Post) -> None:
    appointment_id = book(post)
    sent = post.deliver()
    assert kinds(sent) == [("confirmed", None), ("practitioner", "booked")]
    confirmed, notice = sent
    assert confirmed.to == CLIENT.email
    assert confirmed.message_id == f"<confirmed.{appointment_id}@balance.example.org>"
    assert confirmed.recipient_name == CLIENT.name
    assert confirmed.timezone == "Asia/Kolkata", "the client's own zone"
    assert confirmed.start == moscow(2, 11)
    # The manage link opens this appointment: its token is the one booking answered with.
    link = urlsplit(confirmed.manage_url or "")
    assert (link.scheme, link.netloc, link.path) == (
        "https",
        "balance.example.org",
        f"/booking/manage/{appointment_id}",
    )
    assert parse_qs(link.query)["token"] == [post.world.manage_tokens.token(appointment_id)]
    invite = confirmed.invite
    assert invite is not None
    assert (invite.uid, invite.start, invite.end, invite.status) == (
        f"{appointment_id}@balance-booking",
        moscow(2, 11),
        moscow(2, 11, 50),
        InviteStatus.CONFIRMED,
    )
    assert notice.to == PRACTITIONER
    assert notice.message_id == f"<practitioner.{appointment_id}.booked@balance.example.org>"
    assert (notice.client_name, notice.client_email, notice.client_phone) == (
        CLIENT.name,
        CLIENT.email,
        CLIENT.phone,
    )
    assert notice.timezone == "Europe/Moscow", "the owner's zone"
    assert notice.admin_url == "https://balance.example.org/admin/schedule/"
    assert notice.recipient_name is None
    assert notice.manage_url is None
    assert post.deliver() == [], "each message once"


def test_a_hold_then_its_confirmation(post: Post) -> None:
    appointment_id = book(post, service="paid")
    held, notice = post.deliver()
    assert (held.kind, notice.notice) == (MailKind.PENDING_PAYMENT, PractitionerNotice.HELD)
    assert held.hold_expires_at == START + timedelta(minutes=15)
    assert held.invite is not None
    assert held.invite.status is InviteStatus.TENTATIVE
    assert post.pending(MailKind.REMINDER) == [], "no reminders for a hold"
    post.world.confirm.execute(appointment_id)
    assert kinds(post.deliver()) == [("confirmed", None), ("practitioner", "confirmed")]
    assert len(post.pending(MailKind.REMINDER)) == 2


@pytest.mark.parametrize("by", ["client", "admin"])
def test_a_cancellation_is_told_once_and_drops_the_reminders(post: Post, by: str) -> None:
    appointment_id = book(post)
    post.deliver()
    assert len(post.pending(MailKind.REMINDER)) == 2
    token = post.world.manage_tokens.token(appointment_id) if by == "client" else None
    post.world.cancel.execute(appointment_id, token=token)
    assert post.pending(MailKind.REMINDER) == []
    sent = post.deliver()
    assert kinds(sent) == [("cancelled", None), ("practitioner", "cancelled")]
    cancelled = sent[0]
    assert cancelled.manage_url is None
    assert cancelled.book_again_url == "https://balance.example.org/booking/slot/?service=session"
    assert not cancelled.lapsed
    # Past every reminder time: nothing more is ever sent.
    post.world.clock.set(moscow(2, 12))
    assert post.deliver() == []


def test_a_lapsed_hold_says_so(post: Post) -> None:
    book(post, service="paid")
    post.deliver()
    post.world.clock.advance(timedelta(minutes=16))
    assert post.world.expire_holds.execute() == 1
    lapsed, notice = post.deliver()
    assert (lapsed.kind, lapsed.lapsed, notice.notice) == (
        MailKind.CANCELLED,
        True,
        PractitionerNotice.LAPSED,
    )


def test_a_confirmation_still_queued_after_a_cancel_is_not_sent(post: Post) -> None:
    appointment_id = book(post)
    post.world.cancel.execute(appointment_id, token=None)
    assert [m.kind for m in post.deliver() if m.to == CLIENT.email] == [MailKind.CANCELLED]


def test_the_clients_language_is_kept_for_its_messages(post: Post) -> None:
    english = replace(request(moscow(2, 11)), language="en")
    post.world.book.execute(english)
    client, notice = post.deliver()
    assert (client.language, notice.language) == ("en", "ru"), "the practice reads Russian"


def test_nothing_is_queued_while_email_is_off() -> None:
    world = World().given()
    world.book.execute(request(moscow(2, 11)))
    assert {row.kind for row in world.db.outbox_rows()} == {OutboxKind.GOOGLE_CALENDAR}


def test_no_practitioner_notice_without_an_address() -> None:
    world = World(mail=replace(MAIL_ON, practitioner=False)).given()
    world.book.execute(request(moscow(2, 11)))
    topics = [row.topic for row in world.db.outbox_rows() if row.kind == OutboxKind.EMAIL]
    assert MailKind.PRACTITIONER not in topics


# --- reminders, by a moved clock -------------------------------------------------------------


def test_reminders_go_out_at_their_time_once_each(post: Post) -> None:
    appointment_id = book(post, day=3, hour=11)  # Thursday 11:00, three days ahead
    post.deliver()
    post.world.clock.set(moscow(2, 10, 59))
    assert post.deliver() == [], "not before 24 h"
    post.world.clock.set(moscow(2, 11))
    [day_before] = post.deliver()
    assert (day_before.kind, day_before.lead) == (MailKind.REMINDER, timedelta(hours=24))
    assert day_before.message_id == f"<reminder.{appointment_id}.24h@balance.example.org>"
    assert day_before.manage_url is not None
    post.world.clock.set(moscow(3, 9, 30))
    [two_hours] = post.deliver()
    assert two_hours.lead == timedelta(hours=2)
    assert two_hours.message_id == f"<reminder.{appointment_id}.2h@balance.example.org>"
    post.world.clock.set(moscow(3, 10, 59))
    assert post.deliver() == []


def test_a_reminder_whose_time_had_passed_at_booking_is_never_planned(post: Post) -> None:
    post.world.clock.set(moscow(2, 6))
    book(post, day=2, hour=11)  # five hours ahead: the 24 h reminder is already late
    leads = [(row.payload or {})["lead_minutes"] for row in post.pending(MailKind.REMINDER)]
    assert leads == [120]


def test_a_reminder_planned_for_another_start_is_not_sent(post: Post) -> None:
    book(post, day=3, hour=11)
    post.deliver()
    # A reminder planned before a move (issue 14 re-plans them): its start no longer holds.
    with post.world.db() as uow:
        for row in post.pending(MailKind.REMINDER):
            stale = dict(row.payload or {}) | {"start": moscow(3, 15).isoformat()}
            uow.outbox.rewrite(row.message_id, payload=stale, now=START)  # type: ignore[attr-defined]
        uow.commit()
    for moment in (moscow(2, 11), moscow(3, 9, 30)):
        post.world.clock.set(moment)
        assert post.deliver() == []
    assert post.pending(MailKind.REMINDER) == [], "both done without a message"


# --- failures: retried, parked, retried by the admin ---------------------------------------------


def test_smtp_down_never_blocks_a_booking_and_the_message_arrives_once_after(post: Post) -> None:
    post.mailer.down = True
    appointment_id = book(post)
    assert post.world.appointment(appointment_id).status is AppointmentStatus.CONFIRMED
    report = post.dispatcher().execute()
    assert (report.retried, report.done) == (1, 0), "one try, then the kind waits its backoff"
    status = GetEmailStatus(
        readers=post.world.db, enabled=True, practitioner_notices=True, reminders=("24h", "2h")
    ).execute()
    assert status.status is EmailStatus.FAILING
    assert status.failing_since == START
    assert status.last_error == "SMTP connection refused"
    post.mailer.down = False
    post.world.clock.advance(timedelta(minutes=5))
    assert kinds(post.deliver()) == [("confirmed", None), ("practitioner", "booked")]
    assert post.deliver() == []
    healthy = GetEmailStatus(
        readers=post.world.db, enabled=True, practitioner_notices=True, reminders=()
    ).execute()
    assert (healthy.status, healthy.failing_since) == (EmailStatus.OK, None)


def test_a_day_of_failures_parks_the_message_and_the_admin_can_retry_it(post: Post) -> None:
    post.mailer.down = True
    book(post, day=4)  # its reminders are due long after this test's day
    # A failing row stops its kind for the batch; the row behind it has been undeliverable as
    # long, so both are parked once a day has passed.
    for _ in range(26):
        post.world.clock.advance(timedelta(hours=1))
        post.dispatcher().execute()
    parked = ListParkedMessages(readers=post.world.db).execute()
    assert sorted(p.message.topic for p in parked) == ["confirmed", "practitioner"]
    assert all("after 1 day" in (p.reason or "") for p in parked)
    post.mailer.down = False
    for message in parked:
        RetryParkedMessage(writers=post.world.db, clock=post.world.clock).execute(
            message.message.message_id
        )
    assert kinds(post.deliver()) == [("confirmed", None), ("practitioner", "booked")]
    assert ListParkedMessages(readers=post.world.db).execute() == []


def test_an_address_the_server_refuses_parks_that_message_only(post: Post) -> None:
    post.mailer.refused.add(CLIENT.email)
    book(post)
    sent = post.deliver()
    assert kinds(sent) == [("practitioner", "booked")]
    [parked] = ListParkedMessages(readers=post.world.db).execute()
    assert parked.message.topic == "confirmed"
    assert parked.reason is not None
    assert CLIENT.email not in parked.reason


def test_email_goes_out_while_google_is_disconnected(post: Post) -> None:
    assert post.world.record().status != "connected"
    book(post)
    assert kinds(post.deliver()) == [("confirmed", None), ("practitioner", "booked")]
    google = [r for r in post.world.db.outbox_rows() if r.kind == OutboxKind.GOOGLE_CALENDAR]
    assert [r.status for r in google] == ["pending"], "the Google write waits for a connection"


def test_email_status_is_off_without_smtp() -> None:
    status = GetEmailStatus(
        readers=World().db, enabled=False, practitioner_notices=False, reminders=()
    ).execute()
    assert status.status is EmailStatus.OFF
