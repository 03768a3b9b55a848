"""GoogleCalendarHttpGateway: the anti-corruption layer. Google JSON stops here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from balance_booking.adapters.google_calendar.transport import (
    GoogleTransport,
    raise_for_google_error,
)
from balance_booking.application.errors import GoogleRequestError
from balance_booking.application.ports import AccessTokenSource, CalendarInfo
from balance_booking.domain.intervals import Interval, merge

PRIMARY = "primary"
# Google refuses long freeBusy ranges (the limit is undocumented; Cal.com uses 90 days).
# 60 days stays under every limit seen, including the emulator's default of 62.
FREEBUSY_CHUNK = timedelta(days=60)


class GoogleCalendarHttpGateway:
    """The CalendarGateway port (the spec's IGoogleCalendarService) over Calendar API v3."""

    def __init__(
        self, transport: GoogleTransport, *, base_url: str, tokens: AccessTokenSource
    ) -> None:
        self._transport = transport
        self._base = base_url.rstrip("/")
        self._tokens = tokens

    def _url(self, *parts: str) -> str:
        return "/".join([self._base, *(quote(part, safe="") for part in parts)])

    def primary_calendar(self) -> CalendarInfo:
        # calendars.get needs a calendar-level scope we do not ask for; events.list carries the
        # calendar's timeZone and works with calendar.events (protocol reference 2.7).
        response = self._transport.send(
            "GET",
            self._url("calendars", PRIMARY, "events"),
            tokens=self._tokens,
            params={"maxResults": 1, "fields": "timeZone,summary"},
        )
        raise_for_google_error(response, what="reading the primary calendar")
        body = response.json()
        return CalendarInfo(calendar_id=PRIMARY, timezone=str(body.get("timeZone") or "UTC"))

    def busy_intervals(self, window: Interval) -> list[Interval]:
        """Google's own definition of busy (freeBusy) over `window`, merged, in UTC."""
        busy: list[Interval] = []
        start = window.start
        while start < window.end:
            end = min(start + FREEBUSY_CHUNK, window.end)
            busy.extend(self._freebusy(Interval(start, end)))
            start = end
        return merge(busy)

    def _freebusy(self, window: Interval) -> list[Interval]:
        response = self._transport.send(
            "POST",
            self._url("freeBusy"),
            tokens=self._tokens,
            json={
                "timeMin": _rfc3339(window.start),
                "timeMax": _rfc3339(window.end),
                "timeZone": "UTC",
                "items": [{"id": PRIMARY}],
            },
        )
        raise_for_google_error(response, what="reading busy time")
        calendars = response.json().get("calendars", {})
        entry = calendars.get(PRIMARY) or next(iter(calendars.values()), None)
        if not isinstance(entry, dict):
            raise GoogleRequestError(
                "freeBusy answered without our calendar", status=200, reason=None
            )
        errors = entry.get("errors") or []
        if errors:
            reason = errors[0].get("reason") if isinstance(errors[0], dict) else None
            raise GoogleRequestError(
                f"freeBusy refused the calendar ({reason})", status=200, reason=reason
            )
        intervals = []
        for block in entry.get("busy", []):
            start, end = _parse_instant(block["start"]), _parse_instant(block["end"])
            if end > start:
                intervals.append(Interval(start, end))
        return intervals

    def stop_channel(self, *, channel_id: str, resource_id: str) -> None:
        response = self._transport.send(
            "POST",
            self._url("channels", "stop"),
            tokens=self._tokens,
            json={"id": channel_id, "resourceId": resource_id},
        )
        if response.status_code == 404:
            return  # already gone: the goal of stopping is met
        raise_for_google_error(response, what="stopping the push channel")


def _rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_instant(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)
