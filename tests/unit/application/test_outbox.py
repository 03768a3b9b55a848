"""The outbox dispatcher and its registries, against fakes: no database, no Google, no network.

The kind "notice" stands for any kind that is not Google (e-mail, waitlist offers, reminders):
the dispatcher knows no kind, so a test kind shows what every such kind gets.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self
from uuid import UUID

import pytest

from balance_booking.application.errors import (
    AccessRevokedError,
    ApplicationError,
    GoogleRequestError,
    GoogleUnavailableError,
)
from balance_booking.application.export import GoogleCalendarMessages
from balance_booking.application.messages import Messages, calendar_message, event_of
from balance_booking.application.outbox import (
    Backoff,
    Failure,
    OutboxDispatcher,
    OutboxKindHandler,
)
from balance_booking.application.ports import (
    IntegrationRecord,
    NewMessage,
    OutboxKind,
    OutboxMessage,
    UnitOfWork,
)
from balance_booking.domain.appointments import Appointment, Client
from balance_booking.domain.calendar_account import IntegrationStatus
from balance_booking.domain.events import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentExpired,
    AppointmentHeld,
)
from tests.conftest import START, FakeClock
from tests.fakes.outbox import FakeOutbox
from tests.unit.domain.builders import service

NOTICE = "notice"
JITTER = 0.5
GOOGLE = OutboxKind.GOOGLE_CALENDAR


class FakeIntegration:
    """Just the integration row, which is all the Google kind asks of the database."""

    def __init__(self) -> None:
        self.record = IntegrationRecord(status=IntegrationStatus.DISCONNECTED)

    def get(self) -> IntegrationRecord:
        return self.record


class Store:
    """What the dispatcher's units of work share; `open` counts transactions in progress."""

    def __init__(self) -> None:
        self.outbox = FakeOutbox()
        self.integration = FakeIntegration()
        self.open = 0
        self.commits = 0


class OutboxUnitOfWork:
    """A unit of work over the outbox and the integration row only."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.outbox = store.outbox
        self.integration = store.integration

    def __enter__(self) -> Self:
        self._store.open += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._store.open -= 1

    def commit(self) -> None:
        self._store.commits += 1


class FakeMetrics:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
        self.gauges: dict[str, float] = {}

    def increment(self, name: str, labels: dict[str, str] | None = None) -> None:
        key = (name, tuple(sorted((labels or {}).items())))
        self.counts[key] = self.counts.get(key, 0) + 1

    def gauge(self, name: str, value: float) -> None:
        self.gauges[name] = value


@dataclass
class NoticeKind:
    """A programmable non-Google kind: fails as told, records what it saw."""

    store: Store
    kind: str = NOTICE
    give_up_after: timedelta | None = None
    failures: list[ApplicationError] = field(default_factory=list)
    handled: list[int] = field(default_factory=list)
    parked: list[int] = field(default_factory=list)
    batches: int = 0
    runnable: bool = True
    wrote: bool = True

    def can_run(self, uow: UnitOfWork) -> bool:
        assert uow.outbox is self.store.outbox, "asked inside the dispatcher's read"
        return self.runnable

    def handle(self, message: OutboxMessage) -> bool:
        assert self.store.open == 0, "no transaction is open while a message is delivered"
        if self.failures:
            raise self.failures.pop(0)
        self.handled.append(message.message_id)
        return self.wrote

    def classify(self, error: ApplicationError) -> Failure:
        return Failure.TRANSIENT if isinstance(error, GoogleUnavailableError) else Failure.PERMANENT

    def on_park(self, uow: UnitOfWork, message: OutboxMessage, *, now: datetime) -> None:
        assert self.store.open == 1, "parking and its consequence are one transaction"
        assert [p.message.message_id for p in uow.outbox.parked()][-1] == message.message_id
        assert now == self.store.outbox.rows[message.message_id].updated_at
        self.parked.append(message.message_id)

    def after_batch(self) -> None:
        self.batches += 1


class RecordingUseCase:
    """Stands in for Create/DeleteCalendarEventForAppointment: records the appointment ids."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: list[UUID] = []

    def execute(self, appointment_id: UUID) -> bool:
        assert self.store.open == 0
        self.calls.append(appointment_id)
        return True


