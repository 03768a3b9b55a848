"""A service's client-facing facts: an exact price, plain texts, the format (issue 19)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from balance_booking.domain.errors import InvalidService
from balance_booking.domain.services import Price, Service, ServiceFormat

BASE = Service(slug="first-meeting", title="Первая встреча", duration=timedelta(minutes=30))


@pytest.mark.parametrize(
    ("amount", "minor"),
    [("3500", 350000), ("3500.00", 350000), ("3500.5", 350050), ("0.01", 1), ("0", 0)],
)
def test_a_price_is_exact_in_hundredths(amount: str, minor: int) -> None:
    price = Price(Decimal(amount), "RUB")
    assert price.minor_units == minor
    assert Price.from_minor_units(minor, "RUB") == price


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("3500.001", "RUB"),  # a third decimal place is not money
        ("-1", "RUB"),
        ("NaN", "RUB"),
        ("Infinity", "RUB"),
        ("10000000.01", "RUB"),
        ("1e30", "RUB"),
        ("3500", "rub"),
        ("3500", "RUBL"),
        ("3500", "₽"),
    ],
)
def test_a_price_refuses_what_is_not_money(amount: str, currency: str) -> None:
    with pytest.raises(InvalidService):
        Price(Decimal(amount), currency)


def test_a_price_is_never_a_float() -> None:
    with pytest.raises(InvalidService, match="Decimal"):
        Price(3500.0, "RUB")  # type: ignore[arg-type]


def test_a_service_without_facts_states_nothing_but_the_format() -> None:
    assert (BASE.description, BASE.description_en, BASE.price, BASE.location) == (None,) * 4
    assert BASE.format is ServiceFormat.EITHER


@pytest.mark.parametrize(
    "changes",
    [
        {"description": ""},
        {"description": "   "},
        {"description": "x" * 2001},
        {"description_en": "\x07bell"},
        {"location": "y" * 501},
        {"location": "\x00"},
        {"format": "online"},  # the enum, not its value
        {"price": "3500 RUB"},
    ],
)
def test_texts_are_plain_and_bounded(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidService):
        replace(BASE, **changes)


def test_line_breaks_are_plain_text() -> None:
    service = replace(BASE, description="Первая строка.\nВторая.\tИ табуляция.", location="a\r\nb")
    assert service.description is not None


def test_the_english_description_is_used_on_english_pages_when_there_is_one() -> None:
    both = replace(BASE, description="По-русски.", description_en="In English.")
    assert both.description_in("en") == "In English."
    assert both.description_in("ru") == "По-русски."
    russian_only = replace(BASE, description="По-русски.")
    assert russian_only.description_in("en") == "По-русски."
