"""GoogleCalendarHttpGateway: the anti-corruption layer. Google JSON stops here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID
from zoneinfo import ZoneInfo

from balance_booking.adapters.google_calendar.transport import (
    GoogleTransport,
    error_reason,
    raise_for_google_error,
)
from balance_booking.application.errors import (
    DeletedEventWriteRefusedError,
    GoogleRequestError,
    GoogleUnavailableError,
)
from balance_booking.application.ports import (
    AccessTokenSource,
    CalendarEntry,
    CalendarInfo,
    EventDraft,
    OwnEvent,
    PushChannel,
)
from balance_booking.application.ports.calendar import PRIMARY_CALENDAR
from balance_booking.domain.intervals import Interval, merge

PRIMARY = PRIMARY_CALENDAR
CALENDAR_LIST_MAX_PAGES = 10  # 250 per page: more calendars than anyone keeps
# Google refuses long freeBusy ranges with 400 "The requested time range is too long." (the limit
# is undocumented; Cal.com split its queries into 90-day chunks after hitting it, calcom PR
# #11962). The emulator's default limit is the same 90 days (docs/gcal-emulator.md).
FREEBUSY_CHUNK = timedelta(days=90)
# Per-calendar freeBusy errors inside a 200: worth retrying later, or permanent.
_TRANSIENT_CALENDAR_ERRORS = frozenset({"internalError", "backendError"})
# Our exported events carry these private extended properties (private = only on this copy).
OWN_MARKER = ("balance_app", "1")
APPOINTMENT_PROPERTY = "balance_appointment_id"
# Bounds one listing of our own events: 2500 per page is Google's maximum page size.
OWN_EVENTS_PAGE = 2500
OWN_EVENTS_MAX_PAGES = 20
# Google's partial response: the listing carries only what _own_event reads.
OWN_EVENT_FIELDS = "items(id,status,start,end,extendedProperties/private),nextPageToken"


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

    def busy_intervals(
        self, window: Interval, calendar_ids: Sequence[str] = (PRIMARY,)
    ) -> list[Interval]:
        """Google's own definition of busy (freeBusy) over `window` for every calendar in
        `calendar_ids`, merged, in UTC."""
        busy: list[Interval] = []
        start = window.start
        while start < window.end:
            end = min(start + FREEBUSY_CHUNK, window.end)
            busy.extend(self._freebusy(Interval(start, end), calendar_ids or (PRIMARY,)))
            start = end
        return merge(busy)

    def calendars(self) -> list[CalendarEntry]:
        """calendarList.list: the calendars the owner sees; only those they own or can read
        busy time of are worth offering (freeBusy reads at least `freeBusyReader`)."""
        entries: list[CalendarEntry] = []
        page_token: str | None = None
        for _ in range(CALENDAR_LIST_MAX_PAGES):
            params: dict[str, Any] = {"maxResults": 250, "minAccessRole": "freeBusyReader"}
            if page_token:
                params["pageToken"] = page_token
            response = self._transport.send(
                "GET", self._url("users", "me", "calendarList"), tokens=self._tokens, params=params
            )
            raise_for_google_error(response, what="reading the calendar list")
            body = response.json()
            for item in body.get("items", []):
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    continue
                entries.append(
                    CalendarEntry(
                        calendar_id=item["id"],
                        summary=str(
                            item.get("summaryOverride") or item.get("summary") or item["id"]
                        ),
                        primary=item.get("primary") is True,
                    )
                )
            page_token = body.get("nextPageToken")
            if not page_token:
                break
        return entries

    def _freebusy(self, window: Interval, calendar_ids: Sequence[str]) -> list[Interval]:
        response = self._transport.send(
            "POST",
            self._url("freeBusy"),
            tokens=self._tokens,
            json={
                "timeMin": _rfc3339(window.start),
                "timeMax": _rfc3339(window.end),
                "timeZone": "UTC",
                "items": [{"id": calendar_id} for calendar_id in calendar_ids],
            },
        )
        raise_for_google_error(response, what="reading busy time")
        calendars = response.json().get("calendars", {})
        intervals = []
        for calendar_id in calendar_ids:
            entry = calendars.get(calendar_id)
            if entry is None and len(calendar_ids) == 1:
                # Google answers "primary" under the account's address.
                entry = next(iter(calendars.values()), None)
            if not isinstance(entry, dict):
                raise GoogleRequestError(
                    "freeBusy answered without one of our calendars", status=200, reason=None
                )
            errors = entry.get("errors") or []
            if errors:
                # Never "free": an error inside a 200 means Google did not read that calendar.
                reason = errors[0].get("reason") if isinstance(errors[0], dict) else None
                if reason in _TRANSIENT_CALENDAR_ERRORS:
                    raise GoogleUnavailableError(f"freeBusy could not read a calendar ({reason})")
                raise GoogleRequestError(
                    f"freeBusy refused a calendar ({reason})", status=200, reason=reason
                )
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

    def watch_events(
        self, *, channel_id: str, address: str, token: str, ttl_seconds: int
    ) -> PushChannel:
        """events.watch on the primary calendar: Google POSTs to `address` on every change."""
        response = self._transport.send(
            "POST",
            self._url("calendars", PRIMARY, "events", "watch"),
            tokens=self._tokens,
            json={
                "id": channel_id,
                "type": "web_hook",
                "address": address,
                "token": token,
                "params": {"ttl": str(ttl_seconds)},
            },
        )
        raise_for_google_error(response, what="opening the push channel")
        body = response.json()
        try:
            # `expiration` is Unix milliseconds as a string: the more restrictive of ours and Google's.
            expires_at = datetime.fromtimestamp(int(body["expiration"]) / 1000, tz=UTC)
            return PushChannel(
                channel_id=str(body["id"]),
                resource_id=str(body["resourceId"]),
                expires_at=expires_at,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GoogleRequestError(
                "events.watch answered without a usable channel", status=200, reason=None
            ) from exc

    def insert_event(self, draft: EventDraft) -> bool:
        """events.insert with our id; 409 `duplicate` means an earlier attempt created it."""
        response = self._transport.send(
            "POST",
            self._url("calendars", PRIMARY, "events"),
            tokens=self._tokens,
            params={"sendUpdates": "none"},
            json={"id": draft.event_id, **_event_body(draft)},
        )
        if response.status_code == 409 and error_reason(response) == "duplicate":
            return False
        raise_for_google_error(response, what="creating the calendar event")
        return True

    def patch_event(self, event_id: str, draft: EventDraft) -> bool:
        """events.patch back to the draft (status confirmed); False on 404/410.

        An event deleted in Google refuses writes: 403 `forbidden` (reported for PUT; PATCH is
        undocumented), or a 200 whose event still says `cancelled`. Both raise
        DeletedEventWriteRefusedError: the caller inserts under a fresh id.
        """
        response = self._transport.send(
            "PATCH",
            self._url("calendars", PRIMARY, "events", event_id),
            tokens=self._tokens,
            params={"sendUpdates": "none"},
            json=_event_body(draft),
        )
        if response.status_code in {404, 410}:
            return False
        if response.status_code == 403 and error_reason(response) == "forbidden":
            raise DeletedEventWriteRefusedError(
                "Google refuses writes to this event (deleted in Google)",
                status=403,
                reason="forbidden",
            )
        raise_for_google_error(response, what="restoring the calendar event")
        try:
            status = response.json().get("status")
        except (ValueError, AttributeError):
            status = None
        if status == "cancelled":
            raise DeletedEventWriteRefusedError(
                "Google kept the event cancelled after the write", status=200, reason="cancelled"
            )
        return True

    def delete_event(self, event_id: str) -> None:
        """events.delete; 404 (never there) and 410 `deleted` (already gone) are both done."""
        response = self._transport.send(
            "DELETE",
            self._url("calendars", PRIMARY, "events", event_id),
            tokens=self._tokens,
            params={"sendUpdates": "none"},
        )
        if response.status_code in {404, 410}:
            return
        raise_for_google_error(response, what="deleting the calendar event")

    def own_events(self, window: Interval) -> list[OwnEvent]:
        """events.list filtered by our private property, live events only, all pages."""
        # Deleted events are left out (showDeleted stays off): to the reconciliation a deleted
        # event and a missing one are the same, and listing them made every sync hold every
        # event ever cancelled in the horizon (the soak: tens of MB in the web process).
        params: dict[str, Any] = {
            "privateExtendedProperty": "=".join(OWN_MARKER),
            "singleEvents": "true",
            "timeMin": _rfc3339(window.start),
            "timeMax": _rfc3339(window.end),
            "maxResults": OWN_EVENTS_PAGE,
            # Only what the reconciliation reads: a full event is about 1 KB of JSON.
            "fields": OWN_EVENT_FIELDS,
        }
        found: list[OwnEvent] = []
        for _page in range(OWN_EVENTS_MAX_PAGES):
            response = self._transport.send(
                "GET", self._url("calendars", PRIMARY, "events"), tokens=self._tokens, params=params
            )
            raise_for_google_error(response, what="listing our calendar events")
            body = response.json()
            found.extend(
                event for item in body.get("items", []) if (event := _own_event(item)) is not None
            )
            token = body.get("nextPageToken")
            if not token:
                break
            params["pageToken"] = token
        return found


def _event_body(draft: EventDraft) -> dict[str, Any]:
    zone = ZoneInfo(draft.timezone)
    return {
        "status": "confirmed",
        "summary": draft.summary,
        "description": draft.description,
        "start": {"dateTime": _local(draft.start, zone), "timeZone": draft.timezone},
        "end": {"dateTime": _local(draft.end, zone), "timeZone": draft.timezone},
        "transparency": "opaque",
        "extendedProperties": {
            "private": {
                OWN_MARKER[0]: OWN_MARKER[1],
                APPOINTMENT_PROPERTY: str(draft.appointment_id),
            }
        },
    }


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).isoformat(timespec="seconds")


def _own_event(item: object) -> OwnEvent | None:
    """One listed item as an OwnEvent; None for anything that is not recognisably ours."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return None
    private = (item.get("extendedProperties") or {}).get("private") or {}
    try:
        appointment_id = UUID(str(private[APPOINTMENT_PROPERTY]))
    except (KeyError, ValueError):
        return None
    return OwnEvent(
        event_id=item["id"],
        appointment_id=appointment_id,
        start=_timed(item.get("start")),
        end=_timed(item.get("end")),
        cancelled=item.get("status") == "cancelled",
    )


def _timed(value: object) -> datetime | None:
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        return None
    try:
        parsed = datetime.fromisoformat(value["dateTime"])
    except ValueError:
        return None
    # Google always answers with an offset; a value without one cannot be placed in time.
    return None if parsed.tzinfo is None else parsed.astimezone(UTC)


def _rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_instant(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)