@dataclass
class World:
    store: Store
    clock: FakeClock
    metrics: FakeMetrics
    notice: NoticeKind
    create: RecordingUseCase
    delete: RecordingUseCase
    move: RecordingUseCase
    resyncs: list[int]
    elapsed: list[float]

    @property
    def outbox(self) -> FakeOutbox:
        return self.store.outbox

    def dispatcher(self, *handlers: OutboxKindHandler, batch_size: int = 20) -> OutboxDispatcher:
        chosen = handlers or (self.google(), self.notice)
        return OutboxDispatcher(
            readers=lambda: OutboxUnitOfWork(self.store),  # type: ignore[arg-type,return-value]
            writers=lambda: OutboxUnitOfWork(self.store),  # type: ignore[arg-type,return-value]
            handlers={handler.kind: handler for handler in chosen},
            clock=self.clock,
            metrics=self.metrics,
            batch_size=batch_size,
            backoff=Backoff(jitter=lambda: JITTER),
            monotonic=lambda: self.elapsed[0],
        )

    def google(self) -> GoogleCalendarMessages:
        return GoogleCalendarMessages(
            create_event=self.create,  # type: ignore[arg-type]
            delete_event=self.delete,  # type: ignore[arg-type]
            move_event=self.move,  # type: ignore[arg-type]
            resync=lambda: self.resyncs.append(1),
            enabled_by_default=True,
        )

    def connect_google(self) -> None:
        self.store.integration.record = IntegrationRecord(status=IntegrationStatus.CONNECTED)

    def notice_message(self, **fields: object) -> int:
        message = NewMessage(kind=NOTICE, topic="Reminder", payload={"n": 1}, **fields)  # type: ignore[arg-type]
        assert self.outbox.append([message], now=self.clock.now()) == 1
        return max(self.outbox.rows)

    def google_message(self, event: AppointmentConfirmed | AppointmentCancelled) -> int:
        message = calendar_message(event)
        assert self.outbox.append([message], now=self.clock.now()) == 1
        return max(self.outbox.rows)

    def status(self, message_id: int) -> tuple[str, int]:
        row = self.outbox.rows[message_id]
        return row.status, row.attempts


@pytest.fixture
def world() -> World:
    store = Store()
    return World(
        store=store,
        clock=FakeClock(START),
        metrics=FakeMetrics(),
        notice=NoticeKind(store),
        create=RecordingUseCase(store),
        delete=RecordingUseCase(store),
        move=RecordingUseCase(store),
        resyncs=[],
        elapsed=[0.0],
    )


def confirmed(appointment_id: UUID | None = None) -> AppointmentConfirmed:
    return AppointmentConfirmed(appointment_id or uuid.uuid4(), START)


# --- kinds are independent ---------------------------------------------------------------


def test_a_non_google_kind_is_dispatched_while_google_is_disconnected(world: World) -> None:
    appointment = uuid.uuid4()
    google_row = world.google_message(confirmed(appointment))
    notice_row = world.notice_message(appointment_id=appointment)
    dispatcher = world.dispatcher()

    report = dispatcher.execute()

    assert (report.claimed, report.done) == (1, 1)
    assert world.notice.handled == [notice_row]
    assert world.status(notice_row) == ("done", 0)
    # The Google row waits, claimed by nobody, with no attempt spent.
    assert world.status(google_row) == ("pending", 0)
    assert world.outbox.rows[google_row].locked_until is None
    assert world.create.calls == []
    assert world.metrics.gauges["outbox_backlog"] == 2
    world.clock.advance(timedelta(hours=1))
    assert dispatcher.execute().claimed == 0
    assert world.status(google_row) == ("pending", 0)

    world.connect_google()
    report = dispatcher.execute()
    assert (report.done, report.wrote_to_google) == (1, True)
    assert world.create.calls == [appointment]
    assert world.status(google_row) == ("done", 0)
    assert world.resyncs == [1], "a batch that wrote to Google re-syncs busy time once"


