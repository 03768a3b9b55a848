"""Many clients racing for one slot, over real HTTP: exactly one wins, the rest get 409."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from balance_booking.bootstrap import Container, build_app
from tests.integration.helpers import WEEKDAYS_10_TO_18
from tests.support.live_server import serve_app
from tests.support.scale import full_or_short

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.both_databases]

CLIENTS = 50
ROUNDS = full_or_short(20, 4)


def _race(base: str, start: str, round_no: int) -> Counter[int]:
    barrier = threading.Barrier(CLIENTS)

    def attempt(n: int) -> tuple[int, str]:
        body = {
            "service_slug": "session",
            "start": start,
            "timezone": "Europe/Moscow",
            "client": {"name": f"Client {round_no}-{n}", "email": f"c{round_no}-{n}@example.com"},
        }
        with httpx.Client(base_url=base, timeout=60) as client:
            barrier.wait()
            response = client.post("/api/public/booking/appointments", json=body)
        return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(attempt, range(CLIENTS)))
    for status, text in results:
        assert status < 500, text
        assert "database is locked" not in text
    return Counter(status for status, _ in results)


def test_fifty_clients_one_slot_twenty_rounds(admin: TestClient, container: Container) -> None:
    admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18)
    admin.post(
        "/api/admin/services",
        json={"slug": "session", "title": "S", "duration_minutes": 50, "slot_step_minutes": 60},
    )
    starts = [
        f"2026-12-{day:02d}T{hour}:00:00+03:00" for day in (1, 2, 3) for hour in range(10, 18)
    ][:ROUNDS]
    with serve_app(build_app(container)) as base:
        for round_no, start in enumerate(starts):
            outcome = _race(base, start, round_no)
            assert outcome == Counter({201: 1, 409: CLIENTS - 1}), (start, outcome)
    listed = admin.get(
        "/api/admin/appointments", params={"from": "2026-12-01", "to": "2026-12-03"}
    ).json()["appointments"]
    assert sorted(a["start"] for a in listed) == sorted(starts)
