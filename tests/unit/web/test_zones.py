"""The time zones the booking page offers (CLDR canonical ones) and how they read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import pytest

from balance_booking.domain.availability import load_zone
from balance_booking.web.i18n import hour_cycle, time_pattern
from balance_booking.web.zones import (
    canonical_zone,
    canonical_zones,
    offset_label,
    picker_data,
    weekday_initials,
    zone_aliases,
    zone_choices,
    zone_label,
    zone_name,
)

WINTER = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
TZDATA_SOURCE = Path("/usr/share/zoneinfo/tzdata.zi")
LEGACY = ("Asia/Katmandu", "Europe/Kiev", "Asia/Calcutta", "US/Eastern", "America/Buenos_Aires")


def _tzdata_links() -> set[str]:
    """Every link name tzdata itself lists (`L target name`), independent of CLDR."""
    links = set()
    try:
        with TZDATA_SOURCE.open(encoding="utf-8") as source:
            for line in source:
                if line.startswith("L "):
                    links.add(line.split()[2])
    except FileNotFoundError:  # pragma: no cover - Debian ships it; the CLDR checks still run
        return set()
    return links


def test_every_offered_zone_is_canonical_and_loads() -> None:
    offered = canonical_zones()
    assert 380 < len(offered) < 480
    aliases = zone_aliases()
    known = available_timezones()
    for zone in offered:
        assert zone not in aliases, zone
        assert zone in known, zone
        assert load_zone(zone) == ZoneInfo(zone)  # the API takes every one of them
    for legacy in LEGACY:
        assert legacy not in offered
    assert {"Asia/Kathmandu", "Europe/Kyiv", "Asia/Kolkata", "America/New_York"} <= set(offered)
    assert "Etc/UTC" in offered
    assert not [z for z in offered if z.startswith("Etc/GMT") or "/" not in z]


def test_every_iana_name_leads_to_an_offered_zone() -> None:
    """Whatever a browser or a stored value says (a tzdata link such as Europe/Kiev, or a zone
    name), it is on the list or maps to a zone that is. tzdata's own links are read from its
    source, independently of CLDR."""
    offered = set(canonical_zones())
    names = (available_timezones() | _tzdata_links()) - {"localtime", "Factory"}
    names = {n for n in names if not n.startswith("Etc/GMT") or n in ("Etc/GMT", "Etc/GMT0")}
    names -= {"EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT"}  # rules, not places
    missing = sorted(name for name in names if canonical_zone(name) not in offered)
    assert not missing
    assert len(_tzdata_links()) > 100


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("Asia/Katmandu", "Asia/Kathmandu"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("US/Eastern", "America/New_York"),
        ("UTC", "Etc/UTC"),
        ("GMT", "Etc/UTC"),
        ("Europe/Moscow", "Europe/Moscow"),
        ("Not/AZone", "Not/AZone"),
    ],
)
def test_aliases_map_to_canonical_zones(alias: str, canonical: str) -> None:
    assert canonical_zone(alias) == canonical


def test_every_alias_points_at_an_offered_zone() -> None:
    offered = set(canonical_zones())
    assert all(target in offered for target in zone_aliases().values())


def test_russian_and_english_city_names_come_from_cldr() -> None:
    assert zone_name("America/New_York", "ru").city == "Нью-Йорк"
    assert zone_name("Asia/Kathmandu", "ru").city == "Катманду"
    assert zone_name("Asia/Katmandu", "ru").city == "Катманду"
    assert zone_name("Europe/Moscow", "ru").city == "Москва"
    assert zone_name("Europe/Moscow", "ru").country == "Россия"
    assert zone_name("Asia/Kathmandu", "en").city == "Kathmandu"
    # Every offered zone has a name in Russian, and not the raw id.
    for choice in zone_choices("ru", at=WINTER):
        assert choice.name.city, choice.name.id
        assert "/" not in choice.name.city, choice.name.id
        assert "_" not in choice.name.city, choice.name.id
    cities = [c.name.city for c in zone_choices("ru", at=WINTER)]
    cyrillic = [city for city in cities if any("а" <= ch.lower() <= "я" for ch in city)]
    assert len(cyrillic) > 0.9 * len(cities)


def test_labels_carry_the_offset_at_the_instant() -> None:
    assert zone_label("America/New_York", "ru", at=WINTER) == "Нью-Йорк (UTC\u221205:00)"
    assert zone_label("America/New_York", "en", at=SUMMER) == "New York (UTC\u221204:00)"
    assert zone_label("Asia/Katmandu", "ru", at=WINTER) == "Катманду (UTC+05:45)"
    assert zone_label("UTC", "ru", at=WINTER) == "UTC"
    assert offset_label(0) == "UTC+00:00"
    assert offset_label(-570) == "UTC\u221209:30"


def test_choices_run_west_to_east() -> None:
    choices = zone_choices("ru", at=WINTER)
    offsets = [c.offset_minutes for c in choices]
    assert offsets == sorted(offsets)
    assert offsets[0] <= -11 * 60
    assert offsets[-1] >= 13 * 60
    kathmandu = next(c for c in choices if c.name.id == "Asia/Kathmandu")
    assert kathmandu.offset == "UTC+05:45"


def test_picker_data_is_compact_and_searchable_in_english_on_russian_pages() -> None:
    data = picker_data("ru", at=WINTER)
    zones = data["zones"]
    assert isinstance(zones, list)
    moscow = next(z for z in zones if z[0] == "Europe/Moscow")
    assert moscow == ["Europe/Moscow", "Москва", "Россия", "UTC+03:00", "Moscow"]
    english = picker_data("en", at=WINTER)["zones"]
    assert isinstance(english, list)
    assert next(z for z in english if z[0] == "Europe/Moscow")[4] == ""
    assert data["aliases"] == zone_aliases()


def test_the_clock_follows_the_language() -> None:
    assert hour_cycle("en") == "h12"
    assert hour_cycle("ru") == "h23"
    assert time_pattern("ru") == "HH:mm"
    assert weekday_initials("ru")[0] == "пн"
    assert weekday_initials("en")[6] == "Sun"


def test_picker_data_follows_a_dst_change_within_a_quarter_hour() -> None:
    """New York leaves summer time at 06:00 UTC on 1 November 2026: the inlined list is reused
    within a quarter hour, never across an offset change."""
    before = datetime(2026, 11, 1, 5, 59, tzinfo=UTC)
    after = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)

    def new_york(at: datetime) -> str:
        zones = picker_data("en", at=at)["zones"]
        assert isinstance(zones, list)
        return str(next(z for z in zones if z[0] == "America/New_York")[3])

    assert new_york(before) == "UTC\u221204:00"
    assert new_york(after) == "UTC\u221205:00"
    assert picker_data("ru", at=WINTER) is picker_data("ru", at=WINTER.replace(minute=14))
