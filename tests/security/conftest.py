"""Fixtures of the public-edge tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.helpers import WEEKDAYS_10_TO_18


@pytest.fixture
def practice(admin: TestClient) -> TestClient:
    """Weekdays 10-18 Moscow and an hourly 50-minute session."""
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
    service = {
        "slug": "session",
        "title": "Сессия",
        "duration_minutes": 50,
        "slot_step_minutes": 60,
    }
    assert admin.post("/api/admin/services", json=service).status_code == 201
    return admin
