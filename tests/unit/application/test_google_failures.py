"""Google's failure classes end to end through the outbox, the sync and the reconciliation, with
fakes (issue 18, "Google fidelity, round 2"): quotaExceeded holds writes for hours, a rejected
OAuth client holds every row without parking any, an event deleted in Google is restored under a
fresh id once, and disconnect refreshes an expired token so its channel really stops."""

from __future__ import annotations

import contextlib
import random
from datetime import timedelta
from uuid import UUID

import pytest

from balance_booking.application.errors import (
    GoogleQuotaExceededError,
    OAuthClientRejectedError,
)
from balance_booking.application.ports import CalendarState
from tests.fakes.uow import FakeOutboxRow
from tests.unit.application.wiring import SyncFailedError, World, moscow, request

HOUR = timedelta(hours=1)


def book(world: World, hour: int) -> UUID:
    return world.book.execute(request(moscow(1, hour))).appointment.id


def rows(world: World) -> list[FakeOutboxRow]:
    return world.db.outbox_rows()


def quota() -> GoogleQuotaExceededError:
    return GoogleQuotaExceededError(
        "creating the calendar event: Google answered 403 quotaExceeded"
    )


def rejected() -> OAuthClientRejectedError:
    return OAuthClientRejectedError(
        "Google rejected the OAuth client credentials (deleted_client).", error="deleted_client"
    )


def state_of(world: World, appointment_id: UUID) -> str:
    with world.db() as uow:
        return uow.appointments.calendar_event(appointment_id).state


# --- quotaExceeded ----------------------------------------------------------------------------


def test_quota_exceeded_holds_writes_for_an_hour_and_parks_nothing(synced: World) -> None:
    first = book(synced, 11)
    synced.calendar.fail("insert_event", quota())
    report = synced.dispatcher.execute()
    assert (report.retried, report.parked) == (1, 0)
    [row] = rows(synced)
    assert row.status == "pending"
    assert row.next_attempt_at >= synced.clock.now() + HOUR, "hours, not seconds"
    assert synced.record().google_writes_paused_until == synced.clock.now() + HOUR

    second = book(synced, 13)  # an export created during the quota hour
    synced.clock.advance(timedelta(minutes=30))
    assert synced.dispatcher.execute().claimed == 0, "the calendar is read-only: nobody writes"
    assert synced.calendar.calls["insert_event"] == 1

    synced.clock.advance(timedelta(minutes=31))
    synced.dispatcher.execute()
    assert sorted(e.appointment_id for e in synced.calendar.live_own()) == sorted([first, second])
    assert {row.status for row in rows(synced)} == {"done"}
    assert state_of(synced, first) == state_of(synced, second) == CalendarState.CREATED


def test_reconciliation_stops_writing_at_the_first_quota_exceeded(synced: World) -> None:
    ids = [book(synced, hour) for hour in (11, 13, 15)]
    synced.dispatcher.execute()
    for appointment_id in ids:
        synced.calendar.delete(appointment_id.hex)
    synced.calendar.fail("patch_event", quota())
    summary = synced.sync.execute().reconcile
    assert summary is not None
    assert (summary.restored, summary.failed) == (0, 1)
    assert synced.calendar.calls["patch_event"] == 1, "no second write after quotaExceeded"

    patches = synced.calendar.calls["patch_event"]
    synced.clock.advance(timedelta(minutes=20))
    synced.sync.execute()
    assert synced.calendar.calls["patch_event"] == patches, "paused: no write within the hour"

    synced.clock.advance(HOUR)
    summary = synced.sync.execute().reconcile
    assert summary is not None
    assert summary.restored == 3
    assert len(synced.calendar.live_own()) == 3


# --- a rejected OAuth client: a configuration error --------------------------------------------


def test_a_rejected_oauth_client_holds_every_row_and_resumes_when_fixed(synced: World) -> None:
    first, second = book(synced, 11), book(synced, 13)
    synced.clock.advance(2 * HOUR)  # the access token expired: the next call refreshes
    synced.oauth.fail("refresh", rejected(), times=3)
    report = synced.dispatcher.execute()
    assert (report.retried, report.parked, report.released) == (1, 0, 1)
    record = synced.record()
    assert record.oauth_client_rejected_at is not None
    assert "OAuth client credentials" in (record.last_sync_error or "")
    assert record.status == "connected", "the owner's grant is fine: no reconnect asked"

    synced.clock.advance(HOUR)
    assert synced.dispatcher.execute().claimed == 0, "held while the client is rejected"
    with pytest.raises(SyncFailedError):
        synced.sync.execute()  # the poll keeps probing: still rejected
    assert synced.record().oauth_client_rejected_at is not None

    # The admin fixes the credentials; the next poll's refresh succeeds and releases the rows.
    while synced.oauth.calls["refresh"] < 3:  # use up the programmed refusals
        with contextlib.suppress(SyncFailedError):
            synced.sync.execute()
    synced.clock.advance(HOUR)
    synced.sync.execute()
    assert synced.record().oauth_client_rejected_at is None
    synced.clock.advance(timedelta(minutes=2))
    synced.dispatcher.execute()
    assert sorted(e.appointment_id for e in synced.calendar.live_own()) == sorted([first, second])
    assert {row.status for row in rows(synced)} == {"done"}
    assert synced.metrics.count("outbox_parked") == 0


