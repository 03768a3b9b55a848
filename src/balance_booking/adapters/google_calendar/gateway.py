"""GoogleCalendarHttpGateway: the anti-corruption layer. Google JSON stops here."""

from __future__ import annotations

from urllib.parse import quote

from balance_booking.adapters.google_calendar.transport import (
    GoogleTransport,
    raise_for_google_error,
)
from balance_booking.application.ports import AccessTokenSource, CalendarInfo

PRIMARY = "primary"


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
