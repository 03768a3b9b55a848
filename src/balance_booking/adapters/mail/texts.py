"""What each kind of message says, in Russian first and in English.

Written for an anxious first-time client of a psychologist: warm, plain, no engineering words.
A `Letter` is the finished content of one message; the templates only lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from babel.dates import (
    format_datetime,
    format_timedelta,
    get_time_format,
    get_timezone,
    get_timezone_location,
)

from balance_booking.application.ports import Mail, MailKind, PractitionerNotice
from balance_booking.application.service_info import format_label, price_text
from balance_booking.domain.services import ServiceFormat

PRACTICE = {"ru": "Эмоциональный баланс", "en": "Emotional Balance"}


@dataclass(frozen=True, slots=True)
class Letter:
    subject: str
    greeting: str
    paragraphs: list[str]
    facts: list[tuple[str, str]] = field(default_factory=list)
    actions: list[tuple[str, str]] = field(default_factory=list)  # (label, absolute URL)
    closing: str = ""
    language: str = "ru"


def when(instant: datetime, zone: str, language: str) -> str:
    """`вторник, 1 декабря 2026, 11:00 (Москва)`: the local time with the zone's city, on the
    language's clock (CLDR: "1:00 PM" in English)."""
    tz = get_timezone(zone)
    clock = get_time_format("short", locale=language).pattern
    text = format_datetime(instant, f"EEEE, d MMMM y, {clock}", tzinfo=tz, locale=language)
    city = get_timezone_location(tz, locale=language, return_city=True)
    return f"{text} ({city})"


def _lead(lead: timedelta | None, language: str) -> str:
    if lead is None:
        return ""
    return format_timedelta(lead, threshold=2, locale=language, format="long")


_LOCATION_LABEL = {
    "ru": {
        ServiceFormat.ONLINE: "Как подключиться",
        ServiceFormat.IN_PERSON: "Адрес",
        ServiceFormat.EITHER: "Где",
    },
    "en": {
        ServiceFormat.ONLINE: "How to join",
        ServiceFormat.IN_PERSON: "Address",
        ServiceFormat.EITHER: "Where",
    },
}


def _service_facts(mail: Mail, language: str, *, price: bool) -> list[tuple[str, str]]:
    """Price (when `price`), format and place of the service: what a first-time client asks."""
    ru = language == "ru"
    facts: list[tuple[str, str]] = []
    if price and mail.service_price is not None:
        facts.append(("Стоимость" if ru else "Price", price_text(mail.service_price, language)))
    if mail.service_format is not None:
        facts.append(("Формат" if ru else "Format", format_label(mail.service_format, language)))
        if mail.service_location:
            facts.append((_LOCATION_LABEL[language][mail.service_format], mail.service_location))
    return facts


def _about(mail: Mail, language: str) -> list[str]:
    if not mail.service_description:
        return []
    return [
        ("О встрече: " if language == "ru" else "About the session: ") + mail.service_description
    ]


_NOTICE = {
    "ru": {
        PractitionerNotice.BOOKED: "Новая запись",
        PractitionerNotice.HELD: "Новая запись ждёт оплаты",
        PractitionerNotice.CONFIRMED: "Запись оплачена и подтверждена",
        PractitionerNotice.CANCELLED: "Запись отменена",
        PractitionerNotice.LAPSED: "Запись не оплачена вовремя и снята",
        PractitionerNotice.MOVED: "Запись перенесена",
    },
    "en": {
        PractitionerNotice.BOOKED: "New booking",
        PractitionerNotice.HELD: "New booking awaiting payment",
        PractitionerNotice.CONFIRMED: "Booking paid and confirmed",
        PractitionerNotice.CANCELLED: "Booking cancelled",
        PractitionerNotice.LAPSED: "Booking not paid in time and released",
        PractitionerNotice.MOVED: "Booking moved",
    },
}


