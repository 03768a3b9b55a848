"""The anxious client in a real browser: booking the time one already holds is told kindly (not
"someone booked it before you"), and a slow calendar check says so instead of "a moment"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from pydantic import SecretStr

from tests.browser.conftest import DESKTOP, Live, new_context, shoot
from tests.browser.conftest import assert_accessible as assert_accessible_page
from tests.browser.test_booking_pages import (
    FIRST_SLOT_UTC,
    choose_service,
    fill_details,
    open_booking,
)
from tests.support.booking import book

FIRST_SLOT = "2026-12-01T10:00:00+03:00"  # FIRST_SLOT_UTC in Moscow
# E-mail "on" for the app: the re-sent confirmation is queued (a port nothing listens on: the
# outbox keeps it, which is all the page needs to say so).
MAIL_ON = SecretStr("smtp://127.0.0.1:9")


def pick_first_slot(page: Page) -> None:
    page.locator(f'#week button.slot[data-start="{FIRST_SLOT_UTC}"]').click()
    expect(page.locator("#details-title")).to_be_focused()


@pytest.mark.live(smtp_url=MAIL_ON)
def test_booking_ones_own_time_again_says_already_booked_and_the_link_was_resent(
    phone: Page, live: Live
) -> None:
    page = phone
    open_booking(page, live)
    choose_service(page, "Консультация психолога")
    pick_first_slot(page)
    fill_details(page, name="Анна", email="Anna@Example.com")
    # The first attempt went through while the page waited (it was closed, or its answer lost).
    book(
        live.api,
        FIRST_SLOT,
        service="consultation",
        client={"name": "Анна", "email": "anna@example.com"},
    )

    page.locator("#booking-form").get_by_role("button", name="Записаться").click()
    already = page.locator("#step-already")
    expect(already).to_be_visible()
    expect(page.locator("#already-title")).to_have_text("Вы уже записаны на это время")
    expect(page.locator("#already-title")).to_be_focused()
    expect(page.locator("#already-sent")).to_contain_text(
        "Мы ещё раз отправили письмо со ссылкой для управления записью"
    )
    expect(page.locator("#already-no-mail")).to_be_hidden()
    expect(page.locator("#already-when")).to_contain_text("Консультация психолога")
    expect(page.locator("#already-when")).to_contain_text("10:00")
    for hidden in ("#conflict", "#step-details", "#step-time", "#degraded"):
        expect(page.locator(hidden)).to_be_hidden()
    shoot(page, "booking-already-booked")
    assert_accessible_page(page, "booking page, already booked (ru)")

    # Another session after all: back to the week, where the held time is no longer offered.
    already.get_by_role("button", name="Выбрать другое время").click()
    expect(page.locator("#time-title")).to_be_focused()
    expect(page.locator("#week")).to_have_attribute("aria-busy", "false")
    expect(page.locator(f'#week button.slot[data-start="{FIRST_SLOT_UTC}"]')).to_have_count(0)
    expect(already).to_be_hidden()


def test_already_booked_in_english_without_e_mail_points_to_the_saved_link(
    browser: Browser, live: Live
) -> None:
    context = new_context(browser, viewport=DESKTOP, locale="en-US")
    try:
        page = context.new_page()
        open_booking(page, live)
        expect(page.locator("h1")).to_have_text("Book a session")
        page.get_by_label("Psychologist consultation").check()
        expect(page.locator("#week")).to_have_attribute("aria-busy", "false")
        pick_first_slot(page)
        form = page.locator("#booking-form")
        form.get_by_label("Your name").fill("Anna")
        form.get_by_label("Email").fill("anna@example.com")
        book(live.api, FIRST_SLOT, service="consultation")  # ANNA, anna@example.com
        form.get_by_role("button", name="Book this time").click()
        expect(page.locator("#already-title")).to_have_text("You are already booked for this time")
        # This practice sends no e-mail: the page does not claim one was sent.
        expect(page.locator("#already-sent")).to_be_hidden()
        expect(page.locator("#already-no-mail")).to_contain_text("If you did not save it")
        shoot(page, "booking-already-booked-en")
        assert_accessible_page(page, "booking page, already booked (en)")
    finally:
        context.close()


@pytest.mark.live(live_check_timeout_seconds=10)
def test_a_slow_calendar_check_says_so_and_still_books(phone: Page, live: Live) -> None:
    live.connect_calendar()
    page = phone
    open_booking(page, live)
    choose_service(page, "Консультация психолога")
    pick_first_slot(page)
    fill_details(page, name="Вера", email="vera@example.com")
    live.emulator.fault(latency_ms=30_000, count=0)  # Google hangs from now on
    try:
        page.locator("#booking-form").get_by_role("button", name="Записаться").click()
        status = page.locator("#submit-status")
        expect(status).to_have_text("Записываем…")
        expect(status).to_contain_text("занимает больше времени, чем обычно", timeout=5_000)
        expect(status).to_contain_text("Пожалуйста, не закрывайте страницу")
        shoot(page, "booking-slow-check")
        assert_accessible_page(page, "booking page, slow calendar check")
        # The budget runs out, the mirror synced a moment ago stands in: booked.
        expect(page.locator("#done-title")).to_have_text("Вы записаны", timeout=20_000)
    finally:
        live.emulator.clear_faults()


def test_joining_the_waiting_list_again_says_one_is_on_it_already(phone: Page, live: Live) -> None:
    live.connect_calendar()
    joined = live.api.post(
        "/api/public/booking/waitlist",
        json={
            "service_slug": "consultation",
            "name": "Галина",
            "email": "galina@example.com",
            "timezone": "Europe/Moscow",
        },
    )
    assert joined.status_code == 201, joined.text
    # Google has been unreachable for long: the page says "check later" and offers the list.
    live.emulator.set_outage(down=True)
    try:
        live.clock.advance(timedelta(seconds=2701))
        page = phone
        open_booking(page, live, "?service=consultation")
        expect(page.locator("#degraded")).to_be_visible()
        page.locator("#wl-name").fill("Галина")
        page.locator("#wl-email").fill("Galina@example.com")
        page.get_by_role("button", name="Встать в лист ожидания").click()
        already = page.locator("#waitlist-already")
        expect(already).to_be_visible()
        expect(already).to_be_focused()
        expect(already).to_contain_text("Вы уже в листе ожидания.")
        expect(page.locator("#waitlist-done")).to_be_hidden()
        expect(page.locator("#waitlist-form")).to_be_hidden()
        shoot(page, "booking-waitlist-already")
        assert_accessible_page(page, "booking page, already on the waiting list")
    finally:
        live.emulator.set_outage(down=False)
    entries = live.api.get("/api/admin/waitlist").json()["entries"]
    assert [e["id"] for e in entries] == [joined.json()["id"]]
