"""The booking page's time-zone picker (CLDR cities, search, canonical zones), its 12/24-hour
clock and the phone's month overview, from Moscow, New York and Kathmandu, in Russian and English.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    Live,
    assert_accessible,
    new_context,
    shoot,
)
from tests.browser.test_booking_pages import FIRST_SLOT_UTC, choose_service, open_booking

FIRST = f'#week button.slot[data-start="{FIRST_SLOT_UTC}"]'
# Chromium writes "10:00 AM" with a narrow no-break space, as CLDR does.
NNBSP = "\u202f"


def slot_zones(page: Page) -> list[str]:
    """The `tz` of every slots request the page made."""
    return page.evaluate(
        """() => performance.getEntriesByType('resource')
            .map((e) => e.name).filter((n) => n.includes('/api/public/booking/slots'))"""
    )


def tz_of(urls: list[str]) -> set[str]:
    return {parse_qs(urlparse(url).query)["tz"][0] for url in urls}


def test_picker_shows_cities_and_finds_kathmandu_by_typing(desktop: Page, live: Live) -> None:
    page = desktop
    open_booking(page, live, "?service=consultation")
    choose_service(page, "Консультация психолога")
    expect(page.locator("#tz-name")).to_have_text("Москва (UTC+03:00)")
    picker = page.get_by_role("combobox", name="Изменить часовой пояс")
    expect(picker).to_have_value("Москва (UTC+03:00)")
    assert page.locator("#tz-list [role=option]").count() > 400

    picker.click()
    picker.fill("кат")
    options = page.locator("#tz-list [role=option]:visible")
    expect(options.filter(has_text="Катманду")).to_have_count(1)
    expect(options.filter(has_text="Екатеринбург")).to_have_count(1)
    assert options.count() < 10
    # Cities that start with the letters come first, then the rest (west to east each).
    starts = [text.startswith("Кат") for text in options.all_inner_texts()]
    assert starts[0]
    assert starts == sorted(starts, reverse=True)
    expect(options.filter(has_text="Катманду")).to_contain_text("Непал · UTC+05:45")
    expect(picker).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#tz-count")).to_have_text(re.compile(r"Найдено часовых поясов: \d"))
    assert_accessible(page, "zone picker, searching")
    shoot(page, "zones-picker-search-ru")

    # Keyboard only: down to Kathmandu, Enter.
    picker.fill("катм")
    expect(options).to_have_count(1)
    picker.press("Enter")
    expect(picker).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#tz-name")).to_have_text("Катманду (UTC+05:45)")
    expect(page.locator(FIRST)).to_have_text("12:45")
    assert page.evaluate("localStorage.getItem('bb_tz')") == "Asia/Kathmandu"
    assert "Asia/Kathmandu" in tz_of(slot_zones(page))

    # English and legacy names find the same zone on a Russian page; nothing found is said so.
    for query in ("new york", "Kiev", "нью-иорк", "utc-5:00"):
        picker.fill(query)
        expect(page.locator("#tz-list [role=option]:visible").first).to_be_visible()
    picker.fill("Kiev")
    expect(options).to_have_text([re.compile("^Киев")])
    picker.fill("нет такого города")
    expect(page.locator("#tz-none")).to_be_visible()
    expect(page.locator("#tz-list")).to_be_hidden()
    assert_accessible(page, "zone picker, nothing found")
    picker.press("Escape")
    expect(picker).to_have_value("Катманду (UTC+05:45)")


def test_english_page_lists_english_cities_sorted_by_offset(browser: Browser, live: Live) -> None:
    context = new_context(browser, viewport=DESKTOP, timezone_id="America/New_York", locale="en-US")
    page = context.new_page()
    open_booking(page, live, "?service=consultation")
    choose_service(page, "Psychologist consultation")
    expect(page.locator("#tz-name")).to_have_text("New York (UTC−05:00)")
    picker = page.get_by_role("combobox", name="Change time zone")
    picker.focus()
    # All zones, west to east; the current one is selected and active.
    selected = page.locator('#tz-list [role=option][aria-selected="true"]')
    expect(selected).to_have_count(1)
    expect(selected).to_contain_text("New York")
    active = picker.get_attribute("aria-activedescendant")
    assert active == selected.get_attribute("id")
    offsets = page.locator("#tz-list .combo-meta").all_inner_texts()
    minutes = [_minutes(text) for text in offsets]
    assert minutes == sorted(minutes)
    picker.press("ArrowDown")
    assert picker.get_attribute("aria-activedescendant") != active
    picker.fill("moscow")
    picker.press("Enter")
    expect(page.locator("#tz-name")).to_have_text("Moscow (UTC+03:00)")
    assert_accessible(page, "zone picker, English")
    context.close()


def _minutes(meta: str) -> int:
    found = re.search(r"UTC([+−])(\d\d):(\d\d)", meta)
    assert found, meta
    value = int(found.group(2)) * 60 + int(found.group(3))
    return -value if found.group(1) == "−" else value


def test_a_legacy_browser_zone_maps_to_the_canonical_one(browser: Browser, live: Live) -> None:
    """Chromium reports Kathmandu as "Asia/Katmandu" (its ICU's id); the page uses the current
    IANA name, and so do a stored choice and a link's ?tz=."""
    for timezone_id, locale in (("Asia/Katmandu", "ru-RU"), ("Asia/Kathmandu", "en-US")):
        context = new_context(browser, viewport=PHONE, timezone_id=timezone_id, locale=locale)
        page = context.new_page()
        open_booking(page, live, "?service=consultation")
        expect(page.locator(FIRST)).to_be_visible()
        city = "Катманду" if locale == "ru-RU" else "Kathmandu"
        expect(page.locator("#tz-name")).to_have_text(f"{city} (UTC+05:45)")
        assert page.locator("#tz-name").get_attribute("data-zone") == "Asia/Kathmandu"
        assert tz_of(slot_zones(page)) == {"Asia/Kathmandu"}
        assert_accessible(page, f"booking from {timezone_id}")
        context.close()

    context = new_context(browser, viewport=PHONE)
    context.add_init_script("localStorage.setItem('bb_tz', 'Europe/Kiev')")
    page = context.new_page()
    open_booking(page, live, "?service=consultation")
    expect(page.locator("#tz-name")).to_have_text("Киев (UTC+02:00)")
    assert page.locator("#tz-name").get_attribute("data-zone") == "Europe/Kyiv"
    open_booking(page, live, "?service=consultation&tz=Asia/Calcutta")
    expect(page.locator("#tz-name")).to_have_text("Калькутта (UTC+05:30)")
    assert page.locator("#tz-name").get_attribute("data-zone") == "Asia/Kolkata"
    context.close()


def test_times_follow_the_language_and_the_clock_toggle(browser: Browser, live: Live) -> None:
    # English from New York: the 12-hour clock.
    context = new_context(browser, viewport=DESKTOP, timezone_id="America/New_York", locale="en-US")
    page = context.new_page()
    open_booking(page, live, "?service=consultation")
    choose_service(page, "Psychologist consultation")
    expect(page.locator(FIRST)).to_have_text(f"2:00{NNBSP}AM")
    expect(page.get_by_label("12-hour (AM/PM)")).to_be_checked()
    shoot(page, "zones-clock-12h-en")
    page.get_by_text("24-hour", exact=True).click()
    expect(page.locator(FIRST)).to_have_text("02:00")
    assert page.evaluate("localStorage.getItem('bb_clock')") == "h23"
    page.reload()
    expect(page.locator(FIRST)).to_have_text("02:00")
    expect(page.get_by_label("24-hour", exact=True)).to_be_checked()
    assert_accessible(page, "clock toggle, English")
    context.close()

    # Russian from Moscow: the 24-hour clock, and 12-hour on request (keyboard).
    context = new_context(browser, viewport=PHONE)
    page = context.new_page()
    open_booking(page, live, "?service=consultation")
    choose_service(page, "Консультация психолога")
    expect(page.locator(FIRST)).to_have_text("10:00")
    expect(page.get_by_label("24 часа")).to_be_checked()
    page.get_by_label("24 часа").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("12 часов (AM/PM)")).to_be_checked()
    expect(page.locator(FIRST)).to_have_text(re.compile(r"^10:00\s?AM$"))
    page.locator(FIRST).click()
    expect(page.locator("#chosen-text")).to_contain_text(re.compile(r"10:00\s?AM–10:50\s?AM"))
    assert_accessible(page, "clock toggle, Russian, 12-hour")
    shoot(page, "zones-clock-12h-ru")
    context.close()


