"""The web's rendered-bytes cache: served while the use case's validity holds, bounded, aged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from balance_booking.application.availability import Validity
from balance_booking.web.slots_cache import RenderedAnswer, RenderedKey, RenderedSlots

NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)


class CountingMetrics:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def increment(self, name: str, labels: dict[str, str] | None = None) -> None:
        label = f"{name}:{(labels or {}).get('result', '')}"
        self.counts[label] = self.counts.get(label, 0) + 1

    def gauge(self, name: str, value: float) -> None:
        raise AssertionError(f"the cache sets no gauge ({name}={value})")


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def always(valid: Validity) -> bool:
    return isinstance(valid, Validity)


def key(zone: str = "UTC", service: str = "session") -> RenderedKey:
    return (service, NOON, NOON + timedelta(days=7), zone)


def answer(body: bytes, *, version: int = 1, until: datetime | None = None) -> RenderedAnswer:
    return RenderedAnswer(body=body, valid=Validity(version=version, until=until))


def test_validity_holds_for_its_version_until_its_instant() -> None:
    valid = Validity(version=3, until=NOON)
    assert valid.holds(version=3, now=NOON - timedelta.resolution)
    assert not valid.holds(version=3, now=NOON)
    assert not valid.holds(version=4, now=NOON - timedelta(hours=1))
    assert Validity(version=3, until=None).holds(version=3, now=NOON + timedelta(days=999))


def test_bytes_are_served_while_the_use_case_says_their_answer_holds() -> None:
    metrics = CountingMetrics()
    cache = RenderedSlots(ttl_seconds=300, metrics=metrics)
    cache.put(key(), answer(b"utc", version=1, until=NOON))
    cache.put(key("Europe/Moscow"), answer(b"msk", version=1, until=NOON))
    asked: list[Validity] = []

    def holds_before_noon(valid: Validity) -> bool:
        asked.append(valid)
        return valid.holds(version=1, now=NOON - timedelta(minutes=1))

    assert cache.get(key(), still_valid=holds_before_noon) == b"utc"
    assert cache.get(key("Europe/Moscow"), still_valid=holds_before_noon) == b"msk"
    assert asked == [Validity(version=1, until=NOON)] * 2
    assert cache.get(key(), still_valid=lambda valid: valid.holds(version=2, now=NOON)) is None
    assert cache.get(key("Asia/Tokyo"), still_valid=holds_before_noon) is None
    assert metrics.counts == {"slots_cache:hit": 2}


def test_entries_age_out_and_the_least_recently_used_go_first() -> None:
    ticks = Ticks()
    cache = RenderedSlots(ttl_seconds=10, metrics=CountingMetrics(), max_entries=2, monotonic=ticks)
    cache.put(key("A"), answer(b"a"))
    cache.put(key("B"), answer(b"b"))
    assert cache.get(key("A"), still_valid=always) == b"a"
    cache.put(key("C"), answer(b"c"))  # B was used least recently
    assert cache.get(key("B"), still_valid=always) is None
    assert cache.get(key("A"), still_valid=always) == b"a"
    ticks.now = 10.0
    assert cache.get(key("C"), still_valid=always) is None


def test_a_zero_time_to_live_keeps_nothing() -> None:
    cache = RenderedSlots(ttl_seconds=0, metrics=CountingMetrics())
    cache.put(key(), answer(b"x"))
    assert cache.get(key(), still_valid=always) is None