def test_google_waits_while_switched_off_even_if_connected(world: World) -> None:
    world.connect_google()
    world.store.integration.record.enabled = False
    row = world.google_message(confirmed())
    assert world.dispatcher().execute().claimed == 0
    assert world.status(row) == ("pending", 0)


def test_nothing_due_claims_nothing_and_reports_the_backlog(world: World) -> None:
    report = world.dispatcher().execute()
    assert report.claimed == 0
    assert world.metrics.gauges["outbox_backlog"] == 0


def test_a_transient_failure_stops_only_its_own_kind(world: World) -> None:
    world.connect_google()
    world.create.execute = _raising(GoogleUnavailableError("503 from Google"))  # type: ignore[method-assign]
    first = world.google_message(confirmed())
    second = world.google_message(confirmed())
    notice = world.notice_message()

    report = world.dispatcher().execute()

    assert (report.retried, report.done, report.released) == (1, 1, 1)
    assert world.status(first) == ("pending", 1)
    assert world.status(second) == ("pending", 0), "released untried: no attempt spent"
    assert world.outbox.rows[second].locked_until is None
    assert world.notice.handled == [notice]


# --- retry, backoff, give up, park -----------------------------------------------------------


def test_transient_failures_back_off_by_the_formula(world: World) -> None:
    world.notice.failures = [GoogleUnavailableError("down")] * 4
    row = world.notice_message()
    dispatcher = world.dispatcher()
    delays = []
    for _ in range(4):
        before = world.clock.now()
        assert dispatcher.execute().retried == 1
        due = world.outbox.rows[row].next_attempt_at
        delays.append((due - before).total_seconds())
        assert dispatcher.execute().claimed == 0, "not before its backoff runs out"
        world.clock.set(due)
    assert delays == [1 + JITTER, 2 + JITTER, 4 + JITTER, 8 + JITTER]
    assert Backoff(jitter=lambda: JITTER).delay(10) == timedelta(seconds=64)
    assert dispatcher.execute().done == 1
    assert world.status(row) == ("done", 4)
    assert world.outbox.rows[row].last_error == "down"


def test_a_permanent_failure_parks_and_runs_the_kinds_on_park(world: World) -> None:
    world.notice.failures = [GoogleRequestError("400 badRequest", status=400, reason="bad")]
    row = world.notice_message()

    report = world.dispatcher().execute()

    assert (report.parked, report.retried, report.done) == (1, 0, 0)
    assert world.status(row) == ("parked", 1)
    assert world.notice.parked == [row]
    assert world.notice.batches == 0, "nothing was delivered"
    [parked] = world.outbox.parked()
    assert (parked.message.kind, parked.message.topic) == (NOTICE, "Reminder")
    assert parked.reason == "400 badRequest"
    assert parked.parked_at == world.clock.now()
    assert world.metrics.counts[("outbox_parked", (("event", "Reminder"),))] == 1
    world.clock.advance(timedelta(days=1))
    assert world.dispatcher().execute().claimed == 0, "a parked row stays parked"


def test_an_unreadable_payload_is_parked_without_calling_the_handler(world: World) -> None:
    row = world.notice_message()
    world.outbox.corrupt(row)
    assert world.dispatcher().execute().parked == 1
    assert world.notice.handled == []
    assert world.outbox.parked()[0].reason == "unreadable outbox row of type Reminder"


def test_give_up_after_parks_a_row_failing_transiently_for_too_long(world: World) -> None:
    world.notice.give_up_after = timedelta(hours=24)
    world.notice.failures = [GoogleUnavailableError("SMTP away")] * 100
    row = world.notice_message()
    dispatcher = world.dispatcher()
    assert dispatcher.execute().retried == 1
    first_failure = world.clock.now()
    assert world.outbox.rows[row].first_failed_at == first_failure
    world.clock.set(first_failure + timedelta(hours=23, minutes=59))
    assert dispatcher.execute().retried == 1, "still inside the 24 hours"
    assert world.outbox.rows[row].first_failed_at == first_failure
    world.clock.set(first_failure + timedelta(hours=24))
    report = dispatcher.execute()
    assert (report.parked, report.retried) == (1, 0)
    assert world.notice.parked == [row]
    reason = world.outbox.parked()[0].reason
    assert reason is not None
    assert reason.startswith("still failing after 1 day")


