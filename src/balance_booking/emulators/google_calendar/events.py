"""Calendar and event operations on the store: the behaviour behind /calendar/v3 events routes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from balance_booking.emulators.google_calendar.config import EmulatorConfig
from balance_booking.emulators.google_calendar.errors import (
    GoogleApiError,
    bad_request,
    invalid_body,
    not_found,
)
from balance_booking.emulators.google_calendar.event_model import (
    INSTANCE_ID,
    Timing,
    apply_change,
    build_new_event,
    event_timing,
    instance_resource,
    invalid_id,
    is_valid_event_id,
    mark_cancelled,
    merge_patch,
    parse_instance_suffix,
    render_times,
    start_sort_value,
)
from balance_booking.emulators.google_calendar.models import Calendar, EventRecord, State
from balance_booking.emulators.google_calendar.recurrence import MAX_INSTANCES, expand
from balance_booking.emulators.google_calendar.store import Store, random_base32hex
from balance_booking.emulators.google_calendar.timefmt import (
    EventTimeError,
    format_utc_millis,
    parse_rfc3339,
    to_epoch_ms,
)
from balance_booking.emulators.google_calendar.tokens import PageToken, SyncToken, TokenError

MAX_PAGE_SIZE = 2500
DEFAULT_PAGE_SIZE = 250

ChangeListener = Callable[[State, str], None]


@dataclass(frozen=True, slots=True)
class ListQuery:
    """events.list parameters after parsing (validation of combinations happens in `list`)."""

    time_min: datetime | None = None
    time_max: datetime | None = None
    single_events: bool = False
    order_by: str | None = None
    show_deleted: bool = False
    sync_token: str | None = None
    page_token: str | None = None
    max_results: int = DEFAULT_PAGE_SIZE
    updated_min: datetime | None = None
    private_properties: list[tuple[str, str]] = field(default_factory=list)
    shared_properties: list[tuple[str, str]] = field(default_factory=list)
    q: str | None = None
    ical_uid: str | None = None
    event_types: frozenset[str] | None = None
    time_zone: ZoneInfo | None = None
    # Names of parameters present in the request, for the syncToken compatibility rule.
    present: frozenset[str] = frozenset()


# Parameters Google refuses next to syncToken (400).
SYNC_FORBIDDEN = ("iCalUID", "orderBy", "privateExtendedProperty", "q", "sharedExtendedProperty", "timeMin", "timeMax", "updatedMin")  # fmt: skip


@dataclass(slots=True)
class _Item:
    key: tuple[str, str, str]
    resource: dict[str, Any]


class EventsService:
    """Every method takes the authenticated user's email; calendars of others are 404."""

    def __init__(self, *, store: Store, config: EmulatorConfig, on_change: ChangeListener) -> None:
        self._store = store
        self._config = config
        self._on_change = on_change

    # -- calendars -------------------------------------------------------------------------

    @staticmethod
    def resolve_calendar(state: State, email: str, calendar_id: str) -> Calendar:
        wanted = email if calendar_id == "primary" else calendar_id
        calendar = state.calendars.get(wanted)
        if calendar is None or calendar.owner_email != email:
            raise not_found()
        return calendar

    def calendar(self, *, email: str, calendar_id: str) -> Calendar:
        with self._store.read() as state:
            return self.resolve_calendar(state, email, calendar_id).model_copy()

    def calendars_of(self, email: str) -> list[Calendar]:
        with self._store.read() as state:
            owned = [c.model_copy() for c in state.calendars.values() if c.owner_email == email]
        return sorted(owned, key=lambda c: (not c.primary, c.id))

    # -- writes ----------------------------------------------------------------------------

    def insert(
        self, *, email: str, calendar_id: str, body: dict[str, Any], base_url: str
    ) -> dict[str, Any]:
        now = self._store.clock.now()
        with self._store.write() as state:
            calendar = self.resolve_calendar(state, email, calendar_id)
            records = state.events.setdefault(calendar.id, {})
            event_id = body.get("id")
            if event_id is None:
                event_id = random_base32hex(26)
            elif not isinstance(event_id, str) or not is_valid_event_id(event_id):
                raise invalid_id()
            # Ids of deleted events stay taken: their cancelled copies are still readable.
            if event_id in records:
                raise GoogleApiError(409, "duplicate", "The requested identifier already exists.")
            resource = build_new_event(
                body,
                calendar=calendar,
                event_id=event_id,
                now=now,
                seq=state.change_seq + 1,
                base_url=base_url,
            )
            state.event_order += 1
            record = EventRecord(
                calendar_id=calendar.id,
                resource=resource,
                seq=self._store.next_seq(state),
                order=state.event_order,
            )
            records[event_id] = record
            self._on_change(state, calendar.id)
            return self._render(resource, calendar, None)

    def patch(
        self,
        *,
        email: str,
        calendar_id: str,
        event_id: str,
        body: dict[str, Any],
        if_match: str | None,
        replace: bool = False,
        restore_deleted: bool = False,
    ) -> dict[str, Any]:
        """events.patch, or events.update when `replace` (omitted fields reset to defaults).

        `restore_deleted`: the person in Google Calendar's UI (the control API) may restore a
        deleted event; the API may not unless the `deleted_event_writes` setting says so."""
        now = self._store.clock.now()
        with self._store.write() as state:
            calendar = self.resolve_calendar(state, email, calendar_id)
            record = self._record_for_write(state, calendar, event_id)
            _check_if_match(record, if_match)
            if (
                not restore_deleted
                and record.resource.get("status") == "cancelled"
                and state.settings.deleted_event_writes == "forbidden"
            ):
                # Google refuses writes to an event deleted in Google (403 reported for PUT;
                # PATCH undocumented, assumed the same); its id stays taken for inserts (409).
                raise GoogleApiError(403, "forbidden", "Forbidden")
            if replace:
                new_resource = {k: copy.deepcopy(v) for k, v in body.items()}
            else:
                new_resource = copy.deepcopy(record.resource)
                merge_patch(new_resource, body)
            apply_change(
                record, new_resource, calendar=calendar, now=now, seq=self._store.next_seq(state)
            )
            self._on_change(state, calendar.id)
            return self._render(record.resource, calendar, None)

    def delete(self, *, email: str, calendar_id: str, event_id: str, if_match: str | None) -> None:
        now = self._store.clock.now()
        with self._store.write() as state:
            calendar = self.resolve_calendar(state, email, calendar_id)
            record = self._record_for_write(state, calendar, event_id)
            _check_if_match(record, if_match)
            if record.resource.get("status") == "cancelled":
                raise GoogleApiError(410, "deleted", "Resource has been deleted")
            mark_cancelled(record, now=now, seq=self._store.next_seq(state))
            # Deleting a series deletes its modified instances too.
            if record.resource.get("recurrence"):
                for other in state.events[calendar.id].values():
                    if (
                        other.resource.get("recurringEventId") == event_id
                        and other.resource.get("status") != "cancelled"
                    ):
                        mark_cancelled(other, now=now, seq=self._store.next_seq(state))
            self._on_change(state, calendar.id)

    def _record_for_write(self, state: State, calendar: Calendar, event_id: str) -> EventRecord:
        records = state.events.setdefault(calendar.id, {})
        record = records.get(event_id)
        if record is not None:
            return record
        # Writing to an instance that has no exception yet materialises one from the series.
        synthesized = self._synthesize_instance(state, calendar, event_id)
        if synthesized is None:
            raise not_found()
        master = records[synthesized["recurringEventId"]]
        record = EventRecord(
            calendar_id=calendar.id,
            resource=synthesized,
            seq=master.seq,
            order=master.order,
        )
        records[event_id] = record
        return record

    # -- reads -----------------------------------------------------------------------------

    def get(
        self, *, email: str, calendar_id: str, event_id: str, time_zone: ZoneInfo | None
    ) -> dict[str, Any]:
        with self._store.read() as state:
            calendar = self.resolve_calendar(state, email, calendar_id)
            record = state.events.get(calendar.id, {}).get(event_id)
            # Deleted events stay readable with status "cancelled", as at Google.
            resource = (
                record.resource
                if record is not None
                else self._synthesize_instance(state, calendar, event_id)
            )
            if resource is None:
                raise not_found()
            return self._render(resource, calendar, time_zone)

    def _synthesize_instance(
        self, state: State, calendar: Calendar, event_id: str
    ) -> dict[str, Any] | None:
        match = INSTANCE_ID.fullmatch(event_id)
        if match is None:
            return None
        master = state.events.get(calendar.id, {}).get(match["series"])
        if master is None or not master.resource.get("recurrence"):
            return None
        zone = ZoneInfo(calendar.timezone)
        window_start, window_end = parse_instance_suffix(match["suffix"], zone)
        timing = event_timing(master.resource, zone)
        for occurrence in expand(
            start=timing.start,
            end=timing.end,
            recurrence=master.resource["recurrence"],
            calendar_zone=zone,
            window_start=window_start,
            window_end=window_end,
            limit=50,
        ):
            if occurrence.instance_suffix() == match["suffix"]:
                return instance_resource(master.resource, occurrence, master_timing=timing)
        return None

    def instances(
        self,
        *,
        email: str,
        calendar_id: str,
        event_id: str,
        query: ListQuery,
    ) -> dict[str, Any]:
        """events.instances: the series' instances (exceptions included) in a window."""
        with self._store.read() as state:
            calendar = self.resolve_calendar(state, email, calendar_id)
            master = state.events.get(calendar.id, {}).get(event_id)
            if master is None or not master.resource.get("recurrence"):
                raise not_found()
            zone = ZoneInfo(calendar.timezone)
            items = self._expand_master(state, calendar, master, query, zone)
            for record in state.events[calendar.id].values():
                resource = record.resource
                if resource.get("recurringEventId") != event_id:
                    continue
                if resource.get("status") == "cancelled" and not query.show_deleted:
                    continue
                if self._in_window(resource, query, zone):
                    items.append(_Item(self._key(record, resource, None, zone), resource))
            return self._page(state, calendar, items, query, since=None)

    def list_events(self, *, email: str, calendar_id: str, query: ListQuery) -> dict[str, Any]:
        _validate_list_query(query)
        now = self._store.clock.now()
        with self._store.read() as state:
            calendar = self.resolve_calendar(state, email, calendar_id)
            since = self._since(state, calendar, query, now)
            items = self._collect(state, calendar, query, since)
            return self._page(state, calendar, items, query, since=since)

    def _since(
        self, state: State, calendar: Calendar, query: ListQuery, now: datetime
    ) -> int | None:
        if query.page_token is not None:
            page = _decode_page(query.page_token)
            if page.since_seq is not None or query.sync_token is None:
                return page.since_seq
        if query.sync_token is None:
            return None
        try:
            token = SyncToken.decode(query.sync_token)
        except TokenError as exc:
            raise bad_request(
                "Invalid sync token value.", reason="invalid", location="syncToken"
            ) from exc
        ttl = self._config.sync_token_ttl_seconds
        expired = ttl is not None and to_epoch_ms(now) - token.issued_ms > ttl * 1000
        if (
            expired
            or token.calendar_id != calendar.id
            or token.generation != state.sync_generation.get(calendar.id, 0)
            or token.seq > state.change_seq
        ):
            raise GoogleApiError(
                410,
                "fullSyncRequired",
                "Sync token is no longer valid, a full sync is required.",
                location="syncToken",
                location_type="parameter",
            )
        return token.seq

    def _collect(
        self, state: State, calendar: Calendar, query: ListQuery, since: int | None
    ) -> list[_Item]:
        zone = ZoneInfo(calendar.timezone)
        records = state.events.get(calendar.id, {})
        syncing = since is not None
        # Incremental results and updatedMin listings always carry deletions.
        include_cancelled = syncing or query.show_deleted or query.updated_min is not None
        items: list[_Item] = []
        for record in records.values():
            resource = record.resource
            if since is not None and record.seq <= since:
                continue
            if not _passes_filters(resource, query):
                continue
            is_master = bool(resource.get("recurrence")) and not resource.get("recurringEventId")
            cancelled = resource.get("status") == "cancelled"
            if query.single_events and is_master and not cancelled:
                items.extend(self._expand_master(state, calendar, record, query, zone))
                continue
            if cancelled and not include_cancelled:
                master_id = resource.get("recurringEventId")
                master = records.get(master_id) if master_id else None
                # Cancelled instances still show in a plain (non-expanded) listing, per Google.
                keep = (
                    not query.single_events
                    and master is not None
                    and master.resource.get("status") != "cancelled"
                )
                if not keep:
                    continue
            if not syncing and not self._in_window(resource, query, zone):
                continue
            items.append(_Item(self._key(record, resource, query.order_by, zone), resource))
        return items

    def _expand_master(
        self,
        state: State,
        calendar: Calendar,
        record: EventRecord,
        query: ListQuery,
        zone: ZoneInfo,
    ) -> list[_Item]:
        records = state.events.get(calendar.id, {})
        master = record.resource
        timing = event_timing(master, zone)
        # Without timeMax a finite series expands fully; an endless one stops at MAX_INSTANCES.
        window_end = query.time_max
        items = []
        for occurrence in expand(
            start=timing.start,
            end=timing.end,
            recurrence=master["recurrence"],
            calendar_zone=zone,
            window_start=query.time_min,
            window_end=window_end,
            limit=MAX_INSTANCES,
        ):
            instance_id = f"{master['id']}_{occurrence.instance_suffix()}"
            if instance_id in records:
                continue  # an exception record stands for this instance
            instance = instance_resource(master, occurrence, master_timing=timing)
            key = self._instance_key(
                record, occurrence.start, instance_id, query.order_by, instance
            )
            items.append(_Item(key, instance))
        return items

    @staticmethod
    def _instance_key(
        record: EventRecord,
        start: datetime,
        instance_id: str,
        order_by: str | None,
        instance: dict[str, Any],
    ) -> tuple[str, str, str]:
        if order_by == "startTime":
            return (start_sort_value(start), instance_id, "")
        if order_by == "updated":
            return (str(instance.get("updated", "")), instance_id, "")
        return (f"{record.order:012d}", start_sort_value(start), instance_id)

    def _key(
        self,
        record: EventRecord,
        resource: dict[str, Any],
        order_by: str | None,
        zone: ZoneInfo,
    ) -> tuple[str, str, str]:
        try:
            start = event_timing(resource, zone).start.instant
        except EventTimeError:
            start = datetime.min.replace(tzinfo=zone)
        return self._instance_key(record, start, str(resource["id"]), order_by, resource)

    def _in_window(self, resource: dict[str, Any], query: ListQuery, zone: ZoneInfo) -> bool:
        """timeMin bounds the end and timeMax the start, both exclusive; series match by instance."""
        if query.time_min is None and query.time_max is None:
            return True
        try:
            timing = event_timing(resource, zone)
        except EventTimeError:
            return False
        if resource.get("recurrence") and not resource.get("recurringEventId"):
            return bool(_overlapping_instances(resource, timing, query, zone, limit=1))
        if query.time_min is not None and timing.end.instant <= query.time_min:
            return False
        return not (query.time_max is not None and timing.start.instant >= query.time_max)

    def _page(
        self,
        state: State,
        calendar: Calendar,
        items: list[_Item],
        query: ListQuery,
        *,
        since: int | None,
    ) -> dict[str, Any]:
        items.sort(key=lambda item: item.key)
        snapshot = state.change_seq
        if query.page_token is not None:
            page = _decode_page(query.page_token)
            snapshot = page.snapshot_seq
            last = tuple(page.last_key)
            items = [item for item in items if item.key > last]
        size = max(1, min(query.max_results, MAX_PAGE_SIZE))
        served = items[:size]
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"p{snapshot:015d}"',
            "summary": calendar.summary,
            "description": calendar.description,
            "updated": self._collection_updated(state, calendar),
            "timeZone": calendar.timezone,
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 30}],
        }
        if len(items) > size:
            body["nextPageToken"] = PageToken(
                last_key=list(served[-1].key), snapshot_seq=snapshot, since_seq=since
            ).encode()
        else:
            # The token remembers the state when the listing began, so changes made while
            # paging show up in the next incremental sync.
            body["nextSyncToken"] = SyncToken(
                calendar_id=calendar.id,
                seq=snapshot,
                generation=state.sync_generation.get(calendar.id, 0),
                issued_ms=to_epoch_ms(self._store.clock.now()),
            ).encode()
        body["items"] = [self._render(item.resource, calendar, query.time_zone) for item in served]
        return body

    def _collection_updated(self, state: State, calendar: Calendar) -> str:
        stamps = [
            str(r.resource.get("updated", "")) for r in state.events.get(calendar.id, {}).values()
        ]
        return max(stamps) if stamps else format_utc_millis(self._store.clock.now())

    @staticmethod
    def _render(
        resource: dict[str, Any], calendar: Calendar, time_zone: ZoneInfo | None
    ) -> dict[str, Any]:
        calendar_zone = ZoneInfo(calendar.timezone)
        return render_times(resource, time_zone or calendar_zone, calendar_zone)


