"""Privacy in a real browser: the consent box on the booking form (phone), and the practitioner
answering a data request from /admin/schedule/ (download, then erase) and reading the log."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Live, shoot
from tests.browser.test_admin_pages import sign_in
from tests.browser.test_booking_pages import choose_service, fill_details, open_booking

POLICY = "https://balance.example.org/privacy"
SCHEDULE = "/admin/schedule/"


@pytest.mark.live(privacy_policy_url=POLICY)
def test_the_booking_form_asks_for_consent_with_the_policy_link(phone: Page, live: Live) -> None:
    live.connect_calendar()
    page = phone
    open_booking(page, live)
    choose_service(page, "Консультация психолога")
    page.locator("#week button.slot").first.click()
    expect(page.locator("#client-comment-hint")).to_contain_text("Необязательно")
    expect(page.locator("#client-comment-hint")).to_contain_text("спросит при встрече")
    consent = page.locator("#booking-form").get_by_label("Я соглашаюсь на обработку")
    expect(consent).not_to_be_checked()
    link = page.locator("#booking-form").get_by_role("link", name="политикой конфиденциальности")
    expect(link).to_have_attribute("href", POLICY)

    fill_details(page, name="Анна", email="consent.anna@example.com")
    page.locator("#booking-form").get_by_role("button", name="Записаться").click()
    expect(page.locator("#client-consent-error")).to_contain_text("Поставьте отметку")
    expect(consent).to_be_focused()
    shoot(page, "privacy-1-consent-needed")

    consent.check()
    page.locator("#booking-form").get_by_role("button", name="Записаться").click()
    expect(page.locator("#step-done")).to_be_visible()
    stored = live.api.get("/api/admin/clients", params={"email": "consent.anna@example.com"})
    assert [c["policy_url"] for c in stored.json()["consents"]] == [POLICY]


def test_the_practitioner_downloads_then_erases_a_clients_data(desktop: Page, live: Live) -> None:
    email = "erase.me@example.com"
    booked = live.api.post(
        "/api/admin/appointments",
        json={
            "service_slug": "consultation",
            "start": "2026-12-02T15:00:00+03:00",
            "timezone": "Europe/Moscow",
            "client": {"name": "Вера Удаляемая", "email": email},
            "comment": "Тревога перед экзаменом",
            "notify": False,
        },
    )
    assert booked.status_code == 201, booked.text
    page = desktop
    sign_in(page, live, SCHEDULE)
    section = page.locator("#client-data-section")
    section.get_by_label("Почта клиента").fill(email)
    with page.expect_download() as download:
        section.get_by_role("button", name="Скачать данные клиента (JSON)").click()
    saved = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert [a["client_name"] for a in saved["appointments"]] == ["Вера Удаляемая"]
    assert saved["appointments"][0]["comment"] == "Тревога перед экзаменом"
    expect(section.locator("#client-data-status")).to_contain_text("Скачано: записей — 1")

    section.get_by_role("button", name="Удалить данные клиента…").click()
    expect(section.locator("#client-data-question")).to_contain_text(email)
    shoot(page, "privacy-2-erase-question")
    section.get_by_role("button", name="Да, удалить всё").click()
    expect(section.locator("#client-data-status")).to_contain_text(
        "Удалено: записей — 1 (из них отменено предстоящих — 1)"
    )

    page.get_by_role("navigation", name="Разделы").get_by_role(
        "link", name="Журнал действий"
    ).click()
    expect(page.locator("h1")).to_have_text("Журнал действий")
    rows = page.locator("table.audit tbody tr")
    expect(rows.first).to_contain_text("Удалены данные клиента")
    expect(rows.nth(1)).to_contain_text("Выгружены данные клиента")
    expect(rows.first).to_contain_text("admin@")
    assert email not in page.content()
    assert "Вера" not in page.content()
    shoot(page, "privacy-3-audit-log")
    after = live.api.get("/api/admin/clients", params={"email": email}).json()
    assert after == {"appointments": [], "waitlist": [], "consents": []}
