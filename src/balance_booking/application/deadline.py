"""A time budget for the calls to Google a visitor waits on (the live check at booking).

`within(seconds)` sets a deadline for the block on the current thread (a context variable, like
a Go context's deadline): the Google transport caps each request's timeouts, its retry pauses and
its rate-limit wait by what is left and gives up with DeadlineExceededError once nothing is;
GoogleTokens stops waiting for another process's token refresh at the deadline too. So a Google
that hangs costs the visitor `seconds`, not the transport's own 30-second retry deadline, and the
caller then applies its fallback rules (docs/booking.md, "The live check's time budget").

Nested blocks keep the earlier end: a booking that already waited for another attempt at the same
slot has less left for its own call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from balance_booking.application.errors import GoogleUnavailableError


class DeadlineExceededError(GoogleUnavailableError):
    """Google did not answer within the caller's time budget (treated like Google being down)."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """The moment (on `clock`, monotonic seconds) by which the calls inside the block end."""

    ends_at: float
    clock: Callable[[], float]

    def remaining(self) -> float:
        return max(0.0, self.ends_at - self.clock())


_current: ContextVar[Deadline | None] = ContextVar("balance_google_deadline", default=None)


@contextmanager
def within(seconds: float, *, clock: Callable[[], float] = time.monotonic) -> Iterator[Deadline]:
    """Calls to Google inside the block end within `seconds` from now (or the enclosing
    block's end, if that comes first)."""
    proposed = Deadline(ends_at=clock() + max(0.0, seconds), clock=clock)
    enclosing = _current.get()
    chosen = proposed
    if enclosing is not None and enclosing.remaining() <= proposed.remaining():
        chosen = enclosing
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def current() -> Deadline | None:
    """The deadline of the innermost `within` block on this thread, if any."""
    return _current.get()


def remaining() -> float | None:
    """Seconds left before the current deadline; None when no deadline is set."""
    deadline = _current.get()
    return None if deadline is None else deadline.remaining()


def check(what: str) -> None:
    """Raise DeadlineExceededError if the current deadline has passed."""
    left = remaining()
    if left is not None and left <= 0:
        raise DeadlineExceededError(f"Google did not answer in time ({what})")
