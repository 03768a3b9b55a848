"""Clickjacking (API.md "Public edge"): a signed-in admin page refuses to render inside another
site's frame in Chromium, because of `frame-ancestors 'none'` and X-Frame-Options: DENY."""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Live
from tests.browser.test_admin_pages import INTEGRATIONS, sign_in

ATTACKER = "http://attacker.test/"


def test_the_integrations_page_refuses_a_cross_origin_frame(desktop: Page, live: Live) -> None:
    page = desktop
    sign_in(page, live, INTEGRATIONS)  # the session cookie is there: the page would render

    def attacker_page(route: Route) -> None:
        route.fulfill(
            content_type="text/html",
            body=f'<h1>Win a prize</h1><iframe src="{live.base}{INTEGRATIONS}"></iframe>',
        )

    page.route(ATTACKER, attacker_page)
    with page.expect_event(
        "framenavigated", predicate=lambda frame: frame.parent_frame is not None
    ):
        page.goto(ATTACKER)
    expect(page.get_by_role("heading", name="Win a prize")).to_be_visible()
    (framed,) = [frame for frame in page.frames if frame.parent_frame is not None]
    page.wait_for_timeout(200)  # let Chromium swap in its error page for the blocked one
    assert framed.url.startswith("chrome-error://"), framed.url
    assert "Кабинет психолога" not in framed.content()
    # The same page opened directly renders, so the frame was refused for being a frame.
    page.goto(live.base + INTEGRATIONS)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
