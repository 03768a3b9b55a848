"""Fault injection through /_emulator/: statuses, latency, outage, dropped responses."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.emulator.helpers import CAL, EVENTS_PATH, Emulator, error_reason, timed

pytestmark = pytest.mark.reliability


def fault(emu: Emulator, **spec: object) -> None:
    response = emu.http.post("/_emulator/faults", json=spec)
    assert response.status_code == 201, response.text


def test_status_reason_and_retry_after_for_count_calls(api: httpx.Client, emu: Emulator) -> None:
    fault(
        emu,
        path_prefix="/calendar/v3/calendars",
        method="GET",
        status=429,
        reason="rateLimitExceeded",
        retry_after=7,
        count=2,
    )
    for _ in range(2):
        limited = api.get(EVENTS_PATH)
        assert error_reason(limited) == (429, "rateLimitExceeded")
        assert limited.headers["retry-after"] == "7"
        assert limited.json()["error"]["errors"][0]["domain"] == "usageLimits"
    assert api.get(EVENTS_PATH).status_code == 200


def test_method_and_path_must_match(api: httpx.Client, emu: Emulator) -> None:
    fault(emu, path_prefix="/calendar/v3/freeBusy", status=500)
    fault(emu, method="DELETE", status=503)
    assert api.get(EVENTS_PATH).status_code == 200
    assert error_reason(api.post("/freeBusy", json={})) == (500, "backendError")
    assert error_reason(api.delete(f"{EVENTS_PATH}/abcdefgh")) == (503, "backendError")


def test_403_user_rate_limit_and_quota(api: httpx.Client, emu: Emulator) -> None:
    fault(emu, status=403, reason="userRateLimitExceeded")
    fault(emu, status=403, reason="quotaExceeded")
    first = api.get(EVENTS_PATH)
    assert error_reason(first) == (403, "userRateLimitExceeded")
    assert first.json()["error"]["message"] == "User Rate Limit Exceeded"
    assert error_reason(api.get(EVENTS_PATH)) == (403, "quotaExceeded")


def test_unlimited_fault_until_cleared(api: httpx.Client, emu: Emulator) -> None:
    fault(emu, status=500, count=0)
    for _ in range(3):
        assert api.get(EVENTS_PATH).status_code == 500
    assert emu.http.get("/_emulator/faults").json()["faults"][0]["remaining"] is None
    emu.http.delete("/_emulator/faults").raise_for_status()
    assert api.get(EVENTS_PATH).status_code == 200


def test_latency_only(api: httpx.Client, emu: Emulator) -> None:
    fault(emu, latency_ms=300)
    started = time.monotonic()
    assert api.get(EVENTS_PATH).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    api.get(EVENTS_PATH)
    assert time.monotonic() - started < 0.3


def test_outage_is_503_everywhere_but_control(api: httpx.Client, emu: Emulator) -> None:
    emu.http.post("/_emulator/outage", json={"down": True}).raise_for_status()
    assert error_reason(api.get(EVENTS_PATH)) == (503, "backendError")
    token = emu.http.post("/token", data={"grant_type": "refresh_token"})
    assert (token.status_code, token.json()["error"]) == (503, "temporarily_unavailable")
    assert emu.http.get("/_emulator/state").status_code == 200
    emu.http.post("/_emulator/outage", json={"down": False}).raise_for_status()
    assert api.get(EVENTS_PATH).status_code == 200


def test_token_endpoint_fault_uses_the_oauth_shape(emu: Emulator) -> None:
    tokens = emu.tokens([CAL])
    fault(emu, path_prefix="/token", status=500)
    failed = emu.refresh(tokens["refresh_token"])
    assert failed.status_code == 500
    assert failed.json()["error"] == "internal_failure"
    assert emu.refresh(tokens["refresh_token"]).status_code == 200


def test_drop_response_commits_the_insert_exactly_once(api: httpx.Client, emu: Emulator) -> None:
    fault(
        emu, path_prefix="/calendar/v3/calendars/primary/events", method="POST", drop_response=True
    )
    body = timed("2025-03-10T10:00:00Z", "2025-03-10T11:00:00Z", id="a0b1c2d3e4f5")
    lost = api.post(EVENTS_PATH, json=body)
    assert error_reason(lost) == (503, "backendError")
    retry = api.post(EVENTS_PATH, json=body)
    assert error_reason(retry) == (409, "duplicate")
    items = api.get(EVENTS_PATH).json()["items"]
    assert [i["id"] for i in items] == ["a0b1c2d3e4f5"]


def test_fault_needs_an_effect(emu: Emulator) -> None:
    assert emu.http.post("/_emulator/faults", json={"path_prefix": "/x"}).status_code == 400
