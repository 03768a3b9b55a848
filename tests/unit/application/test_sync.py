"""SyncCalendarBusyTimes, PollBusyTimes and ListBusyBlocks against the fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from balance_booking.application.errors import (
    AccessRevokedError,
    GoogleRequestError,
    GoogleUnavailableError,
)
from balance_booking.application.explain import ExplainAvailability
from balance_booking.domain.explain import ReasonCode
from balance_booking.domain.intervals import Interval
from tests.fakes.clock import START
from tests.unit.application.wiring import (
    DEFAULT_HORIZON_DAYS,
    SESSION,
    NotConnectedError,
    ReconcileSummary,
    SyncFailedError,
    World,
    moscow,
    request,
)

EVERYTHING = Interval(START - timedelta(days=1), START + timedelta(days=400))


def mirror(world: World) -> list[Interval]:
    return world.list_busy.execute(EVERYTHING)


def test_a_sync_replaces_the_mirror_with_googles_busy_time(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 13), moscow(1, 14))
    synced.calendar.add_busy(moscow(2, 16, 55), moscow(2, 17, 5))
    report = synced.sync.execute()
    assert (report.busy_intervals, report.changed) == (2, True)
    assert mirror(synced) == [
        Interval(moscow(1, 13), moscow(1, 14)),
        Interval(moscow(2, 16, 55), moscow(2, 17, 5)),
    ]


def test_an_unchanged_calendar_reports_no_change(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 13), moscow(1, 14))
    synced.sync.execute()
    report = synced.sync.execute()
    assert (report.busy_intervals, report.changed) == (1, False)
    assert mirror(synced) == [Interval(moscow(1, 13), moscow(1, 14))]


def test_transparent_events_do_not_block(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 10), moscow(1, 12), transparent=True)
    assert synced.sync.execute().busy_intervals == 0


def test_a_deleted_event_frees_its_time_after_the_next_sync(synced: World) -> None:
    event_id = synced.calendar.add_busy(moscow(1, 15), moscow(1, 16))
    synced.sync.execute()
    synced.calendar.delete(event_id)
    assert mirror(synced), "until the next sync the mirror still blocks"
    assert synced.sync.execute().changed is True
    assert mirror(synced) == []


def test_a_sync_records_its_success(synced: World) -> None:
    synced.clock.advance(timedelta(minutes=5))
    synced.sync.execute()
    record = synced.record()
    now = synced.clock.now()
    assert (record.last_sync_at, record.last_success_at, record.last_sync_ok) == (now, now, True)
    assert record.last_sync_error is None
    assert synced.metrics.count("sync_runs", result="ok") == 2


FAILURES = [
    pytest.param(GoogleUnavailableError("Google kept failing: 503"), id="unavailable"),
    pytest.param(AccessRevokedError("revoked"), id="revoked"),
    pytest.param(
        GoogleRequestError("freeBusy refused", status=404, reason="notFound"), id="refused"
    ),
]


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failed_sync_keeps_the_old_mirror_and_records_the_error(
    synced: World, failure: Exception
) -> None:
    synced.calendar.add_busy(moscow(1, 13), moscow(1, 14))
    synced.sync.execute()
    synced.calendar.add_busy(moscow(2, 13), moscow(2, 14))
    synced.clock.advance(timedelta(minutes=15))
    synced.calendar.fail("busy_intervals", failure)
    with pytest.raises(SyncFailedError):
        synced.sync.execute()
    assert mirror(synced) == [Interval(moscow(1, 13), moscow(1, 14))]
    record = synced.record()
    assert record.last_sync_ok is False
    assert record.last_sync_at == synced.clock.now()
    assert record.last_success_at == START, "the last success stands"
    assert record.last_sync_error
    assert str(failure) in record.last_sync_error
    assert synced.metrics.count("sync_runs", result="failed") == 1


def test_the_next_sync_after_a_failure_succeeds(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 13), moscow(1, 14))
    synced.calendar.unavailable("busy_intervals")
    with pytest.raises(SyncFailedError):
        synced.sync.execute()
    assert synced.sync.execute().busy_intervals == 1
    assert synced.record().last_sync_ok is True


def test_a_long_error_is_cut_to_500_characters(synced: World) -> None:
    synced.calendar.fail("busy_intervals", GoogleUnavailableError("x" * 2000))
    with pytest.raises(SyncFailedError):
        synced.sync.execute()
    assert len(synced.record().last_sync_error or "") == 500


def test_no_connection_is_refused(ready: World) -> None:
    with pytest.raises(NotConnectedError):
        ready.sync.execute()
    assert sum(ready.calendar.calls.values()) == 0


def test_a_switched_off_integration_is_refused(synced: World) -> None:
    synced.set_enabled.execute(enabled=False)
    with pytest.raises(NotConnectedError):
        synced.sync.execute()


def test_the_environment_default_can_switch_it_off() -> None:
    world = World(enabled_by_default=False).given()
    world.connect(synced=False)
    with pytest.raises(NotConnectedError):
        world.sync.execute()
    world.set_enabled.execute(enabled=True)
    assert world.sync.execute().busy_intervals == 0


def test_a_revoked_connection_is_refused_before_google_is_asked(synced: World) -> None:
    record = synced.record()
    synced.save_record(replace(record, status="needs_reauth"))
    asked = synced.calendar.calls["busy_intervals"]
    with pytest.raises(NotConnectedError):
        synced.sync.execute()
    assert synced.calendar.calls["busy_intervals"] == asked


def busy_window(world: World) -> Interval:
    windows = [arg for op, arg in world.calendar.log if op == "busy_intervals"]
    assert isinstance(windows[-1], Interval)
    return windows[-1]


def test_the_horizon_is_the_furthest_bookable_day_plus_one(synced: World) -> None:
    with synced.db() as uow:
        uow.services.add(replace(SESSION, slug="far", max_days_ahead=200))
        uow.services.add(replace(SESSION, slug="off", max_days_ahead=700, active=False))
        uow.commit()
    synced.sync.execute()
    assert busy_window(synced) == Interval(START, START + timedelta(days=201))


def test_without_services_the_default_horizon_is_used() -> None:
    world = World().given(schedule=None)
    with world.db() as uow:
        uow.services.delete("session")
        uow.commit()
    world.connect()
    assert busy_window(world) == Interval(START, START + timedelta(days=DEFAULT_HORIZON_DAYS + 1))


def test_the_sync_stores_what_reconciliation_did(synced: World) -> None:
    report = synced.sync.execute()
    assert report.reconcile == ReconcileSummary()
    record = synced.record()
    assert record.last_reconcile_at == START
    assert ReconcileSummary.from_json(record.last_reconcile_summary) == ReconcileSummary()


def test_a_failed_reconciliation_does_not_fail_the_sync(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 13), moscow(1, 14))
    synced.calendar.unavailable("own_events")
    report = synced.sync.execute()
    assert report.busy_intervals == 1
    assert report.reconcile is not None
    assert report.reconcile.error
    assert synced.record().last_sync_ok is True


def test_the_status_shows_the_last_sync_and_the_next_one(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 13), moscow(1, 14))
    synced.sync.execute()
    view = synced.status.execute()
    assert (view.status, view.enabled, view.busy_intervals) == ("connected", True, 1)
    assert view.last_sync_at == START
    assert view.next_sync_at == START + timedelta(seconds=900)
    assert view.reconcile == ReconcileSummary()


def test_the_poll_skips_when_any_process_synced_recently(synced: World) -> None:
    # min_age is 90% of the 15-minute interval: 810 seconds.
    runs = synced.calendar.calls["busy_intervals"]
    assert synced.poll.execute() is None
    synced.clock.advance(timedelta(seconds=811))
    assert synced.poll.execute() is not None
    synced.clock.advance(timedelta(seconds=800))
    assert synced.poll.execute() is None
    synced.clock.advance(timedelta(seconds=20))
    assert synced.poll.execute() is not None
    synced.sync.execute()  # a push-triggered or manual sync counts too
    synced.clock.advance(timedelta(seconds=60))
    assert synced.poll.execute() is None
    assert synced.calendar.calls["busy_intervals"] == runs + 3


def test_the_poll_syncs_when_never_synced() -> None:
    world = World().given().connect(synced=False)
    assert world.poll.execute() is not None


def test_busy_blocks_for_the_admin_are_those_overlapping_the_range(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 13), moscow(1, 14))
    synced.calendar.add_busy(moscow(3, 13), moscow(3, 14))
    synced.sync.execute()
    assert synced.list_busy.execute(Interval(moscow(1, 0), moscow(2, 0))) == [
        Interval(moscow(1, 13), moscow(1, 14))
    ]


# ---- our own events in the busy view -----------------------------------------------------------


def _export(world: World, hour: int) -> None:
    booked = world.book.execute(request(moscow(1, hour)))
    assert world.create_event.execute(booked.appointment.id) is True


def test_the_busy_view_leaves_out_our_own_events_but_keeps_real_busy_time(synced: World) -> None:
    # 11:00-11:50 is ours; Google merges it with a personal 10:30-11:20 and 11:50-12:30 into
    # one block 10:30-12:30. 15:00-15:50 is booked but not exported yet, 15:00-15:30 is personal.
    _export(synced, 11)
    synced.book.execute(request(moscow(1, 15)))
    synced.calendar.add_busy(moscow(1, 10, 30), moscow(1, 11, 20))
    synced.calendar.add_busy(moscow(1, 11, 50), moscow(1, 12, 30))
    synced.calendar.add_busy(moscow(1, 15), moscow(1, 15, 30))
    synced.sync.execute()
    assert mirror(synced) == [
        Interval(moscow(1, 10, 30), moscow(1, 11)),
        Interval(moscow(1, 11, 50), moscow(1, 12, 30)),
        Interval(moscow(1, 15), moscow(1, 15, 30)),
    ]
    # The slot engine still reads the whole mirror: nothing about availability changes.
    with synced.db() as uow:
        assert Interval(moscow(1, 10, 30), moscow(1, 12, 30)) in uow.busy.overlapping(EVERYTHING)


def test_an_own_event_alone_leaves_no_busy_time(synced: World) -> None:
    _export(synced, 11)
    synced.sync.execute()
    with synced.db() as uow:
        assert uow.busy.overlapping(EVERYTHING) == [Interval(moscow(1, 11), moscow(1, 11, 50))]
    assert mirror(synced) == []


def test_explain_names_our_own_booking_once_not_also_as_google_busy(synced: World) -> None:
    _export(synced, 11)
    synced.sync.execute()
    explain = ExplainAvailability(
        uow_factory=synced.db,
        clock=synced.clock,
        policy=synced.policy,
        default_timezone="Europe/Moscow",
    )
    result = explain.execute(service_slug="session", start=moscow(1, 11))
    assert [reason.code for reason in result.explanation.reasons] == [ReasonCode.BOOKED]