def test_manage_page_shows_the_city_and_the_chosen_clock(browser: Browser, live: Live) -> None:
    booked = live.api.post(
        "/api/public/booking/appointments",
        json={
            "service_slug": "consultation",
            "start": "2026-12-01T10:00:00+03:00",
            "timezone": "Asia/Katmandu",  # the API takes any IANA name, legacy ones too
            "client": {"name": "Анна", "email": "anna@example.com"},
            "language": "ru",
        },
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()["appointment"]
    url = f"{live.base}/booking/manage/{appointment['id']}?token={appointment['manage_token']}"
    for lang, zone, clock in (
        ("ru", "Катманду (UTC+05:45)", "12:45–13:35"),
        ("en", "Kathmandu (UTC+05:45)", f"12:45{NNBSP}PM–1:35{NNBSP}PM"),
    ):
        context = new_context(browser, viewport=PHONE)
        page = context.new_page()
        page.goto(f"{url}&lang={lang}")
        expect(page.locator("#manage-zone")).to_have_text(zone)
        expect(page.locator("#manage-when")).to_contain_text(clock)
        assert_accessible(page, f"manage page, {lang}")
        context.close()
    # A visitor who chose the 12-hour clock on the booking page sees it here too.
    context = new_context(browser, viewport=PHONE)
    context.add_init_script("localStorage.setItem('bb_clock', 'h12')")
    page = context.new_page()
    page.goto(f"{url}&lang=ru")
    expect(page.locator("#manage-when")).to_contain_text(re.compile(r"12:45\s?PM–1:35\s?PM"))
    shoot(page, "zones-manage-12h-ru")
    context.close()


def test_phone_month_overview_marks_free_days_and_jumps_to_one(phone: Page, live: Live) -> None:
    live.connect_calendar()
    page = phone
    open_booking(page, live, "?service=consultation")
    choose_service(page, "Консультация психолога")
    month = page.locator("#month")
    expect(month).to_be_visible()
    # The week from Monday 30 November is mostly December's.
    expect(page.locator("#month-label")).to_have_text(re.compile(r"^Декабрь 2026"))
    free = page.get_by_role("button", name="3 декабря, есть свободное время", exact=True)
    expect(free).to_be_visible()
    expect(free).to_have_class(re.compile(r"has-free"))
    weekend = page.get_by_role("button", name="5 декабря, нет свободного времени", exact=True)
    expect(weekend).to_have_attribute("aria-disabled", "true")
    # Today (30 November, inside the 12-hour notice) leads the grid; the past is not a button.
    expect(page.locator('#month-grid button[data-date="2026-11-30"]')).to_have_attribute(
        "aria-current", "date"
    )
    expect(page.locator('#month-grid button[data-date="2026-11-29"]')).to_have_count(0)
    expect(page.locator("#month-grid button.in-week")).to_have_count(7)
    assert_accessible(page, "month overview, phone")
    shoot(page, "zones-month-phone-ru")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]

    # A tap on 10 December shows its week and brings its day into view.
    page.get_by_role("button", name="10 декабря, есть свободное время", exact=True).click()
    day = page.locator("#day-2026-12-10")
    expect(day).to_be_focused()
    expect(day).to_be_in_viewport()
    expect(page.locator("#week-label")).to_have_text("7 декабря – 13 декабря")
    expect(page.locator('#week section[data-date="2026-12-10"] button.slot').first).to_be_visible()
    expect(page.locator('#month-grid button.in-week[data-date="2026-12-10"]')).to_have_count(1)

    # Keyboard: one tab stop, arrows move by day and week, Enter opens the day.
    stop = page.locator('#month-grid button[tabindex="0"]')
    expect(stop).to_have_count(1)
    stop.focus()
    start = stop.get_attribute("data-date")
    page.keyboard.press("ArrowDown")
    moved = page.evaluate("document.activeElement.dataset.date")
    assert moved is not None
    assert start is not None
    assert moved > start

    # The next month loads its own free days (the 60-day horizon ends in late January).
    page.get_by_role("button", name="Следующий месяц").click()
    expect(page.locator("#month-label")).to_have_text(re.compile(r"^Январь 2027"))
    expect(
        page.get_by_role("button", name="12 января, есть свободное время", exact=True)
    ).to_be_visible()
    expect(page.locator('#month-grid button[data-date="2027-01-31"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Следующий месяц")).to_have_attribute(
        "aria-disabled", "true"
    )
    requests = slot_zones(page)
    assert any("from=2027-01-01" in url or "from=2026-12-28" in url for url in requests)
    assert_accessible(page, "month overview, January")


def test_month_overview_is_for_phones_only_and_speaks_english(browser: Browser, live: Live) -> None:
    context = new_context(browser, viewport=DESKTOP, timezone_id="America/New_York", locale="en-US")
    page = context.new_page()
    open_booking(page, live, "?service=consultation")
    choose_service(page, "Psychologist consultation")
    expect(page.locator("#month")).to_be_hidden()
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    expect(page.locator("#month")).to_be_visible()
    expect(page.locator("#month-label")).to_have_text("December 2026")
    expect(
        page.get_by_role("button", name="1 December, there is free time", exact=True)
    ).to_be_visible()
    assert_accessible(page, "month overview, English")
    shoot(page, "zones-month-phone-en")
    context.close()
