"""Contract fuzzing: Schemathesis sends every operation of /openapi.json to the real app.

The app runs in-process (SQLite and PostgreSQL) with the Google Calendar emulator connected and a
live push channel, a schedule, services, appointments and a waitlist entry. Generated requests mix
in the seeded slugs, slot starts, appointment ids and channel headers, and every operation gets
hand-written happy-path requests first, so the runs reach the 2xx answers and not only the 4xx
ones (checked when each run ends). Every answer must be a non-5xx whose status code, content type,
headers and body match the schema; schema-violating requests must be refused; operations that
declare authentication must enforce it; a 405 must list the path's methods.

Three runs per database, each on a freshly seeded app: the everyday operations; the operations
that change the setup the others rely on (hours, services, the connection); and Google down with
old busy data, where the public API must answer 503 and offer the waitlist as declared.

The default run is short and reproducible (fixed seed, derandomized, a few generated requests per
operation besides Schemathesis's fixed coverage cases); `BALANCE_RELIABILITY=full`
(`make reliability`) generates many more.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis import BaseSchema, Case, Config, HookContext

from balance_booking.application.booking import ManageTokens
from balance_booking.application.ports import NewMessage
from balance_booking.bootstrap import Container, build_waitlist_matching, create_admin_token
from balance_booking.web.paths import WEBHOOK_PATH
from tests.conftest import FakeClock
from tests.support.google import INTEGRATION_API, Emulator, query_of
from tests.support.push import Sink, channels, connect_as

pytestmark = [pytest.mark.google(sink=True), pytest.mark.reliability]

FULL = os.environ.get("BALANCE_RELIABILITY") == "full"
# Generated requests per operation; the examples and coverage phases add their fixed ones.
MAX_EXAMPLES = 200 if FULL else 10
SEED = 20261130
OWNER_TZ = "Europe/Moscow"
CLIENT_TZ = "America/New_York"

BOOKING = "/api/public/booking"
ADMIN_APPOINTMENT = "/api/admin/appointments/{appointment_id}"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SCHEDULE = {
    "timezone": OWNER_TZ,
    "weekly": {
        day: [["08:00", "13:00"], ["14:00", "21:00"]]
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
    "overrides": [],
}
SERVICES = [
    {
        "slug": "individual",
        "title": "Индивидуальная сессия",
        "duration_minutes": 50,
        "slot_step_minutes": 60,
        "buffer_after_minutes": 10,
    },
    {
        "slug": "paid",
        "title": "Сессия с оплатой",
        "title_en": "Paid session",
        "duration_minutes": 60,
        "requires_payment": True,
        "daily_limit": 5,
    },
    {"slug": "scratch", "title": "Для правок", "duration_minutes": 30},
]


@pytest.fixture
def clock() -> FakeClock:
    # Push channel expiry comes from the emulator's wall clock, so this clock starts at real time.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@dataclass(frozen=True)
class Booked:
    id: str
    token: str


@dataclass(frozen=True)
class Seed:
    """What the seeding created: the values the examples and the fuzzing dictionaries use."""

    days: list[str]
    instants: list[str]
    starts: list[str]
    viewed: Booked
    cancelled_by_client: Booked
    cancelled_by_admin: Booked
    moved_by_client: Booked
    moved_by_admin: Booked
    series_id: str  # a weekly series the admin booked, for "cancel the rest"
    admin_move_to: str  # a time no generated request knows (the admin books any free time)
    spare_token: int  # an admin token to revoke
    pending: Booked
    channel: dict[str, str]
    oauth_state: str
    parked: int  # an outbox row given up on, for the admin's retry
    offers: list[Booked]  # waitlist offers (id, token): to look at, to accept, to decline
    waitlist_entry: str  # an entry the admin removes


def _person(name: str) -> dict[str, str]:
    return {"name": name, "email": f"{name.lower()}@example.com", "phone": "+7 900 000-00-00"}


def _book(admin: TestClient, *, slug: str, start: str, name: str) -> Booked:
    response = admin.post(
        f"{BOOKING}/appointments",
        json={"service_slug": slug, "start": start, "timezone": CLIENT_TZ, "client": _person(name)},
    )
    assert response.status_code == 201, response.text
    appointment = response.json()["appointment"]
    return Booked(id=appointment["id"], token=appointment["manage_token"])


def _spare_token(admin: TestClient, container: Container) -> int:
    """An admin token nobody uses, for DELETE /api/admin/tokens/{id}."""
    create_admin_token(container, name="spare")
    tokens = admin.get("/api/admin/tokens").json()["tokens"]
    spare: int = next(token["id"] for token in tokens if token["name"] == "spare")
    return spare


def _series(admin: TestClient, local_start: str) -> str:
    """Two weekly occurrences the admin books for a client who phoned; the series id."""
    start = datetime.fromisoformat(local_start).replace(tzinfo=ZoneInfo(OWNER_TZ))
    response = admin.post(
        "/api/admin/appointments",
        json={
            "service_slug": "individual",
            "start": start.isoformat(),
            "timezone": CLIENT_TZ,
            "client": {"name": "Series"},
            "repeat": {"weekly": 2},
        },
    )
    assert response.status_code == 201, response.text
    series_id: str = response.json()["appointments"][0]["series_id"]
    return series_id


def _slot_starts(admin: TestClient, *, slug: str, day: str, to: str) -> list[str]:
    response = admin.get(
        f"{BOOKING}/slots", params={"service_slug": slug, "from": day, "to": to, "tz": CLIENT_TZ}
    )
    assert response.status_code == 200, response.text
    return [slot["start"] for slot in response.json()["slots"]]


@pytest.fixture
def seed(
    admin: TestClient, emulator: Emulator, sink: Sink, clock: FakeClock, container: Container
) -> Seed:
    assert admin.put("/api/admin/schedule", json=SCHEDULE).status_code == 200
    for service in SERVICES:
        assert admin.post("/api/admin/services", json=service).status_code == 201
    assert connect_as(admin, sink.base).endswith("result=connected")
    live = [channel for channel in channels(emulator) if not channel["stopped"]]
    assert len(live) == 1, live
    zone = ZoneInfo(OWNER_TZ)
    today = clock.now().astimezone(zone).date()
    days = [(today + timedelta(days=n)).isoformat() for n in (1, 2, 7, 30)]
    starts = _slot_starts(admin, slug="individual", day=days[0], to=days[2])
    paid = _slot_starts(admin, slug="paid", day=days[1], to=days[1])
    started = admin.post(f"{INTEGRATION_API}/connect")
    assert started.status_code == 200, started.text
    waitlist = {
        "service_slug": "individual",
        "name": "Ждущая",
        "email": "wait@example.com",
        "timezone": OWNER_TZ,
    }
    assert admin.post(f"{BOOKING}/waitlist", json=waitlist).status_code == 201
    removable = admin.post(f"{BOOKING}/waitlist", json=waitlist | {"email": "gone@example.com"})
    assert removable.status_code == 201, removable.text
    return Seed(
        days=days,
        instants=[
            (clock.now() + timedelta(days=n)).astimezone(zone).isoformat(timespec="seconds")
            for n in (1, 3)
        ],
        starts=starts[5:30],
        viewed=_book(admin, slug="individual", start=starts[0], name="Viewed"),
        cancelled_by_client=_book(admin, slug="individual", start=starts[1], name="Client"),
        cancelled_by_admin=_book(admin, slug="individual", start=starts[2], name="Admin"),
        moved_by_client=_book(admin, slug="individual", start=starts[3], name="Mover"),
        moved_by_admin=_book(admin, slug="individual", start=starts[4], name="Moved"),
        series_id=_series(admin, f"{days[3]}T12:00:00"),
        admin_move_to=f"{days[3]}T16:00:00+03:00",
        spare_token=_spare_token(admin, container),
        pending=_book(admin, slug="paid", start=paid[0], name="Pending"),
        channel={
            "X-Goog-Channel-ID": live[0]["id"],
            "X-Goog-Resource-ID": live[0]["resource_id"],
            "X-Goog-Channel-Token": live[0]["token"],
        },
        oauth_state=query_of(started.json()["authorization_url"])["state"],
        parked=_parked_message(container, clock.now()),
        offers=_offers(admin, container, day=days[3]),
        waitlist_entry=removable.json()["id"],
    )


def _offers(admin: TestClient, container: Container, *, day: str) -> list[Booked]:
    """Three waitlist entries, each waiting for one free time of `day`, offered it by the
    worker's matching job (not 16:00: the admin's move example needs that time free)."""
    free = [s for s in _slot_starts(admin, slug="individual", day=day, to=day) if "T16:" not in s]
    for n, start in enumerate(free[:3]):
        entry = {
            "service_slug": "individual",
            "name": f"Offered {n}",
            "email": f"offered{n}@example.com",
            "timezone": OWNER_TZ,
            "preferred_from": start,
            "preferred_to": (datetime.fromisoformat(start) + timedelta(minutes=50)).isoformat(),
        }
        assert admin.post(f"{BOOKING}/waitlist", json=entry).status_code == 201
    assert build_waitlist_matching(container).execute()["offered"] == 3
    tokens = ManageTokens(container.settings.resolved_secret_key())
    offered = [e for e in admin.get("/api/admin/waitlist").json()["entries"] if e["offer"]]
    return [
        Booked(id=e["offer"]["id"], token=tokens.token(UUID(e["offer"]["id"])))
        for e in sorted(offered, key=lambda e: e["email"])
    ]


def _parked_message(container: Container, now: datetime) -> int:
    """One e-mail row the worker gave up on (SMTP refused it), as the admin would find it."""
    with container.writers() as uow:
        uow.outbox.append(
            [NewMessage(kind="email", topic="confirmed", payload={"appointment_id": "x"})], now=now
        )
        [row] = uow.outbox.claim_due(kinds=["email"], now=now, limit=1, lease=timedelta(minutes=1))
        uow.outbox.park(row.message_id, error="SMTP 550 for the recipient", now=now)
        uow.commit()
    return row.message_id


def _examples(seed: Seed) -> dict[str, list[dict[str, Any]]]:
    """Hand-written happy-path requests per operation, sent before the generated ones."""
    day, week = seed.days[0], seed.days[2]
    start = seed.starts[-1]
    return {
        f"GET {BOOKING}/slots": [
            {"query": {"service_slug": "individual", "from": day, "to": week, "tz": CLIENT_TZ}},
            {"query": {"service_slug": "paid", "from": seed.instants[0], "to": seed.instants[1]}},
        ],
        f"POST {BOOKING}/appointments": [
            {
                "body": {
                    "service_slug": "individual",
                    "start": start,
                    "timezone": CLIENT_TZ,
                    "client": _person("Fuzz"),
                    "comment": "first visit",
                },
                "headers": {"Idempotency-Key": "contract-1"},
            },
        ],
        f"GET {BOOKING}/appointments/{{appointment_id}}": [
            {
                "path_parameters": {"appointment_id": seed.viewed.id},
                "query": {"token": seed.viewed.token},
            },
        ],
        f"POST {BOOKING}/appointments/{{appointment_id}}/cancel": [
            {
                "path_parameters": {"appointment_id": seed.cancelled_by_client.id},
                "body": {"token": seed.cancelled_by_client.token},
            },
        ],
        f"POST {BOOKING}/appointments/{{appointment_id}}/reschedule": [
            {
                "path_parameters": {"appointment_id": seed.moved_by_client.id},
                "body": {"token": seed.moved_by_client.token, "start": seed.starts[-2]},
            },
        ],
        f"POST {BOOKING}/waitlist": [
            {
                "body": {
                    "service_slug": "paid",
                    "name": "Лист ожидания",
                    "email": "list@example.com",
                    "phone": "+7 (900) 123-45-67",
                    "timezone": CLIENT_TZ,
                    "preferred_from": seed.instants[0],
                    "preferred_to": seed.instants[1],
                    "comment": "evenings",
                }
            },
        ],
        "POST /api/public/tracking": [
            {
                "body": {
                    "event": "booking_slot_selected",
                    "properties": {
                        "slot_start_at": start,
                        "timezone": CLIENT_TZ,
                        "service_slug": "individual",
                    },
                }
            },
            {"body": {"event": "booking_conflict", "properties": {"service_slug": "paid"}}},
        ],
        "GET /api/admin/appointments": [
            {"query": {"from": day, "to": week, "status": "confirmed"}},
        ],
        f"POST {ADMIN_APPOINTMENT}/confirm": [
            {"path_parameters": {"appointment_id": seed.pending.id}},
        ],
        f"POST {ADMIN_APPOINTMENT}/cancel": [
            {"path_parameters": {"appointment_id": seed.cancelled_by_admin.id}},
        ],
        f"POST {ADMIN_APPOINTMENT}/reschedule": [
            {
                "path_parameters": {"appointment_id": seed.moved_by_admin.id},
                "body": {"start": seed.admin_move_to},
            },
        ],
        "POST /api/admin/appointments": [
            {
                "body": {
                    "service_slug": "individual",
                    "start": seed.starts[-4],
                    "timezone": CLIENT_TZ,
                    "client": {"name": "By phone", "phone": "+7 900 000-00-01"},
                    "notify": False,
                }
            },
        ],
        "DELETE /api/admin/tokens/{token_id}": [
            {"path_parameters": {"token_id": seed.spare_token}},
        ],
        "POST /api/admin/series/{series_id}/cancel": [
            {"path_parameters": {"series_id": seed.series_id}},
        ],
        "GET /api/admin/busy": [{"query": {"from": day, "to": week}}],
        f"GET {INTEGRATION_API}/calendars": [{}],
        f"PUT {INTEGRATION_API}/calendars": [{"body": {"blocking_calendar_ids": ["primary"]}}],
        f"GET {BOOKING}/offers/{{offer_id}}": [
            {
                "path_parameters": {"offer_id": seed.offers[0].id},
                "query": {"token": seed.offers[0].token},
            },
        ],
        f"POST {BOOKING}/offers/{{offer_id}}/accept": [
            {
                "path_parameters": {"offer_id": seed.offers[1].id},
                "body": {"token": seed.offers[1].token},
            },
        ],
        f"POST {BOOKING}/offers/{{offer_id}}/decline": [
            {
                "path_parameters": {"offer_id": seed.offers[2].id},
                "body": {"token": seed.offers[2].token},
            },
        ],
        "DELETE /api/admin/waitlist/{entry_id}": [
            {"path_parameters": {"entry_id": seed.waitlist_entry}},
        ],
        "GET /api/admin/availability/explain": [
            {"query": {"service_slug": "individual", "start": start}},
            {"query": {"service_slug": "paid", "start": seed.instants[0], "lang": "en"}},
        ],
        f"GET {INTEGRATION_API}/callback": [
            {"query": {"state": seed.oauth_state, "error": "access_denied"}},
        ],
        f"POST {WEBHOOK_PATH}": [
            {
                "headers": seed.channel
                | {"X-Goog-Resource-State": "exists", "X-Goog-Message-Number": "2"}
            },
        ],
        "PUT /api/admin/schedule": [
            # A vacation far beyond every booking horizon: the same free slots, the new field.
            {"body": {**SCHEDULE, "vacations": [{"from": "2031-01-02", "to": "2031-01-10"}]}}
        ],
        "POST /api/admin/services": [
            {"body": {"slug": "group", "title": "Группа", "duration_minutes": 90}},
        ],
        "PATCH /api/admin/services/{slug}": [
            {"path_parameters": {"slug": "scratch"}, "body": {"title": "Правка", "daily_limit": 3}},
        ],
        "DELETE /api/admin/services/{slug}": [{"path_parameters": {"slug": "scratch"}}],
        "POST /api/admin/outbox/{message_id}/retry": [
            {"path_parameters": {"message_id": seed.parked}}
        ],
        f"PUT {INTEGRATION_API}/settings": [{"body": {"enabled": True}}],
    }


def _config(admin_token: str, seed: Seed, *, google_down: bool) -> Config:
    """Schemathesis settings: reproducible generation, every check, the seeded values mixed in."""
    server_errors = ["2xx", "3xx", "4xx"]
    if google_down:
        # The declared answers to an unreachable Google: 503 calendar_unavailable (with the
        # waitlist offer) and 502 calendar_error; their shape is checked like any other.
        server_errors += ["502", "503"]
    return Config.from_dict(
        {
            "seed": SEED,
            # Generating bodies is slow on a busy CI machine; that says nothing about the API.
            "suppress-health-check": ["too_slow"],
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                # No example database under the working tree; the seed makes runs repeatable.
                "database": "none",
            },
            "auth": {"openapi": {"HTTPBearer": {"bearer": admin_token}}},
            "checks": {
                "not_a_server_error": {"expected-statuses": server_errors},
                # The schema gives shapes; the domain rules (IANA zones, working hours, free
                # slots, the tracking plan) are the server's and refuse schema-valid requests.
                "positive_data_acceptance": {"enabled": False},
            },
            "dictionaries": {
                "slugs": {"values": ["individual", "paid"]},
                "scratch": {"values": ["scratch"]},
                "days": {"values": [*seed.days, *seed.instants]},
                "zones": {"values": [OWNER_TZ, CLIENT_TZ, "UTC"]},
                "starts": {"values": seed.starts},
                "events": {"values": ["booking_slot_selected", "booking_conflict"]},
                "channel_id": {"values": [seed.channel["X-Goog-Channel-ID"]]},
                "resource_id": {"values": [seed.channel["X-Goog-Resource-ID"]]},
                "channel_token": {"values": [seed.channel["X-Goog-Channel-Token"]]},
                "states": {"values": ["exists", "sync", "not_exists"]},
            },
            "parameters": {
                "query.service_slug": {"dictionary": "slugs", "probability": 0.7},
                "body.service_slug": {"dictionary": "slugs", "probability": 0.7},
                "path.slug": {"dictionary": "scratch", "probability": 0.5},
                "query.from": {"dictionary": "days", "probability": 0.6},
                "query.to": {"dictionary": "days", "probability": 0.6},
                "query.tz": {"dictionary": "zones", "probability": 0.7},
                "body.timezone": {"dictionary": "zones", "probability": 0.7},
                "body.start": {"dictionary": "starts", "probability": 0.7},
                "body.preferred_from": {"dictionary": "days", "probability": 0.5},
                "body.preferred_to": {"dictionary": "days", "probability": 0.5},
                "body.event": {"dictionary": "events", "probability": 0.7},
                "header.X-Goog-Channel-ID": {"dictionary": "channel_id", "probability": 0.8},
                "header.X-Goog-Resource-ID": {"dictionary": "resource_id", "probability": 0.8},
                "header.X-Goog-Channel-Token": {"dictionary": "channel_token", "probability": 0.8},
                "header.X-Goog-Resource-State": {"dictionary": "states", "probability": 0.7},
            },
        }
    )


@dataclass
class Answers:
    """Status codes the app answered per operation, and what each operation must have reached."""

    seen: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # An operation listed here must have answered this status; any other one a 2xx or 3xx.
    required: dict[str, int] = field(default_factory=dict)

    def unreached(self) -> dict[str, list[int]]:
        def reached(label: str, codes: set[int]) -> bool:
            if label in self.required:
                return self.required[label] in codes
            return any(200 <= code < 400 for code in codes)

        return {
            label: sorted(codes) for label, codes in self.seen.items() if not reached(label, codes)
        }


@pytest.fixture
def answers() -> Iterator[Answers]:
    recorded = Answers()
    yield recorded
    # Runs after every operation of the test: generated data that only ever hits 4xx tests
    # the validation, not the contract of the answers that matter.
    assert recorded.seen, "Schemathesis called no operation"
    assert not recorded.unreached(), (
        f"operations that never reached their happy path (status codes seen): {recorded.unreached()}"
    )


def _without_lifespan(app: ASGIApp) -> ASGIApp:
    """The app as Schemathesis drives it; the `client` fixture's TestClient owns its lifespan."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # ASGI: an app that raises on the lifespan scope does not support it, and the server
            # (here Schemathesis) carries on without lifespan events.
            raise RuntimeError("the lifespan belongs to the test client")
        await app(scope, receive, send)

    return wrapped


