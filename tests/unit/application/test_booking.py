"""BookAppointment and friends against the fakes: offered slots, conflicts, the live Google
check and its fallback, idempotency, holds, confirm, cancel, waitlist and tracking."""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from balance_booking.application.errors import (
    AccessRevokedError,
    AlreadyBookedError,
    CalendarUnavailableError,
    ConflictError,
    GoogleRequestError,
    GoogleUnavailableError,
    InvalidRequestError,
    NotFoundError,
)
from balance_booking.domain.appointments import AppointmentStatus, Client
from balance_booking.domain.errors import UnknownTimeZone
from balance_booking.domain.events import (
    AppointmentCancelled,
    AppointmentConfirmed,
)
from balance_booking.domain.intervals import Interval
from tests.fakes.clock import START
from tests.unit.application.wiring import (
    CLIENT,
    SESSION,
    IdempotencyMismatchError,
    ManageTokens,
    SlotUnavailableError,
    World,
    alternatives_window,
    event_of,
    moscow,
    request,
    request_fingerprint,
)

CONFIRMED = AppointmentStatus.CONFIRMED
PENDING = AppointmentStatus.PENDING_PAYMENT
PAID = replace(SESSION, slug="paid", title="Платная", requires_payment=True)
LONG = replace(
    SESSION,
    slug="long",
    title="Долгая",
    duration=timedelta(minutes=90),
    slot_step=timedelta(minutes=30),
)
BUFFERED = replace(
    SESSION, slug="buffered", title="С перерывом", buffer_after=timedelta(minutes=15)
)
OTHER = Client(name="Борис", email="boris@example.com")


def outbox_events(world: World) -> list[object]:
    return [event_of(row.message()) for row in world.db.outbox_rows()]


def stored_count(world: World) -> int:
    return len(world.db.state.appointments)


# --- booking a free slot ----------------------------------------------------------------


def test_a_free_slot_is_booked_confirmed_at_once(ready: World) -> None:
    booked = ready.book.execute(request())
    appointment = booked.appointment
    assert appointment.status is CONFIRMED
    assert (appointment.start, appointment.end) == (moscow(1, 12), moscow(1, 12, 50))
    assert appointment.hold_expires_at is None
    assert appointment.client_timezone == "Asia/Kolkata"
    assert booked.replayed is False
    assert ready.appointment(appointment.id) == appointment


def test_the_manage_token_is_long_and_only_its_hash_is_stored(ready: World) -> None:
    booked = ready.book.execute(request())
    assert len(booked.manage_token) >= 40
    stored = ready.db.state.appointments[booked.appointment.id]
    assert stored.manage_token_hash == hashlib.sha256(booked.manage_token.encode()).hexdigest()
    assert booked.manage_token not in repr(ready.db.state)


def test_booking_writes_appointment_confirmed_to_the_outbox_in_the_same_commit(
    ready: World,
) -> None:
    commits = ready.db.commits
    booked = ready.book.execute(request())
    assert outbox_events(ready) == [AppointmentConfirmed(booked.appointment.id, START)]
    assert ready.db.commits == commits + 1


def test_a_booked_slot_is_no_longer_offered(ready: World) -> None:
    assert moscow(1, 12) in ready.free_starts(1)
    ready.book.execute(request())
    assert moscow(1, 12) not in ready.free_starts(1)
    assert moscow(1, 13) in ready.free_starts(1)


def test_a_booking_is_counted(ready: World) -> None:
    ready.book.execute(request())
    assert ready.metrics.count("bookings", status="confirmed") == 1


def test_without_google_no_call_is_made(ready: World) -> None:
    ready.calendar.add_busy(moscow(1, 12), moscow(1, 13))
    ready.book.execute(request())
    assert sum(ready.calendar.calls.values()) == 0


# --- conflicts --------------------------------------------------------------------------


def test_the_same_slot_twice_is_refused_with_the_five_nearest_alternatives(ready: World) -> None:
    ready.book.execute(request())
    with pytest.raises(SlotUnavailableError) as refused:
        ready.book.execute(request(client=OTHER))
    starts = [slot.start for slot in refused.value.alternatives]
    # 09:00 is closed and 12:00 taken: the nearest are 11 and 13, then 10 and 14, then 15.
    assert starts == [moscow(1, hour) for hour in (10, 11, 13, 14, 15)]


