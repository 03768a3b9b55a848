"""Admin schedule and services API: bearer auth on every route, validation, effects on slots."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.helpers import WEEKDAYS_10_TO_18

ADMIN_ROUTES = [
    ("GET", "/api/admin/schedule"),
    ("PUT", "/api/admin/schedule"),
    ("GET", "/api/admin/services"),
    ("POST", "/api/admin/services"),
    ("PATCH", "/api/admin/services/session"),
    ("DELETE", "/api/admin/services/session"),
]
SERVICE = {"slug": "session", "title": "Сессия", "duration_minutes": 50}


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "Basic YWRtaW46YWRtaW4=", "Bearer "],
    ids=["none", "wrong-token", "basic", "empty-bearer"],
)
def test_every_admin_route_refuses_bad_credentials(
    client: TestClient, admin_token: str, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.request(method, path, headers=headers, json=SERVICE)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_schedule_defaults_round_trip_and_change_slots(admin: TestClient) -> None:
    empty = admin.get("/api/admin/schedule").json()
    assert empty["timezone"] == "Europe/Moscow"
    assert empty["weekly"] == {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    schedule = WEEKDAYS_10_TO_18 | {
        "overrides": [
            {"date": "2026-12-31", "intervals": []},
            {"date": "2026-12-30", "intervals": [["10:00", "12:00"], ["13:00", "14:00"]]},
        ]
    }
    stored = admin.put("/api/admin/schedule", json=schedule).json()
    assert stored["weekly"]["mon"] == [["10:00", "18:00"]]
    assert stored["weekly"]["sat"] == []
    assert stored["overrides"] == [
        {"date": "2026-12-30", "intervals": [["10:00", "12:00"], ["13:00", "14:00"]]},
        {"date": "2026-12-31", "intervals": []},
    ]
    assert admin.get("/api/admin/schedule").json() == stored

    admin.post("/api/admin/services", json=SERVICE | {"duration_minutes": 60})
    slots = admin.get(
        "/api/public/booking/slots",
        params={"service_slug": "session", "from": "2026-12-30", "to": "2026-12-31"},
    ).json()["slots"]
    assert [s["start"][11:16] for s in slots] == ["10:00", "11:00", "13:00"]


def test_a_vacation_is_one_range_and_every_day_of_it_is_off(admin: TestClient) -> None:
    schedule = WEEKDAYS_10_TO_18 | {
        "overrides": [{"date": "2026-12-30", "intervals": [["12:00", "13:00"]]}],
        "vacations": [{"from": "2026-12-29", "to": "2027-01-04"}],
    }
    stored = admin.put("/api/admin/schedule", json=schedule).json()
    assert stored["vacations"] == [{"from": "2026-12-29", "to": "2027-01-04"}]
    assert stored["overrides"] == schedule["overrides"]  # kept, but the vacation wins
    assert admin.get("/api/admin/schedule").json() == stored
    admin.post("/api/admin/services", json=SERVICE | {"duration_minutes": 60})
    slots = admin.get(
        "/api/public/booking/slots",
        params={"service_slug": "session", "from": "2026-12-28", "to": "2027-01-05"},
    ).json()["slots"]
    assert sorted({s["start"][:10] for s in slots}) == ["2026-12-28", "2027-01-05"]
    explained = admin.get(
        "/api/admin/availability/explain",
        params={"service_slug": "session", "start": "2026-12-30T12:00:00+03:00", "lang": "ru"},
    ).json()
    assert [r["code"] for r in explained["reasons"]] == ["day_off"]
    assert explained["reasons"][0]["message"] == (
        "Выходной: 30 декабря — отпуск с 29 декабря по 4 января."
    )
    # Saving without the field ends the vacation (PUT replaces the whole schedule).
    cleared = admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).json()
    assert cleared["vacations"] == []


@pytest.mark.parametrize(
    ("step", "status"),
    [
        *[(step, 201) for step in (None, 5, 20, 45, 60, 90, 240)],
        *[(step, 422) for step in (0, 4, 7, 50, 55, 245)],
    ],
)
def test_an_explicit_slot_step_must_fit_the_clock(
    admin: TestClient, step: int | None, status: int
) -> None:
    response = admin.post("/api/admin/services", json=SERVICE | {"slot_step_minutes": step})
    assert response.status_code == status, response.json()
    if status == 201:
        # No step (null): one meeting after another, the documented default.
        assert response.json()["slot_step_minutes"] == (step or 50)
    else:
        assert response.json()["error"]["field"] == "slot_step_minutes"


def test_schedule_in_another_zone_moves_the_instants(admin: TestClient) -> None:
    admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18 | {"timezone": "Asia/Kolkata"})
    admin.post("/api/admin/services", json=SERVICE | {"duration_minutes": 60})
    body = admin.get(
        "/api/public/booking/slots",
        params={"service_slug": "session", "from": "2026-12-01", "to": "2026-12-01"},
    ).json()
    assert body["timezone"] == "Asia/Kolkata"
    assert body["slots"][0]["start"] == "2026-12-01T10:00:00+05:30"


@pytest.mark.parametrize(
    "schedule",
    [
        pytest.param(WEEKDAYS_10_TO_18 | {"timezone": "Nowhere/City"}, id="unknown-zone"),
        pytest.param(WEEKDAYS_10_TO_18 | {"weekly": {"mon": [["10:00", "25:00"]]}}, id="bad-hour"),
        pytest.param(WEEKDAYS_10_TO_18 | {"weekly": {"mon": [["18:00", "10:00"]]}}, id="reversed"),
        pytest.param(
            WEEKDAYS_10_TO_18 | {"weekly": {"mon": [["10:00", "14:00"], ["13:00", "18:00"]]}},
            id="overlapping",
        ),
        pytest.param(WEEKDAYS_10_TO_18 | {"weekly": {"funday": []}}, id="unknown-day"),
        pytest.param(WEEKDAYS_10_TO_18 | {"weekly": {"mon": [["10:00"]]}}, id="half-window"),
        pytest.param(WEEKDAYS_10_TO_18 | {"surprise": 1}, id="extra-field"),
        pytest.param(
            WEEKDAYS_10_TO_18 | {"overrides": [{"date": "2026-02-30", "intervals": []}]},
            id="bad-date",
        ),
        pytest.param({"weekly": {}}, id="missing-timezone"),
        pytest.param(
            WEEKDAYS_10_TO_18 | {"vacations": [{"from": "2027-01-10", "to": "2027-01-02"}]},
            id="vacation-reversed",
        ),
        pytest.param(
            WEEKDAYS_10_TO_18 | {"vacations": [{"from": "2027-01-01", "to": "2028-06-01"}]},
            id="vacation-too-long",
        ),
        pytest.param(
            WEEKDAYS_10_TO_18 | {"vacations": [{"from": "2027-01-01"}]}, id="vacation-no-end"
        ),
        pytest.param(
            WEEKDAYS_10_TO_18
            | {"vacations": [{"from": "2027-01-01", "to": "2027-01-02", "why": "sea"}]},
            id="vacation-extra-field",
        ),
    ],
)
def test_invalid_schedules_are_422(admin: TestClient, schedule: dict[str, object]) -> None:
    response = admin.put("/api/admin/schedule", json=schedule)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert admin.get("/api/admin/schedule").json()["weekly"]["mon"] == []


def test_service_lifecycle(admin: TestClient) -> None:
    created = admin.post("/api/admin/services", json=SERVICE)
    assert created.status_code == 201
    assert created.json() == {
        "slug": "session",
        "title": "Сессия",
        "title_en": None,
        "duration_minutes": 50,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 0,
        "slot_step_minutes": 50,
        "min_notice_minutes": 0,
        "max_days_ahead": 90,
        "daily_limit": None,
        "requires_payment": False,
        "active": True,
        "change_cutoff_minutes": 0,
        "description": None,
        "description_en": None,
        "price": None,
        "format": "either",
        "location": None,
    }
    duplicate = admin.post("/api/admin/services", json=SERVICE)
    assert duplicate.status_code == 409

    patched = admin.patch(
        "/api/admin/services/session",
        json={"buffer_after_minutes": 10, "slot_step_minutes": 60, "daily_limit": 3},
    ).json()
    assert (
        patched["buffer_after_minutes"],
        patched["slot_step_minutes"],
        patched["daily_limit"],
    ) == (10, 60, 3)
    cleared = admin.patch("/api/admin/services/session", json={"daily_limit": None}).json()
    assert cleared["daily_limit"] is None
    assert [s["slug"] for s in admin.get("/api/admin/services").json()["services"]] == ["session"]

    assert admin.delete("/api/admin/services/session").status_code == 204
    assert admin.get("/api/admin/services").json() == {"services": []}
    assert admin.delete("/api/admin/services/session").status_code == 404
    assert admin.patch("/api/admin/services/session", json={"title": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(SERVICE | {"slug": "Bad Slug"}, "slug", id="slug"),
        pytest.param(SERVICE | {"duration_minutes": 0}, None, id="zero-duration"),
        pytest.param(SERVICE | {"duration_minutes": -5}, "duration_minutes", id="negative"),
        pytest.param(SERVICE | {"title": ""}, "title", id="empty-title"),
        pytest.param(SERVICE | {"max_days_ahead": 0}, "max_days_ahead", id="horizon"),
        pytest.param(SERVICE | {"daily_limit": 0}, "daily_limit", id="limit"),
        pytest.param({"slug": "x", "title": "x"}, "duration_minutes", id="missing-duration"),
        pytest.param(SERVICE | {"colour": "red"}, "colour", id="extra-field"),
    ],
)
def test_invalid_services_are_422(
    admin: TestClient, body: dict[str, object], field: str | None
) -> None:
    response = admin.post("/api/admin/services", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    if field is not None:
        assert error["field"] == field


def test_patch_refuses_null_for_required_fields(admin: TestClient) -> None:
    admin.post("/api/admin/services", json=SERVICE)
    response = admin.patch("/api/admin/services/session", json={"duration_minutes": None})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "duration_minutes"


def test_malformed_json_is_422(admin: TestClient) -> None:
    response = admin.post(
        "/api/admin/services", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
