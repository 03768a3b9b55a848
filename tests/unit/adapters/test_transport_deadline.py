"""The Google transport keeps the caller's time budget (application/deadline.py): capped request
timeouts, no retry pause or rate-limit wait past the deadline, no call once it has passed."""

from __future__ import annotations

import httpx
import pytest

from balance_booking.adapters.google_calendar.transport import (
    GoogleTransport,
    RateLimiter,
    RetryPolicy,
    capped,
)
from balance_booking.application.deadline import DeadlineExceededError, within
from balance_booking.application.errors import GoogleUnavailableError
from tests.fakes.clock import FakeStopwatch

URL = "https://www.googleapis.com/calendar/v3/freeBusy"
CLIENT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class Recorder:
    """An httpx handler that records each request's timeouts and answers what it is told."""

    def __init__(self, answer: httpx.Response | Exception) -> None:
        self.answer = answer
        self.timeouts: list[dict[str, float]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.timeouts.append(dict(request.extensions["timeout"]))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def transport(
    recorder: Recorder, *, sleeps: list[float] | None = None, attempts: int = 5
) -> GoogleTransport:
    client = httpx.Client(transport=httpx.MockTransport(recorder), timeout=CLIENT_TIMEOUT)
    policy = RetryPolicy(
        attempts=attempts,
        sleep=(sleeps if sleeps is not None else []).append,
        jitter=lambda: 0.0,
    )
    return GoogleTransport(client, policy=policy, limiter=RateLimiter(per_second=1000.0))


def test_without_a_budget_the_client_timeouts_apply() -> None:
    recorder = Recorder(httpx.Response(200, json={}))
    transport(recorder).send("POST", URL, json={})
    assert recorder.timeouts == [{"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 10.0}]


def test_inside_a_budget_every_timeout_is_capped_by_what_is_left() -> None:
    recorder = Recorder(httpx.Response(200, json={}))
    with within(2.0):
        transport(recorder).send("POST", URL, json={})
    (timeouts,) = recorder.timeouts
    assert all(0 < value <= 2.0 for value in timeouts.values()), timeouts


def test_a_hanging_google_is_not_retried_past_the_budget() -> None:
    """A read timeout at the budget's end: the next attempt's pause would end past it."""
    recorder = Recorder(httpx.ReadTimeout("hung"))
    sleeps: list[float] = []
    with within(0.5), pytest.raises(DeadlineExceededError):
        transport(recorder, sleeps=sleeps).send("POST", URL, json={})
    assert len(recorder.timeouts) == 1
    assert sleeps == []


def test_without_a_budget_a_hang_is_retried_as_before() -> None:
    recorder = Recorder(httpx.ReadTimeout("hung"))
    sleeps: list[float] = []
    with pytest.raises(GoogleUnavailableError) as failed:
        transport(recorder, sleeps=sleeps, attempts=3).send("POST", URL, json={})
    assert not isinstance(failed.value, DeadlineExceededError)
    assert len(recorder.timeouts) == 3
    assert sleeps == [1.0, 2.0]


def test_retries_that_fit_the_budget_still_happen() -> None:
    answers = iter([httpx.Response(503, json={}), httpx.Response(200, json={"ok": True})])
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return next(answers)

    client = httpx.Client(transport=httpx.MockTransport(handler), timeout=CLIENT_TIMEOUT)
    policy = RetryPolicy(sleep=lambda _s: None, jitter=lambda: 0.0)
    with within(3.0):
        response = GoogleTransport(client, policy=policy).send("POST", URL, json={})
    assert response.json() == {"ok": True}
    assert len(calls) == 2


def test_nothing_is_sent_once_the_budget_has_run_out() -> None:
    recorder = Recorder(httpx.Response(200, json={}))
    stopwatch = FakeStopwatch()
    with within(1.0, clock=stopwatch):
        stopwatch.advance(1.0)
        with pytest.raises(DeadlineExceededError):
            transport(recorder).send("POST", URL, json={})
    assert recorder.timeouts == []


def test_the_rate_limit_wait_never_runs_past_the_budget() -> None:
    stopwatch = FakeStopwatch()
    slept: list[float] = []
    limiter = RateLimiter(per_second=0.5, burst=1, clock=stopwatch, sleep=slept.append)  # 2 s
    limiter.acquire()
    with pytest.raises(DeadlineExceededError):
        limiter.acquire(max_wait=1.0)
    assert slept == []
    limiter.acquire(max_wait=2.0)  # the refused call took no turn: the next one waits 2 s
    assert slept == [2.0]


def test_a_burst_goes_at_once_and_the_rate_holds_after_it() -> None:
    stopwatch = FakeStopwatch()
    slept: list[float] = []
    limiter = RateLimiter(per_second=8, burst=8, clock=stopwatch, sleep=slept.append)
    for _ in range(8):
        limiter.acquire()
    assert slept == []  # a burst of eight: no wait
    limiter.acquire()
    limiter.acquire()
    assert slept == pytest.approx([1 / 8, 2 / 8])  # then one turn per 125 ms
    stopwatch.advance(10.0)  # quiet: the bucket refills, but only to eight
    slept.clear()
    for _ in range(9):
        limiter.acquire()
    assert slept == pytest.approx([1 / 8])


def test_calls_over_a_minute_stay_under_the_rate_plus_one_burst() -> None:
    stopwatch = FakeStopwatch()
    limiter = RateLimiter(per_second=8, burst=8, clock=stopwatch, sleep=stopwatch.advance)
    calls, start = 0, stopwatch()
    while stopwatch() - start < 60.0:
        limiter.acquire()
        calls += 1
    assert calls <= 8 * 60 + 8


def test_capped_keeps_shorter_timeouts() -> None:
    assert capped(httpx.Timeout(10.0, connect=1.0), 3.0) == httpx.Timeout(3.0, connect=1.0)
    assert capped(httpx.Timeout(None), 2.0) == httpx.Timeout(2.0)
