"""The outbox dispatcher: one worker loop for every kind of message (DESIGN.md section 13).

Each kind (Google Calendar writes today; e-mail, waitlist offers and reminders next) registers one
handler in application/handlers.py. The dispatcher knows no kind: it claims the due rows of the
kinds that can run now, runs their handler with no transaction open, and marks each row done,
retries it later with backoff, or parks it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from balance_booking.application.errors import ApplicationError
from balance_booking.application.ports import (
    Clock,
    Metrics,
    OutboxKind,
    OutboxMessage,
    UnitOfWork,
    UnitOfWorkFactory,
)

_log = logging.getLogger(__name__)


class Failure(StrEnum):
    """How a kind judges a failed delivery."""

    TRANSIENT = "transient"  # try again later, with backoff
    PERMANENT = "permanent"  # retrying cannot help: park the row


class UndeliverableMessageError(ApplicationError):
    """The message cannot be delivered as written (e.g. its payload cannot be read)."""


class OutboxKindHandler(Protocol):
    """What one kind of message needs from the dispatcher, and what it does for it."""

    @property
    def kind(self) -> str: ...

    @property
    def give_up_after(self) -> timedelta | None:
        """A row failing transiently for longer than this is parked; None: retry for ever."""
        ...

    def can_run(self, uow: UnitOfWork) -> bool:
        """Whether messages of this kind can go out now; if not they wait, spending no attempt."""
        ...

    def handle(self, message: OutboxMessage) -> bool:
        """Deliver one message; True when it changed something outside (see `after_batch`)."""
        ...

    def classify(self, error: ApplicationError) -> Failure: ...

    def on_park(self, uow: UnitOfWork, message: OutboxMessage, *, now: datetime) -> None:
        """What parking means for this kind, written in the transaction that parks the row."""
        ...

    def after_batch(self) -> None:
        """Runs once after a batch in which `handle` of this kind returned True."""
        ...


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """What one dispatcher run did."""

    claimed: int = 0
    done: int = 0
    retried: int = 0
    parked: int = 0
    released: int = 0
    wrote: frozenset[str] = field(default_factory=frozenset)  # kinds that changed the outside

    @property
    def wrote_to_google(self) -> bool:
        return OutboxKind.GOOGLE_CALENDAR in self.wrote


@dataclass(frozen=True, slots=True)
class Backoff:
    """Google's truncated exponential backoff with jitter: min(2**n + random, cap) seconds."""

    cap: timedelta = timedelta(seconds=64)
    jitter: Callable[[], float] = random.random

    def delay(self, failures_before: int) -> timedelta:
        seconds = min(2.0 ** min(failures_before, 30) + self.jitter(), self.cap.total_seconds())
        return timedelta(seconds=seconds)


