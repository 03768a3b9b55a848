"""freebusy.query: busy intervals as Google computes them from a calendar's events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from balance_booking.emulators.google_calendar.config import EmulatorConfig
from balance_booking.emulators.google_calendar.errors import GoogleApiError, invalid_body
from balance_booking.emulators.google_calendar.event_model import event_timing
from balance_booking.emulators.google_calendar.models import Calendar, State
from balance_booking.emulators.google_calendar.recurrence import expand
from balance_booking.emulators.google_calendar.store import Store
from balance_booking.emulators.google_calendar.timefmt import (
    EventTimeError,
    format_zone_or_utc,
    parse_rfc3339,
    zone_or_none,
)

MAX_CALENDARS = 50
# Types that never make a person busy (working location is a label, birthdays are all-day marks).
_NON_BLOCKING_TYPES = frozenset({"workingLocation", "birthday"})

Interval = tuple[datetime, datetime]


def _declined_by_self(resource: dict[str, Any]) -> bool:
    return any(
        a.get("self") and a.get("responseStatus") == "declined"
        for a in resource.get("attendees", [])
    )


def is_blocking(resource: dict[str, Any]) -> bool:
    """What Google counts as busy: opaque, not cancelled, not declined by the calendar's owner."""
    return not (
        resource.get("status") == "cancelled"
        or resource.get("transparency") == "transparent"
        or resource.get("eventType", "default") in _NON_BLOCKING_TYPES
        or _declined_by_self(resource)
    )


def busy_intervals(
    state: State, calendar: Calendar, window_start: datetime, window_end: datetime
) -> list[Interval]:
    """Merged, clipped busy intervals of one calendar inside [window_start, window_end)."""
    zone = ZoneInfo(calendar.timezone)
    records = state.events.get(calendar.id, {})
    raw: list[Interval] = []
    for record in records.values():
        resource = record.resource
        try:
            timing = event_timing(resource, zone)
        except EventTimeError:
            continue
        is_master = bool(resource.get("recurrence")) and not resource.get("recurringEventId")
        if is_master:
            if resource.get("status") == "cancelled":
                continue
            for occurrence in expand(
                start=timing.start,
                end=timing.end,
                recurrence=resource["recurrence"],
                calendar_zone=zone,
                window_start=window_start,
                window_end=window_end,
            ):
                # An exception (moved or cancelled instance) replaces the series' instance.
                if f"{resource['id']}_{occurrence.instance_suffix()}" in records:
                    continue
                if is_blocking(resource):
                    raw.append((occurrence.start, occurrence.end))
            continue
        if not is_blocking(resource):
            continue
        start, end = timing.start.instant, timing.end.instant
        if end > window_start and start < window_end:
            raw.append((start, end))
    return merge_intervals(raw, window_start, window_end)


def merge_intervals(
    intervals: list[Interval], window_start: datetime, window_end: datetime
) -> list[Interval]:
    clipped = sorted(
        (max(s, window_start), min(e, window_end))
        for s, e in intervals
        if min(e, window_end) > max(s, window_start)
    )
    merged: list[Interval] = []
    for start, end in clipped:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class FreeBusyService:
    def __init__(self, *, store: Store, config: EmulatorConfig) -> None:
        self._store = store
        self._config = config

    def query(self, *, email: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._store.read() as state:
            max_days = state.settings.freebusy_max_days
            injected = dict(state.settings.freebusy_errors)
        time_min, time_max = self._window(body, max_days=max_days)
        zone_name = str(body.get("timeZone") or "UTC")
        zone = zone_or_none(zone_name)
        if zone is None:
            raise invalid_body(f"Invalid value for: timeZone {zone_name}")
        items = body.get("items") or []
        if not isinstance(items, list):
            raise invalid_body("Invalid value for: items")
        expansion_max = int(body.get("calendarExpansionMax") or MAX_CALENDARS)
        if expansion_max > MAX_CALENDARS:
            raise invalid_body("Invalid value for: calendarExpansionMax")
        calendars: dict[str, Any] = {}
        with self._store.read() as state:
            for index, item in enumerate(items):
                requested = str(item.get("id", "")) if isinstance(item, dict) else ""
                if index >= expansion_max:
                    calendars[requested] = _errors("tooManyCalendarsRequested")
                    continue
                wanted = email if requested == "primary" else requested
                calendar = state.calendars.get(wanted)
                # Other people's calendars look absent: the emulator has no sharing.
                if calendar is None or calendar.owner_email != email:
                    calendars[requested] = _errors("notFound")
                    continue
                # Google answers some calendars with an error inside the 200 (internalError...).
                if calendar.id in injected:
                    calendars[requested] = _errors(injected[calendar.id])
                    continue
                busy = busy_intervals(state, calendar, time_min, time_max)
                calendars[requested] = {
                    "busy": [
                        {
                            "start": format_zone_or_utc(start, zone),
                            "end": format_zone_or_utc(end, zone),
                        }
                        for start, end in busy
                    ]
                }
        return {
            "kind": "calendar#freeBusy",
            "timeMin": format_zone_or_utc(time_min, zone),
            "timeMax": format_zone_or_utc(time_max, zone),
            "calendars": calendars,
        }

    def _window(self, body: dict[str, Any], *, max_days: int) -> tuple[datetime, datetime]:
        bounds = []
        for name in ("timeMin", "timeMax"):
            raw = body.get(name)
            if raw is None:
                raise GoogleApiError(
                    400, "required", "Required", location=name, location_type="parameter"
                )
            try:
                bounds.append(parse_rfc3339(str(raw)))
            except ValueError as exc:
                raise GoogleApiError(
                    400,
                    "invalid",
                    f"Invalid value for: {name}",
                    location=name,
                    location_type="parameter",
                ) from exc
        time_min, time_max = bounds
        if time_max <= time_min:
            raise GoogleApiError(
                400,
                "timeRangeEmpty",
                "The specified time range is empty.",
                location="timeMax",
                location_type="parameter",
            )
        if time_max - time_min > timedelta(days=max_days):
            raise GoogleApiError(
                400,
                "timeRangeTooLong",
                "The requested time range is too long.",
                location="timeMax",
                location_type="parameter",
            )
        return time_min, time_max


def _errors(reason: str) -> dict[str, Any]:
    return {"errors": [{"domain": "global", "reason": reason}], "busy": []}
