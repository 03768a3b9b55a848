"""Expansion of RRULE/EXRULE/RDATE/EXDATE lines into instances (dateutil does the rule maths)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rruleset, rrulestr

from balance_booking.emulators.google_calendar.timefmt import EventTime, zone_or_none

# An unbounded series listed without timeMax would never end; stop after this many instances.
MAX_INSTANCES = 2000
# Guard against rules that generate many occurrences before the window (e.g. decades of dailies).
_MAX_ITERATIONS = 200_000


class RecurrenceError(ValueError):
    """A recurrence line that cannot be parsed."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    start: datetime  # aware
    end: datetime  # aware, exclusive
    all_day: bool
    day: date | None  # all-day instances: the local date
    end_day: date | None

    def instance_suffix(self) -> str:
        """Google's instance id suffix: UTC basic format for timed, the date for all-day."""
        if self.all_day and self.day is not None:
            return self.day.strftime("%Y%m%d")
        return self.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _split_line(line: str) -> tuple[str, dict[str, str], str]:
    head, _, value = line.partition(":")
    name, *params = head.split(";")
    parsed = {}
    for param in params:
        key, _, val = param.partition("=")
        parsed[key.upper()] = val
    return name.upper(), parsed, value


def _parse_value(raw: str, params: dict[str, str], *, start: EventTime) -> datetime:
    """One RDATE/EXDATE value as a datetime comparable with the series' occurrences."""
    raw = raw.strip()
    if params.get("VALUE", "").upper() == "DATE" or len(raw) == 8:
        day = datetime.strptime(raw, "%Y%m%d").date()  # noqa: DTZ007 - a date, zone added below
        if start.all_day:
            return datetime(day.year, day.month, day.day)  # noqa: DTZ001 - all-day series are naive
        wall = start.instant.astimezone(start.zone)
        return datetime.combine(day, wall.time(), tzinfo=start.zone)
    if raw.endswith("Z"):
        moment = datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    else:
        zone = zone_or_none(params["TZID"]) if "TZID" in params else start.zone
        if zone is None:
            raise RecurrenceError(f"unknown TZID in {raw!r}")
        moment = datetime.strptime(raw, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
    if start.all_day:
        local = moment.astimezone(start.zone)
        return datetime(local.year, local.month, local.day)  # noqa: DTZ001 - naive all-day series
    return moment


def _normalize_until(rule: str, *, start: EventTime) -> str:
    """dateutil wants UNTIL in UTC for zoned series and naive for floating (all-day) ones."""
    parts = rule.split(";")
    for index, part in enumerate(parts):
        key, _, value = part.partition("=")
        if key.upper() != "UNTIL":
            continue
        if start.all_day:
            if value.endswith("Z"):
                moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                local = moment.astimezone(start.zone)
                value = local.strftime("%Y%m%dT%H%M%S")
        elif not value.endswith("Z"):
            if len(value) == 8:
                day = datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007 - a date
                local = datetime.combine(day, datetime.max.time(), tzinfo=start.zone)
            else:
                local = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=start.zone)
            value = local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        parts[index] = f"{key}={value}"
    return ";".join(parts)


def build_ruleset(start: EventTime, recurrence: list[str]) -> rruleset:
    if start.all_day and start.day is not None:
        dtstart = datetime(start.day.year, start.day.month, start.day.day)  # noqa: DTZ001
    else:
        # Zoned dtstart: the rule repeats the local wall time, across DST changes, as Google does.
        dtstart = start.instant.astimezone(start.zone)
    rules = rruleset()
    has_rule = False
    for line in recurrence:
        name, params, value = _split_line(str(line))
        try:
            if name in {"RRULE", "EXRULE"}:
                parsed = rrulestr(_normalize_until(value, start=start), dtstart=dtstart)
                if not isinstance(parsed, rrule):
                    raise RecurrenceError(f"unsupported rule {line!r}")
                if name == "RRULE":
                    rules.rrule(parsed)
                    has_rule = True
                else:
                    rules.exrule(parsed)
            elif name in {"RDATE", "EXDATE"}:
                for raw in value.split(","):
                    moment = _parse_value(raw, params, start=start)
                    if name == "RDATE":
                        rules.rdate(moment)
                        has_rule = True
                    else:
                        rules.exdate(moment)
            else:
                raise RecurrenceError(f"unsupported recurrence line {line!r}")
        except (ValueError, TypeError, KeyError) as exc:
            raise RecurrenceError(str(exc)) from exc
    if not has_rule:
        raise RecurrenceError("recurrence has no RRULE or RDATE")
    return rules


def expand(
    *,
    start: EventTime,
    end: EventTime,
    recurrence: list[str],
    calendar_zone: ZoneInfo,
    window_start: datetime | None,
    window_end: datetime | None,
    limit: int = MAX_INSTANCES,
) -> list[Occurrence]:
    """Instances overlapping [window_start, window_end) (either bound optional), in time order."""
    rules = build_ruleset(start, recurrence)
    found: list[Occurrence] = []
    span_days = (end.day - start.day).days if end.day and start.day else 0
    duration = end.instant - start.instant
    for raw in itertools.islice(iter(rules), _MAX_ITERATIONS):
        if start.all_day:
            day = raw.date()
            end_day = day + timedelta(days=span_days)
            occ_start = datetime.combine(day, datetime.min.time(), tzinfo=calendar_zone)
            occ_end = datetime.combine(end_day, datetime.min.time(), tzinfo=calendar_zone)
            occurrence = Occurrence(occ_start, occ_end, all_day=True, day=day, end_day=end_day)
        else:
            occ_start = raw
            occurrence = Occurrence(
                occ_start, occ_start + duration, all_day=False, day=None, end_day=None
            )
        if window_end is not None and occurrence.start >= window_end:
            break
        if window_start is not None and occurrence.end <= window_start:
            continue
        found.append(occurrence)
        if len(found) >= limit:
            break
    return found
