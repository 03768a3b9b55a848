"""The admin week view says why a time is free or not: click or keyboard, Russian and English.

The demo practice: weekdays 10:00-14:00 and 15:00-19:00 Moscow, a 50-minute consultation on an
hourly grid with 12 hours' notice; Google has "Супервизия" every Tuesday 11:00-13:00 and a lunch
marked free on Wednesday 12:00-13:00. The app's clock: Monday 30 November 2026, 09:00 Moscow.
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Live, fits_width, shoot
from tests.browser.test_admin_pages import sign_in, wait_for_week

SCHEDULE = "/admin/schedule/"


def cell(page: Page, date: str, hhmm: str) -> Locator:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return page.locator(f'.tl-cell[data-date="{date}"][data-minute="{hours * 60 + minutes}"]')


def reasons(page: Page) -> list[str]:
    return page.locator("#explain-reasons li").all_inner_texts()


def test_admin_reads_why_a_time_is_not_offered(desktop: Page, live: Live) -> None:
    page = desktop
    live.connect_calendar()
    sign_in(page, live, SCHEDULE)
    wait_for_week(page)
    expect(page.locator("#explain-hint")).to_be_visible()

    # Tuesday 12:00 shows no slot: Google Calendar is busy then.
    cell(page, "2026-12-01", "12:00").click()
    panel = page.locator("#explain-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#explain-title")).to_have_text(
        "Вторник, 1 декабря, 12:00 · Консультация психолога"
    )
    expect(page.locator("#explain-verdict")).to_have_text("Клиентам не предлагается:")
    expect(page.locator("#explain-reasons li")).to_have_text(
        ["Занято в Google Календаре: 11:00–13:00"]
    )
    assert fits_width(page)
    shoot(page, "admin-explain-busy")

    # The keyboard: the chosen time is focused; arrows move, Enter and Space ask.
    expect(cell(page, "2026-12-01", "12:00")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(cell(page, "2026-12-01", "12:30")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#explain-reasons li")).to_have_count(2)
    assert reasons(page) == [
        "Не по сетке записи: в рабочие часы 10:00–14:00 встречи начинаются каждые 60 мин, с 10:00.",
        "Занято в Google Календаре: 11:00–13:00",
    ]
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowRight")
    expect(cell(page, "2026-12-02", "12:00")).to_be_focused()
    page.keyboard.press("Space")
    # Wednesday's lunch is marked free in Google: the time is offered.
    expect(page.locator("#explain-verdict")).to_have_text(
        "Свободно: клиенты могут записаться на это время."
    )
    expect(page.locator("#explain-reasons li")).to_have_count(0)
    expect(panel).to_have_attribute("data-offered", "true")

    # Empty cells: a Saturday, and Monday inside the 12 hours' notice.
    cell(page, "2026-12-05", "12:00").click()
    expect(page.locator("#explain-reasons li")).to_have_text(["Вне рабочих часов."])
    cell(page, "2026-11-30", "15:00").click()
    expect(page.locator("#explain-reasons li")).to_have_text(
        [
            "Меньше минимального срока записи (12 ч до начала): на это время можно было записаться до 03:00."
        ]
    )

    page.get_by_role("button", name="Закрыть").click()
    expect(panel).to_be_hidden()
    expect(cell(page, "2026-11-30", "15:00")).to_be_focused()


def test_reasons_in_english(desktop: Page, live: Live) -> None:
    page = desktop
    live.connect_calendar()
    sign_in(page, live, SCHEDULE)
    page.goto(f"{live.base}{SCHEDULE}?lang=en")
    expect(page.locator("#week-status")).to_contain_text("Shown")
    cell(page, "2026-12-01", "12:00").click()
    expect(page.locator("#explain-title")).to_have_text(
        "Tuesday 1 December, 12:00 · Psychologist consultation"
    )
    expect(page.locator("#explain-verdict")).to_have_text("Not offered to clients:")
    expect(page.locator("#explain-reasons li")).to_have_text(
        ["Busy in Google Calendar: 11:00–13:00"]
    )
    shoot(page, "admin-explain-en")


def test_phone_lists_the_times_as_buttons(phone: Page, live: Live) -> None:
    page = phone
    sign_in(page, live, SCHEDULE)
    wait_for_week(page)
    saturday = cell(page, "2026-12-05", "10:00")
    saturday.scroll_into_view_if_needed()
    saturday.click()
    expect(page.locator("#explain-reasons li")).to_have_text(["Вне рабочих часов."])
    assert fits_width(page)
