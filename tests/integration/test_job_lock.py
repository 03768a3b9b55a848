"""Job locks: one holder per job name across processes (PostgreSQL advisory lock)."""

from __future__ import annotations

import pytest

from balance_booking.adapters.db.engine import build_engine
from balance_booking.adapters.db.locks import DatabaseJobLock

pytestmark = pytest.mark.reliability


@pytest.mark.postgres
def test_postgres_advisory_lock_has_one_holder_across_engines(postgres_url: str) -> None:
    first_engine, second_engine = build_engine(postgres_url), build_engine(postgres_url)
    first, second = DatabaseJobLock(first_engine), DatabaseJobLock(second_engine)
    try:
        with first.hold("sync_busy_times") as held:
            assert held is True
            with second.hold("sync_busy_times") as also:
                assert also is False
            with second.hold("another_job") as other:
                assert other is True
        with second.hold("sync_busy_times") as after_release:
            assert after_release is True
    finally:
        first_engine.dispose()
        second_engine.dispose()


def test_sqlite_lock_is_process_wide(tmp_path: object) -> None:
    engine = build_engine(f"sqlite:///{tmp_path}/lock.db")
    lock = DatabaseJobLock(engine)
    try:
        with lock.hold("sync") as held:
            assert held is True
            with lock.hold("sync") as again:
                assert again is False
        with lock.hold("sync") as after:
            assert after is True
    finally:
        engine.dispose()
