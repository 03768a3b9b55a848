"""The practitioner books a client who phoned, as a weekly series, from /admin/schedule/; sees
every collision named in words; moves one meeting and cancels the rest of the series."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Live, shoot
from tests.browser.test_admin_pages import sign_in

SCHEDULE = "/admin/schedule/"


def fill(page: Page, *, date: str, time: str, weeks: int) -> None:
    form = page.locator("#book-client-form")
    form.get_by_label("Формат встречи").select_option("consultation")
    form.get_by_label("Дата").fill(date)
    form.get_by_label("Время (в вашем часовом поясе)").fill(time)
    form.get_by_label("Имя клиента").fill("Пётр по телефону")
    form.get_by_label("Каждую неделю, число встреч").fill(str(weeks))


def test_the_practitioner_books_a_series_moves_one_and_cancels_the_rest(
    desktop: Page, live: Live
) -> None:
    live.connect_calendar()
    page = desktop
    sign_in(page, live, SCHEDULE)
    page.get_by_text("Записать клиента").click()
    # Tuesdays 11:00-13:00 are busy in the practitioner's Google Calendar (weekly supervision):
    # every occurrence of the series is named.
    fill(page, date="2026-12-01", time="12:00", weeks=3)
    page.get_by_role("button", name="Записать", exact=True).click()
    expect(page.locator("#book-client-errors")).to_have_text("Ничего не записано. Пересечения:")
    conflicts = page.locator("#bc-conflicts li")
    expect(conflicts).to_have_count(3)
    for n, day in enumerate(("1 дек", "8 дек", "15 дек")):
        expect(conflicts.nth(n)).to_contain_text(day)
        expect(conflicts.nth(n)).to_contain_text("12:00: занято в Google Календаре")
    shoot(page, "admin-book-1-conflict")

    fill(page, date="2026-12-02", time="14:00", weeks=3)
    page.get_by_role("button", name="Записать", exact=True).click()
    expect(page.locator("#bc-status")).to_have_text("Записано встреч: 3.")
    items = page.locator("#appointments li.appt", has_text="Пётр по телефону")
    expect(items).to_have_count(3)
    shoot(page, "admin-book-2-series")

    first = items.first
    first.get_by_role("button", name="Перенести").click()
    mover = first.locator("form.move-form")
    mover.locator('input[type="time"]').fill("16:00")
    mover.get_by_role("button", name="Перенести").click()
    expect(page.locator("#appointments-status")).to_have_text("Запись перенесена.")
    moved = page.locator("#appointments li.appt", has_text="Пётр по телефону").first
    expect(moved.locator(".appt-when")).to_contain_text("16:00")
    expect(moved.locator(".appt-moved")).to_contain_text("Перенесена с")

    moved.get_by_role("button", name="Отменить оставшиеся встречи серии").click()
    expect(page.locator("#appointments-status")).to_have_text(
        "Отменены оставшиеся встречи серии: 3."
    )
    active = live.api.get(
        "/api/admin/appointments", params={"from": "2026-12-01", "to": "2026-12-31"}
    ).json()["appointments"]
    assert [a["status"] for a in active if a["client_name"] == "Пётр по телефону"] == [
        "cancelled"
    ] * 3
