"""Thread-safe home of the emulator state, with optional atomic persistence to a JSON file."""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from balance_booking.emulators.google_calendar.clock import EmulatorClock
from balance_booking.emulators.google_calendar.config import EmulatorConfig
from balance_booking.emulators.google_calendar.models import (
    Calendar,
    EmulatorSettings,
    State,
    User,
)

_BASE32HEX = "0123456789abcdefghijklmnopqrstuv"


def random_base32hex(length: int) -> str:
    """Server-generated ids use the same alphabet Google allows for client ids."""
    return "".join(secrets.choice(_BASE32HEX) for _ in range(length))


def random_token(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def subject_for(email: str) -> str:
    """A stable 21-digit `sub`, shaped like Google's numeric account ids."""
    digest = hashlib.sha256(email.lower().encode()).hexdigest()
    return "1" + str(int(digest[:20], 16)).zfill(20)[:20]


def add_user(state: State, *, email: str, timezone: str, name: str | None = None) -> User:
    """Create a user and their primary calendar (id = email, as at Google); idempotent."""
    existing = state.users.get(email)
    if existing is not None:
        return existing
    user = User(
        email=email,
        name=name or email.split("@", maxsplit=1)[0],
        sub=subject_for(email),
        timezone=timezone,
    )
    state.users[email] = user
    state.calendars[email] = Calendar(
        id=email, owner_email=email, summary=email, timezone=timezone, primary=True
    )
    state.events.setdefault(email, {})
    return user


class Store:
    """All reads and writes of the state go through `read()`/`write()`, which hold one lock."""

    def __init__(self, *, config: EmulatorConfig, clock: EmulatorClock) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.RLock()
        self._file_lock = threading.Lock()
        self._state = self._load() or self._fresh_state()

    @property
    def clock(self) -> EmulatorClock:
        return self._clock

    def default_settings(self) -> EmulatorSettings:
        return EmulatorSettings.model_validate(
            {
                "refresh_token_lifetime_seconds": self._config.refresh_token_lifetime_seconds,
                "deleted_event_writes": self._config.deleted_event_writes,
                "freebusy_max_days": self._config.freebusy_max_range_days,
            }
        )

    def _fresh_state(self) -> State:
        state = State(settings=self.default_settings())
        add_user(
            state, email=self._config.default_user_email, timezone=self._config.default_timezone
        )
        return state

    def _load(self) -> State | None:
        path = self._config.state_path
        if path is None or not path.exists():
            return None
        state = State.model_validate_json(path.read_text(encoding="utf-8"))
        # The clock offset is part of the demo's history: tokens were issued on that timeline.
        self._clock.reset()
        if state.clock_offset_seconds > 0:
            self._clock.advance(state.clock_offset_seconds)
        add_user(
            state, email=self._config.default_user_email, timezone=self._config.default_timezone
        )
        return state

    @contextmanager
    def read(self) -> Iterator[State]:
        with self._lock:
            yield self._state

    @contextmanager
    def write(self) -> Iterator[State]:
        """Mutate under the lock; the file is rewritten only if the block finishes cleanly."""
        with self._lock:
            yield self._state
            self._persist()

    def reset(self) -> None:
        with self._lock:
            self._clock.reset()
            self._state = self._fresh_state()
            self._persist()

    def next_seq(self, state: State) -> int:
        state.change_seq += 1
        return state.change_seq

    def _persist(self) -> None:
        path = self._config.state_path
        if path is None:
            return
        self._state.clock_offset_seconds = self._clock.offset_seconds
        payload = self._state.model_dump_json(indent=1)
        with self._file_lock:
            _atomic_write(path, payload)


def _atomic_write(path: Path, payload: str) -> None:
    """Write beside the target and rename, so a crash never leaves a half-written state file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
