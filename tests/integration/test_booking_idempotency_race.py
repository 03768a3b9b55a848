"""An Idempotency-Key retry that overtakes nothing: its first attempt commits while it checks.

Behind a load balancer a client's retry can reach another process while the first attempt is
still running there. The retry finds no stored answer, then finds the slot taken by that very
attempt: it must replay it, not answer 409 (docs/booking.md, "Idempotency-Key").
"""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from balance_booking.application.booking import BookAppointment, Booked, BookingRequest
from balance_booking.application.ports import UnitOfWork
from balance_booking.bootstrap import Container, build_web_services
from balance_booking.domain.appointments import Client
from tests.integration.helpers import WEEKDAYS_10_TO_18

pytestmark = pytest.mark.both_databases

KEY = "order-7"


def test_a_retry_finding_its_first_attempt_just_committed_replays_it(
    admin: TestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18)
    created = admin.post(
        "/api/admin/services",
        json={"slug": "session", "title": "Сессия", "duration_minutes": 60},
    )
    assert created.status_code == 201
    request = BookingRequest(
        service_slug="session",
        start=datetime.fromisoformat("2026-12-01T11:00:00+03:00"),
        timezone="Europe/Moscow",
        client=Client(name="Анна Петрова", email="anna@example.com", phone=None),
        comment=None,
    )
    # Two processes: the retry's and the first attempt's.
    retry = build_web_services(container).book
    first_attempt = build_web_services(container).book
    original = BookAppointment._replay
    first: list[Booked] = []

    def first_attempt_commits_meanwhile(
        self: BookAppointment, uow: UnitOfWork, key: str, fingerprint: str
    ) -> Booked | None:
        found = original(self, uow, key, fingerprint)
        if self is retry and not first:
            # Nothing to replay yet; the first attempt commits right after this look.
            first.append(first_attempt.execute(request, idempotency_key=KEY))
        return found

    # Use cases are frozen: the class is patched, and only the retry takes the detour.
    monkeypatch.setattr(BookAppointment, "_replay", first_attempt_commits_meanwhile)
    answer = retry.execute(request, idempotency_key=KEY)

    assert first, "the interleaving under test did not happen"
    assert first[0].replayed is False
    assert answer.replayed is True
    assert answer.appointment.id == first[0].appointment.id
    assert answer.manage_token == first[0].manage_token
