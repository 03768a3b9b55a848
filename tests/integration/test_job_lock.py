"""Job locks: one holder per job name across processes (PostgreSQL advisory lock)."""

from __future__ import annotations

from pathlib import Path

import pytest

from balance_booking.adapters.db.engine import build_engine
from balance_booking.adapters.db.locks import DatabaseJobLock

pytestmark = pytest.mark.reliability


def assert_one_holder(first: DatabaseJobLock, second: DatabaseJobLock) -> None:
    """While `first` holds a job's lock, `second` cannot take it (but can take another job's);
    once released, `second` can."""
    with first.hold("sync_busy_times") as held:
        assert held is True
        with second.hold("sync_busy_times") as also:
            assert also is False
        with second.hold("another_job") as other:
            assert other is True
    with second.hold("sync_busy_times") as after_release:
        assert after_release is True


@pytest.mark.postgres
def test_postgres_advisory_lock_has_one_holder_across_engines(postgres_url: str) -> None:
    first_engine, second_engine = build_engine(postgres_url), build_engine(postgres_url)
    try:
        assert_one_holder(DatabaseJobLock(first_engine), DatabaseJobLock(second_engine))
    finally:
        first_engine.dispose()
        second_engine.dispose()


def test_sqlite_lock_is_process_wide(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path}/lock.db")
    lock = DatabaseJobLock(engine)
    try:
        assert_one_holder(lock, lock)
    finally:
        engine.dispose()