def test_a_conflict_stores_nothing_and_is_tracked_and_counted(ready: World) -> None:
    ready.book.execute(request())
    with pytest.raises(SlotUnavailableError):
        ready.book.execute(request(client=OTHER))
    assert stored_count(ready) == 1
    assert [(t.event, t.properties) for t in ready.db.tracked()] == [
        ("booking_conflict", {"service_slug": "session"})
    ]
    assert ready.metrics.count("booking_conflicts") == 1


@pytest.mark.parametrize(
    ("first", "second", "conflicts"),
    [
        pytest.param(("session", 12, 0), ("long", 11, 30), True, id="longer-service-overlaps"),
        pytest.param(("session", 12, 0), ("long", 10, 30), False, id="long-ends-at-start"),
        pytest.param(("buffered", 12, 0), ("session", 13, 0), True, id="buffer-after-overlaps"),
        pytest.param(("session", 12, 0), ("session", 13, 0), False, id="back-to-back"),
        pytest.param(("buffered", 11, 0), ("session", 12, 0), True, id="buffer-reaches-next-hour"),
    ],
)
def test_overlaps_with_durations_and_buffers(
    first: tuple[str, int, int], second: tuple[str, int, int], conflicts: bool
) -> None:
    world = World().given(SESSION, LONG, BUFFERED)
    slug, hour, minute = first
    world.book.execute(request(moscow(1, hour, minute), service=slug))
    slug, hour, minute = second
    if conflicts:
        with pytest.raises(SlotUnavailableError):
            world.book.execute(request(moscow(1, hour, minute), service=slug, client=OTHER))
    else:
        world.book.execute(request(moscow(1, hour, minute), service=slug, client=OTHER))
    assert stored_count(world) == (1 if conflicts else 2)


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(moscow(1, 12, 7), id="off-the-grid"),
        pytest.param(moscow(1, 9), id="before-opening"),
        pytest.param(moscow(1, 18), id="at-closing"),
        pytest.param(moscow(30, 8), id="in-the-past"),
        pytest.param(moscow(5, 12), id="saturday"),
    ],
)
def test_a_time_the_slots_would_not_offer_is_refused_with_alternatives(
    ready: World, start: object
) -> None:
    with pytest.raises(SlotUnavailableError) as refused:
        ready.book.execute(request(start))  # type: ignore[arg-type]
    assert refused.value.alternatives
    assert all(slot.start >= ready.clock.now() for slot in refused.value.alternatives)
    assert stored_count(ready) == 0


def test_an_unknown_service_is_not_found(ready: World) -> None:
    with pytest.raises(NotFoundError):
        ready.book.execute(request(service="nope"))


def test_an_inactive_service_is_not_found() -> None:
    world = World().given(replace(SESSION, active=False))
    with pytest.raises(NotFoundError):
        world.book.execute(request())


def test_an_unknown_client_zone_is_refused_before_anything_is_read(ready: World) -> None:
    opened = ready.db.opened
    with pytest.raises(UnknownTimeZone):
        ready.book.execute(request(timezone="Mars/Base"))
    assert ready.db.opened == opened


def test_minimum_notice_counts_from_now() -> None:
    world = World().given(replace(SESSION, min_notice=timedelta(hours=30)))
    with pytest.raises(SlotUnavailableError):
        world.book.execute(request(moscow(1, 12)))  # 27 hours ahead
    assert world.book.execute(request(moscow(1, 15))).appointment.status is CONFIRMED  # 30 hours


def test_the_horizon_ends_max_days_ahead() -> None:
    world = World().given(replace(SESSION, max_days_ahead=2))
    world.book.execute(request(moscow(1, 17)))
    with pytest.raises(SlotUnavailableError):
        world.book.execute(request(moscow(2, 10)))  # 49 hours ahead


def test_the_daily_limit_caps_bookings_per_local_day() -> None:
    world = World().given(replace(SESSION, daily_limit=1))
    world.book.execute(request(moscow(1, 12)))
    with pytest.raises(SlotUnavailableError):
        world.book.execute(request(moscow(1, 15), client=OTHER))
    world.book.execute(request(moscow(2, 15), client=OTHER))
    assert stored_count(world) == 2


def test_alternatives_are_never_in_the_past() -> None:
    start = START + timedelta(days=3)
    assert alternatives_window(start, now=START).start == START
    far = START + timedelta(days=30)
    assert alternatives_window(far, now=START) == Interval(
        far - timedelta(days=7), far + timedelta(days=21)
    )


