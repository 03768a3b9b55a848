"""ReconcileExportedEvents against the fakes, as every sync runs it: the product wins."""

from __future__ import annotations

import uuid
from dataclasses import replace
from uuid import UUID

import pytest

from balance_booking.application.errors import GoogleRequestError, GoogleUnavailableError
from balance_booking.application.ports import CalendarState
from tests.fakes.calendar import FakeEvent
from tests.unit.application.wiring import (
    MAX_REPLACEMENTS,
    ReconcileSummary,
    World,
    moscow,
    request,
)


def exported(world: World, hour: int = 11, day: int = 1) -> UUID:
    appointment_id = world.book.execute(request(moscow(day, hour))).appointment.id
    assert world.create_event.execute(appointment_id)
    return appointment_id


def reconcile(world: World) -> ReconcileSummary:
    summary = world.sync.execute().reconcile
    assert summary is not None
    return summary


def event_id_of(world: World, appointment_id: UUID) -> str | None:
    with world.db() as uow:
        return uow.appointments.calendar_event(appointment_id).event_id


def test_nothing_to_do_when_google_matches(synced: World) -> None:
    exported(synced)
    assert reconcile(synced) == ReconcileSummary(checked=1)
    assert synced.calendar.calls["patch_event"] == 0


def test_an_event_deleted_in_google_is_restored(synced: World) -> None:
    appointment_id = exported(synced)
    synced.calendar.delete(appointment_id.hex)
    assert reconcile(synced) == ReconcileSummary(checked=1, restored=1)
    [event] = synced.calendar.live()
    assert (event.event_id, event.start) == (appointment_id.hex, moscow(1, 11))
    assert synced.metrics.count("calendar_reconciled", action="restored") == 1
    assert reconcile(synced).restored == 0, "nothing left to repair"


def test_an_event_moved_in_google_is_put_back(synced: World) -> None:
    appointment_id = exported(synced)
    synced.calendar.move(appointment_id.hex, moscow(2, 15), moscow(2, 15, 50))
    assert reconcile(synced) == ReconcileSummary(checked=1, moved_back=1)
    [event] = synced.calendar.live()
    assert (event.start, event.end) == (moscow(1, 11), moscow(1, 11, 50))


def test_an_event_made_all_day_is_put_back(synced: World) -> None:
    appointment_id = exported(synced)
    synced.calendar.move(appointment_id.hex, None, None)
    assert reconcile(synced).moved_back == 1
    assert synced.calendar.live()[0].start == moscow(1, 11)


def test_an_event_of_a_past_appointment_moved_into_the_horizon_is_put_back(
    synced: World,
) -> None:
    appointment_id = exported(synced)
    synced.clock.set(moscow(2, 9))  # the appointment is over: outside the compared window
    synced.calendar.move(appointment_id.hex, moscow(3, 15), moscow(3, 15, 50))
    summary = reconcile(synced)
    assert (summary.checked, summary.moved_back) == (0, 1)
    assert synced.calendar.events[appointment_id.hex].start == moscow(1, 11)


def test_the_event_of_a_cancelled_appointment_is_removed(synced: World) -> None:
    appointment_id = exported(synced)
    synced.cancel.execute(appointment_id, token=None)  # its delete never reached Google
    assert reconcile(synced) == ReconcileSummary(checked=0, removed=1)
    assert synced.calendar.live() == []


def test_restored_under_a_new_id_when_google_refuses_the_old_one(synced: World) -> None:
    appointment_id = exported(synced)
    synced.calendar.forget(appointment_id.hex)  # 404 on patch, 409 on insert
    assert reconcile(synced).restored == 1
    replacement = appointment_id.hex + "r1"
    assert [e.event_id for e in synced.calendar.live()] == [replacement]
    assert event_id_of(synced, appointment_id) == replacement
    assert reconcile(synced).restored == 0
    synced.cancel.execute(appointment_id, token=None)
    synced.delete_event.execute(appointment_id)
    assert synced.calendar.live() == [], "a later cancel deletes the event it has now"


def test_google_refusing_every_id_counts_as_failed(synced: World) -> None:
    appointment_id = exported(synced)
    synced.calendar.forget(appointment_id.hex)
    for generation in range(1, MAX_REPLACEMENTS + 1):
        synced.calendar.forget(f"{appointment_id.hex}r{generation}")
    summary = reconcile(synced)
    assert (summary.restored, summary.failed) == (0, 1)
    assert appointment_id.hex in (summary.error or "")
    assert synced.metrics.count("calendar_reconciled", action="failed") == 1


def test_at_most_max_repairs_per_run() -> None:
    world = World(max_repairs=2).given().connect()
    ids = [exported(world, hour) for hour in (10, 11, 12)]
    for appointment_id in ids:
        world.calendar.delete(appointment_id.hex)
    assert reconcile(world).restored == 2
    assert reconcile(world).restored == 1
    assert len(world.calendar.live()) == 3


