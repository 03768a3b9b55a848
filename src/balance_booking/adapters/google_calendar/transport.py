"""HTTP to Google with the protocol's error rules: auth refresh, bounded backoff, rate limit.

Inside `application.deadline.within(seconds)` (the live check at booking) every step honours the
caller's deadline as well: each request's timeouts are capped by what is left, a retry pause or a
rate-limit wait that would end past it is not started, and DeadlineExceededError (a
GoogleUnavailableError) ends the call.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from balance_booking.application import deadline
from balance_booking.application.deadline import DeadlineExceededError
from balance_booking.application.errors import (
    GoogleQuotaExceededError,
    GoogleRequestError,
    GoogleUnavailableError,
)
from balance_booking.application.ports import AccessTokenSource

_log = structlog.get_logger(__name__)

_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class TransientGoogleError(Exception):
    """A failure worth retrying (429, rate-limit 403, 5xx, timeouts, connection errors)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Google's truncated exponential backoff with jitter, bounded in count and total time."""

    attempts: int = 5
    max_backoff_seconds: float = 32.0
    deadline_seconds: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random


@dataclass
class RateLimiter:
    """Keeps outbound calls under `per_second` on average, with bursts of up to `burst` calls.

    A token bucket: Google's quotas are per minute (per user and per project, section 5.4 of
    the protocol notes), so a few calls close together are fine as long as the rate over time
    stays low; 8/s with a burst of 8 is at most 488 calls in any minute. Spacing every call
    125 ms apart instead made a visitor's live check wait behind an unrelated call made a
    moment before (docs/benchmarks.md).
    """

    per_second: float = 8.0
    burst: float = 8.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _tokens: float | None = field(default=None, init=False)  # None: full (nothing spent yet)
    _updated: float = field(default=0.0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def acquire(self, *, max_wait: float | None = None) -> None:
        """Take a turn, waiting for it if the bucket is empty; with `max_wait`, give up (without
        taking a turn) when that turn is further away."""
        with self._lock:
            now = self.clock()
            tokens = self.burst if self._tokens is None else self._tokens
            tokens = min(self.burst, tokens + (now - self._updated) * self.per_second)
            # Below one token, the turn comes when the bucket has refilled to one; a negative
            # count is the turns already promised to callers still waiting.
            wait = max(0.0, (1.0 - tokens) / self.per_second)
            if max_wait is not None and wait > max_wait:
                raise DeadlineExceededError("Google did not answer in time (outbound rate limit)")
            self._tokens, self._updated = tokens - 1.0, now
        if wait > 0:
            self.sleep(wait)


def error_reason(response: httpx.Response) -> str | None:
    """The first `errors[].reason` of a Calendar error body, else `status`, else the OAuth `error`."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, str):
        return error  # OAuth token endpoint: {"error": "invalid_grant", ...}
    if not isinstance(error, dict):
        return None
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = errors[0].get("reason")
        if isinstance(reason, str):
            return reason
    status = error.get("status")
    return status if isinstance(status, str) else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def is_transient(response: httpx.Response) -> bool:
    if response.status_code == 429 or response.status_code >= 500:
        return True
    return response.status_code == 403 and error_reason(response) in _RATE_LIMIT_REASONS


class GoogleTransport:
    """Sends one logical request to Google; retries what the protocol says is transient."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._client = client
        self._policy = policy or RetryPolicy()
        self._limiter = limiter or RateLimiter()

    def send(
        self,
        method: str,
        url: str,
        *,
        tokens: AccessTokenSource | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Return the final response (2xx or a permanent 4xx); raise GoogleUnavailableError."""
        policy = self._policy
        started = time.monotonic()
        deadline.check(method)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            backoff = min(
                2.0 ** (state.attempt_number - 1) + policy.jitter(), policy.max_backoff_seconds
            )
            if isinstance(error, TransientGoogleError) and error.retry_after is not None:
                backoff = max(backoff, error.retry_after)
            remaining = policy.deadline_seconds - (time.monotonic() - started)
            if backoff > remaining:
                raise GoogleUnavailableError(f"Google kept failing: {error}") from error
            budget = deadline.remaining()
            if budget is not None and backoff >= budget:
                raise DeadlineExceededError(
                    f"Google did not answer in time (last: {error})"
                ) from error
            return backoff

        retrying = Retrying(
            retry=retry_if_exception_type(TransientGoogleError),
            stop=stop_after_attempt(policy.attempts),
            wait=wait,
            sleep=policy.sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._send_once(
                        method,
                        url,
                        tokens=tokens,
                        params=params,
                        json=json,
                        data=data,
                        headers=headers,
                    )
        except TransientGoogleError as exc:
            raise GoogleUnavailableError(f"Google kept failing: {exc}") from exc
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        tokens: AccessTokenSource | None,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        access = tokens.current() if tokens is not None else None
        response = self._exchange(
            method, url, access, params=params, json=json, data=data, headers=headers
        )
        if response.status_code == 401 and tokens is not None and access is not None:
            # The protocol's rule: refresh once and retry once; a second 401 is final.
            access = tokens.refreshed(access)
            response = self._exchange(
                method, url, access, params=params, json=json, data=data, headers=headers
            )
        if is_transient(response):
            _log.warning(
                "google_transient_error",
                method=method,
                url=url.split("?", maxsplit=1)[0],
                status=response.status_code,
                reason=error_reason(response),
            )
            raise TransientGoogleError(
                f"{response.status_code} {error_reason(response) or ''}".strip(),
                retry_after=_retry_after(response),
            )
        return response

    def _exchange(
        self,
        method: str,
        url: str,
        access: str | None,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        merged = dict(headers or {})
        if access is not None:
            merged["Authorization"] = f"Bearer {access}"
        self._limiter.acquire(max_wait=deadline.remaining())
        deadline.check(method)
        budget = deadline.remaining()
        timeout = self._client.timeout if budget is None else capped(self._client.timeout, budget)
        try:
            return self._client.request(
                method, url, params=params, json=json, data=data, headers=merged, timeout=timeout
            )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            if budget is not None and deadline.remaining() == 0:
                raise DeadlineExceededError(
                    f"Google did not answer in time ({type(exc).__name__})"
                ) from exc
            raise TransientGoogleError(f"{type(exc).__name__}") from exc


def capped(timeout: httpx.Timeout, budget: float) -> httpx.Timeout:
    """`timeout` with each phase (connect, read, write, pool) at most `budget` seconds.

    httpx's timeouts bound each phase, not the whole exchange: an answer that trickles in byte by
    byte could outlast the budget, which Google's servers do not do (a hang is one long wait)."""

    def cap(value: float | None) -> float:
        return budget if value is None else min(value, budget)

    return httpx.Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )


def raise_for_google_error(response: httpx.Response, *, what: str) -> None:
    """Turn a permanent 4xx into GoogleRequestError (status and reason kept for the caller).

    403 `quotaExceeded` is the exception: Google's usage limits make the calendar read-only for
    hours, so it is transient (GoogleQuotaExceededError), but far too long to retry in-call.
    """
    if response.is_success:
        return
    reason = error_reason(response)
    if response.status_code == 403 and reason == "quotaExceeded":
        raise GoogleQuotaExceededError(f"{what}: Google answered 403 quotaExceeded")
    raise GoogleRequestError(
        f"{what}: Google answered {response.status_code} {reason or ''}".strip(),
        status=response.status_code,
        reason=reason,
    )
