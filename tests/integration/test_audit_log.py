"""The audit log (API.md "Privacy and data rights"): every admin route that changes something
writes exactly one entry, in the transaction of the change; reads write none.

The walk is driven by the app itself: every admin route (API and pages) is enumerated, and the
test fails when a route that can change something has no case below, so a new admin route cannot
slip past the audit log unseen."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from balance_booking.application.ports import NewMessage, OutboxKind
from balance_booking.bootstrap import Container, build_app, create_admin, create_admin_token
from balance_booking.web.audit import admin_routes
from tests.support.google import consent

pytestmark = [pytest.mark.both_databases, pytest.mark.google()]

API = "/api/admin"
GOOGLE = f"{API}/integrations/google-calendar"
PAGES = "/admin/settings/integrations"
PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "therapist@example.org"
# Routes that change something although they are GETs: Google's redirect back to us, and the
# export of one client's data (a read, but one the practitioner must be able to account for).
CHANGING_GETS = {("GET", f"{GOOGLE}/callback"), ("GET", f"{API}/clients")}
CLIENT_EMAIL = "audit-walk-client@example.org"


@dataclass
class Walk:
    """What the cases share: the API client (bearer token), a signed-in browser, the container."""

    api: TestClient
    browser: TestClient
    container: Container
    made: dict[str, Any] = field(default_factory=dict)

    def csrf(self) -> str:
        page = self.browser.get(PAGES)
        assert page.status_code == 200, page.text
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match is not None
        return match.group(1)

    def form(self, path: str, **fields: str) -> None:
        answer = self.browser.post(
            path, data={"csrf_token": self.csrf(), **fields}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        assert "failed" not in answer.headers["location"], answer.headers["location"]

    def parked_message(self) -> int:
        """A parked outbox row to retry (set up directly: parking takes 24 h of failures)."""
        now = self.container.clock.now()
        with self.container.writers() as uow:
            uow.outbox.append(
                [
                    NewMessage(
                        kind=OutboxKind.EMAIL, topic="confirmed", payload={"n": len(self.made)}
                    )
                ],
                now=now,
            )
            uow.commit()
        with self.container.writers() as uow:
            row = max(
                uow.outbox.claim_due(
                    kinds=[OutboxKind.EMAIL], now=now, limit=10, lease=timedelta(minutes=1)
                ),
                key=lambda message: message.message_id,
            )
            uow.outbox.park(row.message_id, error="refused", now=now)
            uow.commit()
        return row.message_id


def _ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content and status != 303 else None


def _book(walk: Walk, start: str, **extra: Any) -> dict[str, Any]:
    body = {
        "service_slug": "session",
        "start": start,
        "timezone": "Europe/Moscow",
        "client": {"name": "Audit Walk", "email": CLIENT_EMAIL},
        "notify": False,
    } | extra
    return _ok(walk.api.post(f"{API}/appointments", json=body), 201)


# Thursday 3 December 2026 onwards, in working hours (the tests' clock: Monday 30 November).
def _slot(day: int, hour: int) -> str:
    return f"2026-12-{day:02d}T{hour:02d}:00:00+03:00"


def _paid_hold(walk: Walk) -> str:
    _ok(
        walk.api.post(
            f"{API}/services",
            json={
                "slug": "paid",
                "title": "Платная",
                "duration_minutes": 50,
                "slot_step_minutes": 60,
                "requires_payment": True,
            },
        ),
        201,
    )
    booked = walk.api.post(
        "/api/public/booking/appointments",
        json={
            "service_slug": "paid",
            "start": _slot(4, 15),
            "timezone": "Europe/Moscow",
            "client": {"name": "Audit Walk", "email": CLIENT_EMAIL},
        },
    )
    appointment = _ok(booked, 201)["appointment"]
    assert appointment["status"] == "pending_payment"
    return str(appointment["id"])


def _callback(walk: Walk) -> None:
    started = _ok(walk.api.post(f"{GOOGLE}/connect"))
    walk.made["callback"] = consent(started["authorization_url"])


# (method, route path) -> (prepare: runs first, not counted; act: the audited request). The order
# matters only where one case needs an earlier one's result or Google connected.
Case = tuple[Callable[[Walk], None] | None, Callable[[Walk], None]]
CASES: dict[tuple[str, str], Case] = {
    ("PUT", f"{API}/schedule"): (
        None,
        lambda w: _ok(
            w.api.put(
                f"{API}/schedule",
                json={
                    "timezone": "Europe/Moscow",
                    "weekly": {
                        d: [["09:00", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
                    },
                    "overrides": [],
                },
            )
        ),
    ),
    ("POST", f"{API}/services"): (
        None,
        lambda w: _ok(
            w.api.post(
                f"{API}/services", json={"slug": "extra", "title": "Extra", "duration_minutes": 30}
            ),
            201,
        ),
    ),
    ("PATCH", f"{API}/services/{{slug}}"): (
        None,
        lambda w: _ok(w.api.patch(f"{API}/services/extra", json={"title": "Extra 2"})),
    ),
    ("DELETE", f"{API}/services/{{slug}}"): (
        None,
        lambda w: _ok(w.api.delete(f"{API}/services/extra"), 204),
    ),
    ("POST", f"{API}/appointments"): (
        None,
        lambda w: w.made.update(one=_book(w, _slot(3, 11))["appointments"][0]["id"]),
    ),
    ("POST", f"{API}/appointments/{{appointment_id}}/reschedule"): (
        None,
        lambda w: _ok(
            w.api.post(
                f"{API}/appointments/{w.made['one']}/reschedule", json={"start": _slot(3, 12)}
            )
        ),
    ),
    ("POST", f"{API}/appointments/{{appointment_id}}/cancel"): (
        None,
        lambda w: _ok(w.api.post(f"{API}/appointments/{w.made['one']}/cancel")),
    ),
    ("POST", f"{API}/appointments/{{appointment_id}}/confirm"): (
        lambda w: w.made.update(hold=_paid_hold(w)),
        lambda w: _ok(w.api.post(f"{API}/appointments/{w.made['hold']}/confirm")),
    ),
    ("POST", f"{API}/series/{{series_id}}/cancel"): (
        lambda w: w.made.update(
            series=_book(w, _slot(7, 16), repeat={"weekly": 2})["appointments"][0]["series_id"]
        ),
        lambda w: _ok(w.api.post(f"{API}/series/{w.made['series']}/cancel")),
    ),
    ("POST", f"{API}/outbox/{{message_id}}/retry"): (
        lambda w: w.made.update(parked=w.parked_message()),
        lambda w: _ok(w.api.post(f"{API}/outbox/{w.made['parked']}/retry")),
    ),
    ("DELETE", f"{API}/tokens/{{token_id}}"): (
        lambda w: (
            create_admin_token(w.container, name="spare"),
            w.made.update(
                token=next(
                    t["id"]
                    for t in _ok(w.api.get(f"{API}/tokens"))["tokens"]
                    if t["name"] == "spare"
                )
            ),
        ),
        lambda w: _ok(w.api.delete(f"{API}/tokens/{w.made['token']}"), 204),
    ),
    ("DELETE", f"{API}/waitlist/{{entry_id}}"): (
        lambda w: w.made.update(
            entry=_ok(
                w.api.post(
                    "/api/public/booking/waitlist",
                    json={
                        "service_slug": "session",
                        "name": "Audit Walk",
                        "email": CLIENT_EMAIL,
                        "timezone": "Europe/Moscow",
                    },
                ),
                201,
            )["id"]
        ),
        lambda w: _ok(w.api.delete(f"{API}/waitlist/{w.made['entry']}"), 204),
    ),
    ("GET", f"{API}/clients"): (
        None,
        lambda w: _ok(w.api.get(f"{API}/clients", params={"email": CLIENT_EMAIL})),
    ),
    ("POST", f"{API}/clients/erase"): (
        None,
        lambda w: _ok(w.api.post(f"{API}/clients/erase", json={"email": CLIENT_EMAIL})),
    ),
    ("POST", f"{GOOGLE}/sync"): (None, lambda w: _ok(w.api.post(f"{GOOGLE}/sync"))),
    ("PUT", f"{GOOGLE}/calendars"): (
        None,
        lambda w: _ok(
            w.api.put(
                f"{GOOGLE}/calendars",
                json={
                    "blocking_calendar_ids": [
                        c["id"]
                        for c in _ok(w.api.get(f"{GOOGLE}/calendars"))["calendars"]
                        if c["primary"]
                    ]
                },
            )
        ),
    ),
    ("POST", f"{PAGES}/calendars"): (
        None,
        lambda w: w.form(
            f"{PAGES}/calendars",
            calendar=next(
                c["id"] for c in _ok(w.api.get(f"{GOOGLE}/calendars"))["calendars"] if c["primary"]
            ),
        ),
    ),
    ("PUT", f"{GOOGLE}/settings"): (
        None,
        lambda w: _ok(w.api.put(f"{GOOGLE}/settings", json={"enabled": True})),
    ),
    ("POST", f"{GOOGLE}/connect"): (None, lambda w: _ok(w.api.post(f"{GOOGLE}/connect"))),
    ("GET", f"{GOOGLE}/callback"): (
        _callback,
        lambda w: _ok(w.api.get(w.made["callback"], follow_redirects=False), 303),
    ),
    ("POST", f"{PAGES}/sync"): (None, lambda w: w.form(f"{PAGES}/sync")),
    ("POST", f"{PAGES}/enabled"): (None, lambda w: w.form(f"{PAGES}/enabled", enabled="on")),
    ("POST", f"{PAGES}/tokens/{{token_id}}/revoke"): (
        lambda w: (
            create_admin_token(w.container, name="spare2"),
            w.made.update(
                token2=next(
                    t["id"]
                    for t in _ok(w.api.get(f"{API}/tokens"))["tokens"]
                    if t["name"] == "spare2"
                )
            ),
        ),
        lambda w: w.form(f"{PAGES}/tokens/{w.made['token2']}/revoke"),
    ),
    ("POST", f"{PAGES}/outbox/{{message_id}}/retry"): (
        lambda w: w.made.update(parked2=w.parked_message()),
        lambda w: w.form(f"{PAGES}/outbox/{w.made['parked2']}/retry"),
    ),
    ("POST", f"{PAGES}/connect"): (
        None,
        lambda w: _ok(
            w.browser.post(
                f"{PAGES}/connect", data={"csrf_token": w.csrf()}, follow_redirects=False
            ),
            303,
        ),
    ),
    ("POST", f"{PAGES}/disconnect"): (
        None,
        lambda w: w.form(f"{PAGES}/disconnect", confirm="yes"),
    ),
    ("POST", f"{GOOGLE}/disconnect"): (None, lambda w: _ok(w.api.post(f"{GOOGLE}/disconnect"))),
    ("POST", "/admin/logout"): (None, lambda w: w.form("/admin/logout")),
    ("POST", "/admin/login"): (
        None,
        lambda w: _ok(
            w.browser.post(
                "/admin/login",
                data={"email": ADMIN_EMAIL, "password": PASSWORD, "next": PAGES},
                follow_redirects=False,
            ),
            303,
        ),
    ),
}


def _entries(api: TestClient) -> list[dict[str, Any]]:
    answer = api.get(f"{API}/audit", params={"limit": 500})
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def test_every_changing_admin_route_writes_exactly_one_entry(
    connected: TestClient, container: Container
) -> None:
    routes = admin_routes(connected.app)  # type: ignore[arg-type]
    changing = {
        (method, route.path or "")
        for route in routes
        for method in route.methods or set()
        if method not in {"GET", "HEAD"} or (method, route.path) in CHANGING_GETS
    }
    assert changing == set(CASES), "an admin route without an audit case (or a stale case)"
    names = {
        (method, route.path or ""): route.name for route in routes for method in route.methods or ()
    }

    create_admin(container, email=ADMIN_EMAIL, password=PASSWORD)
    browser = TestClient(build_app(container))
    signed_in = browser.post(
        "/admin/login", data={"email": ADMIN_EMAIL, "password": PASSWORD}, follow_redirects=False
    )
    assert signed_in.status_code == 303
    walk = Walk(api=connected, browser=browser, container=container)

    for key, (prepare, act) in CASES.items():
        if prepare is not None:
            prepare(walk)
        before = _entries(connected)
        act(walk)
        after = _entries(connected)
        new = after[: len(after) - len(before)]
        assert len(new) == 1, (key, new)
        entry = new[0]
        assert entry["action"] == names[key], (key, entry)
        page = key[1].startswith("/admin")
        assert entry["actor"] == (ADMIN_EMAIL if page else "token:test"), (key, entry)
        assert entry["ip"] == "testclient"
        if "{" in key[1]:
            assert "=" in (entry["target"] or ""), (key, entry)
        # Never a client's personal data: the walk's client e-mail appears in no entry.
        assert CLIENT_EMAIL not in str(entry)


def test_reads_and_refusals_write_no_entry(connected: TestClient, container: Container) -> None:
    before = _entries(connected)
    for route in admin_routes(connected.app):  # type: ignore[arg-type]
        path = route.path or ""
        if (
            "GET" in (route.methods or ())
            and "{" not in path
            and ("GET", path) not in CHANGING_GETS
        ):
            assert connected.get(path, follow_redirects=False).status_code < 500, path
    # A refused change (409: busy time) and a failed sign-in change nothing: no entry either.
    create_admin(container, email=ADMIN_EMAIL, password=PASSWORD)
    refused = TestClient(build_app(container)).post(
        "/admin/login", data={"email": ADMIN_EMAIL, "password": "wrong"}, follow_redirects=False
    )
    assert refused.status_code == 401
    missing = connected.patch(f"{API}/services/nope", json={"title": "x"})
    assert missing.status_code == 404
    assert _entries(connected) == before


def test_entries_page_back_and_filter_by_time(connected: TestClient, clock: Any) -> None:
    for n in range(5):
        clock.advance(timedelta(hours=1))
        answer = connected.patch(f"{API}/services/session", json={"title": f"Сессия {n}"})
        assert answer.status_code == 200
    first = connected.get(f"{API}/audit", params={"limit": 2}).json()
    assert len(first["entries"]) == 2
    assert first["next_before"] is not None
    second = connected.get(
        f"{API}/audit", params={"limit": 2, "before": first["next_before"]}
    ).json()
    assert [e["id"] for e in second["entries"]] < [e["id"] for e in first["entries"]]
    newest = first["entries"][0]["at"]
    only_newest = connected.get(f"{API}/audit", params={"from": newest}).json()["entries"]
    assert [e["at"] for e in only_newest] == [newest]
    assert connected.get(f"{API}/audit", params={"from": "yesterday"}).status_code == 422