# --- the live check in Google -----------------------------------------------------------


def test_busy_in_google_but_not_yet_synced_is_a_conflict(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 12, 30), moscow(1, 13, 30))
    assert moscow(1, 12) in synced.free_starts(1), "the mirror does not know yet"
    with pytest.raises(SlotUnavailableError) as refused:
        synced.book.execute(request())
    starts = [slot.start for slot in refused.value.alternatives]
    assert moscow(1, 12) not in starts
    assert moscow(1, 13) not in starts, "the alternatives know what Google just said"
    assert moscow(1, 11) in starts
    assert stored_count(synced) == 0
    assert [t.event for t in synced.db.tracked()] == ["booking_conflict"]


def test_the_live_check_asks_for_the_buffered_slot() -> None:
    world = (
        World()
        .given(
            replace(
                SESSION, buffer_before=timedelta(minutes=10), buffer_after=timedelta(minutes=15)
            )
        )
        .connect()
    )
    world.calendar.log.clear()
    world.book.execute(request())
    [(_, window)] = [entry for entry in world.calendar.log if entry[0] == "busy_intervals"]
    assert isinstance(window, Interval)
    assert window.start <= moscow(1, 11, 50)
    assert window.end >= moscow(1, 13, 5)


def test_busy_time_just_outside_the_buffers_does_not_block() -> None:
    world = World().given(replace(SESSION, buffer_after=timedelta(minutes=10))).connect()
    world.calendar.add_busy(moscow(1, 13), moscow(1, 14))  # the buffer ends at 13:00 exactly
    assert world.book.execute(request()).appointment.status is CONFIRMED


GOOGLE_FAILURES = [
    pytest.param(GoogleUnavailableError("down"), id="unavailable"),
    pytest.param(AccessRevokedError("revoked"), id="revoked"),
    pytest.param(GoogleRequestError("refused", status=403, reason="forbidden"), id="refused"),
]


@pytest.mark.parametrize("failure", GOOGLE_FAILURES)
@pytest.mark.parametrize("age", [0, 300], ids=["just-synced", "at-the-limit"])
def test_google_unreachable_with_a_fresh_mirror_still_books(
    synced: World, failure: Exception, age: int
) -> None:
    synced.clock.advance(timedelta(seconds=age))
    synced.calendar.fail("busy_intervals", failure)
    assert synced.book.execute(request()).appointment.status is CONFIRMED


@pytest.mark.parametrize("failure", GOOGLE_FAILURES)
def test_google_unreachable_with_an_older_mirror_is_503(synced: World, failure: Exception) -> None:
    synced.clock.advance(timedelta(seconds=301))
    synced.calendar.fail("busy_intervals", failure)
    with pytest.raises(CalendarUnavailableError) as refused:
        synced.book.execute(request())
    assert refused.value.retry_after_seconds == 60
    assert refused.value.synced_at == START
    assert stored_count(synced) == 0


def test_after_the_outage_booking_works_again(synced: World) -> None:
    synced.clock.advance(timedelta(seconds=301))
    synced.calendar.fail("busy_intervals", GoogleUnavailableError("down"))
    with pytest.raises(CalendarUnavailableError):
        synced.book.execute(request())
    assert synced.book.execute(request()).appointment.status is CONFIRMED


def test_the_fallback_still_honours_the_mirror(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 12), moscow(1, 13))
    synced.sync.execute()
    synced.calendar.outage()
    with pytest.raises(SlotUnavailableError):
        synced.book.execute(request())


def test_a_stale_mirror_is_503_without_asking_google(synced: World) -> None:
    synced.clock.advance(timedelta(seconds=2701))
    asked = synced.calendar.calls["busy_intervals"]
    with pytest.raises(CalendarUnavailableError) as refused:
        synced.book.execute(request())
    assert refused.value.retry_after_seconds == 300
    assert synced.calendar.calls["busy_intervals"] == asked


def test_a_connection_never_synced_is_503() -> None:
    world = World().given().connect(synced=False)
    with pytest.raises(CalendarUnavailableError):
        world.book.execute(request())


