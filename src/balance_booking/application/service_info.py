"""What a client reads about a service outside the pages: the price in words, and the .ics text.

The pages word the same facts through their gettext catalogs; e-mails (adapters/mail/texts.py)
and the .ics files (the manage page's download and the e-mail attachments) take them from here,
so both .ics files say the same thing.
"""

from __future__ import annotations

import re

from balance_booking.domain.services import Price, Service, ServiceFormat

FORMAT_LABELS = {
    "ru": {
        ServiceFormat.ONLINE: "Онлайн, по видеосвязи",
        ServiceFormat.IN_PERSON: "Очно, в кабинете",
        ServiceFormat.EITHER: "Онлайн или очно — как вам удобнее",
    },
    "en": {
        ServiceFormat.ONLINE: "Online, by video call",
        ServiceFormat.IN_PERSON: "In person, at the office",
        ServiceFormat.EITHER: "Online or in person, as you prefer",
    },
}
# What LOCATION says for an online session whose practitioner wrote no note of her own.
_ONLINE = {"ru": "Онлайн (видеосвязь)", "en": "Online (video call)"}
_FRACTION = re.compile(r"\.0+")


def _language(language: str) -> str:
    return "ru" if language == "ru" else "en"


def format_label(service_format: ServiceFormat, language: str) -> str:
    """`Онлайн, по видеосвязи` / `Online, by video call`."""
    return FORMAT_LABELS[_language(language)][service_format]


def price_text(price: Price, language: str) -> str:
    """The price by the locale's CLDR pattern: `3 500 ₽` (ru), `RUB 3,500` (en), `€3,500.50`.

    Whole amounts drop the fraction. Where the currency symbol is letters ("RUB" in English) it
    is kept apart from the digits by a no-break space, as CLDR's currency spacing rule asks
    (Babel leaves that rule out).
    """
    # Imported here: a worker without e-mail never formats a price and need not load Babel's
    # number data (its memory budget, bootstrap.build_email_messages).
    from babel import Locale  # noqa: PLC0415
    from babel.numbers import format_currency, get_currency_symbol  # noqa: PLC0415

    locale = _language(language)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    whole = price.amount == price.amount.to_integral_value()
    text: str = format_currency(
        price.amount,
        price.currency,
        format=_FRACTION.sub("", pattern) if whole else pattern,
        locale=locale,
        currency_digits=False,
    )
    symbol: str = get_currency_symbol(price.currency, locale)
    if text.startswith(symbol) and symbol[-1].isalpha() and text[len(symbol) :][:1].isdigit():
        text = f"{symbol}\xa0{text[len(symbol) :]}"
    elif text.endswith(symbol) and symbol[0].isalpha() and text[: -len(symbol)][-1:].isdigit():
        text = f"{text[: -len(symbol)]}\xa0{symbol}"
    return text


def invite_location(service: Service | None, language: str) -> str | None:
    """The .ics LOCATION: the practitioner's own words (an address, or how the link arrives)."""
    if service is None:
        return None
    if service.location:
        return service.location
    return _ONLINE[_language(language)] if service.format is ServiceFormat.ONLINE else None


def invite_description(service: Service | None, language: str, *, note: str | None) -> str | None:
    """The .ics DESCRIPTION: what the session is, where it happens, then `note` (the link).

    Service facts only: never anything about the client.
    """
    parts: list[str] = []
    if service is not None:
        description = service.description_in(language)
        if description:
            parts.append(description)
        place = format_label(service.format, language)
        parts.append(f"{place}. {service.location}" if service.location else place)
    if note:
        parts.append(note)
    return "\n\n".join(parts) or None
