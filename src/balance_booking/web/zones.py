"""Time zones as a person picks and reads them: CLDR's canonical zones and city names via Babel.

The picker offers the zones CLDR ties to a territory (Babel's `zone_territories`), which Babel
keeps under their current IANA ids (Asia/Kathmandu, Europe/Kyiv), plus UTC; the legacy names
(Asia/Katmandu, Europe/Kiev, US/Eastern) are CLDR's `zone_aliases` and map to those. The API
still accepts any IANA id: this module only decides what is offered and how it reads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone, get_timezone_location

UTC_ZONE = "Etc/UTC"
# U+2212, as CLDR and typography write a negative offset ("UTC−05:00").
_MINUS = "\u2212"


@dataclass(frozen=True, slots=True)
class ZoneName:
    """A canonical zone as the picker shows it in one language."""

    id: str
    city: str  # "Нью-Йорк"
    country: str  # "Соединенные Штаты"; empty for UTC


@dataclass(frozen=True, slots=True)
class ZoneChoice:
    """A zone in the picker at one instant: its names and the offset it has then."""

    name: ZoneName
    offset_minutes: int
    offset: str  # "UTC−05:00"


@functools.cache
def zone_aliases() -> dict[str, str]:
    """Legacy IANA names -> the canonical zone (CLDR's alias table, as Babel ships it)."""
    aliases: dict[str, str] = dict(get_global("zone_aliases"))
    # GMT and UTC have kept the same offset forever: one entry ("UTC") serves both.
    aliases = {alias: UTC_ZONE if zone == "Etc/GMT" else zone for alias, zone in aliases.items()}
    aliases["Etc/GMT"] = UTC_ZONE
    # "Factory" -> Etc/Unknown: no place to map to.
    known = available_timezones()
    aliases = {alias: zone for alias, zone in aliases.items() if zone in known}
    return dict(sorted(aliases.items()))


@functools.cache
def canonical_zones() -> tuple[str, ...]:
    """The ids the picker offers: CLDR's territory zones that zoneinfo can load, and UTC."""
    territories = dict(get_global("zone_territories"))
    known = available_timezones()
    aliases = zone_aliases()
    # Etc/GMT+5 and friends read backwards (POSIX signs) and belong to no place, nor do the
    # POSIX-style rule names (EST5EDT): only UTC stays of them.
    offered = {
        zone
        for zone in territories
        if zone in known and zone not in aliases and "/" in zone and not zone.startswith("Etc/")
    }
    offered.add(UTC_ZONE)
    return tuple(sorted(offered))


def canonical_zone(name: str) -> str:
    """The canonical id for `name` (an alias maps to its zone); other names come back as given."""
    return zone_aliases().get(name, name)


@functools.cache
def zone_name(zone: str, lang: str) -> ZoneName:
    """The zone's city and country in `lang` ("Катманду", "Непал"), from CLDR."""
    canonical = canonical_zone(zone)
    if canonical == UTC_ZONE:
        return ZoneName(id=canonical, city="UTC", country="")
    try:
        tz = get_timezone(canonical)
    except LookupError:
        return ZoneName(id=canonical, city=canonical.replace("_", " "), country="")
    city = get_timezone_location(tz, locale=lang, return_city=True)
    territory = get_global("zone_territories").get(canonical, "")
    country = Locale.parse(lang).territories.get(territory, "") if territory != "001" else ""
    return ZoneName(id=canonical, city=city, country=country)


def offset_label(minutes: int) -> str:
    """`UTC+05:45`, `UTC−05:00`, `UTC+00:00`."""
    sign = _MINUS if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


@functools.cache
def _zone(name: str) -> ZoneInfo:
    # ZoneInfo keeps only a few zones strongly; the picker reads ~420 of them on every page.
    return ZoneInfo(name)


def offset_minutes(zone: str, at: datetime) -> int:
    offset = at.astimezone(_zone(zone)).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


def zone_label(zone: str, lang: str, *, at: datetime) -> str:
    """`Нью-Йорк (UTC−05:00)`: the city and the offset the zone has at `at` (UTC alone: `UTC`)."""
    if canonical_zone(zone) == UTC_ZONE:
        return "UTC"
    return f"{zone_name(zone, lang).city} ({offset_label(offset_minutes(zone, at))})"


def zone_choices(lang: str, *, at: datetime) -> list[ZoneChoice]:
    """Every offered zone with the offset it has at `at`, west to east, then by city."""
    choices = []
    for zone in canonical_zones():
        minutes = offset_minutes(zone, at)
        choices.append(
            ZoneChoice(
                name=zone_name(zone, lang), offset_minutes=minutes, offset=offset_label(minutes)
            )
        )
    choices.sort(key=lambda c: (c.offset_minutes, c.name.city.casefold(), c.name.id))
    return choices


def picker_data(lang: str, *, at: datetime) -> dict[str, object]:
    """What the booking page's script needs: the zones (with English cities to search by on a
    Russian page) and the alias table, compact enough to inline in the page."""
    # Offsets change on the quarter hour at the finest (tzdata), so a quarter's list holds.
    utc = at.astimezone(UTC)
    quarter = utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
    return _picker_data(lang, quarter)


@functools.lru_cache(maxsize=8)
def _picker_data(lang: str, at: datetime) -> dict[str, object]:
    """Shared between requests: read it, never change it."""
    zones = [
        [
            c.name.id,
            c.name.city,
            c.name.country,
            c.offset,
            zone_name(c.name.id, "en").city if lang != "en" else "",
        ]
        for c in zone_choices(lang, at=at)
    ]
    return {"zones": zones, "aliases": zone_aliases()}


@functools.cache
def weekday_initials(lang: str) -> tuple[str, ...]:
    """Monday..Sunday abbreviated as CLDR writes them above a month ("пн", "Mon")."""
    days = Locale.parse(lang).days["stand-alone"]["abbreviated"]
    return tuple(str(days[i]) for i in range(7))
