"""Client self-service and admin bookings over HTTP (API.md "Client self-service and admin
bookings"): moves keep the id and token and free the old time at once, the change cut-off to the
minute, the admin's bookings and weekly series (DST-safe, all or nothing), cancelling the rest of
a series; the Google event moves in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from balance_booking.adapters.db import tables as t
from balance_booking.bootstrap import Container, build_outbox_dispatcher
from tests.conftest import FakeClock
from tests.integration.helpers import WEEKDAYS_10_TO_18
from tests.support.google import Emulator

pytestmark = pytest.mark.both_databases

BOOK = "/api/public/booking/appointments"
ADMIN_BOOK = "/api/admin/appointments"
SLOTS = "/api/public/booking/slots"
TUESDAY = "2026-12-01"
NOON = "2026-12-01T12:00:00+03:00"
TWO_PM = "2026-12-01T14:00:00+03:00"


def session_service(**extra: Any) -> dict[str, Any]:
    return {
        "slug": "session",
        "title": "Сессия",
        "duration_minutes": 50,
        "slot_step_minutes": 60,
    } | extra


@pytest.fixture
def practice(admin: TestClient) -> TestClient:
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
    assert admin.post("/api/admin/services", json=session_service()).status_code == 201
    return admin


def book(client: TestClient, start: str, **extra: Any) -> dict[str, Any]:
    answer = client.post(
        BOOK,
        json={
            "service_slug": "session",
            "start": start,
            "timezone": "Europe/Moscow",
            "client": {"name": "Клиент", "email": "client@example.com"},
        }
        | extra,
    )
    assert answer.status_code == 201, answer.text
    appointment: dict[str, Any] = answer.json()["appointment"]
    return appointment


def move(client: TestClient, appointment: dict[str, Any], start: str, **extra: Any) -> Any:
    return client.post(
        f"{BOOK}/{appointment['id']}/reschedule",
        json={"token": appointment["manage_token"], "start": start} | extra,
    )


def free_starts(client: TestClient, day: str = TUESDAY) -> list[str]:
    body = client.get(SLOTS, params={"service_slug": "session", "from": day, "to": day}).json()
    return [slot["start"] for slot in body["slots"]]


def admin_book(client: TestClient, start: str, **extra: Any) -> Any:
    return client.post(
        ADMIN_BOOK,
        json={
            "service_slug": "session",
            "start": start,
            "timezone": "Europe/Moscow",
            "client": {"name": "По телефону", "phone": "+7 900 000-00-00"},
        }
        | extra,
    )


def deliver(container: Container) -> None:
    dispatcher = build_outbox_dispatcher(container)
    while dispatcher.execute().claimed:
        pass


def test_a_client_moves_keeping_id_and_token_and_the_old_time_is_free_at_once(
    practice: TestClient,
) -> None:
    booked = book(practice, NOON)
    assert NOON not in free_starts(practice)
    answer = move(practice, booked, TWO_PM, timezone="Asia/Kolkata")
    assert answer.status_code == 200, answer.text
    moved = answer.json()["appointment"]
    assert moved["id"] == booked["id"]
    assert moved["start"] == "2026-12-01T16:30:00+05:30"  # in the zone asked for
    assert moved["status"] == "confirmed"
    free = free_starts(practice)
    assert NOON in free, "the old time is free at once"
    assert TWO_PM not in free
    # The same manage token opens it, at its new time.
    fetched = practice.get(f"{BOOK}/{booked['id']}", params={"token": booked["manage_token"]})
    assert fetched.status_code == 200
    assert fetched.json()["appointment"]["start"] == "2026-12-01T14:00:00+03:00"
    # The admin sees where it was.
    listing = practice.get("/api/admin/appointments", params={"from": TUESDAY, "to": TUESDAY})
    (row,) = listing.json()["appointments"]
    assert [(m["from_start"], m["to_start"], m["moved_by"]) for m in row["moves"]] == [
        ("2026-12-01T12:00:00+03:00", "2026-12-01T14:00:00+03:00", "client")
    ]


def test_a_move_by_less_than_its_length_overlapping_its_own_old_time(
    practice: TestClient,
) -> None:
    assert (
        practice.patch("/api/admin/services/session", json={"slot_step_minutes": 30}).status_code
        == 200
    )
    booked = book(practice, NOON)
    answer = move(practice, booked, "2026-12-01T12:30:00+03:00")
    assert answer.status_code == 200, answer.text


def test_moving_onto_a_booked_time_is_409_with_alternatives_and_changes_nothing(
    practice: TestClient, container: Container
) -> None:
    mine = book(practice, NOON)
    book(practice, TWO_PM)
    answer = move(practice, mine, TWO_PM)
    assert answer.status_code == 409
    body = answer.json()
    assert body["error"]["code"] == "slot_unavailable"
    assert body["alternatives"], "other times are offered"
    assert TWO_PM not in [slot["start"] for slot in body["alternatives"]]
    with container.engine.connect() as connection:
        starts = connection.execute(select(t.appointments.c.start_at)).scalars().all()
        moves = connection.execute(select(func.count()).select_from(t.appointment_moves))
        assert moves.scalar_one() == 0
    assert sorted(starts) == [
        datetime(2026, 12, 1, 9, tzinfo=UTC),
        datetime(2026, 12, 1, 11, tzinfo=UTC),
    ]


def test_a_wrong_token_is_404_and_a_time_not_offered_is_409(practice: TestClient) -> None:
    booked = book(practice, NOON)
    wrong = practice.post(
        f"{BOOK}/{booked['id']}/reschedule", json={"token": "nope", "start": TWO_PM}
    )
    assert wrong.status_code == 404
    evening = move(practice, booked, "2026-12-01T20:00:00+03:00")  # outside working hours
    assert evening.status_code == 409
    assert evening.json()["error"]["code"] == "slot_unavailable"
    cancelled = practice.post(
        f"{BOOK}/{booked['id']}/cancel", json={"token": booked["manage_token"]}
    )
    assert cancelled.status_code == 200
    again = move(practice, booked, TWO_PM)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("before_start", "allowed"),
    [(timedelta(hours=24, minutes=1), True), (timedelta(hours=24), False)],
    ids=["a-minute-before-the-cutoff", "at-the-cutoff"],
)
def test_the_change_cutoff_to_the_minute_and_the_admin_may_always_change(
    admin: TestClient, clock: FakeClock, before_start: timedelta, allowed: bool
) -> None:
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
    created = admin.post("/api/admin/services", json=session_service(change_cutoff_minutes=1440))
    assert created.status_code == 201
    assert created.json()["change_cutoff_minutes"] == 1440
    booked = book(admin, "2026-12-03T12:00:00+03:00")
    clock.set(datetime(2026, 12, 3, 9, tzinfo=UTC) - before_start)
    moved = move(admin, booked, "2026-12-03T15:00:00+03:00")
    cancelled = admin.post(f"{BOOK}/{booked['id']}/cancel", json={"token": booked["manage_token"]})
    if allowed:
        assert moved.status_code == 200, moved.text
        assert cancelled.status_code == 200
        return
    for refused in (moved, cancelled):
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "change_window_closed"
    # The admin is not bound by the cut-off.
    by_admin = admin.post(
        f"{ADMIN_BOOK}/{booked['id']}/reschedule", json={"start": "2026-12-03T15:00:00+03:00"}
    )
    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json()["appointment"]["start"] == "2026-12-03T15:00:00+03:00"
    assert admin.post(f"{ADMIN_BOOK}/{booked['id']}/cancel").status_code == 200


def test_the_admin_books_inside_the_notice_and_beyond_the_horizon_but_never_onto_booked_time(
    admin: TestClient,
) -> None:
    assert admin.put("/api/admin/schedule", json=WEEKDAYS_10_TO_18).status_code == 200
    service = session_service(min_notice_minutes=7 * 24 * 60, max_days_ahead=10)
    assert admin.post("/api/admin/services", json=service).status_code == 201
    assert free_starts(admin) == [], "inside the notice for clients"
    inside = admin_book(admin, NOON, notify=False)
    assert inside.status_code == 201, inside.text
    (appointment,) = inside.json()["appointments"]
    assert appointment["client_email"] is None
    assert appointment["manage_token"]
    assert appointment["series_id"] is None
    beyond = admin_book(admin, "2027-02-02T19:00:00+03:00")  # past the horizon, after hours
    assert beyond.status_code == 201, beyond.text
    onto = admin_book(admin, "2026-12-01T12:30:00+03:00")
    assert onto.status_code == 409
    body = onto.json()
    assert body["error"]["code"] == "slot_unavailable"
    assert body["conflicts"] == [
        {
            "start": "2026-12-01T12:30:00+03:00",
            "end": "2026-12-01T13:20:00+03:00",
            "reason": "booked",
        }
    ]
    past = admin_book(admin, "2026-11-29T12:00:00+03:00")
    assert past.status_code == 409
    assert past.json()["conflicts"][0]["reason"] == "past"


def test_a_series_cancels_its_rest_and_each_occurrence_alone(
    practice: TestClient, clock: FakeClock
) -> None:
    answer = admin_book(practice, NOON, repeat={"weekly": 4})
    assert answer.status_code == 201, answer.text
    occurrences = answer.json()["appointments"]
    assert [o["start"][:10] for o in occurrences] == [
        "2026-12-01",
        "2026-12-08",
        "2026-12-15",
        "2026-12-22",
    ]
    (series_id,) = {o["series_id"] for o in occurrences}
    assert series_id is not None
    assert len({o["manage_token"] for o in occurrences}) == 4
    one = practice.post(f"{ADMIN_BOOK}/{occurrences[1]['id']}/cancel")
    assert one.status_code == 200
    clock.set(datetime(2026, 12, 2, 6, tzinfo=UTC))  # the first one is in the past now
    rest = practice.post(f"/api/admin/series/{series_id}/cancel")
    assert rest.status_code == 200
    assert rest.json() == {"cancelled": 2}
    listing = practice.get(
        "/api/admin/appointments", params={"from": "2026-12-01", "to": "2026-12-31"}
    ).json()["appointments"]
    assert [a["status"] for a in listing] == ["confirmed", "cancelled", "cancelled", "cancelled"]
    unknown = practice.post("/api/admin/series/00000000-0000-0000-0000-000000000000/cancel")
    assert unknown.status_code == 404


def test_bad_bodies_are_422(practice: TestClient) -> None:
    booked = book(practice, NOON)
    for body in (
        {"token": booked["manage_token"], "start": "tomorrow"},
        {"token": booked["manage_token"], "start": TWO_PM, "timezone": "Mars/Olympus"},
        {"start": TWO_PM},
    ):
        answer = practice.post(f"{BOOK}/{booked['id']}/reschedule", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["code"] == "invalid_request"
    for extra in ({"repeat": {"weekly": 53}}, {"repeat": {"weekly": 0}}, {"notify": "yes"}):
        answer = admin_book(practice, NOON, **extra)
        assert answer.status_code == 422, extra


BERLIN_WEEKDAYS = WEEKDAYS_10_TO_18 | {"timezone": "Europe/Berlin"}


@pytest.mark.google
def test_a_12_week_series_across_the_spring_change_in_berlin(
    connected: TestClient, emulator: Emulator, container: Container
) -> None:
    """The last Sunday of March 2027 is the 28th: CET (+01:00) before, CEST (+02:00) after."""
    assert connected.put("/api/admin/schedule", json=BERLIN_WEEKDAYS).status_code == 200
    first = "2027-03-02T10:00:00+01:00"  # a Tuesday
    blocked = emulator.add_busy("2027-04-06T10:30:00+02:00", "2027-04-06T11:00:00+02:00")
    refused = admin_book(connected, first, timezone="Europe/Berlin", repeat={"weekly": 12})
    assert refused.status_code == 409, refused.text
    assert refused.json()["conflicts"] == [
        {"start": "2027-04-06T10:00:00+02:00", "end": "2027-04-06T10:50:00+02:00", "reason": "busy"}
    ]
    with container.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(t.appointments)).scalar() == 0
    emulator.delete_event(blocked["id"])
    booked = admin_book(connected, first, timezone="Europe/Berlin", repeat={"weekly": 12})
    assert booked.status_code == 201, booked.text
    starts = [o["start"] for o in booked.json()["appointments"]]
    assert len(starts) == 12
    assert all(start[11:16] == "10:00" for start in starts), "the same wall time every week"
    assert starts[3] == "2027-03-23T10:00:00+01:00"
    assert starts[4] == "2027-03-30T10:00:00+02:00"
    deliver(container)
    ids = {o["id"].replace("-", "") for o in booked.json()["appointments"]}
    live = [e for e in emulator.events() if e.get("status") != "cancelled" and e["id"] in ids]
    assert len(live) == 12, "one event per occurrence, under ids derived from the appointments"


@pytest.mark.google
def test_the_google_event_moves_in_place(
    connected: TestClient, emulator: Emulator, container: Container
) -> None:
    booked = book(connected, NOON)
    deliver(container)
    (before,) = [e for e in emulator.events() if e.get("status") != "cancelled"]
    assert NOON not in free_starts(connected), "our own event is busy time in the mirror"
    answer = move(connected, booked, TWO_PM)
    assert answer.status_code == 200, answer.text
    free = free_starts(connected)
    assert NOON in free, "the old time is free at once, before Google hears of the move"
    assert TWO_PM not in free
    deliver(container)
    live = [e for e in emulator.events() if e.get("status") != "cancelled"]
    assert [e["id"] for e in live] == [before["id"]], "the same event, not a new one"
    start = datetime.fromisoformat(live[0]["start"]["dateTime"])
    assert start == datetime(2026, 12, 1, 11, tzinfo=UTC)
    state = connected.get(
        "/api/admin/appointments", params={"from": TUESDAY, "to": TUESDAY}
    ).json()["appointments"][0]["calendar_event"]
    assert state == {"id": before["id"], "state": "created"}
    # After the sync the mirror holds the event at its new time only.
    assert connected.post("/api/admin/integrations/google-calendar/sync").status_code == 200
    free = free_starts(connected)
    assert NOON in free
    assert TWO_PM not in free


@pytest.mark.google
def test_a_cancelled_appointment_frees_its_time_at_once_but_private_busy_time_stays(
    connected: TestClient, emulator: Emulator, container: Container
) -> None:
    booked = book(connected, NOON)
    deliver(container)
    # A private event from 12:30 to 14:00 lies partly under the appointment and after it.
    emulator.add_busy("2026-12-01T12:30:00+03:00", "2026-12-01T14:00:00+03:00")
    assert connected.post("/api/admin/integrations/google-calendar/sync").status_code == 200
    cancelled = connected.post(
        f"{BOOK}/{booked['id']}/cancel", json={"token": booked["manage_token"]}
    )
    assert cancelled.status_code == 200
    with container.engine.connect() as connection:
        mirror = connection.execute(
            select(t.calendar_busy_intervals.c.start_at, t.calendar_busy_intervals.c.end_at)
        ).all()
    assert [(row.start_at, row.end_at) for row in mirror] == [
        (datetime(2026, 12, 1, 9, 50, tzinfo=UTC), datetime(2026, 12, 1, 11, tzinfo=UTC))
    ], "only our own event's time left the mirror"


@pytest.mark.google
def test_a_client_cannot_move_onto_google_busy_time_the_mirror_does_not_know_yet(
    connected: TestClient, emulator: Emulator
) -> None:
    booked = book(connected, NOON)
    emulator.add_busy("2026-12-01T14:10:00+03:00", "2026-12-01T14:40:00+03:00")
    answer = move(connected, booked, TWO_PM)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "slot_unavailable"
    fetched = connected.get(f"{BOOK}/{booked['id']}", params={"token": booked["manage_token"]})
    assert fetched.json()["appointment"]["start"] == NOON
