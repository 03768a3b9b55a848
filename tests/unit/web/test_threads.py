"""RequestThreads: started with the app, kept, carrying the caller's context variables."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from balance_booking.web.threads import RequestThreads

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
T = TypeVar("T")


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run in a thread of its own: a test before this one in the same process (the
    browser tests' Playwright) may have an event loop running in the main thread."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-loop") as loop_thread:
        return loop_thread.submit(lambda: asyncio.run(main())).result()


def where() -> tuple[str, str]:
    return threading.current_thread().name, request_id.get()


def request_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("request")}


def test_every_thread_exists_once_started_and_stays_until_closed() -> None:
    before = request_threads()
    threads = RequestThreads(size=6)
    threads.start()
    try:
        started = request_threads() - before
        assert len(started) == 6

        async def burst() -> list[tuple[str, str]]:
            return await asyncio.gather(*(threads.run(where) for _ in range(30)))

        ran_in = {name for name, _ in run(burst)}
        assert ran_in <= started  # no thread was started for the burst
        assert request_threads() - before == started
    finally:
        threads.close()
    assert request_threads() - before == set()


def test_a_call_sees_the_callers_context_variables_and_its_errors_come_back() -> None:
    threads = RequestThreads(size=2)
    threads.start()

    async def call() -> tuple[str, str]:
        request_id.set("req-42")
        return await threads.run(where)

    async def failing() -> None:
        await threads.run(int, "not a number")

    try:
        name, seen = run(call)
        assert name.startswith("request")
        assert seen == "req-42"
        with pytest.raises(ValueError, match="not a number"):
            run(failing)
    finally:
        threads.close()


def test_before_start_the_calls_run_in_anyios_pool() -> None:
    threads = RequestThreads(size=2)

    async def call() -> tuple[str, str]:
        request_id.set("req-7")
        return await threads.run(where)

    name, seen = run(call)
    assert not name.startswith("request")
    assert seen == "req-7"
