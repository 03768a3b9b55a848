"""The booking page explains the public edge's refusals in plain words (API.md "Public edge"):
409 booking_limit_reached and 429 rate_limited, as the server answers them."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Live
from tests.browser.test_booking_pages import (
    FIRST_SLOT_UTC,
    choose_service,
    fill_details,
    open_booking,
)

ANSWERS = {
    "booking_limit_reached": (409, "У вас уже есть несколько предстоящих записей"),
    "rate_limited": (429, "Слишком много попыток с вашего подключения"),
}


@pytest.mark.parametrize("code", sorted(ANSWERS))
def test_the_refusal_is_explained(phone: Page, live: Live, code: str) -> None:
    status, words = ANSWERS[code]

    def refuse(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        body = {"error": {"code": code, "message": "refused"}}
        headers = {"Retry-After": "600"} if status == 429 else {}
        route.fulfill(status=status, json=body, headers=headers)

    page = phone
    page.route("**/api/public/booking/appointments", refuse)
    open_booking(page, live)
    choose_service(page, "Консультация психолога")
    page.locator(f'#week button.slot[data-start="{FIRST_SLOT_UTC}"]').click()
    fill_details(page, name="Анна", email="anna@example.com")
    page.locator("#booking-form").get_by_role("button", name="Записаться").click()
    summary = page.locator("#form-errors")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(words)
    assert json.dumps(code) not in summary.inner_text()
