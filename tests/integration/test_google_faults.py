"""Google failures during a sync, injected through the emulator's control API.

Backoff delays are recorded by an injected sleep with a fixed jitter, so the formula is checked
exactly and no test waits for real.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from balance_booking.adapters.google_calendar.transport import RetryPolicy
from balance_booking.bootstrap import Container, build_container
from balance_booking.config import Settings
from tests.conftest import FakeClock
from tests.integration.helpers import WEEKDAYS_10_TO_18
from tests.support.google import INTEGRATION_API, Emulator, connect_calendar

pytestmark = [pytest.mark.google(), pytest.mark.reliability]

SYNC = f"{INTEGRATION_API}/sync"
FREEBUSY = "/calendar/v3/freeBusy"
JITTER = 0.25


@pytest.fixture
def delays() -> list[float]:
    return []


@pytest.fixture
def container(settings: Settings, clock: FakeClock, delays: list[float]) -> Iterator[Container]:
    policy = RetryPolicy(attempts=5, sleep=delays.append, jitter=lambda: JITTER)
    built = build_container(settings, clock=clock, retry=policy)
    if built.is_sqlite():
        from balance_booking.adapters.db.migrate import migrate  # noqa: PLC0415

        migrate(built.engine)
    yield built
    built.close()


@pytest.fixture
def connected_with_busy_block(admin: TestClient, emulator: Emulator) -> TestClient:
    admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18)
    admin.post("/api/admin/services", json={"slug": "s", "title": "S", "duration_minutes": 60})
    assert connect_calendar(admin).endswith("result=connected")
    emulator.control.post(
        "/_emulator/events",
        json={
            "event": {
                "start": {"dateTime": "2026-12-01T13:00:00+03:00"},
                "end": {"dateTime": "2026-12-01T14:00:00+03:00"},
            }
        },
    ).raise_for_status()
    assert admin.post(SYNC).json()["busy_intervals"] == 1
    return admin


def fault(emulator: Emulator, **spec: object) -> None:
    emulator.control.post(
        "/_emulator/faults", json={"path_prefix": FREEBUSY, "method": "POST"} | spec
    ).raise_for_status()


def test_three_503s_then_success_backs_off_by_the_formula(
    connected_with_busy_block: TestClient, emulator: Emulator, delays: list[float]
) -> None:
    delays.clear()
    fault(emulator, status=503, reason="backendError", count=3)
    response = connected_with_busy_block.post(SYNC)
    assert response.status_code == 200
    # Google's truncated exponential backoff: min(2**n + random, max) for n = 0, 1, 2.
    assert delays == [1 + JITTER, 2 + JITTER, 4 + JITTER]
    assert connected_with_busy_block.get(INTEGRATION_API).json()["last_sync_ok"] is True


def test_429_retry_after_is_honoured(
    connected_with_busy_block: TestClient, emulator: Emulator, delays: list[float]
) -> None:
    delays.clear()
    fault(emulator, status=429, reason="rateLimitExceeded", retry_after=7, count=1)
    assert connected_with_busy_block.post(SYNC).status_code == 200
    assert delays == [7.0]


def test_rate_limit_403_is_retried(
    connected_with_busy_block: TestClient, emulator: Emulator, delays: list[float]
) -> None:
    delays.clear()
    fault(emulator, status=403, reason="userRateLimitExceeded", count=1)
    assert connected_with_busy_block.post(SYNC).status_code == 200
    assert delays == [1 + JITTER]


@pytest.mark.parametrize(
    ("status", "reason"),
    [(400, "badRequest"), (403, "forbidden"), (404, "notFound")],
)
def test_permanent_errors_are_not_retried(
    connected_with_busy_block: TestClient,
    emulator: Emulator,
    delays: list[float],
    status: int,
    reason: str,
) -> None:
    delays.clear()
    fault(emulator, status=status, reason=reason, count=2)
    response = connected_with_busy_block.post(SYNC)
    assert response.status_code == 502
    assert delays == []
    remaining = emulator.control.get("/_emulator/faults").json()
    assert remaining["faults"][0]["remaining"] == 1, "exactly one call reached Google"
    emulator.control.delete("/_emulator/faults")


def test_dropped_responses_leave_the_previous_mirror_intact(
    connected_with_busy_block: TestClient, emulator: Emulator
) -> None:
    fault(emulator, status=503, drop_response=True, count=5)
    emulator.control.post(
        "/_emulator/events",
        json={
            "event": {
                "start": {"dateTime": "2026-12-02T13:00:00+03:00"},
                "end": {"dateTime": "2026-12-02T14:00:00+03:00"},
            }
        },
    ).raise_for_status()
    assert connected_with_busy_block.post(SYNC).status_code == 502
    status = connected_with_busy_block.get(INTEGRATION_API).json()
    assert status["busy_intervals"] == 1
    assert status["last_sync_ok"] is False
    assert connected_with_busy_block.post(SYNC).json()["busy_intervals"] == 2


def test_retries_stop_at_the_attempt_limit(
    connected_with_busy_block: TestClient, emulator: Emulator, delays: list[float]
) -> None:
    delays.clear()
    fault(emulator, status=500, reason="backendError", count=10)
    assert connected_with_busy_block.post(SYNC).status_code == 502
    assert len(delays) == 4  # five attempts, four waits
    emulator.control.delete("/_emulator/faults")
