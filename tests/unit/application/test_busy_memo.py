"""BusyMemo: the slots miss path's busy mirror per data version gives what the database gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from hypothesis import given
from hypothesis import strategies as st

from balance_booking.application.availability import BusyMemo
from balance_booking.application.ports import UnitOfWork
from balance_booking.domain.intervals import Interval

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


class Mirror:
    """The busy repository of a unit of work, counting its reads."""

    def __init__(self, blocks: list[Interval]) -> None:
        self.blocks = blocks
        self.reads: list[Interval] = []

    def overlapping(self, window: Interval) -> list[Interval]:
        self.reads.append(window)
        return sorted((b for b in self.blocks if b.overlaps(window)), key=lambda b: b.start)


class Uow:
    def __init__(self, mirror: Mirror) -> None:
        self.busy = mirror


def uow(mirror: Mirror) -> UnitOfWork:
    return cast("UnitOfWork", Uow(mirror))


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def key(block: Interval) -> tuple[datetime, datetime]:
    return (block.start, block.end)


blocks_strategy = st.lists(
    st.tuples(st.integers(-6_000, 600_000), st.integers(1, 20_000)).map(
        lambda pair: Interval(at(pair[0]), at(pair[0] + pair[1]))
    ),
    max_size=60,
)
windows_strategy = st.tuples(st.integers(-3_000, 560_000), st.integers(1, 90_000)).map(
    lambda pair: Interval(at(pair[0]), at(pair[0] + pair[1]))
)


@given(blocks=blocks_strategy, windows=st.lists(windows_strategy, min_size=1, max_size=8))
def test_every_range_gets_exactly_the_blocks_the_database_gives(
    blocks: list[Interval], windows: list[Interval]
) -> None:
    mirror = Mirror(blocks)
    memo = BusyMemo()
    for window in windows:
        expected = Mirror(blocks).overlapping(window)
        found = memo.overlapping(uow(mirror), window, version=1, now=NOW)
        assert sorted(map(key, found)) == sorted(map(key, expected))
        assert [b.start for b in found] == sorted(b.start for b in found)


def test_one_read_per_data_version_and_a_new_version_reads_again() -> None:
    mirror = Mirror([Interval(at(60), at(120))])
    memo = BusyMemo()
    first, second = Interval(at(0), at(90)), Interval(at(100), at(200))
    assert memo.overlapping(uow(mirror), first, version=7, now=NOW) == mirror.blocks
    assert memo.overlapping(uow(mirror), second, version=7, now=NOW) == mirror.blocks
    assert len(mirror.reads) == 1  # the span, once
    mirror.blocks = [Interval(at(150), at(160))]  # a sync wrote, and the version moved
    assert memo.overlapping(uow(mirror), first, version=7, now=NOW) != mirror.blocks
    assert memo.overlapping(uow(mirror), second, version=8, now=NOW) == mirror.blocks
    assert memo.overlapping(uow(mirror), first, version=8, now=NOW) == []
    assert len(mirror.reads) == 2


def test_a_range_outside_the_span_is_read_from_the_database() -> None:
    past = Interval(NOW - timedelta(days=30), NOW - timedelta(days=29))
    far = Interval(NOW + timedelta(days=500), NOW + timedelta(days=501))
    mirror = Mirror([Interval(past.start, past.start + timedelta(hours=1))])
    memo = BusyMemo()
    assert memo.overlapping(uow(mirror), past, version=1, now=NOW) == mirror.blocks
    assert memo.overlapping(uow(mirror), far, version=1, now=NOW) == []
    assert mirror.reads[1:] == [past, far]  # after the span's own read
