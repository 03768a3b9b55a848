"""events.* on /calendar/v3: ids, soft delete, listing windows, ordering, paging, filters, sync."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from balance_booking.emulators.google_calendar.app import EmulatorConfig, create_emulator_app
from tests.emulator.helpers import CAL, EVENTS_PATH, Emulator, error_reason, timed
from tests.support.live_server import serve_app


def insert(api: httpx.Client, event: dict[str, Any], **params: str) -> dict[str, Any]:
    response = api.post(EVENTS_PATH, json=event, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def insert_hour(api: httpx.Client, day: str, hour: int = 10, **fields: Any) -> dict[str, Any]:
    """Insert a one-hour event that starts at `hour`:00 UTC on `day`."""
    return insert(api, timed(f"{day}T{hour:02d}:00:00Z", f"{day}T{hour + 1:02d}:00:00Z", **fields))


def list_events(api: httpx.Client, **params: Any) -> httpx.Response:
    """One events.list page of the primary calendar, as answered."""
    return api.get(EVENTS_PATH, params=params)


def list_all(api: httpx.Client, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page: dict[str, Any] = {}
    while True:
        response = list_events(api, **params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if "nextPageToken" not in page:
            return items, page
        assert "nextSyncToken" not in page
        params = {**params, "pageToken": page["nextPageToken"]}


def test_insert_returns_google_shaped_event(api: httpx.Client) -> None:
    event = insert_hour(
        api,
        "2025-03-10",
        summary="Session",
        attendees=[{"email": "owner@example.com"}, {"email": "guest@example.org"}],
        extendedProperties={"private": {"balance_app": "1"}},
    )
    assert event["kind"] == "calendar#event"
    assert event["status"] == "confirmed"
    # Timed values come back in the calendar's zone (Moscow, +03:00).
    assert event["start"] == {"dateTime": "2025-03-10T13:00:00+03:00"}
    assert event["etag"].startswith('"')
    assert event["iCalUID"] == f"{event['id']}@google.com"
    assert event["sequence"] == 0
    assert event["organizer"] == {"email": "owner@example.com", "self": True}
    assert event["creator"] == {"email": "owner@example.com", "self": True}
    assert event["created"].endswith("Z")
    assert event["updated"].endswith("Z")
    assert event["htmlLink"].startswith("http://127.0.0.1:")
    assert "transparency" not in event  # opaque is the default and Google omits it
    attendees = {a["email"]: a for a in event["attendees"]}
    assert attendees["owner@example.com"]["self"] is True
    assert attendees["guest@example.org"]["responseStatus"] == "needsAction"
    assert "self" not in attendees["guest@example.org"]


def test_client_ids_validated_and_unique(api: httpx.Client) -> None:
    body = timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z")
    for bad in ("abcd", "abcdw1234", "ABCDEF123", "abc-def-12", "x" * 6, "a" * 1025):
        response = api.post(EVENTS_PATH, json={**body, "id": bad})
        assert error_reason(response) == (400, "invalid"), bad
        assert response.json()["error"]["message"] == "Invalid resource id value."
    good = "0123456789abcdefghijklmnopqrstuv"
    assert insert(api, {**body, "id": good})["id"] == good
    duplicate = api.post(EVENTS_PATH, json={**body, "id": good})
    assert error_reason(duplicate) == (409, "duplicate")
    assert api.delete(f"{EVENTS_PATH}/{good}").status_code == 204
    # The id of a deleted event stays taken.
    assert error_reason(api.post(EVENTS_PATH, json={**body, "id": good})) == (409, "duplicate")


def test_soft_delete_then_410_and_404(api: httpx.Client) -> None:
    event = insert_hour(api, "2025-03-10")
    path = f"{EVENTS_PATH}/{event['id']}"
    deleted = api.delete(path)
    assert (deleted.status_code, deleted.content) == (204, b"")
    again = api.delete(path)
    assert error_reason(again) == (410, "deleted")
    cancelled = api.get(path).json()
    assert cancelled["status"] == "cancelled"
    assert error_reason(api.get(f"{EVENTS_PATH}/nosuchevent1")) == (404, "notFound")
    assert error_reason(api.delete(f"{EVENTS_PATH}/nosuchevent1")) == (404, "notFound")
    assert error_reason(api.get("/calendars/nobody@example.com/events")) == (404, "notFound")


def test_patch_update_and_if_match(api: httpx.Client) -> None:
    event = insert_hour(
        api,
        "2025-03-10",
        summary="A",
        description="keep",
        extendedProperties={"private": {"a": "1"}},
    )
    path = f"{EVENTS_PATH}/{event['id']}"
    patched = api.patch(
        path, json={"summary": "B", "extendedProperties": {"private": {"b": "2"}}}
    ).json()
    assert patched["summary"] == "B"
    assert patched["description"] == "keep"
    assert patched["extendedProperties"]["private"] == {"a": "1", "b": "2"}
    assert patched["etag"] != event["etag"]
    assert patched["sequence"] == 0
    moved = api.patch(
        path,
        json={
            "start": {"dateTime": "2025-03-10T12:00:00Z"},
            "end": {"dateTime": "2025-03-10T13:00:00Z"},
        },
    ).json()
    assert moved["sequence"] == 1
    stale = api.patch(path, json={"summary": "C"}, headers={"If-Match": event["etag"]})
    assert error_reason(stale) == (412, "conditionNotMet")
    fresh = api.patch(path, json={"summary": "C"}, headers={"If-Match": moved["etag"]})
    assert fresh.status_code == 200
    replaced = api.put(
        path, json=timed("2025-03-11T10:00:00Z", "2025-03-11T11:00:00Z", summary="D")
    ).json()
    assert replaced["summary"] == "D"
    assert "description" not in replaced
    assert replaced["id"] == event["id"]
    assert replaced["created"] == event["created"]
    missing_end = api.put(path, json={"start": {"dateTime": "2025-03-11T10:00:00Z"}})
    assert error_reason(missing_end) == (400, "required")


def test_insert_validation(api: httpx.Client) -> None:
    backwards = api.post(EVENTS_PATH, json=timed("2025-03-10T11:00:00Z", "2025-03-10T10:00:00Z"))
    assert error_reason(backwards) == (400, "timeRangeEmpty")
    mixed = api.post(
        EVENTS_PATH,
        json={"start": {"date": "2025-03-10"}, "end": {"dateTime": "2025-03-10T10:00:00Z"}},
    )
    assert error_reason(mixed) == (400, "invalid")
    no_zone = api.post(
        EVENTS_PATH,
        json={
            "start": {"dateTime": "2025-03-10T10:00:00"},
            "end": {"dateTime": "2025-03-10T11:00:00"},
        },
    )
    assert error_reason(no_zone) == (400, "invalid")
    garbage = api.post(
        EVENTS_PATH, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert error_reason(garbage) == (400, "parseError")
    bad_transparency = api.post(
        EVENTS_PATH,
        json=timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z", transparency="see-through"),
    )
    assert error_reason(bad_transparency) == (400, "invalid")


def test_time_window_semantics(api: httpx.Client) -> None:
    early = insert_hour(api, "2025-03-10", 8, summary="early")
    inside = insert(api, timed("2025-03-10T09:30:00Z", "2025-03-10T10:30:00Z", summary="inside"))
    late = insert_hour(api, "2025-03-10", 11, summary="late")
    items, _ = list_all(api, timeMin="2025-03-10T09:00:00Z", timeMax="2025-03-10T11:00:00Z")
    # timeMin is exclusive on the end (early ends at 09:00) and timeMax exclusive on the start.
    assert [i["id"] for i in items] == [inside["id"]]
    items, _ = list_all(api, timeMin="2025-03-10T08:59:59Z", timeMax="2025-03-10T11:00:01Z")
    assert {i["id"] for i in items} == {early["id"], inside["id"], late["id"]}
    empty = list_events(api, timeMin="2025-03-10T10:00:00Z", timeMax="2025-03-10T10:00:00Z")
    assert error_reason(empty) == (400, "timeRangeEmpty")
    assert empty.json()["error"]["errors"][0]["location"] == "timeMax"
    no_offset = list_events(api, timeMin="2025-03-10T10:00:00")
    assert no_offset.status_code == 400


def test_order_by_rules(api: httpx.Client) -> None:
    second = insert_hour(api, "2025-03-11")
    first = insert_hour(api, "2025-03-10")
    refused = list_events(api, orderBy="startTime")
    assert error_reason(refused) == (400, "badRequest")
    by_start, _ = list_all(api, orderBy="startTime", singleEvents="true")
    assert [i["id"] for i in by_start] == [first["id"], second["id"]]
    api.patch(f"{EVENTS_PATH}/{second['id']}", json={"summary": "touched"})
    by_updated, _ = list_all(api, orderBy="updated")
    assert [i["id"] for i in by_updated] == [first["id"], second["id"]]


def test_paging(api: httpx.Client, emu: Emulator) -> None:
    ids = {
        emu.seed(timed(f"2025-03-{day:02d}T10:00:00Z", f"2025-03-{day:02d}T11:00:00Z"))["id"]
        for day in range(1, 8)
    }
    first = list_events(api, maxResults=3).json()
    assert len(first["items"]) == 3
    assert "nextPageToken" in first
    assert "nextSyncToken" not in first
    items, last = list_all(api, maxResults=3)
    assert {i["id"] for i in items} == ids
    assert len(items) == 7
    assert "nextSyncToken" in last
    bad = list_events(api, pageToken="garbage!")
    assert bad.status_code == 400


def test_incremental_sync_includes_deletions(api: httpx.Client) -> None:
    keep = insert_hour(api, "2025-03-10")
    drop = insert_hour(api, "2025-03-11")
    _, last = list_all(api)
    token = last["nextSyncToken"]
    nothing = list_events(api, syncToken=token).json()
    assert nothing["items"] == []
    api.delete(f"{EVENTS_PATH}/{drop['id']}")
    api.patch(f"{EVENTS_PATH}/{keep['id']}", json={"summary": "changed"})
    added = insert_hour(api, "2025-03-12")
    changes, last = list_all(api, syncToken=token, maxResults=1)
    by_id = {i["id"]: i for i in changes}
    assert set(by_id) == {keep["id"], drop["id"], added["id"]}
    assert by_id[drop["id"]]["status"] == "cancelled"
    assert by_id[keep["id"]]["summary"] == "changed"
    again = list_events(api, syncToken=last["nextSyncToken"]).json()
    assert again["items"] == []
    # Deleted events stay out of plain listings unless showDeleted.
    plain, _ = list_all(api)
    assert drop["id"] not in {i["id"] for i in plain}
    shown, _ = list_all(api, showDeleted="true")
    assert drop["id"] in {i["id"] for i in shown}


def test_sync_token_forbidden_parameters_and_expiry(api: httpx.Client, emu: Emulator) -> None:
    _, last = list_all(api)
    token = last["nextSyncToken"]
    for name, value in (
        ("timeMin", "2025-01-01T00:00:00Z"),
        ("timeMax", "2025-01-01T00:00:00Z"),
        ("orderBy", "updated"),
        ("q", "x"),
        ("privateExtendedProperty", "a=b"),
        ("sharedExtendedProperty", "a=b"),
        ("iCalUID", "x@google.com"),
        ("updatedMin", "2025-01-01T00:00:00Z"),
    ):
        response = list_events(api, syncToken=token, **{name: value})
        assert response.status_code == 400, name
    allowed = list_events(api, syncToken=token, singleEvents="true", eventTypes="default")
    assert allowed.status_code == 200
    emu.http.post("/_emulator/expire-sync-tokens").raise_for_status()
    gone = list_events(api, syncToken=token)
    assert error_reason(gone) == (410, "fullSyncRequired")
    assert (
        gone.json()["error"]["message"] == "Sync token is no longer valid, a full sync is required."
    )
    _, fresh = list_all(api)
    assert list_events(api, syncToken=fresh["nextSyncToken"]).status_code == 200


def test_sync_token_ttl() -> None:
    with (
        serve_app(
            create_emulator_app(EmulatorConfig(auto_consent=True, sync_token_ttl_seconds=60))
        ) as base,
        httpx.Client(base_url=base) as http,
    ):
        emu = Emulator(base=base, http=http)
        tokens = emu.tokens([CAL])
        with emu.api(tokens["access_token"]) as api:
            token = list_events(api).json()["nextSyncToken"]
            assert list_events(api, syncToken=token).status_code == 200
            emu.advance(61)
            assert error_reason(list_events(api, syncToken=token)) == (
                410,
                "fullSyncRequired",
            )


def test_filters(api: httpx.Client) -> None:
    ours = insert_hour(
        api,
        "2025-03-10",
        summary="Ours",
        extendedProperties={"private": {"balance_app": "1", "kind": "x"}},
    )
    insert_hour(
        api,
        "2025-03-10",
        12,
        summary="Theirs",
        extendedProperties={"private": {"balance_app": "0"}},
    )
    ooo = insert(
        api,
        timed(
            "2025-03-11T10:00:00Z", "2025-03-11T18:00:00Z", summary="Away", eventType="outOfOffice"
        ),
    )
    match, _ = list_all(api, privateExtendedProperty="balance_app=1")
    assert [i["id"] for i in match] == [ours["id"]]
    both = api.get(
        EVENTS_PATH,
        params=[
            ("privateExtendedProperty", "balance_app=1"),
            ("privateExtendedProperty", "kind=y"),
        ],
    ).json()
    assert both["items"] == []
    typed = api.get(EVENTS_PATH, params=[("eventTypes", "outOfOffice")]).json()
    assert [i["id"] for i in typed["items"]] == [ooo["id"]]
    assert list_events(api, eventTypes="party").status_code == 400
    searched, _ = list_all(api, q="theirs")
    assert [i["summary"] for i in searched] == ["Theirs"]


def test_standard_parameters_and_fields(api: httpx.Client) -> None:
    insert_hour(api, "2025-03-10", summary="S")
    response = list_events(
        api,
        alt="json",
        prettyPrint="false",
        quotaUser="u1",
        fields="items(id,summary),nextSyncToken",
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "nextSyncToken"}
    assert set(body["items"][0]) == {"id", "summary"}
    nested = list_events(api, fields="items/start/dateTime,kind").json()
    assert nested == {
        "kind": "calendar#events",
        "items": [{"start": {"dateTime": "2025-03-10T13:00:00+03:00"}}],
    }


def test_list_response_envelope(api: httpx.Client) -> None:
    body = list_events(api).json()
    assert body["kind"] == "calendar#events"
    assert body["timeZone"] == "Europe/Moscow"
    assert body["accessRole"] == "owner"
    assert body["items"] == []


def test_calendar_list_and_get(api: httpx.Client) -> None:
    listing = api.get("/users/me/calendarList").json()
    assert listing["kind"] == "calendar#calendarList"
    (entry,) = listing["items"]
    assert entry["id"] == "owner@example.com"
    assert entry["primary"] is True
    assert entry["accessRole"] == "owner"
    calendar = api.get("/calendars/primary").json()
    assert calendar == api.get("/calendars/owner%40example.com").json()
    assert calendar["kind"] == "calendar#calendar"
    assert calendar["timeZone"] == "Europe/Moscow"
    setting = api.get("/users/me/settings/timezone").json()
    assert setting["value"] == "Europe/Moscow"
    assert error_reason(api.get("/no/such/method")) == (404, "notFound")


def test_secondary_calendar(api: httpx.Client, emu: Emulator) -> None:
    created = emu.http.post(
        "/_emulator/calendars", json={"summary": "Work", "timezone": "UTC"}
    ).json()
    path = f"/calendars/{created['id']}/events"
    assert (
        api.post(path, json=timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z")).status_code
        == 200
    )
    assert len(api.get(path).json()["items"]) == 1
    assert list_events(api).json()["items"] == []
    assert len(api.get("/users/me/calendarList").json()["items"]) == 2


def test_parallel_writes_are_all_kept(api: httpx.Client, emu: Emulator) -> None:
    def one(day: int) -> int:
        body = timed(f"2025-04-{day:02d}T10:00:00Z", f"2025-04-{day:02d}T11:00:00Z")
        return api.post(EVENTS_PATH, json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one, range(1, 25)))
    assert statuses == [200] * 24
    items, last = list_all(api, maxResults=5)
    assert len(items) == 24
    assert len({i["etag"] for i in items}) == 24
    assert list_events(api, syncToken=last["nextSyncToken"]).json()["items"] == []


def test_instances_rejects_a_bad_page_token(api: httpx.Client) -> None:
    series = {
        "start": {"dateTime": "2025-03-03T10:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2025-03-03T11:00:00", "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
    }
    master = insert(api, series)
    response = api.get(f"{EVENTS_PATH}/{master['id']}/instances", params={"pageToken": "%%%"})
    assert error_reason(response) == (400, "invalid")
