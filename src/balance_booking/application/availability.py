"""Use cases around availability: ListAvailableSlots and the calendar state it depends on."""

from __future__ import annotations

import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from balance_booking.application.errors import (
    CalendarUnavailableError,
    InvalidRequestError,
    NotFoundError,
)
from balance_booking.application.ports import (
    CachedAvailability,
    CalendarLink,
    Clock,
    DataVersionReader,
    Metrics,
    SlotsCache,
    UnitOfWork,
    UnitOfWorkFactory,
)
from balance_booking.domain.availability import Availability
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from balance_booking.domain.slots import (
    TimeSlot,
    available_slots,
    bookable_starts,
    notice_deadline,
)

# The public API allows 62 local days; a day of slack keeps DST days inside this safety cap.
MAX_RANGE = timedelta(days=63)
# Busy time and appointments are read this far around the asked range so that buffers and the
# per-day limit see neighbours just outside it.
_CONTEXT = timedelta(days=2)

CalendarStatus = Literal["ok", "not_connected", "disabled"]


@dataclass(frozen=True, slots=True)
class CalendarFreshness:
    """How far the busy mirror can be trusted right now."""

    status: CalendarStatus
    synced_at: datetime | None


@dataclass(frozen=True, slots=True)
class CalendarPolicy:
    """The rules that turn the integration row into a CalendarFreshness."""

    enabled_by_default: bool
    stale_after: timedelta
    retry_after_seconds: int

    def state(self, link: CalendarLink, *, now: datetime) -> CalendarFreshness:
        """Decide whether busy data is usable; refuse (503) rather than silently ignore it."""
        enabled = (
            self.enabled_by_default if link.enabled_override is None else link.enabled_override
        )
        if not enabled:
            return CalendarFreshness(status="disabled", synced_at=None)
        if not link.connected:
            return CalendarFreshness(status="not_connected", synced_at=None)
        if link.last_success_at is None or now - link.last_success_at > self.stale_after:
            raise CalendarUnavailableError(
                "Calendar data is out of date; please check again later.",
                retry_after_seconds=self.retry_after_seconds,
                synced_at=link.last_success_at,
            )
        return CalendarFreshness(status="ok", synced_at=link.last_success_at)


@dataclass(frozen=True, slots=True)
class Validity:
    """How long an answer stays true: while the data version is `version` and before `until`.

    `until` is the first instant at which the answer could change with no new data version (a
    hold runs out, the earliest slot falls inside the minimum notice, the busy data goes stale);
    None when only a new version can change it.
    """

    version: int
    until: datetime | None

    def holds(self, *, version: int, now: datetime) -> bool:
        """True if an answer with this validity is still the answer at `now` under `version`."""
        return version == self.version and (self.until is None or now < self.until)


@dataclass(frozen=True, slots=True)
class SlotsResult:
    """The answer of ListAvailableSlots: instants in UTC; the caller renders them."""

    service: Service
    availability: Availability
    slots: list[TimeSlot]
    calendar: CalendarFreshness
    valid: Validity


def load_availability(uow: UnitOfWork, *, default_timezone: str) -> Availability:
    """The stored schedule, or an empty one before the owner sets hours.

    The owner's zone defaults to the connected calendar's zone, else the configured default.
    """
    stored = uow.schedule.get()
    if stored is not None:
        return stored
    zone = uow.integration.calendar_link().timezone or default_timezone
    return Availability(timezone=zone, weekly={}, overrides={})


