"""The accessibility suite (issue 19): axe-core walks every state of the pages a person meets, in
Russian and English, at phone and desktop width, and finds 0 violations of impact serious or
critical (`assert_accessible`; moderate/minor findings are printed). Keyboard focus stays visible.

One live app per test, many states per test: the client's booking page from the service choice
to the done screen, the conflict, the outage and the waiting list; the manage page; the waitlist
offer page; the practitioner's sign-in, schedule, integrations and audit pages; the 404 page.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    DESKTOP,
    PHONE,
    Live,
    assert_accessible,
    new_context,
)
from tests.browser.test_waitlist_offer_pages import offered
from tests.support.booking import book

POLICY = "https://balance.example.org/privacy"
# Tuesday 1 December 2026, 10:00 in Moscow: the first consultation slot after the 12 h notice.
FIRST_SLOT_UTC = "2026-12-01T07:00:00.000Z"
LOCALES = {"ru": ("ru-RU", "Europe/Moscow"), "en": ("en-US", "America/New_York")}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
# Every language on every width (the booking page); the admin pages: each language once per width.
EVERY = [("ru", "phone"), ("ru", "desktop"), ("en", "phone"), ("en", "desktop")]
CROSSED = [("ru", "desktop"), ("en", "phone")]


def open_page(browser: Browser, lang: str, device: str) -> Page:
    locale, zone = LOCALES[lang]
    context = new_context(browser, viewport=VIEWPORTS[device], locale=locale, timezone_id=zone)
    return context.new_page()


def check(page: Page, lang: str, device: str, where: str) -> None:
    """axe on the page as it is now; the page speaks the language asked for."""
    assert page.locator("html").get_attribute("lang") == lang, where
    assert_accessible(page, f"{where} ({lang}, {device})")


def assert_focus_visible(page: Page, selector: str) -> None:
    """Focused from the keyboard, the control (or the label drawn for it) shows a focus ring
    (date and time inputs too, whose keyboard focus is on a field inside them)."""
    page.keyboard.press("Shift")  # the last input is the keyboard: :focus-visible applies
    page.locator(selector).first.focus()
    ring = page.evaluate(
        """() => {
            const el = document.activeElement;
            const drawn = el.matches('input[type=radio], input[type=checkbox]')
                && el.nextElementSibling?.tagName === 'LABEL' ? el.nextElementSibling : el;
            const style = getComputedStyle(drawn);
            return {
                outline: style.outlineStyle !== 'none' ? parseFloat(style.outlineWidth) : 0,
                shadow: style.boxShadow !== 'none',
            };
        }"""
    )
    assert ring["outline"] >= 2 or ring["shadow"], f"{selector} shows no focus ring: {ring}"


def assert_tab_stops_ringed(page: Page, where: str, *, stops: int) -> None:
    """Tab through the page from the top: every stop shows a focus ring (an outline of 2 px or
    more, or a shadow, on the control or the label drawn for it)."""
    page.locator("body").focus()
    unringed: set[str] = set()
    for _ in range(stops):
        page.keyboard.press("Tab")
        found = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body) return null;
                const drawn = [el, el.labels && el.labels[0]].filter(Boolean);
                const ringed = drawn.some((d) => {
                    const s = getComputedStyle(d);
                    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
                        || s.boxShadow !== 'none';
                });
                return ringed ? null : `${el.tagName.toLowerCase()}#${el.id}.${el.className}`;
            }"""
        )
        if found:
            unringed.add(found)
    assert not unringed, f"{where}: no visible focus on {sorted(unringed)}"


