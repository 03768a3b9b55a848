"""explain_start against the slot engine: offered iff in the answer, and one row per reason code.

The property draws the same random schedules, overrides, services, busy time, appointments and
clocks as the engine's oracle tests (test_slot_properties.py), plus holds, hidden services and
stale calendars, and asks explain_start about every grid start of the query window, the points
just off the grid and a few arbitrary instants.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balance_booking.domain.availability import Vacation, load_zone
from balance_booking.domain.explain import Explanation, ReasonCode, explain_start
from balance_booking.domain.intervals import Interval
from balance_booking.domain.slots import OccupiedTime, available_slots
from tests.unit.domain.builders import iv, minutes, occupied, schedule, service, utc, windows
from tests.unit.domain.oracle import oracle_slots
from tests.unit.domain.test_slot_properties import SETTINGS, Scenario, scenarios

# ---- the property --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    scenario: Scenario
    stale: bool
    probes: list[datetime]  # arbitrary instants of the window, besides the grid


@st.composite
def cases(draw: st.DrawFn, *, around_changes: bool = False) -> Case:
    base = draw(scenarios(around_changes=around_changes))
    # Some appointments are payment holds; sometimes the service is hidden or the data stale.
    held = draw(
        st.lists(st.booleans(), min_size=len(base.appointments), max_size=len(base.appointments))
    )
    appointments = [
        replace(item, held=flag) for item, flag in zip(base.appointments, held, strict=True)
    ]
    active = draw(st.integers(0, 9)) > 0
    scenario = replace(
        base, service=replace(base.service, active=active), appointments=appointments
    )
    length_minutes = int(base.window.duration / timedelta(minutes=1))
    offsets = draw(st.lists(st.integers(0, length_minutes - 1), max_size=8))
    return Case(
        scenario=scenario,
        stale=draw(st.integers(0, 9)) == 0,
        probes=[base.window.start + timedelta(minutes=offset) for offset in offsets],
    )


def _public_answer(case: Case) -> set[datetime]:
    """The starts the public slots API lists: none for a hidden service (404) or stale data (503)."""
    if not case.scenario.service.active or case.stale:
        return set()
    return {slot.start for slot in case.scenario.run()}


def _grid_and_neighbours(scenario: Scenario) -> set[datetime]:
    """Every grid point of every working window near the query window (fitting or not), the
    points 5 minutes and 1 second either side of them, and each window's end."""
    zone = scenario.availability.zone
    step = scenario.service.step
    first = (scenario.window.start - timedelta(days=1)).astimezone(zone).date()
    last = (scenario.window.end + timedelta(days=1)).astimezone(zone).date()
    found: set[datetime] = set()
    for _, anchor, end in scenario.availability.dated_spans(first, last):
        start = anchor
        while start <= end:
            found.update(
                {
                    start,
                    start + minutes(5),
                    start - minutes(5),
                    start + timedelta(seconds=1),
                    start - timedelta(seconds=1),
                }
            )
            start += step
        found.add(end)
    return {start for start in found if scenario.window.contains(start)}


def _explain(case: Case, start: datetime) -> Explanation:
    scenario = case.scenario
    return explain_start(
        service=scenario.service,
        availability=scenario.availability,
        busy=scenario.busy,
        appointments=scenario.appointments,
        start=start,
        now=scenario.now,
        calendar_stale=case.stale,
    )


def _check(case: Case) -> None:
    offered = _public_answer(case)
    starts = _grid_and_neighbours(case.scenario) | set(case.probes) | offered
    for start in sorted(starts):
        explanation = _explain(case, start)
        assert explanation.offered == (start in offered), (start, explanation.codes)
        assert len(set(explanation.codes)) == len(explanation.codes) or any(
            code in {ReasonCode.BUSY, ReasonCode.BOOKED, ReasonCode.HELD, ReasonCode.BUFFER}
            for code in explanation.codes
        ), "only blockers repeat (one reason per blocking interval)"


@SETTINGS
@given(cases())
def test_explain_agrees_with_the_slot_engine(case: Case) -> None:
    _check(case)


@SETTINGS
@given(cases(around_changes=True))
def test_explain_agrees_with_the_slot_engine_around_offset_changes(case: Case) -> None:
    _check(case)


