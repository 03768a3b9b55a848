"""A fixed pool of threads, started with the app, for the booking endpoint's bursts."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
R = TypeVar("R")

# As many as Starlette's thread pool allows by default (anyio's 40 tokens).
DEFAULT_SIZE = 40


class RequestThreads:
    """Where the booking endpoint runs its blocking work.

    FastAPI runs a plain endpoint in anyio's thread pool, which starts a thread when none is
    idle and stops threads idle for ten seconds. Starting a thread waits for the new thread to
    take the GIL, and while other threads run that wait is tens of milliseconds, spent on the
    event loop: fifty visitors arriving after a quiet spell waited for forty such starts before
    the last of them was even read (docs/benchmarks.md). These threads start with the app,
    before anything competes for the GIL, and stay. Context variables (the request id of the
    logs, the live check's deadline) go along with each call, as anyio's do.

    Only for the booking: its calls block (a visitor who lost the race waits for the winner's
    claim), so a burst needs many threads at once. A slots request does not block, so anyio's
    pool rarely starts a thread for it, and anyio hands work to the thread that was idle last
    (warm caches) while this pool's shared queue wakes the threads in turn: the slots miss was
    0.15 ms slower here (docs/benchmarks.md).

    The pool exists between the app's start and stop (its lifespan); an app used without
    them (a test's client outside `with`) runs the calls in anyio's pool as before.
    """

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Start every thread now: each holds a barrier until all of them exist."""
        executor = ThreadPoolExecutor(max_workers=self._size, thread_name_prefix="request")
        barrier = threading.Barrier(self._size)
        for wait in [executor.submit(barrier.wait, 10) for _ in range(self._size)]:
            wait.result()
        self._executor = executor

    async def run(self, function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        executor = self._executor
        if executor is None:
            return await run_in_threadpool(function, *args, **kwargs)
        call = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
