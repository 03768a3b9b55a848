"""ListAvailableSlots and the calendar policy against the fakes: what is offered, when the answer
is refused (503), and when a cached answer may be reused."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from balance_booking.application.errors import (
    CalendarUnavailableError,
    InvalidRequestError,
    NotFoundError,
)
from balance_booking.application.ports import CalendarLink
from balance_booking.domain.availability import Availability, LocalWindow
from balance_booking.domain.intervals import Interval
from tests.fakes.clock import START
from tests.unit.application.wiring import (
    MAX_RANGE,
    SESSION,
    CalendarPolicy,
    SyncFailedError,
    World,
    moscow,
    request,
)

DAY_1 = Interval(moscow(1, 0), moscow(2, 0))
ALL_DAY = [moscow(1, hour) for hour in range(10, 18)]
PAID = replace(SESSION, slug="paid", requires_payment=True)


def starts(world: World, window: Interval = DAY_1, service: str = "session") -> list[object]:
    return [s.start for s in world.list_slots.execute(service_slug=service, window=window).slots]


def test_slots_follow_the_weekly_hours_in_the_owner_zone(ready: World) -> None:
    result = ready.list_slots.execute(service_slug="session", window=DAY_1)
    assert [s.start for s in result.slots] == ALL_DAY
    assert result.slots[0].end == moscow(1, 10, 50)
    assert result.calendar.status == "not_connected"
    assert result.availability.timezone == "Europe/Moscow"


def test_a_weekend_has_no_slots(ready: World) -> None:
    assert starts(ready, Interval(moscow(5, 0), moscow(7, 0))) == []


def test_no_schedule_means_no_slots_in_the_default_zone(world: World) -> None:
    world.given(schedule=None)
    result = world.list_slots.execute(service_slug="session", window=DAY_1)
    assert result.slots == []
    assert result.availability.timezone == "Europe/Moscow"


def test_an_override_replaces_the_weekly_hours_for_its_date(world: World) -> None:
    world.given(
        schedule=Availability(
            timezone="Europe/Moscow",
            weekly={1: (LocalWindow.parse("10:00", "18:00"),)},
            overrides={date(2026, 12, 1): (LocalWindow.parse("13:00", "15:00"),)},
        )
    )
    assert starts(world) == [moscow(1, 13), moscow(1, 14)]


def test_appointments_block_and_cancelled_ones_do_not(ready: World) -> None:
    ready.book.execute(request(moscow(1, 12)))
    cancelled = ready.book.execute(request(moscow(1, 15))).appointment
    ready.cancel.execute(cancelled.id, token=None)
    assert starts(ready) == [t for t in ALL_DAY if t != moscow(1, 12)]


def test_the_mirror_blocks_only_while_the_calendar_is_connected_and_fresh(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 11, 30), moscow(1, 12))
    synced.sync.execute()
    assert starts(synced) == [t for t in ALL_DAY if t != moscow(1, 11)]
    synced.set_enabled.execute(enabled=False)
    result = synced.list_slots.execute(service_slug="session", window=DAY_1)
    assert result.calendar.status == "disabled"
    assert [s.start for s in result.slots] == ALL_DAY


def test_stale_busy_data_is_refused_not_ignored(synced: World) -> None:
    synced.clock.advance(timedelta(seconds=2701))
    with pytest.raises(CalendarUnavailableError) as refused:
        synced.list_slots.execute(service_slug="session", window=DAY_1)
    assert refused.value.synced_at == START
    assert refused.value.retry_after_seconds == 300


def test_a_sync_after_staleness_brings_the_slots_back(synced: World) -> None:
    synced.clock.advance(timedelta(seconds=2701))
    synced.sync.execute()
    assert starts(synced) == ALL_DAY


def test_an_outage_past_the_staleness_limit_then_recovery(synced: World) -> None:
    synced.calendar.outage()
    for _ in range(3):  # three polls fail while Google is down
        synced.clock.advance(timedelta(minutes=15))
        with pytest.raises(SyncFailedError):
            synced.sync.execute()
    synced.clock.advance(timedelta(minutes=1))
    with pytest.raises(CalendarUnavailableError):
        synced.list_slots.execute(service_slug="session", window=DAY_1)
    synced.calendar.recover()
    synced.sync.execute()
    assert starts(synced) == ALL_DAY


def test_a_range_longer_than_the_cap_is_refused(ready: World) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        ready.list_slots.execute(
            service_slug="session",
            window=Interval(moscow(1, 0), moscow(1, 0) + MAX_RANGE + timedelta(seconds=1)),
        )
    assert refused.value.field == "to"
    assert starts(ready, Interval(moscow(1, 0), moscow(1, 0) + MAX_RANGE))


@pytest.mark.parametrize("slug", ["nope", "old"])
def test_unknown_and_inactive_services_are_not_found(slug: str) -> None:
    world = World().given(SESSION, replace(SESSION, slug="old", active=False))
    with pytest.raises(NotFoundError):
        world.list_slots.execute(service_slug=slug, window=DAY_1)


def test_public_services_are_the_active_ones(world: World) -> None:
    world.given(SESSION, replace(SESSION, slug="old", active=False), PAID)
    assert [s.slug for s in world.public_services.execute()] == ["session", "paid"]


def test_a_repeated_query_is_a_cache_hit_and_a_change_is_seen_at_once(ready: World) -> None:
    first = starts(ready)
    assert starts(ready) == first
    assert ready.metrics.count("slots_cache", result="hit") == 1
    ready.book.execute(request(moscow(1, 12)))
    misses = ready.metrics.count("slots_cache", result="miss")  # the booking's own look
    assert moscow(1, 12) not in starts(ready), "a commit bumps the data version"
    assert ready.metrics.count("slots_cache", result="miss") == misses + 1


def test_minimum_notice_applies_to_cached_answers() -> None:
    world = World().given(replace(SESSION, min_notice=timedelta(hours=2)))
    today = Interval(moscow(30, 0), moscow(1, 0))
    assert starts(world, today)[0] == moscow(30, 11)
    world.clock.advance(timedelta(hours=1, minutes=1))
    assert starts(world, today)[0] == moscow(30, 13)
    assert world.metrics.count("slots_cache", result="hit") == 1


def test_the_horizon_ends_max_days_ahead_of_now() -> None:
    world = World().given(replace(SESSION, max_days_ahead=2))
    world.clock.set(moscow(30, 11))
    # Now + 2 days is Wednesday 11:00: its 10:00 slot is inside, 11:00 is not.
    assert starts(world, Interval(moscow(2, 0), moscow(3, 0))) == [moscow(2, 10)]


def test_a_hold_running_out_ends_the_cached_answer() -> None:
    world = World().given(PAID)
    world.book.execute(request(moscow(1, 12), service="paid"))
    assert moscow(1, 12) not in starts(world, service="paid")
    world.clock.advance(timedelta(minutes=15))
    assert moscow(1, 12) in starts(world, service="paid")
    assert world.metrics.count("slots_cache", result="hit") == 0


def test_an_answer_stays_valid_until_something_changes(ready: World) -> None:
    first = ready.list_slots.execute(service_slug="session", window=DAY_1)
    assert len(first.slots) == 8
    assert ready.list_slots.still_valid(first.valid)
    ready.book.execute(request(moscow(1, 12)))
    assert not ready.list_slots.still_valid(first.valid), "a booking ends the answer"
    again = ready.list_slots.execute(service_slug="session", window=DAY_1)
    assert len(again.slots) == 7
    assert ready.list_slots.still_valid(again.valid)


def test_an_answer_expires_when_the_first_slot_falls_inside_the_notice() -> None:
    world = World().given(replace(SESSION, min_notice=timedelta(minutes=30)))
    today = Interval(moscow(30, 0), moscow(1, 0))
    first = world.list_slots.execute(service_slug="session", window=today)
    world.clock.advance(timedelta(minutes=29))
    assert world.list_slots.still_valid(first.valid), "10:00 is still outside the notice"
    world.clock.advance(timedelta(minutes=2))  # 09:31: 10:00 is inside the 30 minutes
    assert not world.list_slots.still_valid(first.valid)
    later = world.list_slots.execute(service_slug="session", window=today)
    assert later.slots[0].start != first.slots[0].start


def test_the_owner_zone_is_remembered_per_data_version(world: World) -> None:
    world.given(schedule=None)
    assert world.owner_timezone.execute() == "Europe/Moscow"
    opened = world.db.opened
    assert world.owner_timezone.execute() == "Europe/Moscow"
    assert world.db.opened == opened, "no read while the version stands"
    world.replace_schedule.execute(Availability(timezone="Asia/Kolkata"))
    assert world.owner_timezone.execute() == "Asia/Kolkata"


def test_the_connected_calendar_zone_is_the_default_owner_zone() -> None:
    world = World().given(schedule=None)
    world.calendar.timezone = "America/New_York"
    world.connect()
    assert world.owner_timezone.execute() == "America/New_York"
    assert world.get_schedule.execute().timezone == "America/New_York"


POLICY = CalendarPolicy(
    enabled_by_default=True, stale_after=timedelta(minutes=45), retry_after_seconds=60
)


@pytest.mark.parametrize(
    ("link", "status"),
    [
        pytest.param(CalendarLink(False, None, None), "not_connected", id="never-connected"),
        pytest.param(CalendarLink(True, START, False), "disabled", id="switched-off"),
        pytest.param(CalendarLink(False, None, False), "disabled", id="off-and-disconnected"),
        pytest.param(CalendarLink(True, START, None), "ok", id="fresh"),
        pytest.param(
            CalendarLink(True, START - timedelta(minutes=45), True), "ok", id="at-the-limit"
        ),
    ],
)
def test_the_calendar_policy(link: CalendarLink, status: str) -> None:
    assert POLICY.state(link, now=START).status == status


@pytest.mark.parametrize(
    "link",
    [
        pytest.param(CalendarLink(True, None, None), id="never-synced"),
        pytest.param(
            CalendarLink(True, START - timedelta(minutes=45, seconds=1), None), id="stale"
        ),
    ],
)
def test_the_calendar_policy_refuses_old_data(link: CalendarLink) -> None:
    with pytest.raises(CalendarUnavailableError) as refused:
        POLICY.state(link, now=START)
    assert refused.value.retry_after_seconds == 60


def test_the_environment_default_applies_without_an_admin_toggle() -> None:
    off = replace(POLICY, enabled_by_default=False)
    assert off.state(CalendarLink(True, START, None), now=START).status == "disabled"
    assert off.state(CalendarLink(True, START, True), now=START).status == "ok"