# ---- one row per reason code ---------------------------------------------------------------

# Every day 10:00-18:00 Moscow (UTC+3); a 60-minute service on an hourly grid, no buffers.
NOW = utc(2026, 12, 1, 9)  # Tuesday 1 December, 12:00 Moscow
START = utc(2026, 12, 2, 9)  # Wednesday 2 December, 12:00 Moscow
DAY = date(2026, 12, 2)


def _msk(hour: int, minute: int = 0, *, day: int = 2) -> datetime:
    return utc(2026, 12, day, hour - 3, minute)


ROWS: list[tuple[str, dict[str, Any], ReasonCode, Interval | None]] = [
    ("past", {"start": _msk(11, day=1)}, ReasonCode.PAST, None),
    (
        "min_notice",
        {"start": _msk(11), "service": {"min_notice": timedelta(hours=24)}},
        ReasonCode.MIN_NOTICE,
        iv(NOW, NOW + timedelta(hours=24)),
    ),
    (
        "beyond_horizon",
        {"start": _msk(11, day=5), "service": {"max_days_ahead": 2}},
        ReasonCode.BEYOND_HORIZON,
        None,
    ),
    ("outside_hours", {"start": _msk(19)}, ReasonCode.OUTSIDE_HOURS, None),
    (
        "outside_hours_does_not_fit",
        {"start": _msk(17, 30), "service": {"slot_step": minutes(30)}},
        ReasonCode.OUTSIDE_HOURS,
        iv(_msk(10), _msk(18)),
    ),
    ("day_off", {"overrides": {DAY: ()}}, ReasonCode.DAY_OFF, None),
    (
        # A vacation day is a day off, and the reason names the whole vacation, local midnight
        # of its first day to local midnight after its last.
        "day_off_vacation",
        {"vacations": (Vacation(date(2026, 12, 1), date(2026, 12, 3)),)},
        ReasonCode.DAY_OFF,
        iv(utc(2026, 11, 30, 21), utc(2026, 12, 3, 21)),
    ),
    ("off_grid", {"start": _msk(11, 30)}, ReasonCode.OFF_GRID, iv(_msk(10), _msk(18))),
    ("busy", {"busy": [iv(_msk(11), _msk(13))]}, ReasonCode.BUSY, iv(_msk(11), _msk(13))),
    (
        "booked",
        {"appointments": [occupied(_msk(12), _msk(13), slug="other")]},
        ReasonCode.BOOKED,
        iv(_msk(12), _msk(13)),
    ),
    (
        "held",
        {"appointments": [replace(occupied(_msk(11, 30), _msk(12, 30)), held=True)]},
        ReasonCode.HELD,
        iv(_msk(11, 30), _msk(12, 30)),
    ),
    (
        "buffer_theirs",
        {"appointments": [occupied(_msk(13), _msk(14), before=15, slug="other")]},
        ReasonCode.BUFFER,
        iv(_msk(13), _msk(14)),
    ),
    (
        "buffer_ours",
        {
            "start": _msk(11),
            "appointments": [occupied(_msk(10), _msk(11), slug="other")],
            "service": {"buffer_before": minutes(10)},
        },
        ReasonCode.BUFFER,
        iv(_msk(10), _msk(11)),
    ),
    (
        "daily_limit",
        {"appointments": [occupied(_msk(15), _msk(16))], "service": {"daily_limit": 1}},
        ReasonCode.DAILY_LIMIT,
        None,
    ),
    ("calendar_stale", {"stale": True}, ReasonCode.CALENDAR_STALE, None),
    ("service_inactive", {"service": {"active": False}}, ReasonCode.SERVICE_INACTIVE, None),
]