def test_a_switched_off_integration_ignores_google_entirely(synced: World) -> None:
    synced.calendar.add_busy(moscow(1, 12), moscow(1, 13))
    synced.sync.execute()
    synced.set_enabled.execute(enabled=False)
    asked = sum(synced.calendar.calls.values())
    assert synced.book.execute(request()).appointment.status is CONFIRMED
    assert sum(synced.calendar.calls.values()) == asked


def test_a_slot_taken_during_the_live_check_is_refused_with_alternatives(synced: World) -> None:
    def someone_else_books(operation: str) -> None:
        if operation == "busy_intervals" and stored_count(synced) == 0:
            synced.calendar.on_call = None
            synced.book.execute(request(client=OTHER))

    synced.calendar.on_call = someone_else_books
    with pytest.raises(SlotUnavailableError) as refused:
        synced.book.execute(request())
    assert refused.value.alternatives
    [stored] = synced.db.state.appointments.values()
    assert stored.appointment.client == OTHER


def test_visitors_racing_for_one_slot_ask_google_once_and_one_books(synced: World) -> None:
    # The first attempt is inside its live check while the others arrive: they wait for its
    # outcome (SlotClaims) and learn from the local data that the slot is gone.
    inside = threading.Event()
    go_on = threading.Event()

    def first_call_waits(operation: str) -> None:
        if operation == "busy_intervals" and not inside.is_set():
            inside.set()
            assert go_on.wait(10)

    synced.calendar.on_call = first_call_waits
    asked_before = synced.calendar.calls["busy_intervals"]  # the fixture's sync
    outcomes: list[object] = []

    def attempt(n: int) -> None:
        client = Client(name=f"Гость {n}", email=f"guest{n}@example.com")
        try:
            outcomes.append(synced.book.execute(request(client=client)))
        except SlotUnavailableError as refused:
            outcomes.append(refused)

    first = threading.Thread(target=attempt, args=(0,))
    first.start()
    assert inside.wait(10)
    others = [threading.Thread(target=attempt, args=(n,)) for n in range(1, 6)]
    for thread in others:
        thread.start()
    go_on.set()
    for thread in [first, *others]:
        thread.join(timeout=30)
    assert len(outcomes) == 6
    assert sum(1 for outcome in outcomes if not isinstance(outcome, SlotUnavailableError)) == 1
    assert all(
        outcome.alternatives for outcome in outcomes if isinstance(outcome, SlotUnavailableError)
    )
    assert synced.calendar.calls["busy_intervals"] == asked_before + 1, "losers do not ask Google"
    assert stored_count(synced) == 1


# --- idempotency ------------------------------------------------------------------------


def test_the_same_key_and_body_replays_the_first_answer(synced: World) -> None:
    first = synced.book.execute(request(), idempotency_key="order-42")
    asked = sum(synced.calendar.calls.values())
    again = synced.book.execute(request(), idempotency_key="order-42")
    assert again.replayed is True
    assert again.appointment == first.appointment
    assert again.manage_token == first.manage_token
    assert stored_count(synced) == 1
    assert sum(synced.calendar.calls.values()) == asked, "a replay does not ask Google"


def test_the_same_key_with_another_body_is_refused(ready: World) -> None:
    ready.book.execute(request(), idempotency_key="order-42")
    with pytest.raises(IdempotencyMismatchError) as refused:
        ready.book.execute(request(moscow(1, 13)), idempotency_key="order-42")
    assert isinstance(refused.value, InvalidRequestError)
    assert refused.value.field == "Idempotency-Key"
    assert stored_count(ready) == 1


def test_a_replay_shows_the_status_it_had_when_booked() -> None:
    world = World().given(PAID)
    first = world.book.execute(request(service="paid"), idempotency_key="k")
    world.confirm.execute(first.appointment.id)
    again = world.book.execute(request(service="paid"), idempotency_key="k")
    assert again.appointment.status is PENDING
    assert again.appointment.hold_expires_at == first.appointment.hold_expires_at
    assert world.appointment(first.appointment.id).status is CONFIRMED, "the replay writes nothing"


def test_a_replay_after_a_cancel_still_answers_as_first(ready: World) -> None:
    first = ready.book.execute(request(), idempotency_key="k")
    ready.cancel.execute(first.appointment.id, token=None)
    again = ready.book.execute(request(), idempotency_key="k")
    assert (again.replayed, again.appointment.status) == (True, CONFIRMED)


