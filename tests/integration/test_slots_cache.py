"""The availability cache: hits while nothing changes, stale answers never outlive a change."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from balance_booking.application.availability import Validity
from balance_booking.bootstrap import Container, build_app, build_container
from balance_booking.config import Settings
from balance_booking.domain.intervals import Interval
from tests.conftest import FakeClock
from tests.integration.helpers import WEEKDAYS_10_TO_18
from tests.support.google import NO_WAIT

SLOTS = "/api/public/booking/slots"
QUERY = {"service_slug": "session", "from": "2026-12-01", "to": "2026-12-01"}


def cache_count(result: str) -> float:
    return REGISTRY.get_sample_value("balance_slots_cache_total", {"result": result}) or 0.0


@pytest.fixture
def ready(admin: TestClient) -> TestClient:
    admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18)
    admin.post(
        "/api/admin/services", json={"slug": "session", "title": "S", "duration_minutes": 60}
    )
    return admin


def hours(client: TestClient) -> list[str]:
    return [slot["start"][11:16] for slot in client.get(SLOTS, params=QUERY).json()["slots"]]


def test_repeated_queries_hit_and_a_change_is_seen_at_once(ready: TestClient) -> None:
    hits, misses = cache_count("hit"), cache_count("miss")
    first = hours(ready)
    assert hours(ready) == first
    assert hours(ready) == first
    assert cache_count("miss") == misses + 1
    assert cache_count("hit") == hits + 2
    shorter = WEEKDAYS_10_TO_18 | {"weekly": {"tue": [["10:00", "12:00"]]}}
    ready.put("/api/admin/schedule", json=shorter)
    assert hours(ready) == ["10:00", "11:00"]
    ready.patch(
        "/api/admin/services/session", json={"duration_minutes": 120, "slot_step_minutes": 60}
    )
    assert hours(ready) == ["10:00"]


def test_minimum_notice_applies_to_cached_answers(ready: TestClient, clock: FakeClock) -> None:
    ready.patch("/api/admin/services/session", json={"min_notice_minutes": 60})
    clock.set(clock.now().replace(day=1, month=12, hour=7, minute=0))  # 10:00 Moscow, Tuesday
    assert hours(ready)[0] == "11:00"
    clock.set(clock.now().replace(hour=9, minute=30))  # 12:30 Moscow: same data, later now
    assert hours(ready)[0] == "14:00"


@pytest.fixture
def second_process(settings: Settings, clock: FakeClock) -> Iterator[Container]:
    other = build_container(settings, clock=clock, retry=NO_WAIT)
    yield other
    other.close()


def test_another_process_sees_a_change_within_five_seconds(
    ready: TestClient, second_process: Container
) -> None:
    with TestClient(build_app(second_process)) as other:
        assert hours(other) == hours(ready)
        ready.put(
            "/api/admin/schedule",
            json=WEEKDAYS_10_TO_18 | {"weekly": {"tue": [["15:00", "16:00"]]}},
        )
        deadline = time.monotonic() + 5
        seen = hours(other)
        while seen != ["15:00"] and time.monotonic() < deadline:
            time.sleep(0.1)
            seen = hours(other)
        assert seen == ["15:00"]


def test_a_rendered_answer_is_reused_until_the_earliest_slot_falls_inside_the_notice(
    ready: TestClient, clock: FakeClock
) -> None:
    ready.patch("/api/admin/services/session", json={"min_notice_minutes": 60})
    clock.set(clock.now().replace(day=1, month=12, hour=5, minute=0))  # 08:00 Moscow, Tuesday
    rendered = ready.app.state.services.rendered_slots  # type: ignore[attr-defined]
    query = QUERY | {"tz": "UTC"}
    misses, hits = cache_count("miss"), cache_count("hit")

    def ask() -> bytes:
        answer = ready.get(SLOTS, params=query)
        assert answer.status_code == 200
        return answer.content

    first = ask()
    clock.advance(timedelta(minutes=59))  # the 10:00 Moscow slot is still outside the notice
    assert ask() == first
    assert (cache_count("miss"), cache_count("hit")) == (misses + 1, hits + 1)
    clock.advance(timedelta(minutes=2))  # now it is inside: the rendered bytes are stale
    second = ask()
    assert json.loads(second)["slots"] == json.loads(first)["slots"][1:]
    assert json.loads(first)["slots"][0]["start"] == "2026-12-01T07:00:00+00:00"
    # Re-rendered from the cached computation (a hit there), then served as bytes again.
    assert ask() == second
    assert (cache_count("miss"), cache_count("hit")) == (misses + 1, hits + 3)
    # The bytes live in the web, keyed by service, range and the zone as asked.
    key = ("session", *window_of(second), "UTC")
    assert rendered.get(key, still_valid=always) == second


def always(valid: Validity) -> bool:
    return isinstance(valid, Validity)


def window_of(body: bytes) -> tuple[datetime, datetime]:
    answer = json.loads(body)
    return datetime.fromisoformat(answer["from"]), datetime.fromisoformat(answer["to"])


def test_the_use_case_says_how_long_its_answer_holds(ready: TestClient, clock: FakeClock) -> None:
    ready.patch("/api/admin/services/session", json={"min_notice_minutes": 60})
    clock.set(clock.now().replace(day=1, month=12, hour=5, minute=0))  # 08:00 Moscow, Tuesday
    use_case = ready.app.state.services.list_slots  # type: ignore[attr-defined]
    window = Interval(clock.now().replace(hour=7), clock.now().replace(hour=15))  # 10-18 Moscow
    result = use_case.execute(service_slug="session", window=window)
    first = result.slots[0].start
    assert first == clock.now().replace(hour=7)
    # No hold and no Google data: only the notice ends it, at the first slot's deadline.
    assert result.valid.until == first - timedelta(minutes=60)
    assert use_case.still_valid(result.valid)
    clock.set(result.valid.until)
    assert not use_case.still_valid(result.valid)
    clock.set(first - timedelta(hours=2))
    assert use_case.still_valid(result.valid)
    ready.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18)  # a new data version
    assert not use_case.still_valid(result.valid)