def _schema(
    client: TestClient, admin_token: str, seed: Seed, answers: Answers, *, google_down: bool
) -> BaseSchema:
    config = _config(admin_token, seed, google_down=google_down)
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", _without_lifespan(client.app), config=config
    )
    examples = _examples(seed)
    authorization = {"Authorization": f"Bearer {admin_token}"}

    @schema.hook
    def before_add_examples(context: HookContext, cases: list[Case]) -> None:
        operation = context.operation
        assert operation is not None
        for spec in examples.get(operation.label, []):
            # Hand-made cases do not get the configured auth; the public API ignores the header.
            headers = authorization | spec.get("headers", {})
            cases.append(operation.Case(**(spec | {"headers": headers})))

    @schema.hook
    def after_call(context: HookContext, case: Case, response: schemathesis.Response) -> None:
        answers.seen[case.operation.label].add(response.status_code)

    return schema


@pytest.fixture
def api(client: TestClient, admin_token: str, seed: Seed, answers: Answers) -> BaseSchema:
    return _schema(client, admin_token, seed, answers, google_down=False)


@pytest.fixture
def api_with_google_down(
    *,
    client: TestClient,
    admin_token: str,
    seed: Seed,
    answers: Answers,
    emulator: Emulator,
    clock: FakeClock,
) -> Iterator[BaseSchema]:
    """Google unreachable and the busy mirror older than the staleness limit."""
    clock.advance(timedelta(hours=2))
    emulator.control.post("/_emulator/outage", json={"down": True}).raise_for_status()
    answers.required |= {
        f"GET {BOOKING}/slots": 503,
        f"POST {BOOKING}/appointments": 503,
        f"POST {ADMIN_APPOINTMENT}/confirm": 503,
        f"POST {BOOKING}/appointments/{{appointment_id}}/reschedule": 503,
        "POST /api/admin/appointments": 503,
        f"POST {ADMIN_APPOINTMENT}/reschedule": 503,
        f"POST {INTEGRATION_API}/sync": 502,
    }
    try:
        yield _schema(client, admin_token, seed, answers, google_down=True)
    finally:
        emulator.control.post("/_emulator/outage", json={"down": False}).raise_for_status()


