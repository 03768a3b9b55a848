"""The confirmation e-mail tells a first-time client what the session is, what it costs and where
it happens, in the client's language; the attached .ics says the same; the practitioner's notice
and Google get none of the client-facing texts (issue 19)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import icalendar
import pytest

from balance_booking.adapters.ics import IcsFiles
from balance_booking.adapters.mail.texts import letter
from balance_booking.application.ports import Mail, MailKind
from balance_booking.domain.services import Price, ServiceFormat
from tests.fakes.mail import FakeMailer
from tests.unit.application.test_email import MAIL_ON, Post
from tests.unit.application.wiring import SESSION, World, moscow, request

NBSP = "\xa0"
DESCRIBED = replace(
    SESSION,
    title_en="Session",
    description="Знакомство на 30 минут.",
    description_en="A 30-minute introduction.",
    price=Price(Decimal("3500.00"), "RUB"),
    format=ServiceFormat.ONLINE,
    location="Ссылка на видеозвонок придёт на почту за день до встречи.",
)


@pytest.fixture
def post() -> Post:
    return Post(world=World(mail=MAIL_ON).given(DESCRIBED), mailer=FakeMailer())


def test_the_confirmation_carries_the_service_facts_in_russian(post: Post) -> None:
    post.world.book.execute(request(moscow(2, 11)))
    confirmed, notice = post.deliver()
    assert confirmed.kind is MailKind.CONFIRMED
    assert confirmed.service_title == "Сессия"
    assert confirmed.service_description == "Знакомство на 30 минут."
    assert confirmed.service_price == Price(Decimal(3500), "RUB")
    assert confirmed.service_format is ServiceFormat.ONLINE
    words = letter(confirmed)
    assert ("Стоимость", f"3{NBSP}500{NBSP}₽") in words.facts
    assert ("Формат", "Онлайн, по видеосвязи") in words.facts
    assert ("Как подключиться", DESCRIBED.location) in words.facts
    assert "О встрече: Знакомство на 30 минут." in words.paragraphs
    # The attached .ics: what the session is and how the link arrives; nothing about the client.
    assert confirmed.invite is not None
    event = icalendar.Calendar.from_ical(IcsFiles().invite(confirmed.invite)).walk("VEVENT")[0]
    assert str(event["DESCRIPTION"]).startswith("Знакомство на 30 минут.")
    assert str(event["LOCATION"]) == DESCRIBED.location
    assert "Анна" not in str(event.to_ical().decode())
    # The practitioner knows her own services: her notice stays about the booking.
    assert notice.kind is MailKind.PRACTITIONER
    assert (notice.service_description, notice.service_price, notice.service_location) == (
        None,
        None,
        None,
    )


def test_an_english_client_reads_the_english_title_and_description(post: Post) -> None:
    post.world.book.execute(replace(request(moscow(2, 11)), language="en"))
    confirmed, _notice = post.deliver()
    assert confirmed.service_title == "Session"
    words = letter(confirmed)
    assert words.subject == "You are booked: Session"
    assert ("Price", f"RUB{NBSP}3,500") in words.facts
    assert ("Format", "Online, by video call") in words.facts
    assert "About the session: A 30-minute introduction." in words.paragraphs


def test_a_reminder_repeats_where_and_how_to_join_but_not_the_price(post: Post) -> None:
    confirmed = letter(replace(post_mail(post), kind=MailKind.REMINDER))
    labels = [label for label, _ in confirmed.facts]
    assert "Как подключиться" in labels
    assert "Стоимость" not in labels


def test_a_service_without_facts_adds_only_its_format(post: Post) -> None:
    plain = replace(post_mail(post), service_price=None, service_location=None)
    words = letter(replace(plain, service_description=None))
    assert [label for label, _ in words.facts] == ["Встреча", "Время", "Формат"]
    assert not any(p.startswith("О встрече") for p in words.paragraphs)


def post_mail(post: Post) -> Mail:
    """The client's confirmation of a fresh booking."""
    post.world.book.execute(request(moscow(2, 11)))
    return post.deliver()[0]