class RulesMemo:
    """A service and the working hours as of one data version, for the slots miss path.

    Both change only with a new data version (their writes bump it), so a miss under the same
    version need not read them again; the calendar link is still read every time (a sync that
    changed nothing moves its freshness without a new version).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = -1
        self._entries: dict[str, tuple[Service, Availability]] = {}

    def get(self, version: int, service_slug: str) -> tuple[Service, Availability] | None:
        with self._lock:
            return self._entries.get(service_slug) if version == self._version else None

    def put(self, version: int, service_slug: str, entry: tuple[Service, Availability]) -> None:
        with self._lock:
            if version != self._version:
                self._version, self._entries = version, {}
            self._entries[service_slug] = entry


@dataclass(frozen=True, slots=True)
class _BusySnapshot:
    version: int
    span: Interval  # what was read; a range outside it goes to the database
    starts: list[datetime]  # of `blocks`, for bisect
    blocks: list[Interval]  # sorted by start
    longest: timedelta

    def overlapping(self, window: Interval) -> list[Interval]:
        # A block overlapping the window starts before its end and, being at most `longest`
        # long, after its start minus `longest`; the rest of that stretch is filtered out.
        first = bisect_left(self.starts, window.start - self.longest)
        last = bisect_left(self.starts, window.end)
        start = window.start
        return [block for block in self.blocks[first:last] if block.end > start]


class BusyMemo:
    """The busy mirror over the bookable future as of one data version, for the slots miss path.

    Every miss read the hundred-odd busy blocks around its range from the database, the largest
    part of its cost (docs/benchmarks.md). The mirror changes only with a new data version (a
    sync's writes bump it), so the first miss under a version reads the whole span once, within
    its own unit of work, and later misses under that version cut their range out of it. The
    snapshot is tagged with the version read before it, as cache entries are: a change racing
    with the read leaves it tagged older, and the next reader reads again. A range reaching
    outside the span (the past, or past the longest booking horizon) is read from the database.
    """

    BEFORE = timedelta(days=3)
    # The longest booking horizon (366 days) plus the longest range and its context.
    AFTER = timedelta(days=366) + MAX_RANGE + _CONTEXT + timedelta(days=1)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: _BusySnapshot | None = None

    def overlapping(
        self, uow: UnitOfWork, window: Interval, *, version: int, now: datetime
    ) -> list[Interval]:
        snapshot = self._snapshot
        if snapshot is None or snapshot.version != version:
            with self._lock:  # single flight: one reader per version, the others wait for it
                snapshot = self._snapshot
                if snapshot is None or snapshot.version != version:
                    snapshot = self._read(uow, version=version, now=now)
                    self._snapshot = snapshot
        span = snapshot.span
        if window.start < span.start or window.end > span.end:
            return uow.busy.overlapping(window)
        return snapshot.overlapping(window)

    def _read(self, uow: UnitOfWork, *, version: int, now: datetime) -> _BusySnapshot:
        span = Interval(now - self.BEFORE, now + self.AFTER)
        blocks = sorted(uow.busy.overlapping(span), key=lambda block: (block.start, block.end))
        return _BusySnapshot(
            version=version,
            span=span,
            starts=[block.start for block in blocks],
            blocks=blocks,
            longest=max((block.duration for block in blocks), default=timedelta(0)),
        )


class MissLocks:
    """Single flight for cache misses: requests missing the same entry at once compute it once.

    When fifty visitors lose the race for one slot they all ask for the same alternatives at the
    same moment; the first computes, the others wait for it and find the entry. Striped, so the
    memory stays fixed whatever the keys.
    """

    def __init__(self, stripes: int = 32) -> None:
        self._locks = tuple(threading.Lock() for _ in range(stripes))

    def lock(self, key: object) -> threading.Lock:
        return self._locks[hash(key) % len(self._locks)]


@dataclass(frozen=True, kw_only=True, slots=True)
class ListAvailableSlots:
    """Free slots of one service in a UTC range, from rules, busy time and appointments.

    Each answer says how long it stays true (`SlotsResult.valid`), so a caller may keep what it
    made of it (the web keeps the rendered JSON) and ask `still_valid` instead of asking again.
    The computation per (service, range) is cached here, keyed by the data version.
    """

    uow_factory: UnitOfWorkFactory
    clock: Clock
    policy: CalendarPolicy
    default_timezone: str
    versions: DataVersionReader
    cache: SlotsCache
    metrics: Metrics
    rules_memo: RulesMemo = field(default_factory=RulesMemo)
    busy_memo: BusyMemo = field(default_factory=BusyMemo)
    miss_locks: MissLocks = field(default_factory=MissLocks)

    def execute(self, *, service_slug: str, window: Interval) -> SlotsResult:
        now = self.clock.now()
        entry, hit = self._entry(service_slug, window, now=now)
        calendar = self.policy.state(entry.link, now=now)
        if hit:  # computed earlier: drop the slots that notice or horizon rule out since
            bookable = bookable_starts(entry.service, now)
            slots = [slot for slot in entry.slots if bookable.admits(slot.start)]
        else:
            slots = list(entry.slots)
        return SlotsResult(
            service=entry.service,
            availability=entry.availability,
            slots=slots,
            calendar=calendar,
            valid=self._validity(entry, slots, calendar, now=now),
        )

    def still_valid(self, valid: Validity) -> bool:
        """True if an answer with validity `valid` is still the answer now (the hot path)."""
        return valid.holds(version=self.versions.current(), now=self.clock.now())

    def _entry(
        self, service_slug: str, window: Interval, *, now: datetime
    ) -> tuple[CachedAvailability, bool]:
        """The cached computation for (service, window) and whether it was a hit."""
        if window.duration > MAX_RANGE:
            raise InvalidRequestError("The range is too long.", field="to")
        # Read the version before computing: a change racing with us leaves an entry tagged with
        # the older version, which the next reader discards.
        version = self.versions.current()
        key = (service_slug, window.start, window.end)
        cached = self._cached(key, version, now=now)
        if cached is not None:
            return cached, True
        with self.miss_locks.lock(key):
            # Another request may have computed it while this one waited for the lock.
            cached = self._cached(key, version, now=now)
            if cached is not None:
                return cached, True
            self.metrics.increment("slots_cache", {"result": "miss"})
            return self._compute(key, service_slug, window, version, now=now), False

    def _cached(
        self, key: tuple[str, datetime, datetime], version: int, *, now: datetime
    ) -> CachedAvailability | None:
        cached = self.cache.get(key)
        if (
            cached is not None
            and cached.version == version
            and (cached.valid_until is None or now < cached.valid_until)
        ):
            self.metrics.increment("slots_cache", {"result": "hit"})
            return cached
        return None

    def _compute(
        self,
        key: tuple[str, datetime, datetime],
        service_slug: str,
        window: Interval,
        version: int,
        *,
        now: datetime,
    ) -> CachedAvailability:
        with self.uow_factory() as uow:
            remembered = self.rules_memo.get(version, service_slug)
            if remembered is None:
                found = uow.services.get(service_slug)
                if found is None or not found.active:
                    raise NotFoundError(f"Unknown service {service_slug!r}.")
                availability = load_availability(uow, default_timezone=self.default_timezone)
                self.rules_memo.put(version, service_slug, (found, availability))
            else:
                found, availability = remembered
            service = found
            link = uow.integration.calendar_link()
            calendar = self.policy.state(link, now=now)
            context = Interval(window.start - _CONTEXT, window.end + _CONTEXT)
            busy = (
                self.busy_memo.overlapping(uow, context, version=version, now=now)
                if calendar.status == "ok"
                else []
            )
            occupied = uow.appointments.occupied_overlapping(context, now=now)
            # Only a hold or an open offer (both `held`) runs out by itself: without one in
            # the context there is nothing to ask.
            valid_until = (
                uow.appointments.next_hold_expiry(context, now=now)
                if any(item.held for item in occupied)
                else None
            )
        slots = available_slots(
            service=service,
            availability=availability,
            busy=busy,
            appointments=occupied,
            window=window,
            now=now,
        )
        entry = CachedAvailability(
            version=version,
            service=service,
            availability=availability,
            link=link,
            slots=tuple(slots),
            valid_until=valid_until,
        )
        self.cache.put(key, entry)
        return entry

    def _validity(
        self,
        entry: CachedAvailability,
        slots: list[TimeSlot],
        calendar: CalendarFreshness,
        *,
        now: datetime,
    ) -> Validity:
        """Until when `slots` stay the answer with no new data version."""
        moments = [entry.valid_until]
        if slots:  # sorted: the earliest slot is the next to fall inside the notice
            moments.append(notice_deadline(entry.service, slots[0].start))
        if calendar.status == "ok" and entry.link.last_success_at is not None:
            moments.append(entry.link.last_success_at + self.policy.stale_after)
        known = [moment for moment in moments if moment is not None]
        return Validity(version=entry.version, until=max(now, min(known)) if known else None)


@dataclass(frozen=True, kw_only=True, slots=True)
class ListPublicServices:
    """The active services clients may book."""

    uow_factory: UnitOfWorkFactory

    def execute(self) -> list[Service]:
        with self.uow_factory() as uow:
            return uow.services.list(active_only=True)


class GetOwnerTimezone:
    """The owner's IANA zone: the default `tz` of public queries.

    Remembered per data version (a schedule change bumps it), so the hot slots path does not
    read the database for it on every request.
    """

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        default_timezone: str,
        versions: DataVersionReader,
    ) -> None:
        self._uow_factory = uow_factory
        self._default_timezone = default_timezone
        self._versions = versions
        self._memo: tuple[int, str] | None = None

    def execute(self) -> str:
        version = self._versions.current()  # read first: a racing change only costs a re-read
        memo = self._memo
        if memo is not None and memo[0] == version:
            return memo[1]
        with self._uow_factory() as uow:
            zone = load_availability(uow, default_timezone=self._default_timezone).timezone
        self._memo = (version, zone)
        return zone
