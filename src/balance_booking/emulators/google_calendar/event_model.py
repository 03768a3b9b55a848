"""Validation and normalisation of Event resources as Google stores and returns them."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from balance_booking.emulators.google_calendar.errors import (
    GoogleApiError,
    invalid_body,
    required_field,
    time_range_empty,
)
from balance_booking.emulators.google_calendar.models import Calendar, EventRecord
from balance_booking.emulators.google_calendar.recurrence import (
    Occurrence,
    RecurrenceError,
    build_ruleset,
)
from balance_booking.emulators.google_calendar.timefmt import (
    EventTime,
    EventTimeError,
    format_in_zone,
    format_utc_millis,
    parse_event_time,
)

# Client-supplied ids: base32hex characters (a-v, 0-9), 5 to 1024 of them.
_EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
# Instance ids: `<series id>_<YYYYMMDDTHHMMSSZ>` (timed) or `<series id>_<YYYYMMDD>` (all-day).
INSTANCE_ID = re.compile(r"(?P<series>[a-v0-9]{5,1024})_(?P<suffix>\d{8}(T\d{6}Z)?)")

EVENT_TYPES = frozenset(
    {"default", "outOfOffice", "focusTime", "workingLocation", "birthday", "fromGmail"}
)
_CREATABLE_TYPES = EVENT_TYPES - {"fromGmail"}
_STATUSES = frozenset({"confirmed", "tentative", "cancelled"})
_TRANSPARENCIES = frozenset({"opaque", "transparent"})
_VISIBILITIES = frozenset({"default", "public", "private", "confidential"})
_RESPONSES = frozenset({"needsAction", "declined", "tentative", "accepted"})
# Fields the server owns: whatever a client sends for them is ignored.
_READ_ONLY = frozenset(
    {"kind", "etag", "htmlLink", "created", "updated", "creator", "hangoutLink", "privateCopy"}
)
# Fields that replace rather than merge on patch (a half-merged start would mix date/dateTime).
_REPLACE_ON_PATCH = frozenset({"start", "end", "originalStartTime", "recurrence", "attendees"})


def is_valid_event_id(event_id: str) -> bool:
    return _EVENT_ID.fullmatch(event_id) is not None


def invalid_id() -> GoogleApiError:
    return GoogleApiError(400, "invalid", "Invalid resource id value.")


@dataclass(frozen=True, slots=True)
class Timing:
    """Parsed start/end of a stored event."""

    start: EventTime
    end: EventTime


def event_timing(resource: dict[str, Any], calendar_zone: ZoneInfo) -> Timing:
    start = parse_event_time(resource.get("start"), calendar_zone=calendar_zone, field="start")
    end = parse_event_time(resource.get("end"), calendar_zone=calendar_zone, field="end")
    return Timing(start, end)


def _check_timing(resource: dict[str, Any], calendar_zone: ZoneInfo) -> Timing:
    if not isinstance(resource.get("start"), dict) or not resource["start"]:
        raise required_field("Missing start time.")
    if not isinstance(resource.get("end"), dict) or not resource["end"]:
        raise required_field("Missing end time.")
    try:
        timing = event_timing(resource, calendar_zone)
    except EventTimeError as exc:
        raise invalid_body(str(exc)) from exc
    if timing.start.all_day != timing.end.all_day:
        raise invalid_body("Start and end times must either both be date or both be dateTime.")
    if timing.end.instant < timing.start.instant or (
        timing.start.all_day and timing.end.instant == timing.start.instant
    ):
        raise time_range_empty()
    recurrence = resource.get("recurrence")
    if recurrence:
        if not isinstance(recurrence, list) or not all(isinstance(r, str) for r in recurrence):
            raise invalid_body("Invalid recurrence rule.")
        if not timing.start.all_day and not resource["start"].get("timeZone"):
            raise required_field("Missing time zone definition for start time.")
        try:
            build_ruleset(timing.start, recurrence)
        except RecurrenceError as exc:
            raise invalid_body("Invalid recurrence rule.") from exc
    return timing


def _check_enums(resource: dict[str, Any]) -> None:
    for field, allowed in (
        ("status", _STATUSES),
        ("transparency", _TRANSPARENCIES),
        ("visibility", _VISIBILITIES),
    ):
        value = resource.get(field)
        if value is not None and value not in allowed:
            raise invalid_body(f"Invalid value for: {field}")
    ext = resource.get("extendedProperties")
    if ext is not None:
        if not isinstance(ext, dict):
            raise invalid_body("Invalid value for: extendedProperties")
        for scope in ("private", "shared"):
            values = ext.get(scope)
            if values is None:
                continue
            if not isinstance(values, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in values.items()
            ):
                raise invalid_body(f"Invalid value for: extendedProperties.{scope}")
    attendees = resource.get("attendees")
    if attendees is not None:
        if not isinstance(attendees, list):
            raise invalid_body("Invalid value for: attendees")
        for attendee in attendees:
            if not isinstance(attendee, dict) or not attendee.get("email"):
                raise required_field("Missing attendee email.")
            status = attendee.get("responseStatus")
            if status is not None and status not in _RESPONSES:
                raise invalid_body("Invalid value for: attendees.responseStatus")


def _normalize_people(resource: dict[str, Any], calendar: Calendar) -> None:
    """`self`/`organizer` flags are computed from the calendar the copy lives on."""
    owner = calendar.owner_email
    organizer_email = resource["organizer"]["email"]
    attendees = resource.get("attendees")
    if not attendees:
        resource.pop("attendees", None)
        return
    normalized = []
    for attendee in attendees:
        entry = {k: v for k, v in attendee.items() if k not in {"self", "organizer"}}
        entry.setdefault("responseStatus", "needsAction")
        if entry["email"].lower() == organizer_email.lower():
            entry["organizer"] = True
        if entry["email"].lower() == owner.lower():
            entry["self"] = True
        normalized.append(entry)
    resource["attendees"] = normalized


def etag_for(seq: int, moment: datetime) -> str:
    """Quoted decimal, shaped like Google's event etags; unique per modification."""
    return f'"{int(moment.timestamp() * 1000)}{seq % 1000:03d}"'


