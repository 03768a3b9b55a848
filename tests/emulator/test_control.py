"""Control API, HTML pages, the clock and the state file."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from balance_booking.emulators.google_calendar.app import EmulatorConfig, create_emulator_app
from tests.emulator.helpers import CAL, Emulator, timed
from tests.support.live_server import serve_app


def test_default_user_exists_after_reset(emu: Emulator) -> None:
    emu.http.post("/_emulator/users", json={"email": "other@example.com", "timezone": "UTC"})
    emu.seed(timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z"))
    emu.http.post("/_emulator/reset").raise_for_status()
    state = emu.http.get("/_emulator/state").json()
    assert [u["email"] for u in state["users"]] == ["owner@example.com"]
    (calendar,) = state["calendars"]
    assert calendar == {
        "id": "owner@example.com",
        "owner_email": "owner@example.com",
        "summary": "owner@example.com",
        "timezone": "Europe/Moscow",
        "primary": True,
        "description": "",
    }
    assert state["events"] == {"owner@example.com": []}


def test_state_dump_lists_everything(emu: Emulator) -> None:
    tokens = emu.tokens([CAL])
    event = emu.seed(timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z", summary="Seeded"))
    with emu.api(tokens["access_token"]) as api:
        api.post(
            "/calendars/primary/events/watch",
            json={"id": "c1", "type": "web_hook", "address": "https://127.0.0.1:9/h"},
        )
    state = emu.http.get("/_emulator/state").json()
    assert [e["id"] for e in state["events"]["owner@example.com"]] == [event["id"]]
    assert state["grants"] == [
        {
            "email": "owner@example.com",
            "client_id": "test-client.apps.googleusercontent.com",
            "scopes": [CAL],
            "offline": True,
        }
    ]
    assert [c["id"] for c in state["channels"]] == ["c1"]
    assert [c["client_id"] for c in state["clients"]] == ["test-client.apps.googleusercontent.com"]


def test_seeding_other_users_and_control_edits(emu: Emulator) -> None:
    created = emu.http.post(
        "/_emulator/users", json={"email": "anna@example.com", "timezone": "Asia/Tokyo"}
    )
    assert created.status_code == 201
    event = emu.seed(
        {"start": {"date": "2025-03-10"}, "end": {"date": "2025-03-11"}}, email="anna@example.com"
    )
    patched = emu.http.patch(
        f"/_emulator/events/{event['id']}",
        json={"email": "anna@example.com", "event": {"summary": "Renamed"}},
    )
    assert patched.json()["summary"] == "Renamed"
    deleted = emu.http.delete(
        f"/_emulator/events/{event['id']}", params={"email": "anna@example.com"}
    )
    assert deleted.status_code == 204
    bad = emu.http.post("/_emulator/events", json={"event": {"start": {"date": "2025-03-10"}}})
    assert bad.status_code == 400


def test_clock(emu: Emulator) -> None:
    before = emu.http.get("/_emulator/clock").json()
    assert before["offset_seconds"] == 0
    after = emu.http.post("/_emulator/clock", json={"advance_seconds": 86400}).json()
    assert after["offset_seconds"] == 86400
    assert after["now"][:10] > before["now"][:10]
    assert emu.http.post("/_emulator/clock", json={"advance_seconds": -1}).status_code == 422


def test_week_page_renders_events(emu: Emulator) -> None:
    event = emu.seed(timed("2025-03-12T07:00:00Z", "2025-03-12T08:00:00Z", summary="Therapy <b>"))
    emu.seed({"summary": "Holiday", "start": {"date": "2025-03-13"}, "end": {"date": "2025-03-15"}})
    page = emu.http.get("/_emulator/calendar", params={"week": "2025-03-12"})
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "Week of 2025-03-10" in page.text
    assert "10:00-11:00" in page.text  # Moscow wall time
    assert "Therapy &lt;b&gt;" in page.text  # escaped
    assert page.text.count("Holiday") == 2  # two all-day columns
    linked = emu.http.get(event["htmlLink"].replace(emu.base, ""))
    assert linked.status_code == 200
    assert "highlight" in linked.text
    index = emu.http.get("/", follow_redirects=True)
    assert "owner@example.com" in index.text


def test_state_file_round_trip(tmp_path: Path) -> None:
    state_path = tmp_path / "emulator.json"
    config = EmulatorConfig(auto_consent=True, state_path=state_path)
    with serve_app(create_emulator_app(config)) as base, httpx.Client(base_url=base) as http:
        emu = Emulator(base=base, http=http)
        tokens = emu.tokens([CAL])
        event = emu.seed(timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z", summary="Survives"))
        emu.advance(120)
    saved = json.loads(state_path.read_text())
    assert saved["clock_offset_seconds"] == 120
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write leaves no temp files
    with serve_app(create_emulator_app(config)) as base, httpx.Client(base_url=base) as http:
        emu = Emulator(base=base, http=http)
        refreshed = emu.refresh(tokens["refresh_token"])
        assert refreshed.status_code == 200
        with emu.api(refreshed.json()["access_token"]) as api:
            got = api.get(f"/calendars/primary/events/{event['id']}").json()
        assert got["summary"] == "Survives"
        assert http.get("/_emulator/clock").json()["offset_seconds"] >= 120


def test_settings_refuse_unknown_keys_and_values(emu: Emulator) -> None:
    for body in ({"deleted_event_writes": "maybe"}, {"freebusy_max_days": 0}, {"colour": "red"}):
        assert emu.http.post("/_emulator/settings", json=body).status_code == 422, body
    assert emu.http.get("/_emulator/settings").json()["deleted_event_writes"] == "forbidden"


def test_settings_can_be_configured_per_emulator(tmp_path: Path) -> None:
    config = EmulatorConfig(
        refresh_token_lifetime_seconds=604_800,
        deleted_event_writes="restore",
        freebusy_max_range_days=62,
        state_path=tmp_path / "state.json",
    )
    with serve_app(create_emulator_app(config)) as base:
        settings = httpx.get(f"{base}/_emulator/settings").json()
        assert settings == {
            "refresh_token_lifetime_seconds": 604_800,
            "deleted_event_writes": "restore",
            "freebusy_max_days": 62,
            "freebusy_errors": {},
        }
        httpx.post(f"{base}/_emulator/settings", json={"freebusy_max_days": 10})
    saved = json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))
    assert saved["settings"]["freebusy_max_days"] == 10, "settings survive a restart"
