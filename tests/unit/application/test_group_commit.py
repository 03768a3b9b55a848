"""GroupCommit: concurrent small writes share a transaction; each caller gets its own answer."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, cast

import pytest

from balance_booking.application.group_commit import GroupCommit
from balance_booking.application.ports import UnitOfWork, UnitOfWorkFactory


class Transactions:
    """Write transactions as a list of the items each one committed."""

    def __init__(self) -> None:
        self.committed: list[list[int]] = []
        self.fail_next = False

    def __call__(self) -> Transaction:
        return Transaction(self)


class Transaction:
    def __init__(self, log: Transactions) -> None:
        self._log = log
        self.items: list[int] = []

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:
        if self._log.fail_next:
            self._log.fail_next = False
            raise RuntimeError("the database said no")
        self._log.committed.append(self.items)


def group(log: Transactions, write: Any) -> GroupCommit[int, int]:
    return GroupCommit(writers=cast("UnitOfWorkFactory", log), write=write)


def test_one_caller_gets_its_result_after_its_own_commit() -> None:
    log = Transactions()

    def write(uow: UnitOfWork, item: int) -> int:
        cast("Transaction", uow).items.append(item)
        return item * 10

    writes = group(log, write)
    assert writes.submit(1) == 10
    assert writes.submit(2) == 20
    assert log.committed == [[1], [2]]


def test_callers_arriving_during_a_write_share_the_next_transaction() -> None:
    log = Transactions()
    first_writing = threading.Event()
    release_first = threading.Event()

    def write(uow: UnitOfWork, item: int) -> int:
        cast("Transaction", uow).items.append(item)
        if item == 0:
            first_writing.set()
            release_first.wait(10)
        return item * 10

    writes = group(log, write)
    answers: dict[int, int] = {}

    def submit(item: int) -> None:
        answers[item] = writes.submit(item)

    first = threading.Thread(target=submit, args=(0,))
    first.start()
    assert first_writing.wait(10)
    others = [threading.Thread(target=submit, args=(item,)) for item in range(1, 21)]
    for thread in others:
        thread.start()
    # Wait until all twenty have queued behind the first write, then let it finish.
    while len(writes._pending) < 20:  # observing the queue makes the test deterministic
        threading.Event().wait(0.001)
    release_first.set()
    for thread in [first, *others]:
        thread.join(10)
    assert answers == {item: item * 10 for item in range(21)}
    assert log.committed[0] == [0]
    assert sorted(log.committed[1]) == list(range(1, 21)), "the queued writes share one commit"
    assert len(log.committed) == 2


def test_a_failed_batch_fails_its_callers_and_the_next_batch_goes_on() -> None:
    log = Transactions()

    def write(uow: UnitOfWork, item: int) -> int:
        cast("Transaction", uow).items.append(item)
        return item

    writes = group(log, write)
    log.fail_next = True
    with pytest.raises(RuntimeError, match="said no"):
        writes.submit(1)
    assert writes.submit(2) == 2
    assert log.committed == [[2]]
