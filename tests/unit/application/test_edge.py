"""The public edge against the fakes: writes per address, bookings per client, and the live
Google check skipped while the mirror is fresh."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from balance_booking.application.edge import PruneEdgeData, PublicWriteLimit
from balance_booking.application.errors import BookingLimitReachedError, TooManyAttemptsError
from balance_booking.domain.appointments import Client
from tests.unit.application.wiring import CLIENT, World, moscow, request


def limit(world: World, count: int = 3) -> PublicWriteLimit:
    return PublicWriteLimit(
        writers=world.db,
        clock=world.clock,
        metrics=world.metrics,
        count=count,
        per=timedelta(hours=1),
    )


def test_writes_per_address_stop_at_the_limit_and_say_when_to_come_back(world: World) -> None:
    writes = limit(world)
    for _ in range(3):
        writes.check("198.51.100.7")
    world.clock.advance(timedelta(minutes=20))
    with pytest.raises(TooManyAttemptsError) as refused:
        writes.check("198.51.100.7")
    assert refused.value.retry_after_seconds == 40 * 60
    writes.check("203.0.113.9")  # another address is not affected
    assert world.metrics.count("rate_limited", scope="public_write") == 1
    world.clock.advance(timedelta(minutes=40))
    writes.check("198.51.100.7")  # a new window


def test_the_counters_hold_no_address_and_one_row_per_address(world: World) -> None:
    writes = limit(world, count=1000)
    for _ in range(500):
        writes.check("198.51.100.7")
    assert len(world.db.state.throttles) == 1
    assert "198.51.100.7" not in repr(world.db.state.throttles)


def test_a_client_may_hold_only_so_many_future_bookings(world: World) -> None:
    capped = replace(world, live_check_fresh=timedelta(0)).given()
    book = replace(capped.book, max_active_per_client=2)
    book.execute(request(moscow(1, 10)))
    book.execute(request(moscow(1, 11)))
    shouting = Client(name=CLIENT.name, email=CLIENT.email.upper(), phone=None)  # type: ignore[union-attr]
    with pytest.raises(BookingLimitReachedError):
        book.execute(request(moscow(1, 12), client=shouting))
    same_phone = Client(name="Другой", email="other@example.com", phone=CLIENT.phone)
    with pytest.raises(BookingLimitReachedError):
        book.execute(request(moscow(1, 12), client=same_phone))
    book.execute(request(moscow(1, 12), client=Client(name="Третий", email="third@example.com")))
    # A past appointment no longer counts.
    capped.clock.set(moscow(1, 11, 30))
    book.execute(request(moscow(2, 12)))


def test_no_live_google_call_while_the_mirror_is_fresh(world: World) -> None:
    fresh = replace(world, live_check_fresh=timedelta(seconds=5)).given().connect()
    calls = fresh.calendar.calls["busy_intervals"]
    fresh.clock.advance(timedelta(seconds=4))
    fresh.book.execute(request(moscow(1, 10)))
    fresh.book.execute(request(moscow(1, 11)))
    assert fresh.calendar.calls["busy_intervals"] == calls, "the mirror stood in"
    fresh.clock.advance(timedelta(seconds=1))
    fresh.book.execute(request(moscow(1, 12)))
    assert fresh.calendar.calls["busy_intervals"] == calls + 1
    assert fresh.metrics.count("live_checks", result="mirror_fresh") == 2
    assert fresh.metrics.count("live_checks", result="asked") == 1


def test_edge_data_ages_out(world: World) -> None:
    ready = world.given()
    ready.book.execute(request(moscow(1, 10)), idempotency_key="key-1")
    limit(ready).check("198.51.100.7")
    prune = PruneEdgeData(writers=ready.db, clock=ready.clock)
    assert prune.execute() == {"idempotency_keys": 0, "throttle_counters": 0, "sign_ins": 0}
    ready.clock.advance(timedelta(hours=24, seconds=1))
    assert prune.execute()["idempotency_keys"] == 1
    assert ready.db.state.idempotency == {}
    ready.clock.advance(timedelta(days=1))
    assert prune.execute()["throttle_counters"] == 1
