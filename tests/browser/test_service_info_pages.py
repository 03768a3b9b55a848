"""What a first-time client learns about a service (issue 19): description, price, format and place
on the booking page, the done screen with what happens next, the manage page and the .ics; the
admin edits them. Russian and English, phone and desktop, with axe on every state shown."""

from __future__ import annotations

import re

import httpx
import icalendar
import pytest
from playwright.sync_api import Browser, Page, expect
from pydantic import SecretStr

from tests.browser.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    DESKTOP,
    PHONE,
    Live,
    assert_accessible,
    new_context,
    shoot,
)
from tests.browser.test_admin_pages import sign_in
from tests.browser.test_booking_pages import open_booking

NBSP = "\xa0"
FIRST_MEETING_ABOUT = "Короткое знакомство на 30 минут"
VIDEO_NOTE = "Ссылка на видеозвонок придёт на вашу почту за день до встречи."
ADDRESS = "Мясницкая, 24/7"


def book_first_slot(page: Page, title: str, *, name: str, email: str, english: bool) -> None:
    """Choose the service, its first free time, type the details and book."""
    page.get_by_label(title).check()
    first = page.locator("#week button.slot").first
    expect(first).to_be_visible()
    first.click()
    form = page.locator("#booking-form")
    form.get_by_label("Your name" if english else "Ваше имя").fill(name)
    form.get_by_label("Email" if english else "Электронная почта").fill(email)
    form.get_by_role("button", name="Book this time" if english else "Записаться").click()
    expect(page.locator("#step-done")).to_be_visible()


# A configured SMTP server only changes what the done screen promises: no worker runs here.
@pytest.mark.live(smtp_url=SecretStr("smtp://127.0.0.1:2525"))
def test_a_first_time_client_reads_what_each_meeting_is_in_russian(phone: Page, live: Live) -> None:
    page = phone
    open_booking(page, live)
    first = page.locator(".choice").filter(has=page.locator("#service-first-meeting"))
    consultation = page.locator(".choice").filter(has=page.locator("#service-consultation"))
    expect(first.locator(".choice-meta")).to_have_text(
        f"30 мин · 1{NBSP}500{NBSP}₽ · Онлайн, по видеосвязи"
    )
    expect(first.locator(".service-description")).to_contain_text(FIRST_MEETING_ABOUT)
    expect(first.locator(".service-where")).to_have_text(f"Как подключиться: {VIDEO_NOTE}")
    expect(consultation.locator(".choice-meta")).to_contain_text(
        f"3{NBSP}500{NBSP}₽ · Онлайн или очно — как вам удобнее"
    )
    expect(consultation.locator(".service-description")).to_contain_text("50-минутная сессия")
    expect(consultation.locator(".service-where")).to_contain_text(ADDRESS)
    # Screen readers hear the description with the choice, not only the title.
    described = page.locator("#service-first-meeting").get_attribute("aria-describedby") or ""
    assert "service-first-meeting-about" in described.split()
    assert_accessible(page, "booking page, services with their info (ru)")
    shoot(page, "svcinfo-booking-services-ru")

    book_first_slot(page, "Первая встреча", name="Анна", email="anna@example.com", english=False)
    done = page.locator("#done-service")
    expect(done.locator(".service-price")).to_have_text(f"1{NBSP}500{NBSP}₽")
    expect(done.locator(".service-format")).to_have_text("Онлайн, по видеосвязи")
    expect(done.locator(".service-description")).to_contain_text(FIRST_MEETING_ABOUT)
    expect(done.locator(".next-title")).to_have_text("Что будет дальше")
    steps = done.locator(".next-steps li")
    expect(steps.nth(0)).to_contain_text("Мы отправили вам письмо-подтверждение")
    expect(steps.nth(1)).to_have_text(f"Встреча проходит онлайн, по видеосвязи. {VIDEO_NOTE}")
    # The place is said once, in the next steps; the link's label no longer denies the e-mail.
    expect(done.locator(".service-location")).to_have_count(1)
    expect(page.locator('label[for="manage-url"]')).to_contain_text("есть и в письме")
    assert_accessible(page, "done screen with the service and what happens next (ru)")
    shoot(page, "svcinfo-done-ru")

    page.locator("#manage-link").click()
    expect(page.locator("#manage-title")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts.locator(".service-price")).to_have_text(f"1{NBSP}500{NBSP}₽")
    expect(facts.locator(".service-format")).to_have_text("Онлайн, по видеосвязи")
    expect(facts.locator(".service-location")).to_have_text(VIDEO_NOTE)
    expect(facts.locator("dt", has_text="Как подключиться")).to_be_visible()
    expect(facts.locator(".service-description")).to_contain_text(FIRST_MEETING_ABOUT)
    assert_accessible(page, "manage page with the service info (ru)")
    shoot(page, "svcinfo-manage-ru")