def test_different_keys_are_different_bookings(ready: World) -> None:
    ready.book.execute(request(), idempotency_key="a")
    # The same client under another key: their own booking (already_booked), not a conflict.
    with pytest.raises(AlreadyBookedError):
        ready.book.execute(request(), idempotency_key="b")
    with pytest.raises(SlotUnavailableError):
        ready.book.execute(request(client=OTHER), idempotency_key="c")


def test_a_retry_that_landed_elsewhere_first_is_answered_as_a_replay(synced: World) -> None:
    def the_retry_arrives(operation: str) -> None:
        if operation == "busy_intervals":
            synced.calendar.on_call = None
            synced.book.execute(request(), idempotency_key="k")

    synced.calendar.on_call = the_retry_arrives
    answer = synced.book.execute(request(), idempotency_key="k")
    assert answer.replayed is True
    assert stored_count(synced) == 1
    assert synced.db.tracked() == [], "not a conflict"


def test_fingerprints_are_stable() -> None:
    assert request_fingerprint(request()) == request_fingerprint(request())


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(request(service="paid"), id="service"),
        pytest.param(request(moscow(1, 13)), id="start"),
        pytest.param(request(timezone="UTC"), id="zone"),
        pytest.param(request(client=replace(CLIENT, name="Анна")), id="name"),
        pytest.param(request(client=replace(CLIENT, email="a@b.io")), id="email"),
        pytest.param(request(client=replace(CLIENT, phone=None)), id="phone"),
        pytest.param(request(comment=None), id="comment"),
    ],
)
def test_every_field_is_part_of_the_fingerprint(other: object) -> None:
    assert request_fingerprint(other) != request_fingerprint(request())  # type: ignore[arg-type]


# --- payment holds ----------------------------------------------------------------------


def test_a_paid_service_creates_a_fifteen_minute_hold() -> None:
    world = World().given(PAID)
    booked = world.book.execute(request(service="paid"))
    assert booked.appointment.status is PENDING
    assert booked.appointment.hold_expires_at == START + timedelta(minutes=15)
    assert outbox_events(world) == [], "a hold is not exported"
    assert world.metrics.count("bookings", status="pending_payment") == 1


def test_a_hold_blocks_its_slot_until_it_runs_out() -> None:
    world = World().given(PAID)
    world.book.execute(request(service="paid"))
    assert moscow(1, 12) not in world.free_starts(1, "paid")
    world.clock.advance(timedelta(minutes=15))
    assert moscow(1, 12) in world.free_starts(1, "paid"), "a lapsed hold stops blocking at once"


def test_booking_over_a_lapsed_hold_expires_it_in_the_same_transaction() -> None:
    world = World().given(PAID)
    held = world.book.execute(request(service="paid")).appointment
    world.clock.advance(timedelta(minutes=16))
    second = world.book.execute(request(service="paid", client=OTHER)).appointment
    assert world.appointment(held.id).status is AppointmentStatus.EXPIRED
    # A lapsed hold never reached the calendar: its expiry queues no message.
    assert outbox_events(world) == []
    assert world.appointment(second.id).status is PENDING


def test_expire_holds_releases_only_holds_that_ran_out() -> None:
    world = World().given(PAID)
    held = world.book.execute(request(service="paid")).appointment
    world.clock.advance(timedelta(minutes=14))
    assert world.expire_holds.execute() == 0
    world.clock.advance(timedelta(minutes=1))
    assert world.expire_holds.execute() == 1
    assert world.appointment(held.id).status is AppointmentStatus.EXPIRED
    assert world.expire_holds.execute() == 0


def test_a_hold_that_ran_out_cannot_be_confirmed() -> None:
    world = World().given(PAID)
    held = world.book.execute(request(service="paid")).appointment
    world.clock.advance(timedelta(minutes=16))
    with pytest.raises(ConflictError):
        world.confirm.execute(held.id)
    world.expire_holds.execute()
    with pytest.raises(ConflictError):
        world.confirm.execute(held.id)


# --- confirmation -----------------------------------------------------------------------


def test_confirming_a_hold_makes_it_confirmed_and_exported() -> None:
    world = World().given(PAID)
    held = world.book.execute(request(service="paid")).appointment
    confirmed = world.confirm.execute(held.id)
    assert (confirmed.status, confirmed.hold_expires_at) == (CONFIRMED, None)
    assert outbox_events(world) == [AppointmentConfirmed(held.id, START)]


