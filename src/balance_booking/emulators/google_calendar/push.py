"""Push notifications for watch channels, delivered by one background thread with retries."""

from __future__ import annotations

import heapq
import itertools
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any

import httpx
import structlog

from balance_booking.emulators.google_calendar.config import EmulatorConfig
from balance_booking.emulators.google_calendar.models import Channel, State
from balance_booking.emulators.google_calendar.store import Store
from balance_booking.emulators.google_calendar.timefmt import from_epoch_ms, to_epoch_ms

_log = structlog.get_logger("gcal_emulator.push")

# Google treats these as delivered; 500/502/503/504 are retried, anything else is dropped.
_SUCCESS = frozenset({102, 200, 201, 202, 204})
_RETRYABLE = frozenset({500, 502, 503, 504})
USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"


@dataclass(slots=True)
class Delivery:
    channel_id: str
    resource_id: str
    resource_uri: str
    token: str | None
    expiration_ms: int
    address: str
    state: str  # "sync" | "exists"
    number: int
    attempt: int = 0

    def headers(self) -> dict[str, str]:
        headers = {
            "X-Goog-Channel-ID": self.channel_id,
            "X-Goog-Channel-Expiration": format_datetime(
                from_epoch_ms(self.expiration_ms), usegmt=True
            ),
            "X-Goog-Resource-ID": self.resource_id,
            "X-Goog-Resource-URI": self.resource_uri,
            "X-Goog-Resource-State": self.state,
            "X-Goog-Message-Number": str(self.number),
            "Content-Type": "application/json; charset=UTF-8",
            "User-Agent": USER_AGENT,
        }
        if self.token is not None:
            headers["X-Goog-Channel-Token"] = self.token
        return headers


def _delivery(channel: Channel, state: str, number: int) -> Delivery:
    return Delivery(
        channel_id=channel.id,
        resource_id=channel.resource_id,
        resource_uri=channel.resource_uri,
        token=channel.token,
        expiration_ms=channel.expiration_ms,
        address=channel.address,
        state=state,
        number=number,
    )


class PushNotifier:
    """Queues notifications (under the store lock) and posts them from a worker thread."""

    def __init__(self, *, store: Store, config: EmulatorConfig) -> None:
        self._store = store
        self._config = config
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Delivery]] = []
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._log: deque[dict[str, Any]] = deque(maxlen=500)

    # -- producers (called while the store lock is held, so numbering follows commit order) --

    def channel_created(self, channel: Channel) -> None:
        """Google sends `sync` (message number 1) right after the watch, possibly before it returns."""
        self._enqueue(_delivery(channel, "sync", 1), delay=0.0)

    def calendar_changed(self, state: State, calendar_id: str) -> None:
        now_ms = to_epoch_ms(self._store.clock.now())
        for channel in state.channels.values():
            if channel.calendar_id != calendar_id or channel.stopped:
                continue
            if channel.expiration_ms <= now_ms:
                continue
            # Message numbers grow but skip values, as Google's do; receivers must not expect +1.
            channel.last_message_number += 2 + secrets.randbelow(7)
            self._enqueue(_delivery(channel, "exists", channel.last_message_number), delay=0.0)

    # -- worker ------------------------------------------------------------------------------

    def _enqueue(self, delivery: Delivery, *, delay: float) -> None:
        with self._cond:
            if self._stopping:
                return
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._counter), delivery))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="gcal-emulator-push", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()
            self._log.clear()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)
        with self._cond:
            self._stopping = False
            self._thread = None

    def recent(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._log)

    def _next(self) -> Delivery | None:
        with self._cond:
            while not self._stopping:
                if self._queue:
                    due, _, delivery = self._queue[0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        heapq.heappop(self._queue)
                        return delivery
                    self._cond.wait(timeout=wait)
                else:
                    self._cond.wait()
            return None

    def _run(self) -> None:
        with httpx.Client(timeout=self._config.push_timeout_seconds) as client:
            while (delivery := self._next()) is not None:
                self._attempt(client, delivery)

    def _channel_live(self, delivery: Delivery) -> bool:
        with self._store.read() as state:
            channel = state.channels.get(delivery.channel_id)
            now_ms = to_epoch_ms(self._store.clock.now())
            return (
                channel is not None
                and not channel.stopped
                and channel.resource_id == delivery.resource_id
                and channel.expiration_ms > now_ms
            )

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> None:
        if not self._channel_live(delivery):
            self._record(delivery, outcome="dropped: channel stopped or expired")
            return
        try:
            response = client.post(delivery.address, headers=delivery.headers(), content=b"")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            self._record(delivery, outcome=f"error: {type(exc).__name__}")
            self._retry(delivery)
            return
        self._record(delivery, outcome=str(response.status_code))
        if response.status_code in _RETRYABLE:
            self._retry(delivery)
        elif response.status_code not in _SUCCESS:
            _log.info("push_refused", channel_id=delivery.channel_id, status=response.status_code)

    def _retry(self, delivery: Delivery) -> None:
        delays = self._config.push_retry_delays_seconds
        if delivery.attempt >= len(delays):
            _log.warning("push_gave_up", channel_id=delivery.channel_id, number=delivery.number)
            return
        delay = delays[delivery.attempt]
        delivery.attempt += 1
        self._enqueue(delivery, delay=delay)

    def _record(self, delivery: Delivery, *, outcome: str) -> None:
        with self._cond:
            self._log.append(
                {
                    "channel_id": delivery.channel_id,
                    "state": delivery.state,
                    "number": delivery.number,
                    "attempt": delivery.attempt,
                    "address": delivery.address,
                    "outcome": outcome,
                }
            )