def _overlapping_instances(
    resource: dict[str, Any], timing: Timing, query: ListQuery, zone: ZoneInfo, *, limit: int
) -> list[Any]:
    return expand(
        start=timing.start,
        end=timing.end,
        recurrence=resource["recurrence"],
        calendar_zone=zone,
        window_start=query.time_min,
        window_end=query.time_max,
        limit=limit,
    )


def _decode_page(token: str) -> PageToken:
    try:
        return PageToken.decode(token)
    except TokenError as exc:
        raise bad_request(
            "Invalid page token value.", reason="invalid", location="pageToken"
        ) from exc


def _check_if_match(record: EventRecord, if_match: str | None) -> None:
    if if_match is None or if_match == "*":
        return
    if if_match != record.resource.get("etag"):
        raise GoogleApiError(
            412,
            "conditionNotMet",
            "Precondition Failed",
            location="If-Match",
            location_type="header",
        )


def _validate_list_query(query: ListQuery) -> None:
    if query.sync_token is not None:
        for name in SYNC_FORBIDDEN:
            if name in query.present:
                raise bad_request(
                    f"Sync token cannot be used together with the {name} parameter.",
                    reason="invalid",
                    location=name,
                )
    if query.order_by is not None and query.order_by not in {"startTime", "updated"}:
        raise bad_request(
            f"Invalid value for orderBy: {query.order_by}", reason="invalid", location="orderBy"
        )
    if query.order_by == "startTime" and not query.single_events:
        raise bad_request(
            "The requested ordering is not available for the particular query.", location="orderBy"
        )
    if (
        query.time_min is not None
        and query.time_max is not None
        and query.time_max <= query.time_min
    ):
        raise GoogleApiError(
            400,
            "timeRangeEmpty",
            "The specified time range is empty.",
            location="timeMax",
            location_type="parameter",
        )