def test_without_give_up_after_a_transient_failure_retries_for_ever(world: World) -> None:
    world.notice.failures = [GoogleUnavailableError("away")] * 2
    row = world.notice_message()
    dispatcher = world.dispatcher()
    assert dispatcher.execute().retried == 1
    world.clock.advance(timedelta(days=30))
    assert dispatcher.execute().retried == 1
    assert world.status(row) == ("pending", 2)


def test_requeue_gives_a_parked_message_another_go(world: World) -> None:
    world.notice.give_up_after = timedelta(minutes=1)
    world.notice.failures = [GoogleRequestError("refused", status=400, reason="badRequest")]
    row = world.notice_message()
    dispatcher = world.dispatcher()
    assert dispatcher.execute().parked == 1
    assert world.outbox.requeue(row, now=world.clock.now()) is True
    assert world.outbox.requeue(row, now=world.clock.now()) is False, "only a parked row"
    assert world.outbox.parked() == []
    assert dispatcher.execute().done == 1
    assert world.notice.handled == [row]
    assert world.outbox.requeue(row, now=world.clock.now()) is False


# --- scheduling and order ----------------------------------------------------------------


def test_not_before_holds_a_message_until_its_time(world: World) -> None:
    later = START + timedelta(hours=24)
    row = world.notice_message(not_before=later)
    dispatcher = world.dispatcher()
    assert dispatcher.execute().claimed == 0
    assert world.metrics.gauges["outbox_backlog"] == 1
    world.clock.set(later - timedelta(seconds=1))
    assert dispatcher.execute().claimed == 0
    world.clock.set(later)
    assert dispatcher.execute().done == 1
    assert world.notice.handled == [row]


def test_a_google_cancel_never_overtakes_its_create(world: World) -> None:
    world.connect_google()
    appointment = uuid.uuid4()
    failures: list[ApplicationError] = [GoogleUnavailableError("503")]
    world.create.execute = _failing_then(failures, world.create.calls)  # type: ignore[method-assign]
    create = world.google_message(confirmed(appointment))
    cancel = world.google_message(AppointmentCancelled(appointment, START, was_confirmed=True))
    other = world.google_message(confirmed())
    dispatcher = world.dispatcher()

    report = dispatcher.execute()
    assert report.retried == 1
    # The create is in backoff: its cancel waits for it, the other appointment does not.
    world.clock.advance(timedelta(milliseconds=1))
    report = dispatcher.execute()
    assert report.claimed == 1
    assert world.status(other) == ("done", 0)
    assert world.status(cancel) == ("pending", 0)
    assert world.delete.calls == []

    world.clock.advance(timedelta(seconds=5))
    assert dispatcher.execute().done == 1
    assert world.delete.calls == [], "the cancel is claimed once its create is done"
    assert dispatcher.execute().done == 1
    assert world.create.calls == [world.outbox.rows[other].appointment_id, appointment]
    assert world.delete.calls == [appointment]
    assert world.status(create) == ("done", 1)


def test_an_email_never_waits_behind_a_google_row_of_its_appointment(world: World) -> None:
    appointment = uuid.uuid4()
    world.google_message(confirmed(appointment))  # Google disconnected: it waits
    first = world.notice_message(appointment_id=appointment)
    second = world.notice_message(appointment_id=appointment)
    dispatcher = world.dispatcher()
    # In their own order (one per batch, like the Google writes), but behind no Google row.
    assert dispatcher.execute().done == 1
    assert dispatcher.execute().done == 1
    assert world.notice.handled == [first, second]


