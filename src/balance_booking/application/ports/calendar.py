"""Ports of Google Calendar itself: the gateway (the spec's IGoogleCalendarService), busy time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from balance_booking.domain.intervals import Interval

PRIMARY_CALENDAR = "primary"  # Google's alias of the account's own calendar


class BusyRepository(Protocol):
    """The mirror of Google Calendar busy time."""

    def overlapping(self, window: Interval) -> list[Interval]: ...
    def clear(self) -> None: ...
    def replace_all(self, intervals: list[Interval], *, source: str) -> bool: ...
    def forget(self, interval: Interval) -> None:
        """Take `interval` out of the mirror until the next sync: our own event there is being
        moved or deleted, so the time is free as far as the product knows."""
        ...


class AccessTokenSource(Protocol):
    """Hands the gateway a valid access token; refreshes once when Google says it is stale."""

    def current(self) -> str: ...
    def refreshed(self, stale: str) -> str: ...


class CalendarGateway(Protocol):
    """The spec's IGoogleCalendarService: everything the product asks of Google Calendar."""

    def primary_calendar(self) -> CalendarInfo: ...
    def busy_intervals(
        self, window: Interval, calendar_ids: Sequence[str] = (PRIMARY_CALENDAR,)
    ) -> list[Interval]:
        """Busy time of every calendar in `calendar_ids`, merged; an error on any one of them
        fails the whole read (never "free")."""
        ...

    def calendars(self) -> list[CalendarEntry]:
        """The owner's calendar list (needs calendar.calendarlist.readonly)."""
        ...

    def stop_channel(self, *, channel_id: str, resource_id: str) -> None: ...
    def watch_events(
        self, *, channel_id: str, address: str, token: str, ttl_seconds: int
    ) -> PushChannel:
        """Ask Google to POST to `address` whenever the primary calendar's events change."""
        ...

    def insert_event(self, draft: EventDraft) -> bool:
        """Create the event under `draft.event_id`; False when that id exists already (409)."""
        ...

    def patch_event(self, event_id: str, draft: EventDraft) -> bool:
        """Make the event look like `draft` again (status confirmed too); False when unknown."""
        ...

    def delete_event(self, event_id: str) -> None:
        """Delete the event; one that is unknown or already deleted counts as done."""
        ...

    def own_events(self, window: Interval) -> list[OwnEvent]:
        """Every live event this product exported that overlaps `window` (a deleted one reads
        as missing)."""
        ...


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    """The calendar we sync with."""

    calendar_id: str
    timezone: str


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One calendar of the owner's calendar list (the admin picks which ones block time)."""

    calendar_id: str
    summary: str
    primary: bool = False


@dataclass(frozen=True, slots=True)
class EventDraft:
    """What an appointment's calendar event should say; the gateway turns it into Google JSON."""

    event_id: str
    appointment_id: UUID
    summary: str
    description: str
    start: datetime
    end: datetime
    timezone: str  # the owner's IANA zone: how Google shows the times


@dataclass(frozen=True, slots=True)
class OwnEvent:
    """One of our exported events as Google holds it now (found by its private property)."""

    event_id: str
    appointment_id: UUID
    start: datetime | None  # None when it is no longer a timed event (e.g. made all-day)
    end: datetime | None
    cancelled: bool


@dataclass(frozen=True, slots=True)
class PushChannel:
    """A push channel Google opened for us (events.watch); it has no renewal, only a successor."""

    channel_id: str
    resource_id: str
    expires_at: datetime


class CalendarGatewayFactory(Protocol):
    """Builds a gateway that authenticates with the given token source."""

    def __call__(self, tokens: AccessTokenSource) -> CalendarGateway: ...
