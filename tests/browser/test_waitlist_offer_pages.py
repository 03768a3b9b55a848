"""A waitlist offer in a real browser: the page the offer e-mail links to, on a phone in Russian
(accept, landing on the booking's own page) and on a desktop in English (decline); and the
practitioner's waiting list with each entry's state and a way to remove one."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from playwright.sync_api import Page, expect

from balance_booking.application.booking import ManageTokens
from balance_booking.bootstrap import build_waitlist_matching
from tests.browser.conftest import AXE_BLOCKING, Live, axe_violations, fits_width, shoot
from tests.browser.test_admin_pages import sign_in

START = "2026-12-02T15:00:00+03:00"  # Wednesday, a free consultation time in the demo week


def assert_section_accessible(page: Page, selector: str, where: str) -> None:
    """0 axe violations of impact serious or critical inside `selector` (the rest of the page
    belongs to other parts of the admin schedule and has its own checks)."""
    axe_violations(page)  # injects axe-core
    found = page.evaluate(
        """async (selector) => {
            const result = await window.axe.run(selector, {resultTypes: ['violations']});
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')),
            }));
        }""",
        selector,
    )
    blocking = [v for v in found if v["impact"] in AXE_BLOCKING]
    assert not blocking, f"axe on {where}: {blocking}"


def offered(live: Live, *, email: str, language: str = "ru") -> tuple[str, str]:
    """Someone waits for Wednesday 15:00; the time is booked, then cancelled, and the worker's
    matching job offers it. Returns (entry id, the offer page's path with its token)."""
    booked = live.api.post(
        "/api/admin/appointments",
        json={
            "service_slug": "consultation",
            "start": START,
            "timezone": "Europe/Moscow",
            "client": {"name": "Занявший", "email": "first@example.com"},
            "notify": False,
        },
    )
    assert booked.status_code == 201, booked.text
    joined = live.api.post(
        "/api/public/booking/waitlist",
        json={
            "service_slug": "consultation",
            "name": "Ольга",
            "email": email,
            "timezone": "Europe/Moscow",
            "preferred_from": START,
            "preferred_to": "2026-12-02T15:50:00+03:00",
            "language": language,
        },
    )
    assert joined.status_code == 201, joined.text
    appointment: dict[str, Any] = booked.json()["appointments"][0]
    cancelled = live.api.post(f"/api/admin/appointments/{appointment['id']}/cancel")
    assert cancelled.status_code == 200
    assert build_waitlist_matching(live.container).execute()["offered"] == 1
    entry = next(
        e for e in live.api.get("/api/admin/waitlist").json()["entries"] if e["email"] == email
    )
    offer_id = entry["offer"]["id"]
    token = ManageTokens(live.container.settings.resolved_secret_key()).token(UUID(offer_id))
    return entry["id"], f"/booking/offers/{offer_id}?token={token}"


def test_accepting_an_offer_on_a_phone_books_it(phone: Page, live: Live) -> None:
    _, path = offered(live, email="olga@example.com")
    page = phone
    page.goto(live.base + path)
    expect(page.locator("h1")).to_have_text("Для вас освободилось время")
    expect(page.locator("#offer-when")).to_contain_text("15:00–15:50")
    expect(page.locator("#offer-until")).to_be_visible()
    assert fits_width(page)
    shoot(page, "offer-1-phone")
    page.get_by_role("button", name="Записаться", exact=True).click()
    expect(page).to_have_url(re.compile(r"/booking/manage/[0-9a-f-]+\?token="))
    expect(page.locator("#manage-status")).to_have_attribute("data-status", "confirmed")
    shoot(page, "offer-2-booked")


def test_declining_an_offer_in_english(desktop: Page, live: Live) -> None:
    _, path = offered(live, email="en.olga@example.com", language="en")
    page = desktop
    page.goto(live.base + path + "&lang=en")
    if page.locator("html").get_attribute("lang") != "en":
        page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("A time has opened up for you")
    page.get_by_role("button", name="This time doesn't suit me").click()
    expect(page.locator("#offer-outcome")).to_contain_text("You stay on the waiting list")
    expect(page.get_by_role("button", name="This time doesn't suit me")).to_have_count(0)
    shoot(page, "offer-3-declined-en")


def test_the_practitioner_sees_the_state_and_removes_an_entry(desktop: Page, live: Live) -> None:
    offered(live, email="waiting@example.com")
    page = desktop
    sign_in(page, live, "/admin/schedule/")
    entry = page.locator("#waitlist li.waitlist-entry", has_text="waiting@example.com")
    expect(entry.locator(".waitlist-state")).to_contain_text("Предложено время")
    expect(entry.locator(".waitlist-state")).to_contain_text("удерживается до")
    shoot(page, "admin-waitlist-offered")
    entry.get_by_role("button", name="Убрать Ольга из листа ожидания").click()
    # The confirmation names its consequence: the time held for Ольга is freed.
    question = entry.get_by_role("group", name="Убрать Ольга из листа ожидания?")
    expect(question).to_contain_text("станет свободным для всех")
    expect(question.get_by_role("button", name="Да, убрать")).to_be_focused()
    assert_section_accessible(page, "#waitlist-section", "admin waiting list, removal asked")
    shoot(page, "admin-waitlist-remove")
    question.get_by_role("button", name="Оставить").click()
    expect(question).to_be_hidden()
    entry.get_by_role("button", name="Убрать Ольга из листа ожидания").click()
    entry.get_by_role("button", name="Да, убрать").click()
    expect(page.locator("#waitlist-status")).to_have_text("Убрано из листа ожидания.")
    expect(page.locator("#waitlist li.waitlist-entry")).to_have_count(0)
    assert live.api.get("/api/admin/waitlist").json()["entries"] == []
