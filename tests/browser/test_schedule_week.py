"""The practitioner's week and schedule editing (issue 19): each booking shown once, short
bookings readable, a vacation entered once, the notice in hours or days, an empty step kept to
the clock; axe finds nothing serious with cancelled bookings and Google busy time on the page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Live, assert_accessible, fits_width, shoot
from tests.browser.test_admin_pages import SCHEDULE, day, sign_in, wait_for_week
from tests.browser.test_move import deliver
from tests.support.booking import book
from tests.support.google import INTEGRATION_API

LONG_NAME = {"name": "Анастасия Константинопольская", "email": "nastya@example.com"}


def busy_week(live: Live) -> dict[str, Any]:
    """Wednesday: a 30-minute first meeting at 10:00 with a long name, and a call in Google from
    10:15 that runs past it. Thursday: Boris's consultation at 10:00 and Vera's at 11:00,
    cancelled. Google is connected after the bookings, their events are written, then synced."""
    short = book(live.api, "2026-12-02T10:00:00+03:00", service="first-meeting", client=LONG_NAME)
    book(
        live.api,
        "2026-12-03T10:00:00+03:00",
        service="consultation",
        client={"name": "Борис", "email": "boris@example.com"},
    )
    vera = book(
        live.api,
        "2026-12-03T11:00:00+03:00",
        service="consultation",
        client={"name": "Вера", "email": "vera@example.com"},
    )
    cancelled = live.api.post(f"/api/admin/appointments/{vera['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    live.busy("Звонок", "2026-12-02T10:15:00", "2026-12-02T11:00:00")
    live.connect_calendar()
    deliver(live)  # the outbox writes the two events to Google
    assert live.api.post(f"{INTEGRATION_API}/sync").status_code == 200
    mirror = live.api.get("/api/admin/busy", params={"from": "2026-12-02", "to": "2026-12-03"})
    # Google answers our own events as busy time too: 10:00-11:00 (merged) and 10:00-10:50.
    starts = [block["start"][11:16] for block in mirror.json()["busy"]]
    assert starts == ["10:30", "16:00"], "the view leaves out our own events, keeps the rest"
    return short


def short_booking(page: Page) -> Locator:
    return page.locator('#admin-week section[data-date="2026-12-02"] .tl-appt')


def assert_readable(block: Locator, *, min_height: float) -> None:
    """Tall enough for a line, the start and the name visible, the full text in the title."""
    box = block.bounding_box()
    assert box is not None
    assert box["height"] >= min_height, box
    expect(block.locator(".tl-time")).to_be_visible()
    expect(block.locator(".tl-name")).to_be_visible()
    expect(block).to_have_attribute("title", f"10:00–10:30 {LONG_NAME['name']} · Первая встреча")


def test_each_booking_shows_once_and_a_short_one_is_readable(desktop: Page, live: Live) -> None:
    busy_week(live)
    page = desktop
    sign_in(page, live, SCHEDULE)
    wait_for_week(page)
    # Once, as a booking: the Google copy of it is not also "busy"; the call's own part stays.
    # (The short block's end time is kept for screen readers only: compared as its text.)
    expect(short_booking(page)).to_have_count(1)
    assert short_booking(page).text_content() == (
        "10:00–10:30 Анастасия Константинопольская · Первая встреча"
    )
    assert day(page, "2026-12-02", "busy") == ["10:30–11:00 Занято в Google Календаре"]
    assert day(page, "2026-12-03", "appt") == ["10:00–10:50 Борис · Консультация психолога"]
    assert day(page, "2026-12-03", "busy") == ["16:00–17:30 Занято в Google Календаре"]

    block = short_booking(page)
    assert_readable(block, min_height=24)
    # Alone at its time it takes the whole day column, not half of it.
    column = page.locator('#admin-week section[data-date="2026-12-02"] .tl-items').bounding_box()
    box = block.bounding_box()
    assert column is not None
    assert box is not None
    assert box["width"] >= column["width"] - 8
    # Focused (Tab reaches it), it opens: the whole name and the time range, nothing cut.
    block.focus()
    expect(block).to_contain_text("10:00–10:30")
    label_clipped = block.locator(".tl-label").evaluate("e => e.scrollWidth > e.clientWidth + 1")
    assert label_clipped is False
    opened = block.bounding_box()
    assert opened is not None
    assert opened["height"] >= box["height"]

    # Choosing its time in the grid (the times lie over the blocks) lights it up as well.
    page.locator('.tl-cell[data-date="2026-12-02"][data-minute="600"]').click()
    expect(block).to_have_class(re.compile(r"\bis-lit\b"))
    expect(page.locator("#explain-reasons li")).to_have_text(
        ["Другая запись: 10:00–10:30", "Занято в Google Календаре: 10:30–11:00"]
    )

    # The bookings list with a cancelled one: axe finds nothing serious on the whole page.
    cancelled = page.locator('#appointments li.appt[data-status="cancelled"]')
    expect(cancelled).to_have_count(1)
    expect(cancelled).to_contain_text("Отменена")
    assert_accessible(page, "admin schedule (ru): short, cancelled, Google busy")
    shoot(page, "admin-week-once")


def test_the_week_in_english_on_a_phone(phone: Page, live: Live) -> None:
    busy_week(live)
    page = phone
    sign_in(page, live, SCHEDULE)
    page.goto(f"{live.base}{SCHEDULE}?lang=en")
    expect(page.locator("#week-status")).to_contain_text("Shown")
    expect(page.locator("#admin-week")).to_have_attribute("aria-busy", "false")
    texts = [" ".join(text.split()) for text in short_booking(page).all_inner_texts()]
    assert texts == ["10:00–10:30 Анастасия Константинопольская · First meeting"]
    assert len(page.locator('#admin-week section[data-date="2026-12-02"] .tl-busy').all()) == 1
    block = short_booking(page)
    block.scroll_into_view_if_needed()
    box = block.bounding_box()
    assert box is not None
    assert box["height"] >= 20
    expect(block.locator(".tl-name")).to_be_visible()
    assert fits_width(page)
    assert_accessible(page, "admin schedule (en, phone): short, cancelled, Google busy")
    # And at desktop width in English, the short block keeps its line.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(block).to_have_attribute("title", f"10:00–10:30 {LONG_NAME['name']} · First meeting")
    wide = block.bounding_box()
    assert wide is not None
    assert wide["height"] >= 24
    assert_accessible(page, "admin schedule (en, desktop)")
    shoot(page, "admin-week-once-en")


def public_days(live: Live, first: str, last: str) -> list[str]:
    answer = live.api.get(
        "/api/public/booking/slots",
        params={"service_slug": "consultation", "from": first, "to": last},
    )
    assert answer.status_code == 200, answer.text
    return sorted({slot["start"][:10] for slot in answer.json()["slots"]})


def add_vacation(page: Page, first: str, last: str, *, labels: tuple[str, str, str]) -> None:
    add, first_label, last_label = labels
    page.get_by_role("button", name=add).click()
    row = page.locator("#vacations .vacation-row").last
    row.get_by_label(first_label).fill(first)
    row.get_by_label(last_label).fill(last)


def test_a_vacation_is_entered_once_and_blocks_every_day(desktop: Page, live: Live) -> None:
    assert public_days(live, "2026-12-07", "2026-12-14") == [
        "2026-12-07",
        "2026-12-08",
        "2026-12-09",
        "2026-12-10",
        "2026-12-11",
        "2026-12-14",
    ]
    page = desktop
    sign_in(page, live, SCHEDULE)
    wait_for_week(page)
    add_vacation(
        page,
        "2026-12-07",
        "2026-12-13",
        labels=("+ Добавить отпуск", "Первый день отпуска", "Последний день отпуска"),
    )
    expect(page.locator("#vacations .vacation-length")).to_have_text("Дней без записи: 7")
    # A second one reversed by mistake: the form says so and saves nothing.
    add_vacation(
        page,
        "2027-01-10",
        "2027-01-02",
        labels=("+ Добавить отпуск", "Первый день отпуска", "Последний день отпуска"),
    )
    page.get_by_role("button", name="Сохранить рабочие часы").click()
    expect(page.locator("#schedule-errors")).to_contain_text(
        "10 января – 2 января 2027 г.: последний день отпуска раньше первого."
    )
    assert_accessible(page, "admin schedule: a vacation with an error")
    page.locator("#vacations .vacation-row").last.get_by_role(
        "button", name="Удалить этот отпуск"
    ).click()
    page.get_by_role("button", name="Сохранить рабочие часы").click()
    expect(page.locator("#schedule-status")).to_have_text(
        "Сохранено. Клиенты сразу видят новые часы."
    )
    assert live.api.get("/api/admin/schedule").json()["vacations"] == [
        {"from": "2026-12-07", "to": "2026-12-13"}
    ]
    assert public_days(live, "2026-12-07", "2026-12-14") == ["2026-12-14"]

    # The week of the vacation: each day marked, no hours, and the reason says vacation.
    page.locator("#admin-week-next").click()
    expect(page.locator("#week-status")).to_contain_text("7 декабря")
    expect(page.locator('#admin-week section[data-date="2026-12-08"] h4')).to_contain_text("отпуск")
    assert day(page, "2026-12-08", "hours") == []
    page.locator('.tl-cell[data-date="2026-12-08"][data-minute="660"]').click()
    expect(page.locator("#explain-reasons li")).to_have_text(
        ["Выходной: 8 декабря — отпуск с 7 декабря по 13 декабря."]
    )
    assert_accessible(page, "admin schedule: the week of a vacation")
    shoot(page, "admin-vacation")


def test_a_vacation_in_english_on_a_phone(phone: Page, live: Live) -> None:
    page = phone
    sign_in(page, live, SCHEDULE)
    page.goto(f"{live.base}{SCHEDULE}?lang=en#hours-section")
    expect(page.locator("#week-status")).to_contain_text("Shown")
    add_vacation(
        page,
        "2026-12-21",
        "2027-01-08",
        labels=("+ Add a vacation", "First day off", "Last day off"),
    )
    expect(page.locator("#vacations .vacation-length")).to_have_text("Days off: 19")
    page.get_by_role("button", name="Save working hours").click()
    expect(page.locator("#schedule-status")).to_have_text(
        "Saved. Clients see the new hours right away."
    )
    assert public_days(live, "2026-12-21", "2027-01-11") == ["2027-01-11"]
    assert fits_width(page)
    assert_accessible(page, "admin schedule (en, phone): a vacation")


def service_item(page: Page, slug: str) -> Locator:
    return page.locator(f'#services-list li.service[data-slug="{slug}"]')


def test_notice_in_hours_or_days_and_an_empty_step_kept_to_the_clock(
    desktop: Page, live: Live
) -> None:
    page = desktop
    sign_in(page, live, SCHEDULE)
    wait_for_week(page)
    # The consultation's 12-hour notice (720 minutes in the API) reads as 12 hours.
    consultation = service_item(page, "consultation")
    consultation.get_by_role("button", name="Изменить").click()
    notice = consultation.get_by_label("Записываться не позже чем за …")
    unit = consultation.get_by_label("Единица срока записи")
    expect(notice).to_have_value("12")
    expect(unit).to_have_value("hours")
    notice.fill("2")
    unit.select_option("days")
    assert_accessible(page, "admin schedule: the service form")
    consultation.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#services-status")).to_have_text("Сохранено.")
    stored = {s["slug"]: s for s in live.api.get("/api/admin/services").json()["services"]}
    assert stored["consultation"]["min_notice_minutes"] == 2 * 24 * 60
    assert stored["consultation"]["slot_step_minutes"] == 60  # untouched, not re-sent

    # A new 55-minute kind of meeting with no step: the page keeps the starts on the hour.
    page.locator("#new-service summary").click()
    form = page.locator("#new-service-form")
    form.locator('input[name="slug"]').fill("long-talk")
    form.locator('input[name="title"]').fill("Долгий разговор")
    form.locator('input[name="duration_minutes"]').fill("55")
    step = form.locator('input[name="slot_step_minutes"]')
    expect(step).to_have_value("")
    hint = form.locator(f"#{step.get_attribute('aria-describedby')}")
    expect(hint).to_have_text("Начало: 10:00, 11:00, 12:00, 13:00 …")
    # A step off the clock is refused here (and by the API) before anything is saved.
    step.fill("50")
    expect(hint).to_have_text("Начало: 10:00, 10:50, 11:40, 12:30 …")
    form.get_by_role("button", name="Добавить").click()
    expect(form.locator(".message-error")).to_contain_text("Начало встреч должно идти по часам")
    expect(step).to_have_attribute("aria-invalid", "true")
    assert "long-talk" not in {
        s["slug"] for s in live.api.get("/api/admin/services").json()["services"]
    }
    step.fill("")
    form.locator('input[name="min_notice_minutes"]').fill("0")
    form.get_by_role("button", name="Добавить").click()
    expect(page.locator("#services-status")).to_have_text("Добавлено.")
    created = {s["slug"]: s for s in live.api.get("/api/admin/services").json()["services"]}
    assert created["long-talk"]["slot_step_minutes"] == 60
    slots = live.api.get(
        "/api/public/booking/slots",
        params={"service_slug": "long-talk", "from": "2026-12-04", "to": "2026-12-04"},
    ).json()["slots"]
    assert [slot["start"][11:16] for slot in slots] == [
        "10:00",
        "11:00",
        "12:00",
        "13:00",
        "15:00",
        "16:00",
        "17:00",
        "18:00",
    ]
    shoot(page, "admin-service-notice-step")


def test_the_service_form_in_english_on_a_phone(phone: Page, live: Live) -> None:
    # A hidden kind of meeting is listed too: quieter, but still readable (axe below).
    hidden = live.api.patch("/api/admin/services/consultation", json={"active": False})
    assert hidden.status_code == 200, hidden.text
    page = phone
    sign_in(page, live, SCHEDULE)
    page.goto(f"{live.base}{SCHEDULE}?lang=en")
    first = service_item(page, "first-meeting")
    first.get_by_role("button", name="Edit").click()
    expect(first.get_by_label("Book at least … ahead")).to_have_value("1")
    expect(first.get_by_label("Unit of the notice")).to_have_value("days")
    expect(service_item(page, "consultation")).to_contain_text("hidden from clients")
    assert fits_width(page)
    assert_accessible(page, "admin schedule (en, phone): the service form, a hidden service")