def _row_explanation(setup: dict[str, Any]) -> tuple[Explanation, list[datetime]]:
    svc = service(**setup.get("service", {}))
    availability = schedule(
        "Europe/Moscow",
        ("10:00", "18:00"),
        overrides=setup.get("overrides"),
        vacations=setup.get("vacations", ()),
    )
    busy = setup.get("busy", [])
    appointments: list[OccupiedTime] = setup.get("appointments", [])
    start = setup.get("start", START)
    explanation = explain_start(
        service=svc,
        availability=availability,
        busy=busy,
        appointments=appointments,
        start=start,
        now=NOW,
        calendar_stale=setup.get("stale", False),
    )
    arguments: dict[str, Any] = {
        "service": svc,
        "availability": availability,
        "busy": busy,
        "appointments": appointments,
        "window": Interval(NOW - timedelta(days=2), NOW + timedelta(days=5)),
        "now": NOW,
    }
    engine = available_slots(**arguments)
    assert engine == oracle_slots(**arguments)
    return explanation, [slot.start for slot in engine]


@pytest.mark.parametrize(
    ("setup", "code", "interval"),
    [pytest.param(setup, code, interval, id=name) for name, setup, code, interval in ROWS],
)
def test_each_reason_code_alone(
    setup: dict[str, Any], code: ReasonCode, interval: Interval | None
) -> None:
    explanation, engine_starts = _row_explanation(setup)
    assert explanation.codes == [code]
    assert explanation.reasons[0].interval == interval
    assert not explanation.offered
    if code not in {ReasonCode.CALENDAR_STALE, ReasonCode.SERVICE_INACTIVE}:
        # The engine alone knows nothing of hidden services or stale data (the use case
        # refuses those); every other rule is the engine's own.
        assert explanation.start not in engine_starts


def test_every_code_has_a_row() -> None:
    assert {code for _, _, code, _ in ROWS} == set(ReasonCode)


def test_a_free_start_has_no_reasons_and_is_in_the_answer() -> None:
    explanation, engine_starts = _row_explanation({})
    assert explanation.offered
    assert explanation.reasons == ()
    assert explanation.start in engine_starts
    assert explanation.end == START + minutes(60)


def test_every_reason_is_listed_not_only_the_first() -> None:
    explanation, _ = _row_explanation(
        {
            "start": _msk(12, 30),
            "service": {"daily_limit": 1, "active": False},
            "busy": [iv(_msk(12), _msk(13)), iv(_msk(8), _msk(9))],
            "appointments": [
                occupied(_msk(13, 45), _msk(14, 30), before=30, slug="other"),
                occupied(_msk(15), _msk(16)),
                replace(occupied(_msk(12), _msk(12, 45), slug="other"), held=True),
            ],
            "stale": True,
        }
    )
    assert explanation.codes == [
        ReasonCode.SERVICE_INACTIVE,
        ReasonCode.CALENDAR_STALE,
        ReasonCode.OFF_GRID,
        ReasonCode.DAILY_LIMIT,
        ReasonCode.HELD,
        ReasonCode.BUSY,
        ReasonCode.BUFFER,
    ]
    # Blockers in time order, each with its own interval (the buffer's: the neighbour's time).
    assert [reason.interval for reason in explanation.reasons[-3:]] == [
        iv(_msk(12), _msk(12, 45)),
        iv(_msk(12), _msk(13)),
        iv(_msk(13, 45), _msk(14, 30)),
    ]


def test_touching_neighbours_do_not_block() -> None:
    explanation, _ = _row_explanation(
        {
            "busy": [iv(_msk(11), _msk(12))],
            "appointments": [occupied(_msk(13), _msk(14), slug="other")],
        }
    )
    assert explanation.offered


def test_past_is_named_instead_of_the_notice() -> None:
    explanation, _ = _row_explanation(
        {"start": _msk(11, day=1), "service": {"min_notice": timedelta(hours=2)}}
    )
    assert explanation.codes == [ReasonCode.PAST]


def test_a_special_day_with_other_hours_is_outside_hours_not_a_day_off() -> None:
    explanation, _ = _row_explanation({"overrides": {DAY: windows(("14:00", "16:00"))}})
    assert explanation.codes == [ReasonCode.OUTSIDE_HOURS]


def test_a_vacation_wins_over_a_special_day_inside_it() -> None:
    explanation, engine_starts = _row_explanation(
        {
            "overrides": {DAY: windows(("10:00", "18:00"))},
            "vacations": (Vacation(DAY, DAY),),
        }
    )
    assert explanation.codes == [ReasonCode.DAY_OFF]
    assert not [
        start
        for start in engine_starts
        if start.astimezone(load_zone("Europe/Moscow")).date() == DAY
    ]
