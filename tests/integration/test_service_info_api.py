"""What a first-time client learns about a service, over HTTP: the admin API accepts and checks
the fields, the public list returns them, the manage page's .ics carries them (issue 19)."""

from __future__ import annotations

import re
from typing import Any

import icalendar
import pytest
from fastapi.testclient import TestClient

from tests.support.booking import WEEKDAYS_10_TO_18, book

SERVICE = {"slug": "session", "title": "Сессия", "title_en": "Session", "duration_minutes": 50}
ABOUT = {
    "description": "Обычная сессия.\nМожно продолжать регулярно.",
    "description_en": "A regular session.",
    "price": {"amount": "3500.5", "currency": "RUB"},
    "format": "in_person",
    "location": "Москва, ул. Мясницкая, 24",
}


def test_the_fields_round_trip_and_clear(admin: TestClient) -> None:
    created = admin.post("/api/admin/services", json=SERVICE | ABOUT)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {key: body[key] for key in ABOUT} == ABOUT | {
        "price": {"amount": "3500.50", "currency": "RUB"}
    }
    patched = admin.patch(
        "/api/admin/services/session",
        json={"price": {"amount": "4000", "currency": "EUR"}, "format": "online"},
    ).json()
    assert patched["price"] == {"amount": "4000.00", "currency": "EUR"}
    assert patched["format"] == "online"
    assert patched["description"] == ABOUT["description"], "untouched fields stay"
    cleared = admin.patch(
        "/api/admin/services/session",
        json={"price": None, "description": None, "description_en": None, "location": None},
    ).json()
    assert [cleared[k] for k in ("price", "description", "description_en", "location")] == [
        None
    ] * 4
    listed = admin.get("/api/admin/services").json()["services"][0]
    assert listed["format"] == "online"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param(
            {"price": {"amount": "3500.001", "currency": "RUB"}}, "price.amount", id="3dp"
        ),
        pytest.param({"price": {"amount": "-5", "currency": "RUB"}}, "price.amount", id="neg"),
        pytest.param({"price": {"amount": 3500, "currency": "RUB"}}, "price.amount", id="number"),
        pytest.param({"price": {"amount": "1e3", "currency": "RUB"}}, "price.amount", id="exp"),
        pytest.param(
            {"price": {"amount": "100000000", "currency": "RUB"}}, "price.amount", id="huge"
        ),
        pytest.param({"price": {"amount": "1", "currency": "rub"}}, "price.currency", id="lower"),
        pytest.param({"price": {"amount": "1", "currency": "XYZ"}}, "price.currency", id="code"),
        pytest.param({"price": {"amount": "1"}}, "price.currency", id="no-currency"),
        pytest.param({"price": "3500 ₽"}, "price", id="text-price"),
        pytest.param({"format": "phone"}, "format", id="format"),
        pytest.param({"format": None}, "format", id="null-format"),
        pytest.param({"description": ""}, "description", id="empty"),
        pytest.param({"description": "   "}, "description", id="blank"),
        pytest.param({"description_en": "x" * 2001}, "description_en", id="long"),
        pytest.param({"location": "a\x07b"}, "location", id="control"),
        pytest.param({"location": "y" * 501}, "location", id="long-location"),
    ],
)
def test_bad_values_are_clear_422s(admin: TestClient, changes: dict[str, Any], field: str) -> None:
    created = admin.post("/api/admin/services", json=SERVICE | changes)
    assert created.status_code == 422, created.text
    error = created.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_request", field)
    if changes.get("format", "") is not None:
        admin.post("/api/admin/services", json=SERVICE)
        patched = admin.patch("/api/admin/services/session", json=changes)
        assert patched.status_code == 422, patched.text
        assert patched.json()["error"]["field"] == field


def test_a_bad_slug_is_explained_in_words_not_a_pattern(admin: TestClient) -> None:
    answer = admin.post("/api/admin/services", json=SERVICE | {"slug": "Первая встреча"})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "slug"
    assert "small Latin letters, digits and hyphens" in error["message"]
    assert not re.search(r"[\^\[\]$]", error["message"]), error["message"]


def test_the_public_list_and_the_ics_carry_the_service_facts(admin: TestClient) -> None:
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
    assert admin.post("/api/admin/services", json=SERVICE | ABOUT).status_code == 201
    public = admin.get("/api/public/booking/services").json()["services"][0]
    assert public["price"] == {"amount": "3500.50", "currency": "RUB"}
    assert (public["format"], public["location"]) == ("in_person", ABOUT["location"])

    slots = admin.get(
        "/api/public/booking/slots",
        params={"service_slug": "session", "from": "2026-12-02", "to": "2026-12-02"},
    ).json()["slots"]
    secret = "Мой секретный комментарий"
    appointment = book(admin, slots[0]["start"], comment=secret)
    url = f"/booking/manage/{appointment['id']}/calendar.ics?token={appointment['manage_token']}"
    for language, description in (("ru", "Обычная сессия."), ("en", "A regular session.")):
        answer = admin.get(url, headers={"Accept-Language": language})
        assert answer.status_code == 200
        event = icalendar.Calendar.from_ical(answer.content).walk("VEVENT")[0]
        text = str(event["DESCRIPTION"])
        assert text.startswith(description)
        assert ("Очно, в кабинете" if language == "ru" else "In person, at the office") in text
        assert f"/booking/manage/{appointment['id']}" in text, "the manage link stays"
        assert str(event["LOCATION"]) == ABOUT["location"]
        for private in ("Анна", "anna@example.com", secret):
            assert private not in answer.text