def test_google_going_away_mid_run_stops_the_run(synced: World) -> None:
    ids = [exported(synced, hour) for hour in (10, 11, 12)]
    for appointment_id in ids:
        synced.calendar.delete(appointment_id.hex)
    synced.calendar.fail("patch_event", GoogleUnavailableError("Google kept failing: 503"))
    summary = reconcile(synced)
    assert (summary.restored, summary.failed) == (0, 1)
    assert summary.error == "Google kept failing: 503"
    assert synced.calendar.calls["patch_event"] == 1, "the rest waits for the next sync"
    assert reconcile(synced).restored == 3


def test_one_refused_repair_does_not_stop_the_others(synced: World) -> None:
    ids = [exported(synced, hour) for hour in (10, 11, 12)]
    for appointment_id in ids:
        synced.calendar.delete(appointment_id.hex)
    synced.calendar.fail("patch_event", GoogleRequestError("no", status=403, reason="forbidden"))
    summary = reconcile(synced)
    assert (summary.restored, summary.failed) == (2, 1)
    assert synced.metrics.count("calendar_reconciled", action="failed") == 1


def test_listing_failure_is_reported_and_nothing_written(synced: World) -> None:
    exported(synced)
    synced.calendar.unavailable("own_events")
    summary = reconcile(synced)
    assert summary == ReconcileSummary(error="Google kept failing: 503")
    assert synced.calendar.calls["patch_event"] == synced.calendar.calls["delete_event"] == 0


def test_appointments_not_exported_yet_are_left_to_the_outbox(synced: World) -> None:
    synced.book.execute(request(moscow(1, 11)))
    summary = reconcile(synced)
    assert summary == ReconcileSummary(checked=1)
    assert synced.calendar.calls["insert_event"] == 0


def park(world: World, appointment_id: UUID, event_id: str | None) -> None:
    with world.db() as uow:
        uow.appointments.set_calendar_event(
            appointment_id, event_id=event_id, state=CalendarState.FAILED, now=world.clock.now()
        )
        uow.commit()


def test_a_parked_export_is_made_by_the_reconciliation(synced: World) -> None:
    appointment_id = exported(synced)
    park(synced, appointment_id, None)  # its create was refused and parked
    synced.calendar.events.clear()
    assert reconcile(synced).restored == 1
    assert [e.event_id for e in synced.calendar.live_own()] == [appointment_id.hex]
    with synced.db() as uow:
        assert uow.appointments.calendar_event(appointment_id).state == CalendarState.CREATED
    assert reconcile(synced).restored == 0, "made once, then compared like any other"


def test_a_parked_export_that_google_has_right_is_only_recorded(synced: World) -> None:
    appointment_id = exported(synced)
    park(synced, appointment_id, appointment_id.hex)
    summary = reconcile(synced)
    assert (summary.restored, summary.moved_back) == (0, 0)
    assert synced.calendar.calls["patch_event"] == 0
    with synced.db() as uow:
        assert uow.appointments.calendar_event(appointment_id).state == CalendarState.CREATED


def test_events_of_appointments_we_do_not_know_are_left_alone(synced: World) -> None:
    stranger = uuid.uuid4()
    synced.calendar.events[stranger.hex] = FakeEvent(
        stranger.hex, moscow(1, 11), moscow(1, 11, 50), stranger
    )
    assert reconcile(synced).removed == 0
    assert len(synced.calendar.live()) == 1


def test_a_second_live_event_for_one_appointment_is_removed(synced: World) -> None:
    appointment_id = exported(synced)
    duplicate = appointment_id.hex + "r1"
    synced.calendar.events[duplicate] = replace(
        synced.calendar.events[appointment_id.hex], event_id=duplicate
    )
    assert reconcile(synced).removed == 1
    assert [e.event_id for e in synced.calendar.live()] == [appointment_id.hex]


def test_instances_of_a_series_someone_made_from_our_event_are_not_ours(synced: World) -> None:
    appointment_id = exported(synced)
    instance = appointment_id.hex + "_20261208T080000Z"
    synced.calendar.events[instance] = replace(
        synced.calendar.events[appointment_id.hex],
        event_id=instance,
        start=moscow(8, 11),
        end=moscow(8, 11, 50),
    )
    assert reconcile(synced).removed == 0
    assert len(synced.calendar.live()) == 2


def test_the_summary_round_trips_through_json() -> None:
    summary = ReconcileSummary(checked=4, restored=1, moved_back=2, removed=3, failed=1, error="x")
    assert ReconcileSummary.from_json(summary.to_json()) == summary


@pytest.mark.parametrize("text", [None, "", "not json", "[1, 2]", '{"checked": "many"}'])
def test_an_unreadable_summary_reads_as_none(text: str | None) -> None:
    assert ReconcileSummary.from_json(text) is None
