"""Fifty clients moving their appointments into one free slot while fifty others book it, over
real HTTP on SQLite and PostgreSQL: exactly one wins, nothing overlaps, every loser is unchanged
and keeps its id and manage token."""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container, build_app
from tests.integration.helpers import WEEKDAYS_10_TO_18
from tests.support.live_server import serve_app

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.both_databases]

MOVERS = 50
BOOKERS = 50
TARGET = "2026-12-11T12:00:00+03:00"  # a Friday, free
BOOK = "/api/public/booking/appointments"


def _existing(admin: TestClient) -> list[dict[str, Any]]:
    """Fifty appointments on the hours of 1-10 December, each with its own client."""
    days = (1, 2, 3, 4, 7, 8, 9, 10)
    starts = [f"2026-12-{day:02d}T{hour}:00:00+03:00" for day in days for hour in range(10, 18)]
    booked = []
    for n, start in enumerate(starts[:MOVERS]):
        answer = admin.post(
            BOOK,
            json={
                "service_slug": "session",
                "start": start,
                "timezone": "Europe/Moscow",
                "client": {"name": f"Mover {n}", "email": f"mover{n}@example.com"},
            },
        )
        assert answer.status_code == 201, answer.text
        booked.append(answer.json()["appointment"])
    return booked


def _rows(container: Container) -> dict[str, Any]:
    """Every appointment as stored, by id: what a lost race must leave exactly as it was."""
    c = t.appointments.c
    with container.engine.connect() as connection:
        rows = connection.execute(
            select(
                c.id,
                c.start_at,
                c.end_at,
                c.blocked_start_at,
                c.blocked_end_at,
                c.status,
                c.sequence,
                c.client_email,
            )
        ).all()
    return {str(row.id): row for row in rows}


def test_fifty_moves_and_fifty_bookings_race_for_one_slot(
    admin: TestClient, container: Container
) -> None:
    admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18)
    service = {
        "slug": "session",
        "title": "S",
        "duration_minutes": 50,
        "slot_step_minutes": 60,
        "buffer_after_minutes": 10,
    }
    assert admin.post("/api/admin/services", json=service).status_code == 201
    existing = _existing(admin)
    before = _rows(container)
    barrier = threading.Barrier(MOVERS + BOOKERS)

    def attempt(n: int) -> tuple[str, int, str]:
        with httpx.Client(base_url=base, timeout=120) as client:
            if n < MOVERS:
                mine = existing[n]
                barrier.wait()
                answer = client.post(
                    f"{BOOK}/{mine['id']}/reschedule",
                    json={"token": mine["manage_token"], "start": TARGET},
                )
                return "move", answer.status_code, answer.text
            body = {
                "service_slug": "session",
                "start": TARGET,
                "timezone": "Europe/Moscow",
                "client": {"name": f"Booker {n}", "email": f"booker{n}@example.com"},
            }
            barrier.wait()
            answer = client.post(BOOK, json=body)
            return "book", answer.status_code, answer.text

    with serve_app(build_app(container)) as base, ThreadPoolExecutor(MOVERS + BOOKERS) as pool:
        results = list(pool.map(attempt, range(MOVERS + BOOKERS)))

    for _, status, text in results:
        assert status < 500, text
        assert "database is locked" not in text
    outcome = Counter((kind, status) for kind, status, _ in results)
    wins = outcome[("move", 200)] + outcome[("book", 201)]
    assert wins == 1, outcome
    assert outcome[("move", 409)] + outcome[("book", 409)] == MOVERS + BOOKERS - 1, outcome
    for kind, status, text in results:
        if status == 409:
            assert '"slot_unavailable"' in text, (kind, text)

    # In the database: active appointments never overlap (buffers included) and one is at TARGET.
    with container.engine.connect() as connection:
        c = t.appointments.c
        rows = connection.execute(
            select(c.id, c.start_at, c.blocked_start_at, c.blocked_end_at)
            .where(c.status == "confirmed")
            .order_by(c.blocked_start_at)
        ).all()
    for earlier, later in itertools.pairwise(rows):
        assert earlier.blocked_end_at <= later.blocked_start_at, (earlier, later)
    assert len(rows) == MOVERS + (1 if outcome[("book", 201)] else 0)
    at_target = [row for row in rows if row.start_at.isoformat() == "2026-12-11T09:00:00+00:00"]
    assert len(at_target) == 1

    # Every mover still opens its appointment with its token: the winner at TARGET, the losers
    # where they were, still confirmed.
    for n, mine in enumerate(existing):
        fetched = admin.get(f"{BOOK}/{mine['id']}", params={"token": mine["manage_token"]})
        assert fetched.status_code == 200
        now = fetched.json()["appointment"]
        moved = results[n][1] == 200
        assert now["id"] == mine["id"]
        assert now["start"] == (TARGET if moved else mine["start"]), (n, now)
        assert now["status"] == "confirmed", (n, now)

    # Stored rows: every loser exactly as before, a losing booker left nothing behind.
    after = _rows(container)
    new_ids = set(after) - set(before)
    changed = {key for key in before if after[key] != before[key]}
    if outcome[("move", 200)]:
        (winner,) = (mine["id"] for n, mine in enumerate(existing) if results[n][1] == 200)
        assert (new_ids, changed) == (set(), {winner})
        assert after[winner].sequence == before[winner].sequence + 1, "one move, counted once"
    else:
        assert changed == set()
        (new,) = new_ids
        (won,) = (text for kind, status, text in results if status == 201)
        booked = json.loads(won)["appointment"]
        assert booked["id"] == new
        fetched = admin.get(f"{BOOK}/{new}", params={"token": booked["manage_token"]})
        assert fetched.json()["appointment"]["start"] == TARGET
