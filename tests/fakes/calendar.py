"""A fake Google Calendar: events by id, busy time, our own events, push channels, failures.

It behaves as GoogleCalendarHttpGateway promises in its docstrings: insert with an id Google
knows (live or deleted) is 409 `duplicate` -> False; patch undeletes (or, with
`refuse_deleted_writes`, raises DeletedEventWriteRefusedError as real Google's 403 does) and
returns False only for an id Google no longer has; delete of an unknown or deleted event is done; own_events lists live
events only; busy time is Google's freeBusy (other people's events plus our own live ones).
Failures are programmed per operation: the next N calls raise the given application error.
"""

from __future__ import annotations

import itertools
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from balance_booking.application import deadline
from balance_booking.application.errors import (
    AccessRevokedError,
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
from balance_booking.domain.intervals import Interval, merge
from tests.fakes.clock import FakeStopwatch

OPERATIONS = frozenset(
    {
        "primary_calendar",
        "busy_intervals",
        "stop_channel",
        "watch_events",
        "insert_event",
        "patch_event",
        "delete_event",
        "own_events",
        "calendars",
    }
)


@dataclass(frozen=True)
class FakeEvent:
    """One event as Google holds it; `appointment_id` set for the ones this product exported."""

    event_id: str
    start: datetime | None
    end: datetime | None
    appointment_id: UUID | None = None
    summary: str = ""
    description: str = ""
    timezone: str | None = None
    cancelled: bool = False
    transparent: bool = False


@dataclass(frozen=True)
class FakeChannel:
    channel_id: str
    resource_id: str
    address: str
    token: str
    expires_at: datetime
    stopped: bool = False


class FakeCalendar:
    """The owner's primary calendar as Google keeps it, plus a switchboard of failures."""

    def __init__(
        self,
        *,
        timezone: str = "Europe/Moscow",
        now: Callable[[], datetime] | None = None,
        channel_ttl_cap: timedelta = timedelta(days=7),
        stopwatch: FakeStopwatch | None = None,
    ) -> None:
        self.timezone = timezone
        self.events: dict[str, FakeEvent] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.forgotten: set[str] = set()  # ids Google refuses to reuse but can no longer patch
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[str, object]] = []
        self._failures: dict[str, deque[Exception]] = {}
        self._outage: Exception | None = None
        self._now = now
        self._ttl_cap = channel_ttl_cap
        self._ids = itertools.count(1)
        self.on_call: Callable[[str], None] | None = None  # runs before each call (races)
        # Real Google refuses writes to an event deleted in Google (403); False keeps the older
        # model in which a patch undeletes it.
        self.refuse_deleted_writes = False
        # The owner's other calendars: id -> (summary, busy intervals), for "which calendars
        # block time" (only their busy time matters here).
        self.others: dict[str, tuple[str, list[Interval]]] = {}
        # A slow Google: every call takes `latency` seconds on `stopwatch`. A call made inside a
        # time budget (application/deadline.py) gives up at its end the way the transport
        # promises: the stopwatch moves to the deadline and DeadlineExceededError is raised.
        self.latency = 0.0
        self.stopwatch = stopwatch or FakeStopwatch()

    # --- programming failures -------------------------------------------------------------
    def fail(self, operation: str, error: Exception, *, times: int = 1) -> None:
        """The next `times` calls of `operation` raise `error`."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown gateway operation {operation!r}")
        self._failures.setdefault(operation, deque()).extend([error] * times)

    def unavailable(self, operation: str, *, times: int = 1) -> None:
        self.fail(operation, GoogleUnavailableError("Google kept failing: 503"), times=times)

    def revoked(self, operation: str, *, times: int = 1) -> None:
        self.fail(operation, AccessRevokedError("Google revoked our access."), times=times)

    def refuse(self, operation: str, status: int, reason: str | None, *, times: int = 1) -> None:
        error = GoogleRequestError(
            f"Google answered {status} {reason or ''}".strip(), status=status, reason=reason
        )
        self.fail(operation, error, times=times)

    def outage(self) -> None:
        """Every call fails as unreachable until `recover()`."""
        self._outage = GoogleUnavailableError("Google kept failing: connection refused")

    def recover(self) -> None:
        self._outage = None
        self._failures.clear()

    def pending_failures(self, operation: str) -> int:
        return len(self._failures.get(operation, ()))

    def call(self, operation: str, argument: object = None) -> None:
        """Count the call; raise what was programmed for it."""
        self.calls[operation] += 1
        self.log.append((operation, argument))
        if self.on_call is not None:
            self.on_call(operation)
        if self.latency > 0:
            left = deadline.remaining()
            if left is not None and left < self.latency:
                self.stopwatch.advance(left)
                raise deadline.DeadlineExceededError(f"Google did not answer in time ({operation})")
            self.stopwatch.advance(self.latency)
        if self._outage is not None:
            raise self._outage
        queue = self._failures.get(operation)
        if queue:
            raise queue.popleft()

    # --- what people do in Google's UI --------------------------------------------------
    def add_busy(self, start: datetime, end: datetime, *, transparent: bool = False) -> str:
        """Someone else's event on the owner's calendar."""
        event_id = f"foreign{next(self._ids)}"
        self.events[event_id] = FakeEvent(event_id, start, end, transparent=transparent)
        return event_id

    def delete(self, event_id: str) -> None:
        self.events[event_id] = replace(self.events[event_id], cancelled=True)

    def move(self, event_id: str, start: datetime | None, end: datetime | None) -> None:
        self.events[event_id] = replace(self.events[event_id], start=start, end=end)

    def forget(self, event_id: str) -> None:
        """Google drops the event for good but still refuses its id (404 patch, 409 insert)."""
        self.events.pop(event_id, None)
        self.forgotten.add(event_id)

    def live(self) -> list[FakeEvent]:
        return [e for e in self.events.values() if not e.cancelled]

    def live_own(self) -> list[FakeEvent]:
        return [e for e in self.live() if e.appointment_id is not None]

    def live_channels(self) -> list[FakeChannel]:
        return [c for c in self.channels.values() if not c.stopped]

    def clock(self) -> datetime:
        if self._now is None:
            raise RuntimeError("this FakeCalendar was made without a clock")
        return self._now()


class FakeCalendarGateway:
    """The CalendarGateway port over a FakeCalendar; asks its token source like the real one."""

    def __init__(
        self,
        calendar: FakeCalendar,
        tokens: AccessTokenSource,
        *,
        accepts: Callable[[str], bool] | None = None,
    ) -> None:
        self._calendar = calendar
        self._tokens = tokens
        self._accepts = accepts

    def _enter(self, operation: str, argument: object = None) -> None:
        # The transport's rule: present the current token; on 401 refresh once and retry once.
        access = self._tokens.current()
        if self._accepts is not None and not self._accepts(access):
            access = self._tokens.refreshed(access)
            if not self._accepts(access):
                raise GoogleRequestError("Google answered 401", status=401, reason="authError")
        self._calendar.call(operation, argument)

    def primary_calendar(self) -> CalendarInfo:
        self._enter("primary_calendar")
        return CalendarInfo(calendar_id="primary", timezone=self._calendar.timezone)

    def busy_intervals(
        self, window: Interval, calendar_ids: Sequence[str] = ("primary",)
    ) -> list[Interval]:
        self._enter("busy_intervals", window)
        busy = []
        if "primary" in calendar_ids:
            for event in self._calendar.live():
                if event.transparent or event.start is None or event.end is None:
                    continue
                start, end = max(event.start, window.start), min(event.end, window.end)
                if start < end:
                    busy.append(Interval(start, end))
        for calendar_id in calendar_ids:
            if calendar_id == "primary":
                continue
            if calendar_id not in self._calendar.others:
                raise GoogleRequestError(
                    "freeBusy refused a calendar (notFound)", status=200, reason="notFound"
                )
            busy.extend(
                Interval(max(b.start, window.start), min(b.end, window.end))
                for b in self._calendar.others[calendar_id][1]
                if b.overlaps(window)
            )
        return merge(busy)

    def calendars(self) -> list[CalendarEntry]:
        self._enter("calendars")
        return [CalendarEntry("primary", "Primary", primary=True)] + [
            CalendarEntry(calendar_id, summary)
            for calendar_id, (summary, _) in self._calendar.others.items()
        ]

    def stop_channel(self, *, channel_id: str, resource_id: str) -> None:
        self._enter("stop_channel", channel_id)
        channel = self._calendar.channels.get(channel_id)
        if channel is not None and channel.resource_id == resource_id:
            self._calendar.channels[channel_id] = replace(channel, stopped=True)

    def watch_events(
        self, *, channel_id: str, address: str, token: str, ttl_seconds: int
    ) -> PushChannel:
        self._enter("watch_events", channel_id)
        ttl = min(timedelta(seconds=ttl_seconds), self._calendar._ttl_cap)
        channel = FakeChannel(
            channel_id=channel_id,
            resource_id=f"resource-{channel_id[:8]}",
            address=address,
            token=token,
            expires_at=self._calendar.clock() + ttl,
        )
        self._calendar.channels[channel_id] = channel
        return PushChannel(channel_id, channel.resource_id, channel.expires_at)

    def insert_event(self, draft: EventDraft) -> bool:
        self._enter("insert_event", draft.event_id)
        if draft.event_id in self._calendar.events or draft.event_id in self._calendar.forgotten:
            return False
        self._calendar.events[draft.event_id] = _from_draft(draft)
        return True

    def patch_event(self, event_id: str, draft: EventDraft) -> bool:
        self._enter("patch_event", event_id)
        if event_id not in self._calendar.events:
            return False
        if self._calendar.refuse_deleted_writes and self._calendar.events[event_id].cancelled:
            raise DeletedEventWriteRefusedError(
                "Google answered 403 forbidden", status=403, reason="forbidden"
            )
        self._calendar.events[event_id] = replace(_from_draft(draft), event_id=event_id)
        return True

    def delete_event(self, event_id: str) -> None:
        self._enter("delete_event", event_id)
        event = self._calendar.events.get(event_id)
        if event is not None:
            self._calendar.events[event_id] = replace(event, cancelled=True)

    def own_events(self, window: Interval) -> list[OwnEvent]:
        self._enter("own_events", window)
        found = []
        for event in self._calendar.live_own():
            assert event.appointment_id is not None
            start, end = event.start, event.end
            if (
                start is not None
                and end is not None
                and not (start < window.end and end > window.start)
            ):
                continue
            found.append(
                OwnEvent(event.event_id, event.appointment_id, event.start, event.end, False)
            )
        return found


def _from_draft(draft: EventDraft) -> FakeEvent:
    return FakeEvent(
        event_id=draft.event_id,
        start=draft.start,
        end=draft.end,
        appointment_id=draft.appointment_id,
        summary=draft.summary,
        description=draft.description,
        timezone=draft.timezone,
    )


class FakeCalendarGatewayFactory:
    """CalendarGatewayFactory: gateways over one FakeCalendar; remembers the token sources."""

    def __init__(
        self, calendar: FakeCalendar, *, accepts: Callable[[str], bool] | None = None
    ) -> None:
        self.calendar = calendar
        self._accepts = accepts
        self.sources: list[AccessTokenSource] = []

    def __call__(self, tokens: AccessTokenSource) -> FakeCalendarGateway:
        self.sources.append(tokens)
        return FakeCalendarGateway(self.calendar, tokens, accepts=self._accepts)


class FixedTokens:
    """An AccessTokenSource that always has the same token (refreshing changes nothing)."""

    def __init__(self, token: str = "access-token") -> None:  # noqa: S107 - not a secret
        self.token = token
        self.refreshes = 0

    def current(self) -> str:
        return self.token

    def refreshed(self, stale: str) -> str:  # noqa: ARG002 - port signature
        self.refreshes += 1
        return self.token
