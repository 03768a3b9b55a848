"""The client's side in a real browser: book, confirm, download, cancel; time zones; conflicts;
the calendar going away. The app and the Google Calendar emulator are real; only Chromium drives."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from balance_booking.adapters.db import tables as t
from tests.browser.conftest import DESKTOP, PHONE, Live, fits_width, new_context, shoot
from tests.support.booking import book

PUBLIC_API = "/api/public/booking"
# Tuesday 1 December 2026, 10:00 in Moscow: the first consultation slot after the 12 h notice.
FIRST_SLOT_UTC = "2026-12-01T07:00:00.000Z"


def open_booking(page: Page, live: Live, query: str = "") -> None:
    page.goto(f"{live.base}/booking/slot/{query}")
    expect(page.locator("h1")).to_be_visible()


def choose_service(page: Page, title: str) -> None:
    page.get_by_label(title).check()
    expect(page.locator("#week button.slot").first).to_be_visible()
    expect(page.locator("#week")).to_have_attribute("aria-busy", "false")


def slot_starts(page: Page) -> list[str]:
    return page.locator("#week button.slot").evaluate_all(
        "(all) => all.map((b) => b.dataset.start)"
    )


def wait_for(condition: object, *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def tracked(live: Live, event: str) -> list[dict[str, str]]:
    with live.container.engine.connect() as connection:
        rows = connection.execute(
            select(t.tracking_events.c.properties).where(t.tracking_events.c.event == event)
        ).scalars()
        return [json.loads(row) for row in rows]


def fill_details(page: Page, *, name: str, email: str, phone: str = "") -> None:
    form = page.locator("#booking-form")
    form.get_by_label("Ваше имя").fill(name)
    form.get_by_label("Электронная почта").fill(email)
    if phone:
        form.get_by_label("Телефон").fill(phone)
    form.get_by_label("Комментарий").fill("Первый раз, немного волнуюсь.")


def test_client_books_on_a_phone_downloads_the_ics_and_cancels(phone: Page, live: Live) -> None:
    live.connect_calendar()
    page = phone
    open_booking(page, live)
    assert page.locator("html").get_attribute("lang") == "ru"
    expect(page.locator("#step-time")).to_be_hidden()
    shoot(page, "booking-1-service")

    choose_service(page, "Консультация психолога")
    expect(page.locator("#tz-name")).to_have_text("Москва (UTC+03:00)")
    expect(page.locator("#slots-status")).to_contain_text("Показано свободное время")
    assert fits_width(page), "the week of slots fits a 360 px screen"
    shoot(page, "booking-2-week")

    tuesday = page.locator('#week section[data-date="2026-12-01"] button.slot')
    # Supervision is busy in Google from 11:00 to 13:00; lunch on Wednesday is marked free.
    assert tuesday.all_inner_texts() == ["10:00", "13:00", "15:00", "16:00", "17:00", "18:00"]
    assert "12:00" in page.locator('#week section[data-date="2026-12-02"]').inner_text()
    first = page.locator("#week button.slot").first
    assert first.get_attribute("data-start") == FIRST_SLOT_UTC
    assert first.get_attribute("aria-label") == "вторник, 1 декабря, 10:00"
    first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#details-title")).to_be_focused()
    expect(first).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#chosen-text")).to_contain_text("10:00–10:50")
    wait_for(lambda: tracked(live, "booking_slot_selected"))
    assert tracked(live, "booking_slot_selected") == [
        {
            "service_slug": "consultation",
            "slot_start_at": "2026-12-01T10:00:00+03:00",
            "timezone": "Europe/Moscow",
        }
    ]

    page.locator("#booking-form").get_by_role("button", name="Записаться").click()
    expect(page.locator("#client-name")).to_be_focused()
    expect(page.locator("#client-name-error")).to_have_text("Укажите, пожалуйста, имя.")
    fill_details(page, name="Анна", email="anna@example.com", phone="+7 900 123-45-67")
    shoot(page, "booking-3-details")
    page.locator("#booking-form").get_by_role("button", name="Записаться").click()

    done = page.locator("#step-done")
    expect(done).to_be_visible()
    expect(page.locator("#done-title")).to_be_focused()
    expect(page.locator("#done-title")).to_have_text("Вы записаны")
    expect(page.locator("#done-when")).to_contain_text("1 декабря 2026")
    expect(page.locator("#done-when")).to_contain_text("10:00–10:50")
    expect(page.locator("#done-zone")).to_contain_text("Москва (UTC+03:00)")
    assert fits_width(page)
    shoot(page, "booking-4-confirmation")

    with page.expect_download() as download:
        page.locator("#ics-link").click()
    ics = Path(download.value.path()).read_bytes().decode("utf-8")
    assert "DTSTART:20261201T070000Z\r\n" in ics
    assert "DTEND:20261201T075000Z\r\n" in ics
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n")), "folded lines"
    unfolded = ics.replace("\r\n ", "")
    assert "SUMMARY:Консультация психолога · Эмоциональный баланс\r\n" in unfolded

    page.locator("#manage-link").click()
    expect(page.locator("#manage-title")).to_have_text("Ваша запись")
    expect(page.locator("#manage-status")).to_have_text("Подтверждена")
    expect(page.locator("#manage-when")).to_contain_text("вторник, 1 декабря 2026")
    shoot(page, "manage-1-booking")
    page.get_by_role("button", name="Отменить запись").click()
    expect(page.locator("#cancel-question")).to_be_focused()
    page.get_by_role("button", name="Да, отменить").click()
    expect(page.locator("#manage-status")).to_have_text("Отменена")
    expect(page.locator("#manage-message")).to_contain_text("Запись отменена")
    expect(page.get_by_role("link", name="Записаться на другое время")).to_be_visible()
    shoot(page, "manage-2-cancelled")

    listed = live.api.get("/api/admin/appointments", params={"from": "2026-12-01"}).json()
    assert [a["status"] for a in listed["appointments"]] == ["cancelled"]
    # The slot is free again for the next visitor.
    again = live.api.get(
        f"{PUBLIC_API}/slots",
        params={"service_slug": "consultation", "from": "2026-12-01", "to": "2026-12-01"},
    ).json()
    assert again["slots"][0]["start"] == "2026-12-01T10:00:00+03:00"


def test_new_york_and_moscow_see_the_same_instants_in_their_own_zone(
    browser: Browser, live: Live
) -> None:
    live.connect_calendar()
    seen: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    cities = {"America/New_York": "New York (UTC−05:00)", "Europe/Moscow": "Москва (UTC+03:00)"}
    for zone, locale in (("America/New_York", "en-US"), ("Europe/Moscow", "ru-RU")):
        context = new_context(browser, viewport=DESKTOP, timezone_id=zone, locale=locale)
        page = context.new_page()
        open_booking(page, live, "?service=consultation")
        expect(page.locator("#week button.slot").first).to_be_visible()
        expect(page.locator("#tz-name")).to_have_text(cities[zone])
        assert page.locator("#tz-name").get_attribute("data-zone") == zone
        seen[zone] = slot_starts(page)
        first = page.locator(f'#week button.slot[data-start="{FIRST_SLOT_UTC}"]')
        labels[zone] = first.inner_text().replace("\u202f", " ")
        if zone == "America/New_York":
            # An English-speaking browser gets the English page.
            assert page.locator("html").get_attribute("lang") == "en"
            # ... on the English 12-hour clock (CLDR en).
            label = first.get_attribute("aria-label") or ""
            assert re.fullmatch(r"Tuesday 1 December, 2:00\sAM", label), label
            shoot(page, "booking-week-new-york")
        context.close()
    assert seen["America/New_York"] == seen["Europe/Moscow"]
    assert len(seen["Europe/Moscow"]) > 10
    assert labels == {"America/New_York": "2:00 AM", "Europe/Moscow": "10:00"}


def test_visitor_can_switch_the_time_zone_and_language(desktop: Page, live: Live) -> None:
    live.connect_calendar()
    page = desktop
    open_booking(page, live, "?service=consultation")
    expect(page.locator("#week button.slot").first).to_be_visible()
    before = slot_starts(page)
    page.locator("#tz-input").fill("Токио")
    page.get_by_role("option", name=re.compile("^Токио")).click()
    expect(page.locator("#tz-name")).to_have_text("Токио (UTC+09:00)")
    expect(page.locator(f'#week button.slot[data-start="{FIRST_SLOT_UTC}"]')).to_have_text("16:00")
    # Tokyo's week starts later in absolute time, so later slots join and none shifts.
    assert set(before) & set(slot_starts(page))

    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Book a session")
    # The choice of zone survives the reload; the language is remembered in a cookie.
    expect(page.locator("#tz-name")).to_have_text("Tokyo (UTC+09:00)")
    page.goto(f"{live.base}/booking/slot/")
    expect(page.locator("h1")).to_have_text("Book a session")


def test_slot_taken_meanwhile_offers_alternatives_in_place(desktop: Page, live: Live) -> None:
    live.connect_calendar()
    page = desktop
    open_booking(page, live)
    choose_service(page, "Консультация психолога")
    page.locator(f'#week button.slot[data-start="{FIRST_SLOT_UTC}"]').click()
    fill_details(page, name="Борис", email="boris@example.com")

    # Someone else books the same time while Boris is typing.
    vera = {"name": "Вера", "email": "vera@example.com"}
    book(live.api, "2026-12-01T10:00:00+03:00", service="consultation", client=vera)

    page.locator("#booking-form").get_by_role("button", name="Записаться").click()
    conflict = page.locator("#conflict")
    expect(conflict).to_be_visible()
    expect(page.locator("#conflict-title")).to_be_focused()
    alternatives = conflict.locator("button.slot")
    expect(alternatives.first).to_be_visible()
    assert 1 <= alternatives.count() <= 5
    # The week behind it was refreshed: the taken time is gone there too.
    expect(page.locator(f'#week button.slot[data-start="{FIRST_SLOT_UTC}"]')).to_have_count(0)
    shoot(page, "booking-conflict")

    chosen = alternatives.first.get_attribute("data-start")
    alternatives.first.click()
    expect(conflict).to_be_hidden()
    expect(page.locator("#booking-form").get_by_label("Ваше имя")).to_have_value("Борис")
    page.locator("#booking-form").get_by_role("button", name="Записаться").click()
    expect(page.locator("#done-title")).to_have_text("Вы записаны")
    assert page.locator("#done-when").get_attribute("data-start") == chosen

    booked = live.api.get("/api/admin/appointments", params={"from": "2026-12-01"}).json()
    clients = {a["client_name"]: a for a in booked["appointments"]}
    assert set(clients) == {"Вера", "Борис"}
    assert clients["Вера"]["start"] == "2026-12-01T10:00:00+03:00"
    assert clients["Борис"]["start"] != clients["Вера"]["start"]


def test_calendar_outage_says_check_later_and_keeps_a_waitlist_entry(
    phone: Page, live: Live
) -> None:
    live.connect_calendar()
    page = phone
    open_booking(page, live, "?service=consultation")
    page.locator(f'#week button.slot[data-start="{FIRST_SLOT_UTC}"]').click()
    fill_details(page, name="Галина", email="galina@example.com", phone="+7 911 000-00-00")

    # Google goes down; a few minutes later the live check cannot stand in for it any more.
    live.emulator.set_outage(down=True)
    live.clock.advance(timedelta(minutes=6))
    page.locator("#booking-form").get_by_role("button", name="Записаться").click()
    degraded = page.locator("#degraded")
    expect(degraded).to_be_visible()
    expect(page.locator("#degraded-title")).to_be_focused()
    expect(page.locator("#degraded-title")).to_have_text(
        "Сейчас не получается показать свободное время"
    )
    expect(page.locator("#retry-hint")).to_contain_text("Попробуйте снова примерно через 1 мин")
    expect(page.locator("#wl-email")).to_have_value("galina@example.com")

    # Past the staleness limit the week itself cannot be shown either: "check later".
    live.clock.advance(timedelta(seconds=2700))
    page.get_by_role("button", name="Проверить ещё раз").click()
    expect(degraded).to_be_visible()
    expect(page.locator("#retry-hint")).to_contain_text("через 5 мин")
    assert fits_width(page)
    shoot(page, "booking-degraded")

    page.locator("#wl-comment").fill("По вечерам в будни")
    page.get_by_role("button", name="Встать в лист ожидания").click()
    expect(page.locator("#waitlist-done")).to_be_visible()
    expect(page.locator("#waitlist-done")).to_be_focused()
    shoot(page, "booking-waitlist-done")

    entries = live.api.get("/api/admin/waitlist").json()["entries"]
    assert [
        (e["name"], e["email"], e["phone"], e["comment"], e["service_slug"]) for e in entries
    ] == [
        ("Галина", "galina@example.com", "+7 911 000-00-00", "По вечерам в будни", "consultation")
    ]
    assert entries[0]["timezone"] == "Europe/Moscow"
    assert live.api.get("/api/admin/appointments").json()["appointments"] == []
    live.emulator.set_outage(down=False)


def test_a_wrong_manage_link_says_so_kindly(phone: Page, live: Live) -> None:
    phone.goto(f"{live.base}/booking/manage/00000000-0000-0000-0000-000000000000?token=nope")
    expect(phone.locator("h1")).to_have_text("Эта ссылка не работает")
    expect(phone.get_by_role("link", name="Перейти к записи")).to_be_visible()
    assert PHONE["width"] == 360
