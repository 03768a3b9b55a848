"""A service as the public pages show it (the booking page, its done screen, the manage page)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from balance_booking.application.service_info import price_text
from balance_booking.domain.services import Service


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What a first-time client reads about a service, in the page's language.

    `description_lang` is the language the description is actually written in: an English page
    shows the Russian text when there is no English one, marked `lang="ru"` for screen readers.
    """

    title: str
    minutes: int
    price: str | None  # formatted by the locale's CLDR pattern: "3 500 ₽", "RUB 3,500"
    format: str  # ServiceFormat value; the templates word it through the catalogs
    location: str | None
    description: str | None
    description_lang: str
    location_lang: str  # one text for both languages: "ru" when it is written in Cyrillic


_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def service_info(service: Service, lang: str) -> ServiceInfo:
    """`service` for a reader of `lang` ("ru" or "en")."""
    english = lang == "en"
    description = service.description_in(lang)
    return ServiceInfo(
        title=service.title_en if english and service.title_en else service.title,
        minutes=int(service.duration.total_seconds() // 60),
        price=None if service.price is None else price_text(service.price, lang),
        format=service.format.value,
        location=service.location,
        description=description,
        description_lang="en" if english and service.description_en else "ru",
        location_lang="ru" if _CYRILLIC.search(service.location or "") else lang,
    )
