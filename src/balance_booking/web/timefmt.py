"""Reading and writing instants and dates at the HTTP border (RFC 3339, IANA zones)."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from balance_booking.domain.availability import load_zone, local_to_utc
from balance_booking.domain.errors import UnknownTimeZone
from balance_booking.domain.intervals import Interval
from balance_booking.web.errors import ApiError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339 with a mandatory offset ("Z" or ±HH:MM); seconds and fractions optional.
_INSTANT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})$"
)
MAX_QUERY_DAYS = 62
# The dates the product reasons about. Outside them a zone conversion or "the next day" could
# leave what Python's datetime can hold (year 1..9999): 422, never a 500.
EARLIEST = date(1900, 1, 1)
LATEST = date(9000, 12, 31)
_EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST_INSTANT = datetime(9001, 1, 1, tzinfo=UTC)


def zone_or_422(name: str, *, field: str = "tz") -> ZoneInfo:
    try:
        return load_zone(name)
    except UnknownTimeZone as exc:
        raise ApiError(422, "invalid_request", f"Unknown time zone {name!r}.", field=field) from exc


def parse_instant(value: str, *, field: str) -> datetime:
    """An RFC 3339 instant with an offset, returned in UTC; anything else is a 422."""
    if not _INSTANT.match(value):
        raise ApiError(
            422, "invalid_request", "Expected an RFC 3339 instant with an offset.", field=field
        )
    text = value.replace("Z", "+00:00").replace("z", "+00:00")
    # Python < 3.11 quirks aside, fromisoformat takes up to 6 fraction digits only.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        instant = datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ApiError(422, "invalid_request", "Not a valid instant.", field=field) from exc
    if not _EARLIEST_INSTANT <= instant < _LATEST_INSTANT:
        raise ApiError(422, "invalid_request", _OUT_OF_RANGE, field=field)
    return instant


def parse_date(value: str, *, field: str) -> date:
    try:
        parsed = date.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", "Not a valid date.", field=field) from exc
    if not EARLIEST <= parsed <= LATEST:
        raise ApiError(422, "invalid_request", _OUT_OF_RANGE, field=field)
    return parsed


_OUT_OF_RANGE = f"Dates must lie between {EARLIEST.year} and {LATEST.year}."


def is_date(value: str) -> bool:
    """`YYYY-MM-DD` (a local date) rather than an instant."""
    return _DATE.match(value) is not None


def query_window(start: str | None, end: str | None, zone: ZoneInfo, *, today: date) -> Interval:
    """Turn `from`/`to` into a UTC half-open range.

    Dates are local dates in `zone`, both included; instants are used as given. Missing `from`
    means today in `zone`; missing `to` means a week from `from`.
    """
    days: int | None = None
    start_date: date | None = None
    if start is None or _DATE.match(start):
        start_date = today if start is None else parse_date(start, field="from")
        begin = local_to_utc(start_date, 0, zone)
    else:
        begin = parse_instant(start, field="from")
    if end is None:
        anchor = start_date or begin.astimezone(zone).date()
        finish = local_to_utc(anchor + timedelta(days=7), 0, zone)
    elif _DATE.match(end):
        end_date = parse_date(end, field="to")
        finish = local_to_utc(end_date + timedelta(days=1), 0, zone)
        if start_date is not None:
            days = (end_date - start_date).days + 1
    else:
        finish = parse_instant(end, field="to")
    if finish <= begin:
        raise ApiError(422, "invalid_request", "`to` must be after `from`.", field="to")
    # Count whole local days when both are dates, so a DST change inside does not matter.
    too_long = (
        days > MAX_QUERY_DAYS if days is not None else finish - begin > timedelta(MAX_QUERY_DAYS)
    )
    if too_long:
        raise ApiError(
            422,
            "invalid_request",
            f"The range may cover at most {MAX_QUERY_DAYS} days.",
            field="to",
        )
    return Interval(begin, finish)


def render(instant: datetime, zone: ZoneInfo) -> str:
    """An instant in `zone`, to the second, with its offset."""
    return instant.astimezone(zone).isoformat(timespec="seconds")


# Slot starts sit on the same grid in every answer (working-window anchors stepped by the
# service's step), so the same few thousand instants are rendered again and again; isoformat is
# most of a slots answer's rendering cost. A pure function of (instant, zone): a bounded memo.
render_slot_instant = functools.lru_cache(maxsize=16_384)(render)
