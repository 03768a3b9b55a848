"""A client moves their booking from the manage page on a phone (issue: self-service): the same
week picker, the old time free in the public slots at once, one Google event moved in place;
inside the change cut-off the page says whom to contact instead."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import Page, expect

from balance_booking.bootstrap import build_outbox_dispatcher
from tests.browser.conftest import Live, fits_width, shoot
from tests.support.booking import book

TEN = "2026-12-01T10:00:00+03:00"  # Tuesday, the first consultation slot
FIFTEEN_UTC = "2026-12-01T12:00:00.000Z"  # Tuesday 15:00 in Moscow


def deliver(live: Live) -> None:
    """What the worker does every two seconds: the outbox (here: the Google Calendar writes)."""
    dispatcher = build_outbox_dispatcher(live.container)
    while dispatcher.execute().claimed:
        pass


def public_starts(live: Live) -> list[str]:
    answer = live.api.get(
        "/api/public/booking/slots",
        params={"service_slug": "consultation", "from": "2026-12-01", "to": "2026-12-01"},
    )
    return [slot["start"][11:16] for slot in answer.json()["slots"]]


def our_events(live: Live, appointment_id: str) -> list[dict[str, Any]]:
    return [
        event
        for event in live.emulator.events()
        if event.get("status") != "cancelled"
        and event.get("extendedProperties", {}).get("private", {}).get("balance_appointment_id")
        == appointment_id
    ]


def test_a_client_moves_the_booking_on_a_phone(phone: Page, live: Live) -> None:
    live.connect_calendar()
    booked = book(live.api, TEN, service="consultation")
    deliver(live)
    (before,) = our_events(live, booked["id"])
    assert "10:00" not in public_starts(live)

    page = phone
    page.goto(f"{live.base}/booking/manage/{booked['id']}?token={booked['manage_token']}")
    page.get_by_role("link", name="Перенести на другое время").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Перенос записи")
    expect(page.locator("#move-current")).to_contain_text("10:00–10:50")
    expect(page.locator("#week")).to_have_attribute("aria-busy", "false")
    assert fits_width(page), "the week fits a phone screen"
    shoot(page, "move-1-week")
    page.locator(f'#week button.slot[data-start="{FIFTEEN_UTC}"]').click()
    expect(page.locator("#chosen-text")).to_contain_text("15:00–15:50")
    expect(page.locator("#booking-form")).to_be_hidden()
    page.get_by_role("button", name="Перенести на это время").click()

    expect(page.locator("#moved-message")).to_be_visible()
    expect(page.locator("#manage-when")).to_contain_text("15:00–15:50")
    shoot(page, "move-2-moved")
    # The old time is offered again at once; the new one is gone.
    free = public_starts(live)
    assert "10:00" in free
    assert "15:00" not in free
    # Google: the same event, moved in place, and only one.
    deliver(live)
    (after,) = our_events(live, booked["id"])
    assert after["id"] == before["id"]
    start = datetime.fromisoformat(after["start"]["dateTime"]).astimezone(UTC)
    assert start == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_inside_the_cutoff_the_page_says_whom_to_contact(phone: Page, live: Live) -> None:
    booked = book(live.api, TEN, service="consultation")
    patched = live.api.patch(
        "/api/admin/services/consultation", json={"change_cutoff_minutes": 3 * 24 * 60}
    )
    assert patched.status_code == 200, patched.text
    page = phone
    page.goto(f"{live.base}/booking/manage/{booked['id']}?token={booked['manage_token']}")
    expect(page.locator("#change-closed")).to_contain_text("Эту запись уже нельзя изменить онлайн")
    expect(page.locator("#change-closed")).to_contain_text("за 72 ч до встречи")
    expect(page.get_by_role("link", name="Перенести на другое время")).to_have_count(0)
    expect(page.locator("#cancel-form")).to_have_count(0)
    shoot(page, "move-3-closed")
    # The move page, opened from an old link, says the same and offers no times.
    page.goto(f"{live.base}/booking/slot/?move={booked['id']}&token={booked['manage_token']}")
    expect(page.locator("#change-closed")).to_be_visible()
    expect(page.locator("#step-time")).to_be_hidden()
