"""The worker loop: runs due jobs under their lock, survives failures, stops when asked."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest

from balance_booking.worker.loop import Job, WorkerLoop
from tests.fakes.system import FakeJobLock

pytestmark = pytest.mark.reliability


def test_runs_each_job_at_start_and_again_after_its_interval() -> None:
    stop = threading.Event()
    runs: list[str] = []

    def fast() -> None:
        runs.append("fast")
        if runs.count("fast") == 3:
            stop.set()

    loop = WorkerLoop(
        [
            Job(name="fast", every=timedelta(milliseconds=10), run=fast),
            Job(name="slow", every=timedelta(hours=1), run=lambda: runs.append("slow")),
        ],
        lock=FakeJobLock(),
    )
    loop.run(stop)
    assert runs.count("fast") == 3
    assert runs.count("slow") == 1


def test_a_failing_job_does_not_stop_the_loop() -> None:
    stop = threading.Event()
    attempts: list[int] = []

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) == 2:
            stop.set()
        raise RuntimeError("boom")

    WorkerLoop(
        [Job(name="flaky", every=timedelta(milliseconds=5), run=flaky)], lock=FakeJobLock()
    ).run(stop)
    assert len(attempts) == 2


def test_a_job_held_elsewhere_is_skipped() -> None:
    ran: list[int] = []
    lock = FakeJobLock()
    lock.held_elsewhere.add("sync")
    job = Job(name="sync", every=timedelta(minutes=15), run=lambda: ran.append(1))
    assert WorkerLoop([job], lock=lock).run_once(job) is False
    assert ran == []
    assert lock.asked == ["sync"]


def test_jitter_stays_within_ten_percent() -> None:
    loop = WorkerLoop([], lock=FakeJobLock(), rng=random.Random(7))
    job = Job(name="sync", every=timedelta(seconds=900), run=lambda: None, jitter=0.1)
    intervals = [loop._interval(job) for _ in range(500)]
    assert min(intervals) >= 810
    assert max(intervals) <= 990
    assert max(intervals) - min(intervals) > 100, "jitter actually varies"
