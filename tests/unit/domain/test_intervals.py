from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from balance_booking.domain.errors import InvalidInterval
from balance_booking.domain.intervals import (
    Interval,
    clip,
    merge,
    require_aware,
    stored_interval,
    subtract,
)
from tests.unit.domain.builders import naive, utc


def h(hour: int, minute: int = 0) -> datetime:
    """An instant on 2026-06-01 UTC; enough for interval algebra."""
    return utc(2026, 6, 1, hour, minute)


def spans(*pairs: tuple[int, int]) -> list[Interval]:
    return [Interval(h(start), h(end)) for start, end in pairs]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(h(10), h(10), id="empty"),
        pytest.param(h(11), h(10), id="reversed"),
        pytest.param(naive(2026, 6, 1, 10), h(11), id="naive-start"),
        pytest.param(h(10), naive(2026, 6, 1, 11), id="naive-end"),
    ],
)
def test_interval_rejects_naive_and_empty(start: datetime, end: datetime) -> None:
    with pytest.raises(InvalidInterval):
        Interval(start, end)


def test_interval_is_stored_in_utc_and_equal_across_zones() -> None:
    moscow = timezone(timedelta(hours=3))
    interval = Interval(
        datetime(2026, 6, 1, 13, tzinfo=moscow), datetime(2026, 6, 1, 14, tzinfo=moscow)
    )
    assert interval.start.tzinfo is UTC
    assert interval == Interval(h(10), h(11))
    assert interval.duration == timedelta(hours=1)


def test_require_aware() -> None:
    aware = h(9)
    assert require_aware(aware, "x") is aware
    with pytest.raises(InvalidInterval, match="x must be timezone-aware"):
        require_aware(naive(2026, 1, 1), "x")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param((9, 10), (10, 11), False, id="touching-after"),
        pytest.param((10, 11), (9, 10), False, id="touching-before"),
        pytest.param((9, 11), (10, 12), True, id="partial"),
        pytest.param((9, 12), (10, 11), True, id="contains"),
        pytest.param((9, 10), (11, 12), False, id="apart"),
        pytest.param((9, 10), (9, 10), True, id="equal"),
    ],
)
def test_overlaps(a: tuple[int, int], b: tuple[int, int], expected: bool) -> None:
    first, second = spans(a, b)
    assert first.overlaps(second) is expected
    assert second.overlaps(first) is expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        pytest.param(h(9), True, id="start-inclusive"),
        pytest.param(h(9, 59), True, id="inside"),
        pytest.param(h(10), False, id="end-exclusive"),
        pytest.param(h(8, 59), False, id="before"),
    ],
)
def test_contains(instant: datetime, expected: bool) -> None:
    assert Interval(h(9), h(10)).contains(instant) is expected


def test_expanded() -> None:
    widened = Interval(h(10), h(11)).expanded(
        before=timedelta(minutes=10), after=timedelta(minutes=15)
    )
    assert widened == Interval(h(9, 50), h(11, 15))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param([], [], id="nothing"),
        pytest.param([(9, 10)], [(9, 10)], id="one"),
        pytest.param([(12, 13), (9, 10)], [(9, 10), (12, 13)], id="unsorted-apart"),
        pytest.param([(9, 11), (10, 12)], [(9, 12)], id="overlapping"),
        pytest.param([(9, 10), (10, 11)], [(9, 11)], id="touching"),
        pytest.param([(9, 15), (10, 11), (12, 13)], [(9, 15)], id="nested"),
        pytest.param(
            [(13, 14), (9, 10), (9, 12), (11, 13), (16, 17)], [(9, 14), (16, 17)], id="chain"
        ),
        pytest.param([(9, 10), (9, 10)], [(9, 10)], id="duplicates"),
    ],
)
def test_merge(given: list[tuple[int, int]], expected: list[tuple[int, int]]) -> None:
    assert merge(spans(*given)) == spans(*expected)


@pytest.mark.parametrize(
    ("base", "remove", "expected"),
    [
        pytest.param([(9, 17)], [], [(9, 17)], id="nothing-removed"),
        pytest.param([(9, 17)], [(12, 13)], [(9, 12), (13, 17)], id="hole"),
        pytest.param([(9, 17)], [(8, 10)], [(10, 17)], id="head"),
        pytest.param([(9, 17)], [(16, 18)], [(9, 16)], id="tail"),
        pytest.param([(9, 17)], [(8, 18)], [], id="all"),
        pytest.param([(9, 17)], [(17, 18), (7, 9)], [(9, 17)], id="touching-removes-nothing"),
        pytest.param(
            [(9, 12), (13, 17)], [(11, 14)], [(9, 11), (14, 17)], id="hole-spans-two-pieces"
        ),
        pytest.param(
            [(9, 17)],
            [(10, 11), (10, 12), (14, 15)],
            [(9, 10), (12, 14), (15, 17)],
            id="many-holes",
        ),
        pytest.param([(9, 12), (12, 15)], [(12, 13)], [(9, 12), (13, 15)], id="touching-base"),
    ],
)
def test_subtract(
    base: list[tuple[int, int]], remove: list[tuple[int, int]], expected: list[tuple[int, int]]
) -> None:
    assert subtract(spans(*base), spans(*remove)) == spans(*expected)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param([(8, 9)], [], id="before"),
        pytest.param([(8, 11)], [(10, 11)], id="cut-head"),
        pytest.param([(11, 13)], [(11, 12)], id="cut-tail"),
        pytest.param([(9, 13)], [(10, 12)], id="both"),
        pytest.param([(12, 14), (10, 11)], [(10, 11)], id="touching-end-dropped"),
        pytest.param([(11, 13), (9, 11)], [(10, 11), (11, 12)], id="sorted-not-merged"),
    ],
)
def test_clip(given: list[tuple[int, int]], expected: list[tuple[int, int]]) -> None:
    assert clip(spans(*given), Interval(h(10), h(12))) == spans(*expected)


def test_a_stored_interval_equals_the_checked_one_and_falls_back_to_the_checks() -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    end = start + timedelta(minutes=50)
    assert stored_interval(start, end) == Interval(start, end)
    moscow = start.astimezone(ZoneInfo("Europe/Moscow"))
    assert stored_interval(moscow, end) == Interval(start, end)  # normalised by the checks
    assert stored_interval(moscow, end).start.tzinfo is UTC
    with pytest.raises(InvalidInterval):
        stored_interval(end, start)