@pytest.mark.live(privacy_policy_url=POLICY)
@pytest.mark.parametrize(("lang", "device"), EVERY)
def test_booking_and_manage_pages_in_every_state(
    browser: Browser, live: Live, lang: str, device: str
) -> None:
    live.connect_calendar()
    page = open_page(browser, lang, device)
    try:
        page.goto(f"{live.base}/booking/slot/")
        expect(page.locator("#step-service")).to_be_visible()
        check(page, lang, device, "booking: service choice")
        assert_focus_visible(page, "#service-consultation")

        page.locator("#service-consultation").check()
        expect(page.locator("#week button.slot").first).to_be_visible()
        expect(page.locator("#week")).to_have_attribute("aria-busy", "false")
        if device == "phone":
            expect(page.locator("#month")).to_be_visible()
            expect(page.locator("#month-grid")).to_have_attribute("aria-busy", "false")
        check(page, lang, device, "booking: the week (and the month on phones)")
        assert_tab_stops_ringed(page, "booking: the week", stops=40)
        assert_focus_visible(page, "#week button.slot")
        assert_focus_visible(page, "#clock-h12")
        if device == "phone":
            assert_focus_visible(page, '#month-grid button[tabindex="0"]')

        picker = page.locator("#tz-input")
        picker.click()
        picker.fill("kat" if lang == "en" else "кат")
        expect(page.locator("#tz-list")).to_be_visible()
        expect(picker).to_have_attribute("aria-expanded", "true")
        check(page, lang, device, "booking: the zone picker, searching")
        picker.press("Escape")
        expect(picker).to_have_attribute("aria-expanded", "false")

        slot = page.locator(f'#week button.slot[data-start="{FIRST_SLOT_UTC}"]')
        slot.click()
        expect(page.locator("#step-details")).to_be_visible()
        expect(page.locator("#client-consent")).to_be_visible()
        check(page, lang, device, "booking: the details form with the consent box")

        page.locator("#submit-booking").click()
        expect(page.locator("#client-name-error")).to_be_visible()
        expect(page.locator("#client-consent-error")).to_be_visible()
        check(page, lang, device, "booking: the form's errors")

        page.locator("#client-name").fill("Борис")
        page.locator("#client-email").fill("boris@example.com")
        page.locator("#client-consent").check()
        # Someone else books the same time meanwhile.
        vera = {"name": "Вера", "email": "vera@example.com"}
        book(
            live.api, "2026-12-01T10:00:00+03:00", service="consultation", client=vera, consent=True
        )
        page.locator("#submit-booking").click()
        expect(page.locator("#conflict")).to_be_visible()
        expect(page.locator("#conflict button.slot").first).to_be_visible()
        check(page, lang, device, "booking: the conflict with alternatives")

        page.locator("#conflict button.slot").first.click()
        expect(page.locator("#conflict")).to_be_hidden()
        page.locator("#submit-booking").click()
        expect(page.locator("#step-done")).to_be_visible()
        expect(page.locator("#done-title")).to_be_focused()
        check(page, lang, device, "booking: done")
        assert_focus_visible(page, "#manage-link")

        page.locator("#manage-link").click()
        expect(page.locator("#manage-status")).to_have_attribute("data-status", "confirmed")
        check(page, lang, device, "manage: an active booking")
        assert_tab_stops_ringed(page, "manage: an active booking", stops=15)
        manage_url = page.url

        page.locator("#move-start").click()
        expect(page.locator("#move-current")).to_be_visible()
        expect(page.locator("#week button.slot").first).to_be_visible()
        expect(page.locator("#week")).to_have_attribute("aria-busy", "false")
        check(page, lang, device, "manage: the reschedule view")
        page.locator("#week button.slot").first.click()
        expect(page.locator("#move-form")).to_be_visible()
        check(page, lang, device, "manage: a new time chosen")
        page.locator("#submit-move").click()
        expect(page.locator("#moved-message")).to_be_visible()
        check(page, lang, device, "manage: moved")

        page.goto(manage_url)
        page.locator("#cancel-start").click()
        expect(page.locator("#cancel-question")).to_be_focused()
        check(page, lang, device, "manage: the cancel question")
        page.locator("#cancel-yes").click()
        expect(page.locator("#manage-status")).to_have_attribute("data-status", "cancelled")
        check(page, lang, device, "manage: cancelled")

        page.goto(f"{live.base}/booking/manage/00000000-0000-0000-0000-000000000000?token=nope")
        expect(page.locator("h1")).to_be_visible()
        check(page, lang, device, "manage: a wrong link")

        page.goto(f"{live.base}/no/such/page")
        expect(page.locator("h1")).to_be_visible()
        check(page, lang, device, "the 404 page")

        # Google goes down while the next client types; past the live check's grace time.
        page.goto(f"{live.base}/booking/slot/?service=consultation")
        expect(page.locator("#week button.slot").first).to_be_visible()
        page.locator("#week button.slot").first.click()
        page.locator("#client-name").fill("Галина")
        page.locator("#client-email").fill("galina@example.com")
        page.locator("#client-consent").check()
        live.emulator.set_outage(down=True)
        live.clock.advance(timedelta(minutes=6))
        page.locator("#submit-booking").click()
        expect(page.locator("#degraded")).to_be_visible()
        check(page, lang, device, "booking: the outage with the waitlist form")

        page.locator("#submit-waitlist").click()
        expect(page.locator("#wl-consent-error")).to_be_visible()
        check(page, lang, device, "booking: the waitlist form's errors")
        page.locator("#wl-consent").check()
        page.locator("#submit-waitlist").click()
        expect(page.locator("#waitlist-done")).to_be_visible()
        check(page, lang, device, "booking: on the waiting list")
    finally:
        live.emulator.set_outage(down=False)
        page.context.close()


