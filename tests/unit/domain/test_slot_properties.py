"""Property tests: the engine against the brute-force oracle, and invariants that need no oracle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balance_booking.domain.availability import Availability, LocalWindow, Vacation
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from balance_booking.domain.slots import OccupiedTime, TimeSlot, available_slots
from tests.unit.domain.oracle import oracle_slots

# DST zones (both hemispheres, a 30-minute DST shift, midnight changes, negative DST) and zones on
# half- and quarter-hour offsets.
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Europe/Dublin",
    "America/Havana",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]


@dataclass(frozen=True)
class Change:
    """One UTC offset change of a zone, as the wall clock sees it."""

    local_date: date
    first_minute: int  # the skipped (gap) or repeated (fold) wall times: [first, last)
    last_minute: int


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _changes(name: str) -> list[Change]:
    """The zone's 2026 offset changes, found by a daily scan then a bisection on minutes.

    Computed from the zone data rather than typed in, so they stay right when tzdata changes.
    """
    zone = ZoneInfo(name)
    found: list[Change] = []
    noon = datetime(2026, 1, 1, 12, tzinfo=UTC)
    while noon.year == 2026:
        later = noon + timedelta(days=1)
        before, after = _offset(zone, noon), _offset(zone, later)
        if before != after:
            low, high = noon, later  # offset(low) == before, offset(high) == after
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if _offset(zone, middle) == before else (low, middle)
            wall_start = (high + min(before, after)).replace(tzinfo=None)
            first = wall_start.hour * 60 + wall_start.minute
            length = abs(after - before) // timedelta(minutes=1)
            found.append(Change(wall_start.date(), first, first + length))
        noon = later
    return found


CHANGES = {name: _changes(name) for name in ZONES}
# Each example draws a whole schedule, so generation dominates; on a busy shared CI machine the
# first draws can overrun the too_slow health check's budget. max_examples bounds the total.
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# Strategies are built once and cached: Hypothesis analyses every new strategy object, and
# building fresh ones per example cost more than the examples themselves.
@cache
def _on_lattice(unit: int, low: int, high: int) -> st.SearchStrategy[timedelta]:
    return st.integers(-(-low // unit), high // unit).map(
        lambda count: timedelta(minutes=unit * count)
    )


@cache
def lattice(low: int, high: int) -> st.SearchStrategy[timedelta]:
    """Minutes in ``low..high`` on a 5- or a 15-minute lattice, so that slot edges, buffers and
    busy ends meet exactly (the touching cases) far more often than arbitrary minutes would."""
    return _on_lattice(5, low, high) | _on_lattice(15, low, high)


@cache
def boundary_minutes(zone: str) -> st.SearchStrategy[int]:
    """Window edges: half the time a wall time at, inside or just after one of the zone's gaps
    or repeated hours (when it has any), else any minute or a 5-minute mark."""
    special = sorted(
        {
            minute
            for change in CHANGES[zone]
            for minute in (
                change.first_minute,
                change.first_minute + 5,
                (change.first_minute + change.last_minute) // 2,
                change.last_minute - 5,
                change.last_minute,
            )
            if 0 <= minute <= 1440
        }
    )
    plain = st.integers(0, 1440) | st.integers(0, 288).map(lambda count: 5 * count)
    if not special:
        return plain
    return st.sampled_from(special) | plain


_PIECES = st.lists(st.tuples(st.integers(3, 120), st.integers(0, 48)), min_size=1, max_size=3)


@st.composite
def day_windows(draw: st.DrawFn, zone: str) -> tuple[LocalWindow, ...]:
    """1-3 windows of a day: a first start, then (length, pause) pairs in minutes.

    A pause of 0 makes touching windows, which Availability joins into one.
    """
    cursor = draw(boundary_minutes(zone))
    result: list[LocalWindow] = []
    pieces = draw(_PIECES)
    for length, pause in pieces:
        end = min(cursor + 5 * length, 1440)
        if cursor >= end:
            break
        result.append(LocalWindow(cursor, end))
        cursor = end + 5 * pause
    return tuple(result)


@st.composite
def change_day_windows(draw: st.DrawFn, change: Change) -> tuple[LocalWindow, ...]:
    """One window whose edges sit before, at, inside, at the end of or after a change's skipped
    or repeated wall times."""
    first, last = change.first_minute, change.last_minute
    edges = {first - 30, first, first + 5, (first + last) // 2, last - 5, last, last + 30}
    start = draw(st.sampled_from(sorted(edge for edge in edges if 0 <= edge < 1440)))
    ends = {edge for edge in edges if start < edge <= 1440} | {
        min(start + 60, 1440),
        min(start + 300, 1440),
        1440,
    }
    return (LocalWindow(start, draw(st.sampled_from(sorted(ends)))),)


@st.composite
def availabilities(
    draw: st.DrawFn, zone: str, anchor: date, anchor_windows: tuple[LocalWindow, ...] | None
) -> Availability:
    # Like real schedules: the same hours on most open days and one day that differs, plus maybe
    # overrides next to the anchor date.
    usual = draw(day_windows(zone))
    open_days = draw(st.sets(st.integers(0, 6), min_size=3))
    weekly = dict.fromkeys(open_days, usual)
    weekly[draw(st.integers(0, 6))] = draw(day_windows(zone))
    override_days = st.integers(-1, 1).map(lambda shift: anchor + timedelta(days=shift))
    overrides = draw(st.dictionaries(override_days, st.just(()) | day_windows(zone), max_size=2))
    if anchor_windows is not None:
        overrides[anchor] = anchor_windows
    # Maybe a vacation over (or, when the anchor's own hours matter, next to) the anchor date,
    # crossing the overrides: a vacation day has no hours whatever the override says.
    first_shift = st.integers(1, 2) if anchor_windows is not None else st.integers(-3, 1)
    vacations = draw(
        st.lists(
            st.tuples(first_shift, st.integers(0, 2)).map(
                lambda pair: Vacation(
                    anchor + timedelta(days=pair[0]), anchor + timedelta(days=pair[0] + pair[1])
                )
            ),
            max_size=2,
        )
    )
    return Availability(
        timezone=zone, weekly=weekly, overrides=overrides, vacations=tuple(vacations)
    )


@st.composite
def services(draw: st.DrawFn) -> Service:
    return Service(
        slug="svc",
        title="Session",
        duration=draw(lattice(5, 180)),
        slot_step=draw(st.none() | lattice(5, 120)),
        buffer_before=draw(lattice(0, 60)),
        buffer_after=draw(lattice(0, 60)),
        min_notice=draw(st.just(timedelta(0)) | lattice(0, 12 * 60)),
        max_days_ahead=draw(st.integers(2, 10)),
        daily_limit=draw(st.none() | st.integers(1, 3)),
    )


@dataclass(frozen=True)
class Scenario:
    service: Service
    availability: Availability
    busy: list[Interval]
    appointments: list[OccupiedTime]
    window: Interval
    now: datetime

    def run(self) -> list[TimeSlot]:
        return available_slots(
            service=self.service,
            availability=self.availability,
            busy=self.busy,
            appointments=self.appointments,
            window=self.window,
            now=self.now,
        )


DST_ZONES = [name for name in ZONES if CHANGES[name]]


_BUSY = st.lists(st.tuples(st.integers(0, 1000), lattice(5, 180)), max_size=6)
_APPOINTMENTS = st.lists(
    st.tuples(
        st.integers(0, 1000),
        lattice(5, 240),
        lattice(0, 60),
        lattice(0, 60),
        st.sampled_from(["svc", "other"]),
    ),
    max_size=5,
)


@st.composite
def scenarios(draw: st.DrawFn, *, around_changes: bool = False) -> Scenario:
    """Random scenarios; ``around_changes`` puts the query and working hours on a day whose
    wall clock jumps, with window edges in and around the jump."""
    anchor_windows: tuple[LocalWindow, ...] | None = None
    if around_changes:
        zone = draw(st.sampled_from(DST_ZONES))
        change = draw(st.sampled_from(CHANGES[zone]))
        anchor = change.local_date
        anchor_windows = draw(change_day_windows(change))
    else:
        zone = draw(st.sampled_from(ZONES))
        anchor = draw(st.dates(date(2026, 1, 1), date(2026, 12, 31)))
    # A query from around the anchor's local midnight: 6 hours to 3 days long around a change,
    # else 1 to 4 days.
    origin = datetime(anchor.year, anchor.month, anchor.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    window_start = origin + draw(lattice(-720, 0 if around_changes else 360))
    length = draw(lattice(6 * 60, 3 * 1440) if around_changes else lattice(1440, 4 * 1440))
    window = Interval(window_start, window_start + length)
    # Busy time and appointments go from two hours before to two hours after the query, where
    # they can matter: a per-mille position along that span, rounded to the 5-minute lattice.
    span = length // timedelta(minutes=1) + 240

    def placed(per_mille: int) -> datetime:
        return window_start + timedelta(minutes=span * per_mille // 1000 // 5 * 5 - 120)

    busy = [
        Interval(placed(position), placed(position) + busy_length)
        for position, busy_length in draw(_BUSY)
    ]
    appointments = [
        OccupiedTime(placed(position), placed(position) + taken, before, after, slug)
        for position, taken, before, after, slug in draw(_APPOINTMENTS)
    ]
    return Scenario(
        service=draw(services()),
        availability=draw(availabilities(zone, anchor, anchor_windows)),
        busy=busy,
        appointments=appointments,
        window=window,
        now=window_start + draw(lattice(-1440, 0) | lattice(-1440, 720)),
    )


ANY_SCENARIO = scenarios() | scenarios(around_changes=True)


def _oracle(scenario: Scenario) -> list[TimeSlot]:
    return oracle_slots(
        service=scenario.service,
        availability=scenario.availability,
        busy=scenario.busy,
        appointments=scenario.appointments,
        window=scenario.window,
        now=scenario.now,
    )


@SETTINGS
@given(scenarios())
def test_engine_matches_the_oracle(scenario: Scenario) -> None:
    assert scenario.run() == _oracle(scenario)


@SETTINGS
@given(scenarios(around_changes=True))
def test_engine_matches_the_oracle_around_offset_changes(scenario: Scenario) -> None:
    assert scenario.run() == _oracle(scenario)


@SETTINGS
@given(ANY_SCENARIO)
def test_slot_invariants(scenario: Scenario) -> None:
    slots = scenario.run()
    service, window, now = scenario.service, scenario.window, scenario.now
    zone = ZoneInfo(scenario.availability.timezone)
    working = scenario.availability.working_intervals(
        (window.start - timedelta(days=2)).date(), (window.end + timedelta(days=2)).date()
    )
    blocked = scenario.busy + [item.blocked for item in scenario.appointments]

    assert all(a.start < b.start for a, b in pairwise(slots)), "sorted, unique"
    for slot in slots:
        assert slot.start.utcoffset() == timedelta(0)
        assert slot.end - slot.start == service.duration
        assert window.start <= slot.start < window.end
        assert slot.start >= now + service.min_notice
        assert slot.start < now + timedelta(days=service.max_days_ahead)
        home = [w for w in working if w.start <= slot.start and slot.end <= w.end]
        assert len(home) == 1, "inside exactly one working window"
        assert (slot.start - home[0].start) % service.step == timedelta(0), "on that window's grid"
        guarded = Interval(slot.start - service.buffer_before, slot.end + service.buffer_after)
        assert not any(guarded.overlaps(item) for item in blocked), "buffers clear"
        if service.daily_limit is not None:
            local_day = slot.start.astimezone(zone).date()
            same_day = [
                item
                for item in scenario.appointments
                if item.service_slug == service.slug
                and item.start.astimezone(zone).date() == local_day
            ]
            assert len(same_day) < service.daily_limit


@SETTINGS
@given(ANY_SCENARIO, st.sampled_from(ZONES))
def test_viewer_zone_changes_nothing_but_labels(scenario: Scenario, viewer_name: str) -> None:
    viewer = ZoneInfo(viewer_name)
    in_viewer_terms = Scenario(
        service=scenario.service,
        availability=scenario.availability,
        busy=scenario.busy,
        appointments=scenario.appointments,
        window=Interval(
            scenario.window.start.astimezone(viewer), scenario.window.end.astimezone(viewer)
        ),
        now=scenario.now.astimezone(viewer),
    )
    slots = scenario.run()
    assert in_viewer_terms.run() == slots
    for slot in slots:
        rendered = slot.start.astimezone(viewer)
        # Not `rendered == slot.start`: Python (PEP 495) makes a wall time in a repeated hour
        # compare unequal to every instant of another zone, so instants are compared in UTC.
        assert rendered.astimezone(UTC) == slot.start
        assert datetime.fromisoformat(rendered.isoformat()).astimezone(UTC) == slot.start