def html_link(base_url: str, calendar_id: str, event_id: str, when: datetime) -> str:
    week = when.date().isoformat()
    return (
        f"{base_url.rstrip('/')}/_emulator/calendar?calendar_id={quote(calendar_id, safe='')}"
        f"&week={week}&eid={event_id}"
    )


def build_new_event(
    body: dict[str, Any],
    *,
    calendar: Calendar,
    event_id: str,
    now: datetime,
    seq: int,
    base_url: str,
) -> dict[str, Any]:
    """The stored form of an inserted event; raises GoogleApiError for what Google refuses."""
    resource = {k: copy.deepcopy(v) for k, v in body.items() if k not in _READ_ONLY}
    event_type = resource.get("eventType", "default")
    if event_type not in _CREATABLE_TYPES:
        raise invalid_body("Invalid value for: eventType")
    zone = ZoneInfo(calendar.timezone)
    timing = _check_timing(resource, zone)
    _check_enums(resource)
    owner = {"email": calendar.owner_email, "self": True}
    resource.update(
        {
            "kind": "calendar#event",
            "etag": etag_for(seq, now),
            "id": event_id,
            "status": resource.get("status", "confirmed"),
            "htmlLink": html_link(base_url, calendar.id, event_id, timing.start.instant),
            "created": format_utc_millis(now),
            "updated": format_utc_millis(now),
            "creator": dict(owner),
            "organizer": resource.get("organizer") or dict(owner),
            "iCalUID": resource.get("iCalUID") or f"{event_id}@google.com",
            "sequence": int(resource.get("sequence", 0)),
            "reminders": resource.get("reminders") or {"useDefault": True},
            "eventType": event_type,
        }
    )
    if resource["organizer"].get("email") == calendar.owner_email:
        resource["organizer"] = {**resource["organizer"], "self": True}
    _normalize_people(resource, calendar)
    return resource


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Patch semantics: supplied fields change, nested objects merge, arrays and times replace."""
    for key, value in patch.items():
        if key in _READ_ONLY:
            continue
        if value is None:
            target.pop(key, None)
        elif (
            isinstance(value, dict)
            and isinstance(target.get(key), dict)
            and key not in _REPLACE_ON_PATCH
        ):
            merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def apply_change(
    record: EventRecord,
    new_resource: dict[str, Any],
    *,
    calendar: Calendar,
    now: datetime,
    seq: int,
) -> None:
    """Validate a patched/replaced resource and commit it onto the record."""
    old = record.resource
    for fixed in ("id", "created", "creator", "iCalUID", "recurringEventId", "originalStartTime"):
        if fixed in old:
            new_resource[fixed] = old[fixed]
    if new_resource.get("eventType", "default") != old.get("eventType", "default"):
        raise invalid_body("Event type cannot be changed.")
    new_resource.setdefault("eventType", old.get("eventType", "default"))
    new_resource.setdefault("organizer", old.get("organizer"))
    new_resource.setdefault("status", "confirmed")
    new_resource.setdefault("reminders", {"useDefault": True})
    zone = ZoneInfo(calendar.timezone)
    if new_resource.get("recurringEventId") and new_resource.get("recurrence"):
        raise invalid_body("Invalid recurrence rule.")
    _check_timing(new_resource, zone)
    _check_enums(new_resource)
    _normalize_people(new_resource, calendar)
    significant = any(
        new_resource.get(field) != old.get(field) for field in ("start", "end", "recurrence")
    )
    sequence = int(old.get("sequence", 0)) + (1 if significant else 0)
    new_resource.update(
        {
            "kind": "calendar#event",
            "etag": etag_for(seq, now),
            "updated": format_utc_millis(now),
            "sequence": sequence,
            "htmlLink": old.get("htmlLink", ""),
        }
    )
    record.resource = new_resource
    record.seq = seq


def mark_cancelled(record: EventRecord, *, now: datetime, seq: int) -> None:
    record.resource["status"] = "cancelled"
    record.resource["updated"] = format_utc_millis(now)
    record.resource["etag"] = etag_for(seq, now)
    record.seq = seq


def instance_resource(
    master: dict[str, Any], occurrence: Occurrence, *, master_timing: Timing
) -> dict[str, Any]:
    """A synthesized instance of a series: the master's fields at the occurrence's time."""
    instance = {k: copy.deepcopy(v) for k, v in master.items() if k != "recurrence"}
    instance["id"] = f"{master['id']}_{occurrence.instance_suffix()}"
    instance["recurringEventId"] = master["id"]
    start_spec = master["start"]
    end_spec = master["end"]
    if occurrence.all_day and occurrence.day is not None and occurrence.end_day is not None:
        instance["start"] = {"date": occurrence.day.isoformat()}
        instance["end"] = {"date": occurrence.end_day.isoformat()}
        instance["originalStartTime"] = {"date": occurrence.day.isoformat()}
    else:
        start_zone = master_timing.start.zone
        end_zone = master_timing.end.zone
        instance["start"] = _timed(occurrence.start, start_zone, start_spec)
        instance["end"] = _timed(occurrence.end, end_zone, end_spec)
        instance["originalStartTime"] = _timed(occurrence.start, start_zone, start_spec)
    return instance


def _timed(moment: datetime, zone: ZoneInfo, spec: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = {"dateTime": format_in_zone(moment, zone)}
    if spec.get("timeZone"):
        value["timeZone"] = spec["timeZone"]
    return value


# The order Google writes event fields in; unknown fields follow in their stored order.
_FIELD_ORDER = (
    "kind", "etag", "id", "status", "htmlLink", "created", "updated", "summary", "description",
    "location", "colorId", "creator", "organizer", "start", "end", "endTimeUnspecified",
    "recurrence", "recurringEventId", "originalStartTime", "transparency", "visibility",
    "iCalUID", "sequence", "attendees", "extendedProperties", "hangoutLink", "conferenceData",
    "reminders", "source", "eventType",
)  # fmt: skip


def _ordered(resource: dict[str, Any]) -> dict[str, Any]:
    known = {key: resource[key] for key in _FIELD_ORDER if key in resource}
    return known | {k: v for k, v in resource.items() if k not in known}


def render_times(
    resource: dict[str, Any], zone: ZoneInfo, calendar_zone: ZoneInfo
) -> dict[str, Any]:
    """Google answers timed values in the calendar's zone (or the `timeZone` asked for)."""
    out = copy.deepcopy(resource)
    for key in ("start", "end", "originalStartTime"):
        spec = out.get(key)
        if not isinstance(spec, dict) or spec.get("date") is not None:
            continue
        try:
            point = parse_event_time(spec, calendar_zone=calendar_zone, field=key)
        except EventTimeError:
            continue
        spec["dateTime"] = format_in_zone(point.instant, zone)
    return _ordered(out)


def start_sort_value(moment: datetime) -> str:
    """Lexicographically sortable UTC text for keyset paging."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def parse_instance_suffix(suffix: str, calendar_zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The window that contains exactly the instance a suffix names."""
    if "T" in suffix:
        moment = datetime.strptime(suffix, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return moment, moment + timedelta(microseconds=1)
    day = datetime.strptime(suffix, "%Y%m%d").replace(tzinfo=calendar_zone)
    return day, day + timedelta(microseconds=1)
