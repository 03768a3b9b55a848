"""Group commit: small writes of concurrent requests share one write transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from balance_booking.application.ports import UnitOfWork, UnitOfWorkFactory

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(slots=True)
class _Ticket(Generic[Item, Result]):
    item: Item
    result: Result | None = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit(Generic[Item, Result]):
    """Run `write(uow, item)` for each submitted item; items submitted while a batch is being
    written go into the next batch, one transaction each.

    Every caller returns only once its own write is committed (or raises its batch's error), so
    nothing changes for it but the wait: when fifty visitors arrive at once they cost a few
    transactions instead of fifty queued for the write lock (SQLite) or for fifty commits
    (PostgreSQL). No thread is started; the caller that finds no batch being written writes.
    """

    def __init__(
        self, *, writers: UnitOfWorkFactory, write: Callable[[UnitOfWork, Item], Result]
    ) -> None:
        self._writers = writers
        self._write = write
        self._changed = threading.Condition()
        self._pending: list[_Ticket[Item, Result]] = []
        self._writing = False

    def submit(self, item: Item) -> Result:
        ticket: _Ticket[Item, Result] = _Ticket(item)
        with self._changed:
            self._pending.append(ticket)
            while not ticket.done:
                if self._writing:
                    self._changed.wait()
                else:
                    self._write_pending()
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value] # set with done, unless error

    def _write_pending(self) -> None:
        """Write the queued batch (called holding the condition, which is released meanwhile)."""
        batch, self._pending = self._pending, []
        self._writing = True
        self._changed.release()
        try:
            try:
                with self._writers() as uow:
                    results = [self._write(uow, ticket.item) for ticket in batch]
                    uow.commit()
            except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
                for ticket in batch:
                    ticket.error = exc
            else:
                for ticket, result in zip(batch, results, strict=True):
                    ticket.result = result
        finally:
            self._changed.acquire()
            for ticket in batch:
                ticket.done = True
            self._writing = False
            self._changed.notify_all()
