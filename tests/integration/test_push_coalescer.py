"""SyncCoalescer and push_address on their own: threads and timing, no database or Google."""

from __future__ import annotations

import threading
import time

import pytest

from balance_booking.application.errors import GoogleUnavailableError
from balance_booking.application.push import push_address
from balance_booking.application.sync_triggers import SyncCoalescer
from tests.support.push import wait_for

pytestmark = pytest.mark.reliability

PATH = "/api/integrations/google-calendar/webhook"


class RecordingSync:
    """A sync that takes `seconds` and records when each run started."""

    def __init__(self, seconds: float = 0.0, *, fail_with: Exception | None = None) -> None:
        self.seconds = seconds
        self.fail_with = fail_with
        self.starts: list[float] = []
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> None:
        self.starts.append(time.monotonic())
        self.release.wait(5)
        time.sleep(self.seconds)
        if self.fail_with is not None:
            raise self.fail_with


def coalescer(
    sync: RecordingSync,
    *,
    min_spacing_seconds: float = 0.05,
    quiet_seconds: float = 0.05,
    max_wait_seconds: float = 0.5,
) -> SyncCoalescer:
    return SyncCoalescer(
        sync,
        min_spacing_seconds=min_spacing_seconds,
        quiet_seconds=quiet_seconds,
        max_wait_seconds=max_wait_seconds,
    )


def test_the_first_request_syncs_at_once_without_blocking_the_caller() -> None:
    sync = RecordingSync(seconds=0.3)
    runner = coalescer(sync)
    asked = time.monotonic()
    assert runner.request() is True
    assert time.monotonic() - asked < 0.05
    assert wait_for(lambda: len(sync.starts) == 1, timeout=1)
    assert sync.starts[0] - asked < 0.1
    assert runner.wait_idle(2)
    assert len(sync.starts) == 1


def syncing() -> tuple[RecordingSync, SyncCoalescer]:
    """A coalescer whose first sync has started and is held until `sync.release` is set."""
    sync = RecordingSync()
    sync.release.clear()
    runner = coalescer(sync)
    runner.request()
    assert wait_for(lambda: len(sync.starts) == 1, timeout=1)
    return sync, runner


def test_requests_during_a_sync_fold_into_one_more_run() -> None:
    sync, runner = syncing()
    assert [runner.request() for _ in range(50)] == [False] * 50
    sync.release.set()
    assert runner.wait_idle(2)
    assert len(sync.starts) == 2


def test_a_burst_with_no_pause_costs_two_syncs() -> None:
    sync = RecordingSync()  # faster than the pushes arrive: the worker must not go idle between
    runner = coalescer(sync, quiet_seconds=0.1, max_wait_seconds=2.0)
    for _ in range(100):  # about 0.4 s of pushes, never 0.1 s apart
        runner.request()
        time.sleep(0.004)
    assert runner.wait_idle(3)
    assert len(sync.starts) == 2


def test_a_never_ending_stream_still_syncs_every_max_wait() -> None:
    sync = RecordingSync()
    runner = coalescer(sync, quiet_seconds=0.1, max_wait_seconds=0.2)
    started = time.monotonic()
    while time.monotonic() - started < 0.7:
        runner.request()
        time.sleep(0.01)
    assert runner.wait_idle(2)
    assert 3 <= len(sync.starts) <= 6
    gaps = [b - a for a, b in zip(sync.starts, sync.starts[1:], strict=False)]
    assert all(gap >= 0.05 for gap in gaps)


def test_separate_requests_keep_the_minimum_spacing() -> None:
    sync = RecordingSync()
    runner = coalescer(sync, min_spacing_seconds=0.3)
    runner.request()
    assert runner.wait_idle(1)
    runner.request()
    assert runner.wait_idle(2)
    assert len(sync.starts) == 2
    assert sync.starts[1] - sync.starts[0] >= 0.29


@pytest.mark.parametrize("failure", [GoogleUnavailableError("down"), RuntimeError("bug")])
def test_a_failing_sync_does_not_stop_later_ones(failure: Exception) -> None:
    sync = RecordingSync(fail_with=failure)
    runner = coalescer(sync)
    runner.request()
    assert runner.wait_idle(1)
    runner.request()
    assert runner.wait_idle(1)
    assert len(sync.starts) == 2


def test_close_drops_the_pending_run_and_refuses_new_ones() -> None:
    sync, runner = syncing()
    runner.request()
    closing = threading.Thread(target=runner.close)
    closing.start()
    sync.release.set()
    closing.join(2)
    assert runner.request() is False
    assert len(sync.starts) == 1


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://booking.example.com", "https://booking.example.com" + PATH),
        ("https://booking.example.com/", "https://booking.example.com" + PATH),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000" + PATH),
        ("http://localhost:8000", "http://localhost:8000" + PATH),
        ("http://[::1]:8000", "http://[::1]:8000" + PATH),
        ("http://booking.example.com", None),
        ("http://testserver", None),
        ("http://10.0.0.5:8000", None),
        ("ftp://127.0.0.1", None),
        ("", None),
    ],
)
def test_push_needs_https_or_loopback_http(base: str, expected: str | None) -> None:
    assert push_address(base, PATH) == expected
