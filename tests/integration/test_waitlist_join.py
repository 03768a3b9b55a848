"""Joining the waiting list twice over HTTP, on SQLite and PostgreSQL: 201 with a new entry, then
200 `already_waiting` with the same one and nothing stored; the admin's removal makes room."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container
from tests.conftest import SESSION, WEEKDAYS_10_TO_18

pytestmark = pytest.mark.both_databases

WAITLIST = "/api/public/booking/waitlist"


@pytest.fixture
def practice(admin: TestClient) -> TestClient:
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
    assert admin.post("/api/admin/services", json=SESSION).status_code == 201
    return admin


def entry(
    *, email: str = "nina@example.com", window: tuple[str, str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service_slug": "session",
        "name": "Нина",
        "email": email,
        "timezone": "Europe/Moscow",
    }
    if window is not None:
        body["preferred_from"], body["preferred_to"] = window
    return body


def stored(container: Container) -> int:
    with container.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(t.waitlist_entries)).scalar_one()
        )


def test_joining_twice_answers_with_the_entry_one_has(
    practice: TestClient, container: Container
) -> None:
    first = practice.post(WAITLIST, json=entry())
    assert first.status_code == 201, first.text
    assert first.json()["already_waiting"] is False
    again = practice.post(WAITLIST, json=entry(email="Nina@EXAMPLE.com"))
    assert again.status_code == 200, again.text
    assert again.json() == {"id": first.json()["id"], "already_waiting": True}
    assert stored(container) == 1
    # Someone else is someone else.
    assert practice.post(WAITLIST, json=entry(email="olga@example.com")).status_code == 201
    assert stored(container) == 2


def test_windows_decide_what_counts_as_the_same_wish(
    practice: TestClient, container: Container
) -> None:
    week = ("2026-12-01T10:00:00+03:00", "2026-12-04T18:00:00+03:00")
    overlapping = ("2026-12-04T12:00:00+03:00", "2026-12-08T18:00:00+03:00")
    later = ("2026-12-07T10:00:00+03:00", "2026-12-08T18:00:00+03:00")
    assert practice.post(WAITLIST, json=entry(window=week)).status_code == 201
    assert practice.post(WAITLIST, json=entry(window=overlapping)).status_code == 200
    assert practice.post(WAITLIST, json=entry(window=later)).status_code == 201
    assert practice.post(WAITLIST, json=entry()).status_code == 201  # "when times are back"
    assert stored(container) == 3


def test_after_the_admin_removed_the_entry_one_can_join_again(practice: TestClient) -> None:
    first = practice.post(WAITLIST, json=entry()).json()["id"]
    assert practice.delete(f"/api/admin/waitlist/{first}").status_code == 204
    again = practice.post(WAITLIST, json=entry())
    assert again.status_code == 201
    assert again.json()["id"] != first
