"""Job locks: PostgreSQL advisory locks across processes; a process-local lock on SQLite."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text


def _lock_key(name: str) -> int:
    # pg advisory locks take a signed 64-bit key; derive a stable one from the job name.
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class DatabaseJobLock:
    """One holder per job name: cluster-wide on PostgreSQL, process-wide on SQLite.

    The embedded default is one process by construction (SQLite), so a threading lock suffices
    there; on PostgreSQL a session-level advisory lock is held on a dedicated connection for the
    duration of the job and released even if the job fails.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, name: str) -> Iterator[bool]:
        if self._engine.dialect.name != "postgresql":
            with self._guard:
                lock = self._local.setdefault(name, threading.Lock())
            acquired = lock.acquire(blocking=False)
            try:
                yield acquired
            finally:
                if acquired:
                    lock.release()
            return
        key = _lock_key(name)
        with self._engine.connect() as connection:
            acquired = bool(
                connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
            )
            connection.commit()
            try:
                yield acquired
            finally:
                if acquired:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()
