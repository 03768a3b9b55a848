"""Stateful properties, driven only through google-api-python-client: (1) a client mirror fed
solely by incremental-sync pages (nextSyncToken, small pages, deletions as `cancelled`) equals
the emulator's full event list after any sequence of inserts, patches, updates and deletes;
(2) freeBusy equals the union, computed here from what was written, of the instances of opaque,
non-cancelled, not-declined events, with recurring series expanded minus EXDATEs and blocks
clipped to the window (protocol doc 3.3-3.5)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from googleapiclient.discovery import Resource
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.conformance.harness import (
    OWNER_EMAIL,
    OWNER_TIMEZONE,
    SCOPE_CALENDAR,
    EmulatorControl,
    Interval,
    busy_intervals,
    list_all,
    merge_intervals,
    msk,
    new_event_id,
    rfc3339,
    timed_event,
)

SETTINGS = settings(
    max_examples=20,
    stateful_step_count=16,
    deadline=None,
    database=None,
    # Every step is a real HTTP round trip to the emulator; slowness is expected, not a smell.
    suppress_health_check=[HealthCheck.too_slow],
    # No shrinking: each candidate replays a whole program over HTTP, so shrinking a failure
    # takes minutes and can hit the pytest timeout, losing the report. The unshrunk failing
    # program (at most 16 steps) is printed and readable.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
WEEK_START = msk("2031-03-03", "00:00")  # a Monday
SUMMARIES = st.text(max_size=12)


class EmulatorMachine(RuleBasedStateMachine):
    """A state machine on a freshly reset emulator, checked once more when its program ends."""

    control: ClassVar[EmulatorControl]

    def connect(self) -> None:
        self.client = self.control.new_client()
        self.calendar: Resource = self.client.authorized_calendar([SCOPE_CALENDAR])

    def final_check(self) -> None:
        """The check of a finished program (a no-op when it never started)."""

    def teardown(self) -> None:
        try:
            self.final_check()
        finally:
            if hasattr(self, "client"):
                self.client.close()


def _run(machine: type[EmulatorMachine], control: EmulatorControl) -> None:
    # A subclass per test keeps the emulator of this module off the shared class.
    bound = type(machine.__name__, (machine,), {"control": control})
    run_state_machine_as_test(bound, settings=SETTINGS)


def _slot(day: int, half_hour: int) -> datetime:
    return WEEK_START + timedelta(days=day, minutes=30 * half_hour)


class SyncMirror(EmulatorMachine):
    """A client that learns about events only through incremental sync."""

    @initialize(page_size=st.integers(1, 3), seeded=st.integers(0, 4))
    def full_sync(self, page_size: int, seeded: int) -> None:
        self.connect()
        self.live: set[str] = set()
        for index in range(seeded):
            self._insert(index, "seed")
        items, last = list_all(self.calendar, calendarId="primary", maxResults=page_size)
        self.mirror: dict[str, dict[str, Any]] = {item["id"]: item for item in items}
        self.token: str = last["nextSyncToken"]
        assert set(self.mirror) == self.live

    def _insert(self, half_hour: int, summary: str) -> None:
        start = _slot(1, half_hour)
        body = timed_event(start, start + timedelta(minutes=30), summary=summary)
        body["id"] = new_event_id()
        self.calendar.events().insert(calendarId="primary", body=body).execute()
        self.live.add(body["id"])

    def _pick(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(sorted(self.live)))

    @rule(half_hour=st.integers(0, 47), summary=SUMMARIES)
    def insert(self, half_hour: int, summary: str) -> None:
        self._insert(half_hour, summary)

    @precondition(lambda self: self.live)
    @rule(data=st.data(), summary=SUMMARIES, move=st.integers(-4, 4))
    def patch(self, data: st.DataObject, summary: str, move: int) -> None:
        event_id = self._pick(data)
        body: dict[str, Any] = {"summary": summary}
        if move:
            start = _slot(2, 10 + move)
            moved = timed_event(start, start + timedelta(minutes=45))
            body |= {"start": moved["start"], "end": moved["end"]}
        self.calendar.events().patch(calendarId="primary", eventId=event_id, body=body).execute()

    @precondition(lambda self: self.live)
    @rule(data=st.data(), half_hour=st.integers(0, 47))
    def update(self, data: st.DataObject, half_hour: int) -> None:
        event_id = self._pick(data)
        start = _slot(3, half_hour)
        body = timed_event(start, start + timedelta(hours=1), summary="replaced")
        self.calendar.events().update(calendarId="primary", eventId=event_id, body=body).execute()

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        event_id = self._pick(data)
        self.calendar.events().delete(calendarId="primary", eventId=event_id).execute()
        self.live.discard(event_id)

    @rule(
        page_size=st.integers(1, 4),
        meddle=st.sampled_from(["none", "none", "insert", "patch", "delete"]),
        data=st.data(),
    )
    def sync(self, page_size: int, meddle: str, data: st.DataObject) -> None:
        """Incremental sync; optionally another write lands between two of its pages."""
        if self._pull(page_size, meddle=meddle, data=data):
            # Doc 3.5: changes made while paginating are not lost; the next sync has them.
            self._pull(page_size)
        self._check()

    def _pull(
        self, page_size: int, *, meddle: str = "none", data: st.DataObject | None = None
    ) -> bool:
        request = self.calendar.events().list(
            calendarId="primary", syncToken=self.token, maxResults=page_size
        )
        page: dict[str, Any] = {}
        meddled = False
        while request is not None:
            page = request.execute()
            for item in page.get("items", []):
                if item["status"] == "cancelled":
                    self.mirror.pop(item["id"], None)
                else:
                    self.mirror[item["id"]] = item
            request = self.calendar.events().list_next(request, page)
            if request is not None and data is not None and meddle != "none" and not meddled:
                self._meddle(meddle, data)
                meddled = True
        self.token = page["nextSyncToken"]
        return meddled

    def _meddle(self, kind: str, data: st.DataObject) -> None:
        if kind == "insert" or not self.live:
            self._insert(data.draw(st.integers(0, 47)), "written while paging")
        elif kind == "patch":
            self.calendar.events().patch(
                calendarId="primary", eventId=self._pick(data), body={"summary": "while paging"}
            ).execute()
        else:
            self.delete(data)

    def _check(self) -> None:
        items, _last = list_all(self.calendar, calendarId="primary", showDeleted=False)
        truth = {item["id"]: item for item in items}
        assert set(truth) == self.live
        assert self.mirror == truth
        # A second, independent view of the same truth: the emulator's own state dump.
        stored = self.control.state()["events"][OWNER_EMAIL]
        assert {e["id"] for e in stored if e["status"] != "cancelled"} == set(truth)

    def final_check(self) -> None:
        if hasattr(self, "token"):
            self._pull(2)
            self._check()


def test_incremental_sync_reconstructs_the_event_set(control: EmulatorControl) -> None:
    _run(SyncMirror, control)


@dataclass(frozen=True)
class WrittenEvent:
    """What this test wrote for one event, enough to know when it makes the owner busy."""

    start: datetime
    minutes: int
    transparent: bool = False
    cancelled: bool = False
    declined: bool = False
    tentative: bool = False
    daily_count: int = 1
    skipped: frozenset[int] = frozenset()  # occurrence indexes removed by EXDATE

    def busy(self) -> list[Interval]:
        if self.transparent or self.cancelled or self.declined:
            return []
        return [
            (self.start + timedelta(days=n), self.start + timedelta(days=n, minutes=self.minutes))
            for n in range(self.daily_count)
            if n not in self.skipped
        ]

    def body(self, event_id: str) -> dict[str, Any]:
        body = timed_event(self.start, self.start + timedelta(minutes=self.minutes))
        body["id"] = event_id
        if self.transparent:
            body["transparency"] = "transparent"
        if self.tentative:
            body["status"] = "tentative"
        if self.declined:
            body["attendees"] = [
                {"email": OWNER_EMAIL, "responseStatus": "declined"},
                {"email": "guest@example.com", "responseStatus": "accepted"},
            ]
        if self.daily_count > 1:
            body["recurrence"] = [f"RRULE:FREQ=DAILY;COUNT={self.daily_count}"] + [
                f"EXDATE;TZID={OWNER_TIMEZONE}:{self.start + timedelta(days=n):%Y%m%dT%H%M%S}"
                for n in sorted(self.skipped)
            ]
        return body


MINUTES = st.sampled_from([30, 60, 90, 150])


def _one_in(n: int) -> st.SearchStrategy[bool]:
    return st.integers(0, n - 1).map(lambda drawn: drawn == 0)


@st.composite
def written_events(draw: st.DrawFn) -> WrittenEvent:
    count = draw(st.sampled_from([1, 1, 2, 3, 4]))
    skipped = draw(st.frozensets(st.integers(0, count - 1), max_size=count - 1))
    return WrittenEvent(
        # Starts packed into three working days so that blocks often overlap or touch.
        start=_slot(draw(st.integers(0, 2)), draw(st.integers(16, 40))),
        minutes=draw(MINUTES),
        transparent=draw(_one_in(4)),
        declined=draw(_one_in(6)),
        tentative=draw(_one_in(4)),
        daily_count=count,
        skipped=skipped if count > 1 else frozenset(),
    )


class FreeBusyUnion(EmulatorMachine):
    """freeBusy must equal the union computed from the writes this machine made."""

    @initialize()
    def start(self) -> None:
        self.connect()
        self.written: dict[str, WrittenEvent] = {}

    def _active(self) -> list[str]:
        return sorted(i for i, e in self.written.items() if not e.cancelled)

    def _pick(self, data: st.DataObject) -> str:
        # Only events still in force are changed: edits of cancelled ones are unspecified.
        return data.draw(st.sampled_from(self._active()))

    @rule(event=written_events())
    def insert(self, event: WrittenEvent) -> None:
        event_id = new_event_id()
        self.calendar.events().insert(calendarId="primary", body=event.body(event_id)).execute()
        self.written[event_id] = event

    @precondition(lambda self: self._active())
    @rule(data=st.data(), shift=st.integers(0, 3), minutes=MINUTES)
    def insert_overlapping(self, data: st.DataObject, shift: int, minutes: int) -> None:
        """An opaque event starting inside (or at) another one: blocks must merge."""
        anchor = self.written[self._pick(data)]
        self.insert(
            WrittenEvent(start=anchor.start + timedelta(minutes=30 * shift), minutes=minutes)
        )

    @precondition(lambda self: self._active())
    @rule(data=st.data())
    def toggle_transparency(self, data: st.DataObject) -> None:
        event_id = self._pick(data)
        event = replace(self.written[event_id], transparent=not self.written[event_id].transparent)
        body = {"transparency": "transparent" if event.transparent else "opaque"}
        self.calendar.events().patch(calendarId="primary", eventId=event_id, body=body).execute()
        self.written[event_id] = event

    @precondition(lambda self: self._active())
    @rule(data=st.data(), day=st.integers(0, 2), half_hour=st.integers(16, 40))
    def move(self, data: st.DataObject, day: int, half_hour: int) -> None:
        event_id = self._pick(data)
        event = replace(self.written[event_id], start=_slot(day, half_hour))
        moved = event.body(event_id)
        body = {"start": moved["start"], "end": moved["end"]}
        if "recurrence" in moved:
            body["recurrence"] = moved["recurrence"]  # EXDATEs follow the series' new time
        self.calendar.events().patch(calendarId="primary", eventId=event_id, body=body).execute()
        self.written[event_id] = event

    @precondition(lambda self: self._active())
    @rule(data=st.data(), by_patch=st.booleans())
    def cancel(self, data: st.DataObject, by_patch: bool) -> None:
        event_id = self._pick(data)
        if by_patch:
            self.calendar.events().patch(
                calendarId="primary", eventId=event_id, body={"status": "cancelled"}
            ).execute()
        else:
            self.calendar.events().delete(calendarId="primary", eventId=event_id).execute()
        self.written[event_id] = replace(self.written[event_id], cancelled=True)

    @rule(from_hour=st.integers(0, 24 * 5), hours=st.integers(1, 24 * 6))
    def query(self, from_hour: int, hours: int) -> None:
        self._check(
            WEEK_START + timedelta(hours=from_hour),
            WEEK_START + timedelta(hours=from_hour + hours),
        )

    def _check(self, start: datetime, end: datetime) -> None:
        body = {"timeMin": rfc3339(start), "timeMax": rfc3339(end), "items": [{"id": "primary"}]}
        result = self.calendar.freebusy().query(body=body).execute()
        got = busy_intervals(result, "primary")
        # Google's blocks: sorted, non-overlapping, inside the window.
        assert got == sorted(got)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(got)), got
        assert all(start <= s < e <= end for s, e in got), got
        expected = merge_intervals(
            (max(s, start), min(e, end)) for event in self.written.values() for s, e in event.busy()
        )
        assert merge_intervals(got) == expected

    def final_check(self) -> None:
        if hasattr(self, "written"):
            # Every program ends with one query over everything it could have written.
            self._check(WEEK_START - timedelta(days=1), WEEK_START + timedelta(days=8))


def test_freebusy_is_the_union_of_busy_instances(control: EmulatorControl) -> None:
    _run(FreeBusyUnion, control)