def _passes_filters(resource: dict[str, Any], query: ListQuery) -> bool:
    if (
        query.event_types is not None
        and resource.get("eventType", "default") not in query.event_types
    ):
        return False
    ext = resource.get("extendedProperties") or {}
    private = ext.get("private") or {}
    shared = ext.get("shared") or {}
    if any(private.get(k) != v for k, v in query.private_properties):
        return False
    if any(shared.get(k) != v for k, v in query.shared_properties):
        return False
    if query.ical_uid is not None and resource.get("iCalUID") != query.ical_uid:
        return False
    if query.updated_min is not None:
        updated = resource.get("updated")
        if updated is None or parse_rfc3339(str(updated)) < query.updated_min:
            return False
    if query.q:
        needle = query.q.lower()
        haystack = " ".join(
            str(resource.get(name, "")) for name in ("summary", "description", "location")
        )
        attendees = " ".join(str(a.get("email", "")) for a in resource.get("attendees", []))
        if needle not in f"{haystack} {attendees}".lower():
            return False
    return True


def parse_private_filters(values: list[str], name: str) -> list[tuple[str, str]]:
    """`key=value` pairs of (private|shared)ExtendedProperty; a value without `=` is a 400."""
    pairs = []
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key:
            raise bad_request(f"Invalid value for {name}: {raw}", reason="invalid", location=name)
        pairs.append((key, value))
    return pairs


def require_dict(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid_body("Invalid JSON payload received.")
    return body