class _Outcome(StrEnum):
    WROTE = "wrote"
    NOTHING = "nothing"
    RETRY = "retry"
    PARKED = "parked"


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxDispatcher:
    """Claims due rows of the kinds that can run (with a lease), delivers, marks, retries, parks.

    A transient failure retries the row later with backoff and ends its kind's share of the
    batch (the next row of that kind would most likely fail the same way); other kinds go on. A
    permanent failure parks the row, runs the kind's `on_park`, logs an error and counts
    `outbox_parked`. No transaction is open while a handler runs.
    """

    readers: UnitOfWorkFactory
    writers: UnitOfWorkFactory
    handlers: Mapping[str, OutboxKindHandler]
    clock: Clock
    metrics: Metrics
    batch_size: int = 20
    lease: timedelta = timedelta(minutes=5)
    backoff: Backoff | None = None  # None: Backoff() with random jitter
    monotonic: Callable[[], float] = time.monotonic

    def execute(self) -> DispatchReport:
        with self.readers() as uow:
            backlog = uow.outbox.backlog()
            runnable = (
                [kind for kind, handler in self.handlers.items() if handler.can_run(uow)]
                if backlog
                else []
            )
        self.metrics.gauge("outbox_backlog", backlog)
        if not runnable:
            # Nothing due, or e.g. Google disconnected: those rows wait, spending no attempts.
            return DispatchReport()
        with self.writers() as uow:
            claimed = uow.outbox.claim_due(
                kinds=runnable, now=self.clock.now(), limit=self.batch_size, lease=self.lease
            )
            uow.commit()
        started = self.monotonic()
        done = retried = parked = 0
        wrote: set[str] = set()
        stopped: set[str] = set()
        untried: list[OutboxMessage] = []
        for index, message in enumerate(claimed):
            # Stop well inside the lease so no other worker takes a row we are still working on.
            if self.monotonic() - started > self.lease.total_seconds() / 2:
                untried.extend(claimed[index:])
                break
            handler = self.handlers[message.kind]
            if message.kind in stopped:
                if self._overdue(handler, message):
                    # Its kind has failed for longer than it may wait: give it up untried.
                    self._park(handler, message, f"undelivered after {handler.give_up_after}")
                    parked += 1
                else:
                    untried.append(message)
                continue
            outcome = self._deliver(handler, message)
            if outcome is _Outcome.RETRY:
                retried += 1
                stopped.add(message.kind)
            elif outcome is _Outcome.PARKED:
                parked += 1
            else:
                done += 1
                if outcome is _Outcome.WROTE:
                    wrote.add(message.kind)
        if untried:
            with self.writers() as uow:
                uow.outbox.release([m.message_id for m in untried], now=self.clock.now())
                uow.commit()
        for kind in sorted(wrote):
            try:
                self.handlers[kind].after_batch()
            except ApplicationError as exc:
                _log.info(
                    "outbox_after_batch_refused", extra={"kind": kind, "error": str(exc)[:200]}
                )
        return DispatchReport(
            claimed=len(claimed),
            done=done,
            retried=retried,
            parked=parked,
            released=len(untried),
            wrote=frozenset(wrote),
        )

    def _deliver(self, handler: OutboxKindHandler, message: OutboxMessage) -> _Outcome:
        if message.payload is None:
            self._park(handler, message, f"unreadable outbox row of type {message.topic}")
            return _Outcome.PARKED
        try:
            wrote = handler.handle(message)
        except ApplicationError as exc:
            if handler.classify(exc) is Failure.PERMANENT:
                self._park(handler, message, str(exc))
                return _Outcome.PARKED
            return self._retry(handler, message, exc)
        with self.writers() as uow:
            uow.outbox.mark_done(message.message_id, now=self.clock.now())
            uow.commit()
        return _Outcome.WROTE if wrote else _Outcome.NOTHING

    def _retry(
        self, handler: OutboxKindHandler, message: OutboxMessage, exc: ApplicationError
    ) -> _Outcome:
        now = self.clock.now()
        if self._overdue(handler, message):
            self._park(handler, message, f"still failing after {handler.give_up_after}: {exc}")
            return _Outcome.PARKED
        delay = (self.backoff or Backoff()).delay(message.attempts)
        if exc.retry_after is not None:
            # e.g. Google's quotaExceeded: the calendar is read-only for hours.
            delay = max(delay, exc.retry_after)
        at = now + delay
        with self.writers() as uow:
            uow.outbox.retry_later(message.message_id, at=at, error=str(exc), now=now)
            uow.commit()
        _log.warning(
            "outbox_retry_later",
            extra={
                "message_id": message.message_id,
                "kind": message.kind,
                "event": message.topic,
                "attempts": message.attempts + 1,
                "next_attempt_at": at.isoformat(),
                "error": str(exc)[:500],
            },
        )
        return _Outcome.RETRY

    def _overdue(self, handler: OutboxKindHandler, message: OutboxMessage) -> bool:
        """Failing for longer than its kind allows: since its first failure, or, before any, since
        it was due (a row that waited behind a failing one was undeliverable as long)."""
        limit, since = handler.give_up_after, message.first_failed_at or message.due_at
        return limit is not None and since is not None and self.clock.now() - since >= limit

    def _park(self, handler: OutboxKindHandler, message: OutboxMessage, error: str) -> None:
        now = self.clock.now()
        with self.writers() as uow:
            uow.outbox.park(message.message_id, error=error, now=now)
            handler.on_park(uow, message, now=now)
            uow.commit()
        self.metrics.increment("outbox_parked", {"event": message.topic})
        _log.error(
            "outbox_parked",
            extra={
                "message_id": message.message_id,
                "kind": message.kind,
                "event": message.topic,
                "appointment_id": None
                if message.appointment_id is None
                else str(message.appointment_id),
                "error": error[:500],
            },
        )
