"""What the fake unit of work does NOT mimic, stated as tests rather than left unsaid.

- Concurrency: SQL serialises writers (SQLite: BEGIN IMMEDIATE) or locks rows (PostgreSQL:
  FOR UPDATE, SKIP LOCKED, the exclusion constraint across transactions). The fake has one
  committed copy; two writers open at once cannot both commit: the later one raises
  LostUpdateError instead of silently erasing the first one's work. Races are tested on the real
  databases (tests/integration/test_booking_concurrency.py, test_job_lock.py, the e2e scale-out).
- The SQLite overlap guard: none in storage (test_appointments.py says so on SQLite).
- Integrity errors other than the overlap guard (duplicate keys, foreign keys): the use cases
  check before they write; the fake does not enforce them.
"""

from __future__ import annotations

import pytest

from tests.contract.data import service
from tests.fakes.uow import FakeDatabase, LostUpdateError


def test_the_fake_refuses_a_commit_that_would_erase_another() -> None:
    database = FakeDatabase()
    with database() as first, database() as second:
        first.services.add(service("first"))
        second.services.add(service("second"))
        first.commit()
        with pytest.raises(LostUpdateError):
            second.commit()
    with database() as uow:
        assert [s.slug for s in uow.services.list(active_only=False)] == ["first"]


def test_a_reader_open_across_another_commit_is_harmless() -> None:
    database = FakeDatabase()
    with database() as reader:
        with database() as writer:
            writer.services.add(service())
            writer.commit()
        assert reader.services.get("session") is None, "a snapshot taken at the start"
        reader.commit()  # nothing written: nothing to lose
    assert database.commits == 1
