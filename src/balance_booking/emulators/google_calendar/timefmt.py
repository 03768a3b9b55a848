"""RFC 3339 parsing and the exact timestamp shapes Google writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_rfc3339(value: str) -> datetime:
    """Parse a timestamp that must carry an offset (`Z` or `+hh:mm`), as Google requires."""
    if "T" not in value and "t" not in value:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    parsed = datetime.fromisoformat(value.replace("z", "Z"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {value!r}")
    return parsed


def format_utc_millis(moment: datetime) -> str:
    """`updated`/`created` style: UTC with milliseconds, e.g. 2024-05-01T10:00:00.000Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_utc_seconds(moment: datetime) -> str:
    """freeBusy style: UTC without fractions, e.g. 2024-05-01T10:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_in_zone(moment: datetime, zone: ZoneInfo) -> str:
    """`dateTime` style: local wall time with its offset, e.g. 2024-05-01T13:00:00+03:00."""
    return moment.astimezone(zone).replace(microsecond=0).isoformat()


def format_zone_or_utc(moment: datetime, zone: ZoneInfo) -> str:
    """UTC renders with `Z` (as Google does for timeZone=UTC), other zones with their offset."""
    if zone.key == "UTC":
        return format_utc_seconds(moment)
    return format_in_zone(moment, zone)


def to_epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def zone_or_none(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class EventTime:
    """One end of an event: the instant it denotes plus what is needed to render and recur it."""

    instant: datetime  # aware; for all-day ends, midnight in the calendar's zone
    all_day: bool
    zone: ZoneInfo  # zone the wall time lives in (event's timeZone, else the calendar's)
    day: date | None = None  # set for all-day ends


class EventTimeError(ValueError):
    """An EventDateTime that Google would refuse; `message` is Google's wording where known."""


def parse_event_time(value: Any, *, calendar_zone: ZoneInfo, field: str) -> EventTime:
    """Read `start`/`end`: `{date}` for all-day, `{dateTime, timeZone?}` for timed."""
    if not isinstance(value, dict):
        raise EventTimeError(f"Missing {field} time.")
    zone_name = value.get("timeZone")
    zone = calendar_zone
    if zone_name is not None:
        found = zone_or_none(str(zone_name))
        if found is None:
            raise EventTimeError(f"Invalid time zone definition for {field} time.")
        zone = found
    if value.get("date") is not None:
        try:
            day = date.fromisoformat(str(value["date"]))
        except ValueError as exc:
            raise EventTimeError("Invalid value for: date") from exc
        # All-day events are matched against time windows in the calendar's zone.
        instant = datetime.combine(day, time(0), tzinfo=calendar_zone)
        return EventTime(instant=instant, all_day=True, zone=calendar_zone, day=day)
    raw = value.get("dateTime")
    if raw is None:
        raise EventTimeError(f"Missing {field} time.")
    try:
        parsed = datetime.fromisoformat(str(raw).replace("z", "Z"))
    except ValueError as exc:
        raise EventTimeError(f"Invalid {field} time.") from exc
    if parsed.tzinfo is None:
        if zone_name is None:
            raise EventTimeError(f"Missing time zone definition for {field} time.")
        parsed = parsed.replace(tzinfo=zone)
    return EventTime(instant=parsed, all_day=False, zone=zone)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)