def test_a_row_scheduled_later_does_not_hold_back_newer_ones(world: World) -> None:
    appointment = uuid.uuid4()
    reminder = world.notice_message(
        appointment_id=appointment, not_before=START + timedelta(days=1)
    )
    cancelled = world.notice_message(appointment_id=appointment)
    assert world.dispatcher().execute().done == 1
    assert world.notice.handled == [cancelled]
    assert world.status(reminder) == ("pending", 0)


def test_a_waitlist_message_and_one_of_nothing_are_delivered(world: World) -> None:
    entry = uuid.uuid4()
    for_entry = world.notice_message(waitlist_entry_id=entry)
    for_nobody = world.notice_message()
    assert world.dispatcher().execute().done == 2
    assert world.notice.handled == [for_entry, for_nobody]
    assert world.outbox.rows[for_entry].waitlist_entry_id == entry


# --- leases ------------------------------------------------------------------------------


def test_rows_not_reached_within_half_the_lease_are_released(world: World) -> None:
    rows = [world.notice_message() for _ in range(3)]

    class Slow(NoticeKind):
        def handle(self, message: OutboxMessage) -> bool:
            world.elapsed[0] += 100.0  # seconds; the lease is 5 minutes, half of it 150 s
            return super().handle(message)

    slow = Slow(world.store)
    report = world.dispatcher(slow).execute()
    assert (report.claimed, report.done, report.released) == (3, 2, 1)
    assert slow.handled == rows[:2]
    assert world.status(rows[2]) == ("pending", 0)
    assert world.outbox.rows[rows[2]].locked_until is None, "due again at once"
    assert world.dispatcher(slow).execute().done == 1


def test_a_claimed_row_is_not_claimed_again_until_its_lease_runs_out(world: World) -> None:
    row = world.notice_message()
    now = world.clock.now()
    [message] = world.outbox.claim_due(
        kinds=[NOTICE], now=now, limit=10, lease=timedelta(minutes=5)
    )
    assert message.message_id == row
    assert world.dispatcher().execute().claimed == 0, "another worker holds it"
    world.clock.advance(timedelta(minutes=5))
    assert world.dispatcher().execute().done == 1


def test_the_batch_size_limits_a_claim(world: World) -> None:
    for _ in range(5):
        world.notice_message()
    assert world.dispatcher(world.notice, batch_size=2).execute().claimed == 2
    assert world.outbox.backlog() == 3


# --- after the batch ----------------------------------------------------------------------


def test_after_batch_runs_once_per_kind_that_wrote(world: World) -> None:
    for _ in range(3):
        world.notice_message()
    assert world.dispatcher().execute().wrote == frozenset({NOTICE})
    assert world.notice.batches == 1
    world.notice.wrote = False
    world.notice_message()
    report = world.dispatcher().execute()
    assert (report.done, report.wrote) == (1, frozenset())
    assert world.notice.batches == 1


def test_a_refused_resync_after_google_writes_does_not_fail_the_batch(world: World) -> None:
    world.connect_google()
    world.google_message(confirmed())

    def refuse() -> None:
        raise GoogleUnavailableError("busy-time sync refused")

    google = GoogleCalendarMessages(
        create_event=world.create,  # type: ignore[arg-type]
        delete_event=world.delete,  # type: ignore[arg-type]
        move_event=world.move,  # type: ignore[arg-type]
        resync=refuse,
        enabled_by_default=True,
    )
    report = world.dispatcher(google).execute()
    assert (report.done, report.wrote_to_google) == (1, True)


# --- the Google kind ------------------------------------------------------------------------


def test_the_google_kind_retries_google_being_away_and_parks_refusals(world: World) -> None:
    google = world.google()
    assert google.kind == GOOGLE
    assert google.classify(GoogleUnavailableError("503")) is Failure.TRANSIENT
    assert google.classify(AccessRevokedError("revoked")) is Failure.TRANSIENT
    assert (
        google.classify(GoogleRequestError("400", status=400, reason="badRequest"))
        is Failure.PERMANENT
    )
    assert google.give_up_after is None