def sign_in(page: Page, live: Live, lang: str, device: str) -> None:
    """The sign-in page, its error, then in (to the schedule)."""
    page.goto(f"{live.base}/admin/login?lang={lang}&next=/admin/schedule/")
    check(page, lang, device, "admin: sign-in")
    page.locator("#email").fill(ADMIN_EMAIL)
    page.locator("#password").fill("not the password at all")
    page.locator("#password").press("Enter")
    expect(page.locator("#login-error")).to_be_visible()
    check(page, lang, device, "admin: the sign-in error")
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.locator("#password").press("Enter")
    expect(page).to_have_url(f"{live.base}/admin/schedule/")


@pytest.mark.parametrize(("lang", "device"), CROSSED)
def test_offer_and_admin_pages_in_every_state(
    browser: Browser, live: Live, lang: str, device: str
) -> None:
    live.connect_calendar()
    # A booking made and cancelled (its time offered to the person waiting), and one active.
    _, offer_path = offered(live, email="olga@example.com", language=lang)
    anna = {"name": "Анна Длинная-Фамилия", "email": "anna@example.com"}
    book(live.api, "2026-12-03T10:00:00+03:00", service="consultation", client=anna)
    page = open_page(browser, lang, device)
    try:
        page.goto(f"{live.base}{offer_path}&lang={lang}")
        expect(page.locator("#offer-when")).to_be_visible()
        check(page, lang, device, "the waitlist offer")

        sign_in(page, live, lang, device)
        expect(page.locator("#admin-week")).to_have_attribute("aria-busy", "false")
        expect(
            page.locator('#admin-week section[data-date="2026-12-01"] .tl-busy')
        ).not_to_have_count(0)
        expect(page.locator("#admin-week .tl-appt").first).to_be_attached()
        expect(page.locator("#appointments li.appt.is-inactive").first).to_be_visible()
        check(page, lang, device, "admin: the schedule with bookings and Google busy time")
        assert_tab_stops_ringed(page, "admin: the schedule", stops=120)

        cell = page.locator('.tl-cell[data-date="2026-12-01"][data-minute="720"]')
        cell.scroll_into_view_if_needed()
        cell.click()
        expect(page.locator("#explain-panel")).to_be_visible()
        expect(page.locator("#explain-reasons li").first).to_be_visible()
        check(page, lang, device, "admin: why a time is not offered")
        assert_focus_visible(page, '.tl-cell[data-date="2026-12-01"][data-minute="720"]')

        page.locator("#explain-close").click()
        expect(page.locator("#explain-panel")).to_be_hidden()

        # The schedule's forms and questions, opened.
        page.locator("#book-client summary").click()
        page.locator("#bc-submit").click()
        expect(page.locator("#book-client-errors")).to_be_visible()
        active = page.locator("#appointments li.appt:not(.is-inactive)").first
        active.locator(".actions > button.button-quiet").first.click()
        expect(active.locator(".panel-warn")).to_be_visible()
        active.locator(".actions > button[aria-expanded]").click()
        expect(active.locator(".actions > button[aria-expanded]")).to_have_attribute(
            "aria-expanded", "true"
        )
        page.locator("#add-override").click()
        page.locator("#add-vacation").click()
        page.locator("#new-service summary").click()
        page.locator("#new-service-form button[type=submit]").click()
        expect(page.locator("#new-service-form .message-error")).to_be_visible()
        entry = page.locator("#waitlist li.waitlist-entry").first
        entry.locator("button[aria-label]").click()
        expect(entry.locator("button.button-danger")).to_be_focused()
        check(page, lang, device, "admin: the schedule's forms, errors and questions open")
        assert_focus_visible(page, "#weekly input[type=time]")
        assert_focus_visible(page, "#bc-date")

        page.goto(f"{live.base}/admin/settings/integrations")
        expect(page.locator("[data-status]").first).to_have_attribute("data-status", "connected")
        check(page, lang, device, "admin: integrations, connected")
        assert_tab_stops_ringed(page, "admin: integrations", stops=30)

        assert_focus_visible(page, "#disconnect-button")
        page.locator("#disconnect-button").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        check(page, lang, device, "admin: the disconnect question")
        page.locator("#disconnect-confirm").click()
        expect(page).to_have_url(f"{live.base}/admin/settings/integrations?result=disconnected")
        expect(page.locator("#disconnected-warning")).to_be_visible()
        check(page, lang, device, "admin: integrations, disconnected")

        page.goto(f"{live.base}/admin/audit/")
        expect(page.locator("table.audit tbody tr").first).to_be_visible()
        check(page, lang, device, "admin: the audit log")
        assert_tab_stops_ringed(page, "admin: the audit log", stops=20)
    finally:
        page.context.close()