def test_confirming_twice_or_a_confirmed_booking_is_a_conflict(ready: World) -> None:
    booked = ready.book.execute(request()).appointment
    with pytest.raises(ConflictError):
        ready.confirm.execute(booked.id)


def test_confirming_an_unknown_appointment_is_not_found(ready: World) -> None:
    with pytest.raises(NotFoundError):
        ready.confirm.execute(uuid.uuid4())


def test_confirmation_rechecks_google_live() -> None:
    world = World().given(PAID).connect()
    held = world.book.execute(request(service="paid")).appointment
    world.calendar.add_busy(moscow(1, 12, 30), moscow(1, 13))
    with pytest.raises(SlotUnavailableError) as refused:
        world.confirm.execute(held.id)
    assert refused.value.alternatives
    assert world.appointment(held.id).status is PENDING
    assert [t.event for t in world.db.tracked()] == ["booking_conflict"]


def test_confirmation_with_google_down_and_a_fresh_mirror_confirms() -> None:
    world = World().given(PAID).connect()
    held = world.book.execute(request(service="paid")).appointment
    world.calendar.outage()
    assert world.confirm.execute(held.id).status is CONFIRMED


def test_confirmation_with_google_down_and_an_old_mirror_is_503() -> None:
    world = World().given(PAID).connect()
    held = world.book.execute(request(service="paid")).appointment
    world.clock.advance(timedelta(seconds=301))
    world.calendar.outage()
    with pytest.raises(CalendarUnavailableError):
        world.confirm.execute(held.id)
    assert world.appointment(held.id).status is PENDING


# --- cancel and the manage link ---------------------------------------------------------


def test_the_client_cancels_with_the_manage_token_and_the_slot_frees(ready: World) -> None:
    booked = ready.book.execute(request())
    ready.clock.advance(timedelta(hours=1))
    cancelled = ready.cancel.execute(booked.appointment.id, token=booked.manage_token)
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert outbox_events(ready)[-1] == AppointmentCancelled(
        booked.appointment.id, ready.clock.now(), was_confirmed=True
    )
    assert moscow(1, 12) in ready.free_starts(1)


def test_a_wrong_token_looks_exactly_like_an_unknown_appointment(ready: World) -> None:
    booked = ready.book.execute(request())
    with pytest.raises(NotFoundError) as wrong:
        ready.cancel.execute(booked.appointment.id, token="wrong")
    with pytest.raises(NotFoundError) as unknown:
        ready.cancel.execute(uuid.uuid4(), token=booked.manage_token)
    assert str(wrong.value) == str(unknown.value)
    assert ready.appointment(booked.appointment.id).status is CONFIRMED


def test_the_admin_cancels_without_a_token(ready: World) -> None:
    booked = ready.book.execute(request())
    assert (
        ready.cancel.execute(booked.appointment.id, token=None).status
        is AppointmentStatus.CANCELLED
    )


def test_cancelling_twice_is_harmless_and_queues_one_event(ready: World) -> None:
    booked = ready.book.execute(request())
    ready.cancel.execute(booked.appointment.id, token=None)
    again = ready.cancel.execute(booked.appointment.id, token=booked.manage_token)
    assert again.status is AppointmentStatus.CANCELLED
    assert sum(isinstance(e, AppointmentCancelled) for e in outbox_events(ready)) == 1


def test_cancelling_a_hold_queues_nothing_for_the_calendar() -> None:
    world = World().given(PAID)
    held = world.book.execute(request(service="paid")).appointment
    world.cancel.execute(held.id, token=None)
    assert world.appointment(held.id).status is AppointmentStatus.CANCELLED
    assert outbox_events(world) == [], "a hold never reached the calendar"


def test_an_expired_hold_cannot_be_cancelled() -> None:
    world = World().given(PAID)
    held = world.book.execute(request(service="paid")).appointment
    world.clock.advance(timedelta(minutes=15))
    world.expire_holds.execute()
    with pytest.raises(ConflictError):
        world.cancel.execute(held.id, token=None)


def test_cancelling_an_unknown_appointment_as_admin_is_not_found(ready: World) -> None:
    with pytest.raises(NotFoundError):
        ready.cancel.execute(uuid.uuid4(), token=None)