def letter(mail: Mail) -> Letter:
    """The content of `mail` in its language."""
    ru = mail.language == "ru"
    lang = "ru" if ru else "en"
    at = when(mail.start, mail.timezone, lang)
    hello = (
        (f"Здравствуйте, {mail.recipient_name}!" if ru else f"Hello {mail.recipient_name},")
        if mail.recipient_name
        else ("Здравствуйте!" if ru else "Hello,")
    )
    sign = "С заботой, «Эмоциональный баланс»" if ru else "Warm regards, Emotional Balance"
    service = ("Встреча" if ru else "Session", mail.service_title)
    time = ("Время" if ru else "Time", at)
    manage = (
        [
            (
                "Посмотреть или отменить запись" if ru else "View or cancel the booking",
                mail.manage_url,
            )
        ]
        if mail.manage_url
        else []
    )
    match mail.kind:
        case MailKind.CONFIRMED:
            return Letter(
                subject=(
                    f"Вы записаны: {mail.service_title}"
                    if ru
                    else f"You are booked: {mail.service_title}"
                ),
                greeting=hello,
                paragraphs=[
                    "Ваша запись подтверждена. Мы будем рады вас видеть."
                    if ru
                    else "Your booking is confirmed. We look forward to seeing you.",
                    "Файл во вложении добавит встречу в ваш календарь. Если планы изменятся, запись можно отменить по ссылке ниже — это нормально, такое бывает."
                    if ru
                    else "The attached file adds the session to your calendar. If your plans change, you can cancel it with the link below — that is perfectly fine, it happens.",
                    *_about(mail, lang),
                ],
                facts=[service, time, *_service_facts(mail, lang, price=True)],
                actions=manage,
                closing=sign,
                language=lang,
            )
        case MailKind.PENDING_PAYMENT:
            until = when(mail.hold_expires_at or mail.start, mail.timezone, lang)
            return Letter(
                subject=(
                    f"Время забронировано: {mail.service_title}"
                    if ru
                    else f"Your time is held: {mail.service_title}"
                ),
                greeting=hello,
                paragraphs=[
                    "Мы придержали это время для вас. Запись станет окончательной после оплаты."
                    if ru
                    else "We are holding this time for you. The booking becomes final once it is paid.",
                    f"Бронь действует до {until}; после этого время снова станет свободным."
                    if ru
                    else f"The hold lasts until {until}; after that the time becomes free again.",
                    *_about(mail, lang),
                ],
                facts=[
                    service,
                    time,
                    ("Бронь до" if ru else "Held until", until),
                    *_service_facts(mail, lang, price=True),
                ],
                actions=manage,
                closing=sign,
                language=lang,
            )
        case MailKind.CANCELLED:
            first = (
                (
                    "Бронь этого времени закончилась до оплаты, поэтому запись снята."
                    if ru
                    else "The hold on this time ran out before payment, so the booking was released."
                )
                if mail.lapsed
                else ("Ваша запись отменена." if ru else "Your booking has been cancelled.")
            )
            return Letter(
                subject=(
                    f"Запись отменена: {mail.service_title}"
                    if ru
                    else f"Booking cancelled: {mail.service_title}"
                ),
                greeting=hello,
                paragraphs=[
                    first,
                    "Если захотите прийти в другое время, мы будем рады — выбрать его можно по ссылке ниже."
                    if ru
                    else "If you would like another time, you are very welcome — choose one with the link below.",
                ],
                facts=[service, ("Было назначено" if ru else "Was booked for", at)],
                actions=[("Записаться снова" if ru else "Book again", mail.book_again_url)]
                if mail.book_again_url
                else [],
                closing=sign,
                language=lang,
            )
        case MailKind.RESCHEDULED:
            facts = [service, ("Новое время" if ru else "New time", at)]
            if mail.previous_start is not None:
                facts.append(
                    (
                        "Прежнее время" if ru else "Previous time",
                        when(mail.previous_start, mail.timezone, lang),
                    )
                )
            facts.extend(_service_facts(mail, lang, price=False))
            return Letter(
                subject=(
                    f"Запись перенесена: {mail.service_title}"
                    if ru
                    else f"Booking moved: {mail.service_title}"
                ),
                greeting=hello,
                paragraphs=[
                    "Ваша запись перенесена на новое время. Файл во вложении обновит встречу в календаре."
                    if ru
                    else "Your booking has moved to a new time. The attached file updates it in your calendar."
                ],
                facts=facts,
                actions=manage,
                closing=sign,
                language=lang,
            )
        case MailKind.REMINDER:
            lead = _lead(mail.lead, lang)
            return Letter(
                subject=(
                    f"Напоминание: {mail.service_title}, {at}"
                    if ru
                    else f"Reminder: {mail.service_title}, {at}"
                ),
                greeting=hello,
                paragraphs=[
                    f"Напоминаем о вашей встрече — она через {lead}."
                    if ru
                    else f"A gentle reminder of your session — it is in {lead}.",
                    "Если не получается прийти, пожалуйста, отмените запись по ссылке ниже, чтобы время смог взять кто-то другой."
                    if ru
                    else "If you cannot make it, please cancel with the link below so that someone else can take the time.",
                ],
                facts=[service, time, *_service_facts(mail, lang, price=False)],
                actions=manage,
                closing=sign,
                language=lang,
            )
        case MailKind.PRACTITIONER:
            notice = mail.notice or PractitionerNotice.BOOKED
            title = _NOTICE[lang][notice]
            facts = [service, time, ("Клиент" if ru else "Client", mail.client_name or "—")]
            facts.append(("E-mail", mail.client_email or "—"))
            facts.append(("Телефон" if ru else "Phone", mail.client_phone or "—"))
            return Letter(
                subject=f"{title}: {at}",
                greeting="",
                paragraphs=[f"{title}."],
                facts=facts,
                actions=[("Открыть расписание" if ru else "Open the schedule", mail.admin_url)]
                if mail.admin_url
                else [],
                closing="",
                language=lang,
            )
        case MailKind.WAITLIST_OFFER:
            until = when(mail.offer_expires_at or mail.start, mail.timezone, lang)
            return Letter(
                subject=(f"Освободилось время: {at}" if ru else f"A time has opened up: {at}"),
                greeting=hello,
                paragraphs=[
                    "Освободилось время, которого вы ждали. Мы придержали его для вас."
                    if ru
                    else "A time you were waiting for has opened up. We are holding it for you.",
                    f"Подтвердите до {until}, иначе мы предложим его следующему."
                    if ru
                    else f"Please accept by {until}; after that it is offered to the next person.",
                ],
                facts=[service, time],
                actions=[("Записаться на это время" if ru else "Book this time", mail.accept_url)]
                if mail.accept_url
                else [],
                closing=sign,
                language=lang,
            )
        case MailKind.WAITLIST_REOPENED:
            return Letter(
                subject=("Запись снова открыта" if ru else "Booking is open again"),
                greeting=hello,
                paragraphs=[
                    "Вы оставили заявку в листе ожидания, когда мы не могли проверить свободное время. Теперь всё снова работает: свободное время видно на странице записи."
                    if ru
                    else "You joined the waiting list while we could not check the free times. Everything works again now: the free times are on the booking page.",
                    "Выберите удобное время, когда вам будет удобно. Если ничего не подойдёт, просто ответьте на это письмо."
                    if ru
                    else "Choose a time whenever it suits you. If nothing fits, simply reply to this message.",
                ],
                facts=[service],
                actions=[("Выбрать время" if ru else "Choose a time", mail.book_again_url)]
                if mail.book_again_url
                else [],
                closing=sign,
                language=lang,
            )
    raise ValueError(f"unknown mail kind {mail.kind}")
