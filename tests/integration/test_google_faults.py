"""Google failures during a sync, injected through the emulator's control API.

Backoff delays are recorded by an injected sleep with a fixed jitter, so the formula is checked
exactly and no test waits for real.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

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
    emulator.add_busy("2026-12-01T13:00:00+03:00", "2026-12-01T14:00:00+03:00")
    assert admin.post(SYNC).json()["busy_intervals"] == 1
    return admin


SyncWithFault = Callable[..., Response]


@pytest.fixture
def sync_with_fault(
    connected_with_busy_block: TestClient, emulator: Emulator, delays: list[float]
) -> SyncWithFault:
    """Arm a fault on freeBusy (keyword arguments: the emulator's fault spec), forget earlier
    backoff delays and press "Sync now"; returns its answer."""

    def sync(**spec: object) -> Response:
        delays.clear()
        emulator.fault(path_prefix=FREEBUSY, method="POST", **spec)
        answer: Response = connected_with_busy_block.post(SYNC)
        return answer

    return sync


def test_three_503s_then_success_backs_off_by_the_formula(
    connected_with_busy_block: TestClient, sync_with_fault: SyncWithFault, delays: list[float]
) -> None:
    response = sync_with_fault(status=503, reason="backendError", count=3)
    assert response.status_code == 200
    # Google's truncated exponential backoff: min(2**n + random, max) for n = 0, 1, 2.
    assert delays == [1 + JITTER, 2 + JITTER, 4 + JITTER]
    assert connected_with_busy_block.get(INTEGRATION_API).json()["last_sync_ok"] is True


def test_429_retry_after_is_honoured(sync_with_fault: SyncWithFault, delays: list[float]) -> None:
    response = sync_with_fault(status=429, reason="rateLimitExceeded", retry_after=7, count=1)
    assert response.status_code == 200
    assert delays == [7.0]


def test_rate_limit_403_is_retried(sync_with_fault: SyncWithFault, delays: list[float]) -> None:
    assert sync_with_fault(status=403, reason="userRateLimitExceeded", count=1).status_code == 200
    assert delays == [1 + JITTER]


@pytest.mark.parametrize(
    ("status", "reason"),
    [(400, "badRequest"), (403, "forbidden"), (404, "notFound")],
)
def test_permanent_errors_are_not_retried(
    sync_with_fault: SyncWithFault,
    emulator: Emulator,
    delays: list[float],
    status: int,
    reason: str,
) -> None:
    assert sync_with_fault(status=status, reason=reason, count=2).status_code == 502
    assert delays == []
    assert emulator.faults_left()[0]["remaining"] == 1, "exactly one call reached Google"
    emulator.clear_faults()


def test_dropped_responses_leave_the_previous_mirror_intact(
    connected_with_busy_block: TestClient, sync_with_fault: SyncWithFault, emulator: Emulator
) -> None:
    emulator.add_busy("2026-12-02T13:00:00+03:00", "2026-12-02T14:00:00+03:00")
    assert sync_with_fault(status=503, drop_response=True, count=5).status_code == 502
    status = connected_with_busy_block.get(INTEGRATION_API).json()
    assert status["busy_intervals"] == 1
    assert status["last_sync_ok"] is False
    assert connected_with_busy_block.post(SYNC).json()["busy_intervals"] == 2


def test_retries_stop_at_the_attempt_limit(
    sync_with_fault: SyncWithFault, emulator: Emulator, delays: list[float]
) -> None:
    assert sync_with_fault(status=500, reason="backendError", count=10).status_code == 502
    assert len(delays) == 4  # five attempts, four waits
    emulator.clear_faults()
