"""CachedDataVersion: one database read per refresh, however many threads find the memo stale."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, update
from sqlalchemy.pool import StaticPool

from balance_booking.adapters.db import tables as t
from balance_booking.adapters.db.data_version import CachedDataVersion


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def engine_with_version(version: int) -> tuple[Engine, list[str]]:
    engine = create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    t.data_version.create(engine)
    with engine.begin() as connection:
        connection.execute(insert(t.data_version).values(id=1, version=version))
    reads: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    return engine, reads


def set_version(engine: Engine, version: int) -> None:
    with engine.begin() as connection:
        connection.execute(update(t.data_version).values(version=version))


def test_the_memo_answers_for_max_age_then_the_database_again() -> None:
    engine, reads = engine_with_version(3)
    clock = Clock()
    versions = CachedDataVersion(engine, max_age=1.0, monotonic=clock)
    assert versions.current() == 3
    set_version(engine, 4)  # another process
    clock.now += 0.5
    assert versions.current() == 3
    clock.now += 0.6
    assert versions.current() == 4
    assert len(reads) == 2


def test_this_process_commit_is_seen_at_once() -> None:
    engine, reads = engine_with_version(3)
    versions = CachedDataVersion(engine, max_age=60.0, monotonic=Clock())
    assert versions.current() == 3
    set_version(engine, 4)
    versions.invalidate()
    assert versions.current() == 4
    assert len(reads) == 2


def test_threads_finding_it_stale_together_share_one_read() -> None:
    engine, reads = engine_with_version(5)
    clock = Clock()
    versions = CachedDataVersion(engine, max_age=1.0, monotonic=clock)
    entered, release = threading.Event(), threading.Event()

    @event.listens_for(engine, "before_cursor_execute")
    def _slow(*_args: Any) -> None:
        entered.set()
        release.wait(5)  # the read is in flight while the others arrive

    answers: list[int] = []
    first = threading.Thread(target=lambda: answers.append(versions.current()))
    first.start()
    assert entered.wait(5)
    others = [threading.Thread(target=lambda: answers.append(versions.current())) for _ in range(8)]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(5)
    assert answers == [5] * 9
    assert len(reads) == 1


def test_a_commit_during_a_read_is_not_hidden_by_it() -> None:
    engine, reads = engine_with_version(7)
    versions = CachedDataVersion(engine, max_age=60.0, monotonic=Clock())
    done_once = threading.Event()

    @event.listens_for(engine, "after_cursor_execute")
    def _commit_meanwhile(*_args: Any) -> None:
        if not done_once.is_set():
            done_once.set()  # this process commits version 8 while 7 is on its way back
            set_version(engine, 8)
            versions.invalidate()

    assert versions.current() == 7
    assert versions.current() == 8
    assert len(reads) == 2