def test_the_google_kind_routes_each_event(world: World) -> None:
    world.connect_google()
    confirmed_id, cancelled_id, hold_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    world.outbox.append(
        [
            calendar_message(AppointmentConfirmed(confirmed_id, START)),
            calendar_message(AppointmentCancelled(cancelled_id, START, was_confirmed=True)),
            # Old rows (written before the registry dropped them) are harmless no-ops.
            calendar_message(AppointmentCancelled(hold_id, START, was_confirmed=False)),
            calendar_message(AppointmentExpired(hold_id, START)),
        ],
        now=START,
    )
    dispatcher = world.dispatcher()
    assert dispatcher.execute().done == 3, "the hold's second row waits for its first"
    assert dispatcher.execute().done == 1
    assert world.create.calls == [confirmed_id]
    assert world.delete.calls == [cancelled_id]


def test_the_google_kind_parks_a_payload_it_cannot_read(world: World) -> None:
    world.connect_google()
    world.outbox.append(
        [NewMessage(kind=GOOGLE, topic="AppointmentMoved", payload={"appointment_id": "x"})],
        now=START,
    )
    assert world.dispatcher().execute().parked == 1
    assert world.outbox.parked()[0].reason == "unreadable outbox row of type AppointmentMoved"


# --- the registry: domain event -> messages ----------------------------------------------------


def _appointment(*, paid: bool = False) -> Appointment:
    return Appointment.book(
        appointment_id=uuid.uuid4(),
        service=service(requires_payment=paid),
        start=START + timedelta(days=3),
        client=Client(name="Anna", email="anna@example.org"),
        client_timezone="Europe/Moscow",
        comment=None,
        now=START,
        hold=timedelta(minutes=15),
    )


def test_each_domain_event_calls_for_its_messages() -> None:
    messages = Messages()  # e-mail off: only the Google Calendar rows
    booked = _appointment()
    confirmation = AppointmentConfirmed(booked.id, START)
    [message] = messages.for_event(confirmation, booked, now=START)
    assert (message.kind, message.topic, message.appointment_id) == (
        GOOGLE,
        "AppointmentConfirmed",
        booked.id,
    )
    assert (message.not_before, message.dedup_key, message.waitlist_entry_id) == (None, None, None)
    cancellation = AppointmentCancelled(booked.id, START, was_confirmed=True)
    assert [m.topic for m in messages.for_event(cancellation, booked, now=START)] == [
        "AppointmentCancelled"
    ]
    # A payment hold never reached Google: nothing to delete, nothing to send.
    held = _appointment(paid=True)
    for event in (
        AppointmentHeld(held.id, START),
        AppointmentCancelled(held.id, START, was_confirmed=False),
        AppointmentExpired(held.id, START),
    ):
        assert messages.for_event(event, held, now=START) == []


def test_a_calendar_message_carries_its_event_and_nothing_about_the_client() -> None:
    event = AppointmentCancelled(uuid.uuid4(), START, was_confirmed=True)
    message = calendar_message(event)
    assert set(message.payload) == {"appointment_id", "occurred_at", "was_confirmed"}
    stored = OutboxMessage(
        message_id=1,
        kind=message.kind,
        topic=message.topic,
        attempts=0,
        appointment_id=message.appointment_id,
        payload=message.payload,
    )
    assert event_of(stored) == event


def test_a_dedup_key_is_used_once() -> None:
    outbox = FakeOutbox()
    reminder = NewMessage(kind=NOTICE, topic="Reminder", payload={}, dedup_key="reminder:1")
    assert outbox.append([reminder], now=START) == 1
    assert outbox.append([reminder], now=START + timedelta(days=1)) == 0
    assert outbox.backlog() == 1


def _raising(error: ApplicationError):  # type: ignore[no-untyped-def]
    def execute(appointment_id: UUID) -> bool:
        raise error

    return execute


def _failing_then(failures: list[ApplicationError], calls: list[UUID]):  # type: ignore[no-untyped-def]
    def execute(appointment_id: UUID) -> bool:
        if failures:
            raise failures.pop(0)
        calls.append(appointment_id)
        return True

    return execute
