"""Recurring events: RRULE/EXDATE expansion, instance ids, exceptions, all-day series, DST."""

from __future__ import annotations

from typing import Any

import httpx

from tests.emulator.helpers import EVENTS_PATH, error_reason

WEEKLY = {
    "summary": "Weekly",
    "start": {"dateTime": "2025-03-03T10:00:00", "timeZone": "Europe/Berlin"},
    "end": {"dateTime": "2025-03-03T11:00:00", "timeZone": "Europe/Berlin"},
    "recurrence": [
        "RRULE:FREQ=WEEKLY;COUNT=5",
        "EXDATE;TZID=Europe/Berlin:20250317T100000",
    ],
}


def expanded(api: httpx.Client, **params: str) -> list[dict[str, Any]]:
    response = api.get(
        EVENTS_PATH, params={"singleEvents": "true", "orderBy": "startTime", **params}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_weekly_series_with_exdate_and_dst(api: httpx.Client) -> None:
    master = api.post(EVENTS_PATH, json=WEEKLY).json()
    assert master["recurrence"] == WEEKLY["recurrence"]
    instances = expanded(api, timeZone="UTC")
    # 5 weeks minus the EXDATE; Berlin switches to summer time on 30 March: 10:00 stays 10:00 local.
    assert [i["start"]["dateTime"] for i in instances] == [
        "2025-03-03T09:00:00Z".replace("Z", "+00:00"),
        "2025-03-10T09:00:00+00:00",
        "2025-03-24T09:00:00+00:00",
        "2025-03-31T08:00:00+00:00",
    ]
    first = instances[0]
    assert first["id"] == f"{master['id']}_20250303T090000Z"
    assert first["recurringEventId"] == master["id"]
    assert first["originalStartTime"]["timeZone"] == "Europe/Berlin"
    assert "recurrence" not in first
    # Without singleEvents only the series itself is listed.
    plain = api.get(EVENTS_PATH).json()["items"]
    assert [i["id"] for i in plain] == [master["id"]]


def test_window_selects_instances(api: httpx.Client) -> None:
    api.post(EVENTS_PATH, json=WEEKLY)
    window = expanded(api, timeMin="2025-03-09T00:00:00Z", timeMax="2025-03-25T00:00:00Z")
    assert len(window) == 2
    plain = api.get(EVENTS_PATH, params={"timeMin": "2025-04-10T00:00:00Z"}).json()["items"]
    assert plain == []  # the series has no instance after the window start


def test_instance_get_patch_and_delete(api: httpx.Client) -> None:
    master = api.post(EVENTS_PATH, json=WEEKLY).json()
    instance_id = f"{master['id']}_20250310T090000Z"
    got = api.get(f"{EVENTS_PATH}/{instance_id}").json()
    assert got["recurringEventId"] == master["id"]
    assert error_reason(api.get(f"{EVENTS_PATH}/{master['id']}_20250311T090000Z")) == (
        404,
        "notFound",
    )
    moved = api.patch(
        f"{EVENTS_PATH}/{instance_id}",
        json={
            "start": {"dateTime": "2025-03-10T15:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2025-03-10T16:00:00", "timeZone": "Europe/Berlin"},
        },
    ).json()
    assert moved["id"] == instance_id
    cancelled_id = f"{master['id']}_20250324T090000Z"
    assert api.delete(f"{EVENTS_PATH}/{cancelled_id}").status_code == 204
    starts = [i["start"]["dateTime"] for i in expanded(api, timeZone="Europe/Berlin")]
    assert starts == [
        "2025-03-03T10:00:00+01:00",
        "2025-03-10T15:00:00+01:00",
        "2025-03-31T10:00:00+02:00",
    ]
    # A plain listing shows the series and the exceptions, cancelled ones included.
    plain = {i["id"]: i["status"] for i in api.get(EVENTS_PATH).json()["items"]}
    assert plain == {master["id"]: "confirmed", instance_id: "confirmed", cancelled_id: "cancelled"}


def test_all_day_series_and_until(api: httpx.Client) -> None:
    series = {
        "summary": "Daily all-day",
        "start": {"date": "2025-03-01"},
        "end": {"date": "2025-03-02"},
        "recurrence": ["RRULE:FREQ=DAILY;UNTIL=20250304", "EXDATE;VALUE=DATE:20250302"],
    }
    master = api.post(EVENTS_PATH, json=series).json()
    instances = expanded(api)
    assert [i["start"]["date"] for i in instances] == ["2025-03-01", "2025-03-03", "2025-03-04"]
    assert instances[0]["id"] == f"{master['id']}_20250301"
    assert instances[0]["originalStartTime"] == {"date": "2025-03-01"}


def test_recurrence_needs_a_time_zone_and_a_valid_rule(api: httpx.Client) -> None:
    no_zone = {
        **WEEKLY,
        "start": {"dateTime": "2025-03-03T10:00:00Z"},
        "end": {"dateTime": "2025-03-03T11:00:00Z"},
    }
    assert error_reason(api.post(EVENTS_PATH, json=no_zone)) == (400, "required")
    bad_rule = {**WEEKLY, "recurrence": ["RRULE:FREQ=SOMETIMES"]}
    assert error_reason(api.post(EVENTS_PATH, json=bad_rule)) == (400, "invalid")


def test_deleting_a_series_removes_every_instance(api: httpx.Client) -> None:
    master = api.post(EVENTS_PATH, json=WEEKLY).json()
    assert api.delete(f"{EVENTS_PATH}/{master['id']}").status_code == 204
    assert expanded(api) == []


def test_instances_method(api: httpx.Client) -> None:
    master = api.post(EVENTS_PATH, json=WEEKLY).json()
    body = api.get(f"{EVENTS_PATH}/{master['id']}/instances").json()
    assert len(body["items"]) == 4