# --- an event deleted in Google ---------------------------------------------------------------


def test_an_event_deleted_in_google_is_restored_under_a_fresh_id_once(synced: World) -> None:
    synced.calendar.refuse_deleted_writes = True  # real Google: 403 on writes, 409 on insert
    appointment_id = book(synced, 11)
    synced.dispatcher.execute()
    synced.calendar.delete(appointment_id.hex)
    summary = synced.sync.execute().reconcile
    assert summary is not None
    assert summary.restored == 1
    fresh = f"{appointment_id.hex}r1"
    assert [e.event_id for e in synced.calendar.live_own()] == [fresh]
    with synced.db() as uow:
        assert uow.appointments.calendar_event(appointment_id).event_id == fresh

    writes = synced.calendar.calls["patch_event"] + synced.calendar.calls["insert_event"]
    for _ in range(3):
        synced.clock.advance(timedelta(minutes=15))
        synced.sync.execute()
    after = synced.calendar.calls["patch_event"] + synced.calendar.calls["insert_event"]
    assert after == writes, "the refused write is not tried again every sync"


def test_moving_an_appointment_whose_event_was_deleted_in_google_never_parks(
    synced: World,
) -> None:
    synced.calendar.refuse_deleted_writes = True
    appointment_id = book(synced, 11)
    synced.dispatcher.execute()
    synced.calendar.delete(appointment_id.hex)
    synced.move_event.execute(appointment_id)
    [event] = synced.calendar.live_own()
    assert event.event_id == f"{appointment_id.hex}r1"
    assert state_of(synced, appointment_id) == CalendarState.CREATED


# --- disconnect -------------------------------------------------------------------------------


def test_disconnect_refreshes_an_expired_access_token_to_stop_the_channel(synced: World) -> None:
    assert synced.ensure_push.execute().kind == "created"
    synced.oauth.expire_access_tokens()  # Google answers 401 to the stored access token
    synced.disconnect.execute()
    assert synced.calendar.live_channels() == [], "the channel really stopped"
    assert synced.oauth.calls["refresh"] >= 1
    assert synced.oauth.live_grants() == [], "and the grant was revoked"


def test_sync_fails_and_keeps_the_mirror_when_the_client_is_rejected(synced: World) -> None:
    before = synced.record().last_success_at
    synced.clock.advance(2 * HOUR)
    synced.oauth.fail("refresh", rejected())
    with pytest.raises(SyncFailedError):
        synced.sync.execute()
    record = synced.record()
    assert record.last_success_at == before
    assert record.last_sync_ok is False


# --- a 12-hour run with a moved clock and random faults ---------------------------------------


def test_twelve_hours_of_random_quota_and_refusal_faults_end_with_one_event_each(
    synced: World,
) -> None:
    """Bookings, cancels and deletions in Google for 12 hours (5-minute steps), with random
    quotaExceeded answers and writes to deleted events refused: at the end every live
    appointment has exactly one live event, cancelled ones none, and nothing is parked."""
    synced.calendar.refuse_deleted_writes = True
    rng = random.Random(18)
    slots = [(day, hour) for day in (1, 2, 3) for hour in range(10, 18)]
    rng.shuffle(slots)
    booked: list[UUID] = []
    cancelled: set[UUID] = set()
    step = timedelta(minutes=5)
    for tick in range(12 * 12):
        roll = rng.random()
        if roll < 0.15 and slots:
            day, hour = slots.pop()
            booked.append(synced.book.execute(request(moscow(day, hour))).appointment.id)
        elif roll < 0.2 and len(booked) > len(cancelled) + 1:
            victim = rng.choice([a for a in booked if a not in cancelled])
            synced.cancel.execute(victim, token=None)
            cancelled.add(victim)
        elif roll < 0.3 and synced.calendar.live_own():
            synced.calendar.delete(rng.choice(synced.calendar.live_own()).event_id)
        if rng.random() < 0.1:
            operation = rng.choice(["insert_event", "patch_event", "delete_event"])
            synced.calendar.fail(operation, quota())
        synced.dispatcher.execute()
        if tick % 3 == 0:
            synced.sync.execute()
        synced.clock.advance(step)
    synced.calendar.recover()
    for _ in range(4):  # the last quota hour runs out; the worker and the poll carry on
        synced.clock.advance(HOUR)
        synced.dispatcher.execute()
        synced.sync.execute()

    live = [event.appointment_id for event in synced.calendar.live_own()]
    expected = sorted(a for a in booked if a not in cancelled)
    assert len(booked) >= 10, "the run booked enough to mean something"
    assert sorted(a for a in live if a is not None) == expected, "exactly one event per booking"
    assert [row for row in rows(synced) if row.status != "done"] == []
    assert synced.metrics.count("outbox_parked") == 0
