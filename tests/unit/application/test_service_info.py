"""The words outside the pages: prices by CLDR (Babel) and the .ics text of a service."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from balance_booking.application.service_info import (
    format_label,
    invite_description,
    invite_location,
    price_text,
)
from balance_booking.domain.services import Price, Service, ServiceFormat

NBSP = "\xa0"
SERVICE = Service(
    slug="consultation",
    title="Консультация",
    duration=timedelta(minutes=50),
    description="Обычная сессия.",
    description_en="A regular session.",
    format=ServiceFormat.IN_PERSON,
    location="Москва, ул. Мясницкая, 24",
)


@pytest.mark.parametrize(
    ("amount", "currency", "language", "text"),
    [
        ("3500", "RUB", "ru", f"3{NBSP}500{NBSP}₽"),
        ("3500.00", "RUB", "ru", f"3{NBSP}500{NBSP}₽"),
        ("3500.5", "RUB", "ru", f"3{NBSP}500,50{NBSP}₽"),
        # CLDR English has no symbol for the rouble: the code, kept apart from the digits.
        ("3500", "RUB", "en", f"RUB{NBSP}3,500"),
        ("3500.5", "RUB", "en", f"RUB{NBSP}3,500.50"),
        ("99.9", "USD", "en", "$99.90"),
        ("99.9", "USD", "ru", f"99,90{NBSP}$"),
        ("1200", "EUR", "en", "€1,200"),
        ("1200", "KZT", "ru", f"1{NBSP}200{NBSP}KZT"),
    ],
)
def test_prices_follow_the_locale(amount: str, currency: str, language: str, text: str) -> None:
    assert price_text(Price(Decimal(amount), currency), language) == text


def test_the_ics_says_what_the_session_is_and_where_in_the_readers_language() -> None:
    ru = invite_description(SERVICE, "ru", note="Посмотреть или отменить запись: https://x")
    assert ru == (
        "Обычная сессия.\n\nОчно, в кабинете. Москва, ул. Мясницкая, 24\n\n"
        "Посмотреть или отменить запись: https://x"
    )
    en = invite_description(SERVICE, "en", note=None)
    assert en == "A regular session.\n\nIn person, at the office. Москва, ул. Мясницкая, 24"
    assert invite_location(SERVICE, "en") == "Москва, ул. Мясницкая, 24"


def test_an_online_session_without_a_note_is_still_located_online() -> None:
    online = replace(SERVICE, format=ServiceFormat.ONLINE, location=None, description=None)
    assert invite_location(online, "ru") == "Онлайн (видеосвязь)"
    assert invite_location(online, "en") == "Online (video call)"
    assert invite_description(online, "ru", note=None) == "Онлайн, по видеосвязи"
    assert invite_location(replace(online, format=ServiceFormat.EITHER), "ru") is None


def test_an_unknown_service_leaves_only_the_note() -> None:
    assert invite_description(None, "ru", note="ссылка") == "ссылка"
    assert invite_description(None, "ru", note=None) is None
    assert invite_location(None, "ru") is None


def test_every_format_has_words_in_both_languages() -> None:
    for language in ("ru", "en"):
        assert len({format_label(f, language) for f in ServiceFormat}) == len(ServiceFormat)
