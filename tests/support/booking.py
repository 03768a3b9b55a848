"""The booking API as the tests drive it: the practice's hours and services, and a booking."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

BOOK = "/api/public/booking/appointments"
SLOTS = "/api/public/booking/slots"
WEEKDAYS_10_TO_18 = {
    "timezone": "Europe/Moscow",
    "weekly": {day: [["10:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "overrides": [],
}
ANNA = {"name": "Анна", "email": "anna@example.com"}


def open_practice(
    admin: httpx.Client, service: dict[str, Any], *, schedule: dict[str, Any] = WEEKDAYS_10_TO_18
) -> None:
    """Set the weekly hours and create `service` through the admin API (a TestClient or not)."""
    saved = admin.put("/api/admin/schedule", json=schedule)
    assert saved.status_code == 200, saved.text
    created = admin.post("/api/admin/services", json=service)
    assert created.status_code == 201, created.text


def booking(
    start: datetime | str,
    *,
    service: str = "session",
    timezone: str = "Europe/Moscow",
    client: dict[str, str] = ANNA,
    **extra: Any,
) -> dict[str, Any]:
    """The body of a public booking request; `extra` adds fields (a comment, a key...)."""
    return {
        "service_slug": service,
        "start": start if isinstance(start, str) else start.isoformat(),
        "timezone": timezone,
        "client": client,
    } | extra


def book(http: httpx.Client, start: datetime | str, **fields: Any) -> dict[str, Any]:
    """Book through the public API (see `booking` for `fields`); returns the new appointment."""
    response = http.post(BOOK, json=booking(start, **fields))
    assert response.status_code == 201, response.text
    appointment: dict[str, Any] = response.json()["appointment"]
    return appointment