def test_english_pages_use_the_english_description_or_fall_back_to_russian(
    browser: Browser, live: Live
) -> None:
    # No English text for the first meeting: the Russian one is shown, marked as Russian.
    cleared = live.api.patch("/api/admin/services/first-meeting", json={"description_en": None})
    assert cleared.status_code == 200, cleared.text
    context = new_context(browser, viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    open_booking(page, live)
    expect(page.locator("h1")).to_have_text("Book a session")
    consultation = page.locator(".choice").filter(has=page.locator("#service-consultation"))
    expect(consultation.locator(".choice-meta")).to_have_text(
        f"50 min · RUB{NBSP}3,500 · Online or in person, as you prefer"
    )
    expect(consultation.locator(".service-description")).to_have_attribute("lang", "en")
    expect(consultation.locator(".service-description")).to_contain_text("A regular 50-minute")
    fallback = page.locator("#service-first-meeting-about .service-description")
    expect(fallback).to_have_attribute("lang", "ru")
    expect(fallback).to_contain_text(FIRST_MEETING_ABOUT)
    # One location text for both languages: written in Russian, it is marked as Russian.
    expect(page.locator("#service-first-meeting-about .service-location")).to_have_attribute(
        "lang", "ru"
    )
    assert_accessible(page, "booking page, services with their info (en)")
    shoot(page, "svcinfo-booking-services-en")

    book_first_slot(
        page,
        "Psychologist consultation",
        name="Ann",
        email="ann@example.com",
        english=True,
    )
    done = page.locator("#done-service")
    expect(done.locator(".service-price")).to_have_text(f"RUB{NBSP}3,500")
    steps = done.locator(".next-steps li")
    # E-mail is off in this app: the screen asks to keep the link instead of promising a letter.
    expect(steps.nth(0)).to_have_text(
        "Save the link below: with it you can view, move or cancel the booking."
    )
    expect(steps.nth(1)).to_contain_text("The meeting can be online or in person")
    expect(steps.nth(1)).to_contain_text(ADDRESS)
    assert_accessible(page, "done screen with the service and what happens next (en)")
    shoot(page, "svcinfo-done-en")

    ics_url = page.locator("#ics-link").get_attribute("href")
    assert ics_url is not None
    page.locator("#manage-link").click()
    facts = page.locator("dl.facts")
    expect(facts.locator(".service-price")).to_have_text(f"RUB{NBSP}3,500")
    expect(facts.locator("dt", has_text="Where")).to_be_visible()
    expect(facts.locator(".service-description")).to_contain_text("A regular 50-minute")
    assert_accessible(page, "manage page with the service info (en)")
    shoot(page, "svcinfo-manage-en")
    context.close()

    answer = httpx.get(live.base + ics_url, headers={"Accept-Language": "en"})
    event = icalendar.Calendar.from_ical(answer.content).walk("VEVENT")[0]
    description = str(event["DESCRIPTION"])
    assert description.startswith("A regular 50-minute session")
    assert "Online or in person, as you prefer." in description
    assert "View or cancel the booking: http" in description
    assert ADDRESS in str(event["LOCATION"])
    assert "Ann" not in description
    assert "ann@example.com" not in description


@pytest.mark.parametrize(("lang", "viewport"), [("ru", PHONE), ("en", DESKTOP)])
def test_the_practitioner_edits_what_clients_read(
    browser: Browser, live: Live, lang: str, viewport: dict[str, int]
) -> None:
    context = new_context(browser, viewport=viewport, locale="en-US" if lang == "en" else "ru-RU")
    page = context.new_page()
    if lang == "en":
        page.goto(f"{live.base}/booking/slot/?lang=en")  # remembers English in the cookie
    sign_in_page(page, live, lang)
    items = page.locator("#services-list li.service")
    expect(items).to_have_count(2)
    first = page.locator('#services-list li[data-slug="first-meeting"]')
    # English pages name the services in English (title_en), Russian pages in Russian.
    title = "First meeting" if lang == "en" else "Первая встреча"
    expect(first.locator("h3")).to_have_text(title)
    expect(page.locator('#bc-service option[value="first-meeting"]')).to_have_text(title)
    expect(page.locator('#week-service option[value="first-meeting"]')).to_have_text(title)
    expect(first.locator(".service-meta")).to_contain_text("1")
    edit = "Edit" if lang == "en" else "Изменить"
    first.get_by_role("button", name=edit).click()
    form = first.locator("form.service-form")
    labels = {
        "ru": ("Описание для клиентов (по-русски)", "Стоимость (пусто — не показывать)", "Формат"),
        "en": ("Description (Russian)", "Price (empty: not shown)", "Format"),
    }[lang]
    expect(form.get_by_label(labels[0])).to_have_value(re.compile(FIRST_MEETING_ABOUT))
    form.get_by_label(labels[1]).fill("4 000,50")
    form.get_by_label(labels[2], exact=True).select_option("in_person")
    location = form.locator('textarea[name="location"]')
    location.fill("Москва, ул. Мясницкая, 24/7, офис 12")
    assert_accessible(page, f"admin service form with client info ({lang})")
    shoot(page, f"svcinfo-admin-form-{lang}")
    form.get_by_role("button", name="Save" if lang == "en" else "Сохранить").click()
    expect(page.locator("#services-status")).to_have_text(
        "Saved." if lang == "en" else "Сохранено."
    )
    saved = live.api.get("/api/admin/services").json()["services"]
    mine = next(s for s in saved if s["slug"] == "first-meeting")
    assert mine["price"] == {"amount": "4000.50", "currency": "RUB"}
    assert mine["format"] == "in_person"
    assert mine["location"] == "Москва, ул. Мясницкая, 24/7, офис 12"

    # A bad short name: the admin's own words, never a pattern.
    page.locator("#new-service summary").click()
    new = page.locator("#new-service-form form")
    new.locator('input[name="slug"]').fill("Первая встреча")
    new.locator('input[name="title"]').fill("Проба")
    new.get_by_role("button", name="Add" if lang == "en" else "Добавить").click()
    error = new.locator(".message-error")
    expect(error).to_be_visible()
    expected = (
        "The short name for links may use only small Latin letters"
        if lang == "en"
        else "Короткое имя для ссылок может состоять только из строчных латинских букв"
    )
    expect(error).to_contain_text(expected)
    assert not re.search(r"[\^\[\]$]", error.inner_text()), "no regex in the message"
    expect(new.locator('input[name="slug"]')).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, f"admin service form with a refused short name ({lang})")
    context.close()


def sign_in_page(page: Page, live: Live, lang: str) -> None:
    if lang == "ru":
        sign_in(page, live, "/admin/schedule/")
        return
    page.goto(f"{live.base}/admin/schedule/")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live.base}/admin/schedule/")
