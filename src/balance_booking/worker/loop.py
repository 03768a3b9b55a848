"""The worker loop: runs the scheduled jobs (see jobs.py) until asked to stop."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from balance_booking.application.ports import JobLock

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """A periodic job: `run` every `every` (± `jitter` of it), one holder of `name` at a time
    unless `exclusive` is False (a job that shares its work out safely by itself)."""

    name: str
    every: timedelta
    run: Callable[[], object]
    jitter: float = 0.0
    run_at_start: bool = True
    exclusive: bool = True


class WorkerLoop:
    """Sleeps until the next job is due, runs it under its cluster-wide lock, repeats."""

    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        lock: JobLock,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._jobs = list(jobs)
        self._lock = lock
        self._monotonic = monotonic
        self._rng = rng or random.Random()  # noqa: S311 - scheduling jitter, not security

    def _interval(self, job: Job) -> float:
        base = job.every.total_seconds()
        return base * (1 + self._rng.uniform(-job.jitter, job.jitter))

    def run(self, stop: threading.Event) -> None:
        now = self._monotonic()
        due = {
            job.name: now if job.run_at_start else now + self._interval(job) for job in self._jobs
        }
        _log.info("worker_started", extra={"jobs": [job.name for job in self._jobs]})
        while not stop.is_set() and self._jobs:
            job = min(self._jobs, key=lambda candidate: due[candidate.name])
            delay = due[job.name] - self._monotonic()
            if delay > 0 and stop.wait(delay):
                break
            self.run_once(job)
            due[job.name] = self._monotonic() + self._interval(job)
        _log.info("worker_stopped")

    def run_once(self, job: Job) -> bool:
        """Run `job` if its lock is free; False when another process holds it."""
        if not job.exclusive:
            self._run_isolated(job)
            return True
        with self._lock.hold(job.name) as acquired:
            if not acquired:
                return False
            self._run_isolated(job)
        return True

    def _run_isolated(self, job: Job) -> None:
        try:
            job.run()
        except Exception:  # noqa: BLE001 - isolation point of the loop, logged with traceback
            # One failing run must not kill the loop; the job records its own failure.
            _log.exception("job_failed", extra={"job": job.name})


def start_in_thread(loop: WorkerLoop) -> tuple[threading.Thread, threading.Event]:
    """The embedded default: the worker as a daemon thread of the web process."""
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,), name="balance-worker", daemon=True)
    thread.start()
    return thread, stop