@pytest.fixture(autouse=True)
def _legacy_node_id(request: pytest.FixtureRequest) -> None:
    # Schemathesis 4.32's lazy loader reads and rewrites `Function._nodeid` (to name each
    # operation in reports); pytest 9.2 no longer has that attribute. Each subtest carries its
    # operation's label anyway.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


contract = schemathesis.pytest.from_fixture("api")
google_down = schemathesis.pytest.from_fixture("api_with_google_down")

# Operations that change what every other operation relies on (hours, services, the calendar
# connection) run on an app of their own.
SETUP_CHANGES = [
    "PUT /api/admin/schedule",
    "PATCH /api/admin/services/{slug}",
    "DELETE /api/admin/services/{slug}",
    f"POST {INTEGRATION_API}/disconnect",
    f"PUT {INTEGRATION_API}/settings",
]
# Operations whose answer depends on reaching Google (directly or through fresh busy data).
NEEDS_GOOGLE = [
    f"GET {BOOKING}/services",
    f"GET {BOOKING}/slots",
    f"POST {BOOKING}/appointments",
    f"POST {BOOKING}/appointments/{{appointment_id}}/reschedule",
    f"POST {BOOKING}/waitlist",
    "POST /api/admin/appointments",
    f"POST {ADMIN_APPOINTMENT}/reschedule",
    f"POST {ADMIN_APPOINTMENT}/confirm",
    f"POST {ADMIN_APPOINTMENT}/cancel",
    f"GET {INTEGRATION_API}",
    f"POST {INTEGRATION_API}/sync",
]


@contract.exclude(name=SETUP_CHANGES).parametrize()
def test_every_operation_keeps_the_contract(case: Case) -> None:
    case.call_and_validate()


@contract.include(name=SETUP_CHANGES).parametrize()
def test_setup_changes_keep_the_contract(case: Case) -> None:
    case.call_and_validate()


@google_down.include(name=NEEDS_GOOGLE).parametrize()
def test_google_down_keeps_the_contract(case: Case) -> None:
    case.call_and_validate()