def test_the_client_reads_the_appointment_with_the_token_only(ready: World) -> None:
    booked = ready.book.execute(request())
    assert (
        ready.get_appointment.execute(booked.appointment.id, token=booked.manage_token)
        == booked.appointment
    )
    with pytest.raises(NotFoundError):
        ready.get_appointment.execute(booked.appointment.id, token="wrong")
    with pytest.raises(NotFoundError):
        ready.get_appointment.execute(uuid.uuid4(), token=booked.manage_token)


def test_manage_tokens_are_derived_from_the_secret_and_the_id() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    tokens = ManageTokens("secret")
    assert tokens.token(first) == ManageTokens("secret").token(first)
    assert tokens.token(first) != tokens.token(second)
    assert tokens.token(first) != ManageTokens("other secret").token(first)
    assert tokens.matches(ManageTokens.hash(tokens.token(first)), tokens.token(first))
    assert not tokens.matches(None, tokens.token(first))
    assert not tokens.matches(ManageTokens.hash(tokens.token(first)), tokens.token(second))


def test_the_admin_list_filters_by_status(ready: World) -> None:
    kept = ready.book.execute(request()).appointment
    dropped = ready.book.execute(request(moscow(1, 14))).appointment
    ready.cancel.execute(dropped.id, token=None)
    window = Interval(moscow(1, 0), moscow(2, 0))
    everything = ready.list_appointments.execute(window, status=None)
    assert [a.id for a, _ in everything] == [kept.id, dropped.id]
    assert [state.state for _, state in everything] == ["pending", "pending"]
    assert [a.id for a, _ in ready.list_appointments.execute(window, status="cancelled")] == [
        dropped.id
    ]


# --- waitlist and tracking --------------------------------------------------------------


def test_joining_the_waitlist_stores_the_entry(ready: World) -> None:
    preferred = Interval(moscow(1, 10), moscow(5, 18))
    joined = ready.join_waitlist.execute(
        service_slug="session",
        client=CLIENT,
        timezone="Europe/Moscow",
        preferred=preferred,
        comment="утром",
    )
    [entry] = ready.list_waitlist.execute()
    assert (entry.entry_id, joined.already_waiting) == (joined.entry_id, False)
    assert (entry.preferred_from, entry.preferred_to) == (preferred.start, preferred.end)
    assert (entry.name, entry.email, entry.phone) == (CLIENT.name, CLIENT.email, CLIENT.phone)
    assert entry.created_at == START


def test_the_waitlist_without_a_preference(ready: World) -> None:
    ready.join_waitlist.execute(
        service_slug="session", client=CLIENT, timezone="UTC", preferred=None, comment=None
    )
    [entry] = ready.list_waitlist.execute()
    assert (entry.preferred_from, entry.preferred_to, entry.comment) == (None, None, None)


def test_the_waitlist_of_an_unknown_service_is_not_found(ready: World) -> None:
    with pytest.raises(NotFoundError):
        ready.join_waitlist.execute(
            service_slug="nope", client=CLIENT, timezone="UTC", preferred=None, comment=None
        )
    assert ready.list_waitlist.execute() == []


def test_the_waitlist_refuses_an_unknown_zone(ready: World) -> None:
    with pytest.raises(UnknownTimeZone):
        ready.join_waitlist.execute(
            service_slug="session",
            client=CLIENT,
            timezone="Nowhere/City",
            preferred=None,
            comment=None,
        )


SELECTED = {
    "slot_start_at": "2026-12-01T12:00:00+03:00",
    "timezone": "Europe/Moscow",
    "service_slug": "session",
}


def test_a_planned_event_is_stored_with_only_its_planned_properties(ready: World) -> None:
    ready.track.execute("booking_slot_selected", SELECTED | {"email": "anna@example.com"})
    [tracked] = ready.db.tracked()
    assert (tracked.event, tracked.properties, tracked.at) == (
        "booking_slot_selected",
        SELECTED,
        START,
    )


def test_an_unknown_event_is_refused(ready: World) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        ready.track.execute("page_view", {})
    assert refused.value.field == "event"
    assert ready.db.tracked() == []


@pytest.mark.parametrize("missing", sorted(SELECTED))
def test_an_event_missing_a_property_is_refused(ready: World, missing: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        ready.track.execute(
            "booking_slot_selected", {k: v for k, v in SELECTED.items() if k != missing}
        )
    assert refused.value.field == "properties"
    assert missing in str(refused.value)
