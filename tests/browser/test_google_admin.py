"""The practitioner and Google (issue 19): disconnecting asks first and says what it costs, a
warning stays on every admin page while time is offered without Google, Google's errors and
the sign-in error read as words in the page's language."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from balance_booking.domain.calendar_account import IntegrationStatus
from tests.browser.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    Live,
    assert_accessible,
    shoot,
)

INTEGRATIONS = "/admin/settings/integrations"
SCHEDULE = "/admin/schedule/"
AUDIT = "/admin/audit/"

LABELS = {
    "ru": {"email": "Электронная почта", "password": "Пароль", "sign_in": "Войти"},
    "en": {"email": "Email", "password": "Password", "sign_in": "Sign in"},
}
TEXTS = {
    "ru": {
        "disconnect": "Отключить",
        "question": "Отключить Google Календарь?",
        "consequence": "в том числе время, занятое в Google Календаре",
        "keep": "Не отключать",
        "confirm": "Всё равно отключить",
        "connected": "Подключён",
        "not_connected": "Не подключён",
        "warning": "Google Календарь отключён.",
        "warning_consequence": "в том числе время, занятое в Google",
        "warning_link": "Подключить Google Календарь",
        "reconnect": "Подключить Google Календарь",
    },
    "en": {
        "disconnect": "Disconnect",
        "question": "Disconnect Google Calendar?",
        "consequence": "including time that is busy in your Google Calendar",
        "keep": "Keep connected",
        "confirm": "Disconnect anyway",
        "connected": "Connected",
        "not_connected": "Not connected",
        "warning": "Google Calendar is disconnected.",
        "warning_consequence": "including time that is busy in Google",
        "warning_link": "Connect Google Calendar",
        "reconnect": "Connect Google Calendar",
    },
}


def sign_in(page: Page, live: Live, path: str, lang: str) -> None:
    page.goto(f"{live.base}/admin/login?lang={lang}&next={path}")
    labels = LABELS[lang]
    page.get_by_label(labels["email"]).fill(ADMIN_EMAIL)
    page.get_by_label(labels["password"]).fill(ADMIN_PASSWORD)
    page.get_by_role("button", name=labels["sign_in"]).click()
    expect(page).to_have_url(live.base + path)


def set_integration(live: Live, **changes: object) -> None:
    """Put the integration row into a state (as a failed sync or a revoked grant leaves it)."""
    with live.container.writers() as uow:
        record = uow.integration.get_for_update()
        uow.integration.save(replace(record, **changes), now=live.clock.now())
        uow.commit()


def main_text(page: Page) -> str:
    """What a reader sees in the page's main area (a closed <details> shows only its summary)."""
    return page.locator("main").inner_text()


@pytest.mark.parametrize(("lang", "device"), [("ru", "desktop"), ("en", "phone")])
def test_disconnect_asks_first_and_the_warning_stays_until_reconnected(
    request: pytest.FixtureRequest, live: Live, lang: str, device: str
) -> None:
    page: Page = request.getfixturevalue(device)
    text = TEXTS[lang]
    sign_in(page, live, SCHEDULE, lang)
    expect(page.locator("#google-warning")).to_have_count(0)  # never connected: no nagging
    live.connect_calendar()

    page.goto(live.base + INTEGRATIONS)
    status = page.locator("[data-status]").first
    expect(status).to_have_text(text["connected"])
    assert_accessible(page, f"integrations connected ({lang})")

    # "Disconnect" asks first; "keep connected" is the focused, safe answer.
    opener = page.get_by_role("button", name=text["disconnect"], exact=True)
    opener.click()
    dialog = page.get_by_role("dialog", name=text["question"])
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(text["consequence"])
    keep = dialog.get_by_role("link", name=text["keep"])
    expect(keep).to_be_focused()
    assert_accessible(page, f"disconnect question ({lang})")
    shoot(page, f"gadmin-disconnect-question-{lang}")

    keep.click()
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    expect(status).to_have_text(text["connected"])
    assert live.api.get("/api/admin/integrations/google-calendar").json()["status"] == "connected"

    opener.click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert live.api.get("/api/admin/integrations/google-calendar").json()["status"] == "connected"

    opener.click()
    dialog.get_by_role("button", name=text["confirm"]).click()
    expect(page).to_have_url(f"{live.base}{INTEGRATIONS}?result=disconnected")
    expect(status).to_have_text(text["not_connected"])
    expect(page.locator("#disconnected-warning")).to_contain_text(text["warning"])
    assert_accessible(page, f"integrations disconnected ({lang})")
    shoot(page, f"gadmin-integrations-disconnected-{lang}")

    # Every other admin page warns, with the way back.
    for path in (SCHEDULE, AUDIT):
        page.goto(live.base + path)
        warning = page.locator("#google-warning")
        expect(warning).to_contain_text(text["warning"])
        expect(warning).to_contain_text(text["warning_consequence"])
        expect(warning.get_by_role("link", name=text["warning_link"])).to_have_attribute(
            "href", INTEGRATIONS
        )
        assert_accessible(page, f"{path} with the warning ({lang})")
    shoot(page, f"gadmin-warning-audit-{lang}")

    # Connecting again (Google's consent answered at once) takes the warning away.
    live.emulator.control.post("/_emulator/consent", json={"action": "allow"}).raise_for_status()
    page.goto(live.base + SCHEDULE)
    page.locator("#google-warning").get_by_role("link").click()
    page.get_by_role("button", name=text["reconnect"]).click()
    expect(page).to_have_url(f"{live.base}{INTEGRATIONS}?result=connected")
    expect(status).to_have_text(text["connected"])
    for path in (SCHEDULE, AUDIT):
        page.goto(live.base + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator("#google-warning")).to_have_count(0)


def test_without_javascript_the_button_lands_on_the_question(desktop: Page, live: Live) -> None:
    """The server refuses an unconfirmed disconnect and shows the same question in place."""
    live.connect_calendar()
    page = desktop
    sign_in(page, live, INTEGRATIONS, "ru")
    # What a form post without JavaScript does: the page's own form, minus the dialog.
    page.evaluate("document.getElementById('disconnect-start').submit()")
    expect(page).to_have_url(re.compile(r"\?confirm=disconnect#disconnect-dialog$"))
    dialog = page.get_by_role("dialog", name="Отключить Google Календарь?")
    expect(dialog).to_be_visible()
    assert live.api.get("/api/admin/integrations/google-calendar").json()["status"] == "connected"
    assert_accessible(page, "the disconnect question, reached without the dialog")
    dialog.get_by_role("button", name="Всё равно отключить").click()
    expect(page).to_have_url(f"{live.base}{INTEGRATIONS}?result=disconnected")


def test_switching_busy_time_off_warns_on_other_pages(desktop: Page, live: Live) -> None:
    live.connect_calendar()
    page = desktop
    sign_in(page, live, INTEGRATIONS, "ru")
    page.get_by_label("Скрывать со страницы записи время, занятое в Google Календаре").uncheck()
    page.locator("#flag-title").locator("..").get_by_role("button", name="Сохранить").click()
    page.goto(live.base + SCHEDULE)
    warning = page.locator("#google-warning")
    expect(warning).to_contain_text("Занятость из Google Календаря выключена.")
    expect(warning.get_by_role("link", name="Включить снова")).to_be_visible()
    assert_accessible(page, "schedule, busy time switched off")


# (state of the integration row, what the page must say, what it must not say as its main text)
ERROR_STATES = {
    "needs_reauth": (
        {
            "status": IntegrationStatus.NEEDS_REAUTH,
            "last_sync_ok": False,
            "last_sync_error": "Google revoked our access (invalid_grant).",
        },
        {
            "ru": "Google больше не даёт доступа к вашему календарю",
            "en": "Google no longer lets us use your calendar",
        },
        "invalid_grant",
    ),
    "error": (
        {
            "status": IntegrationStatus.ERROR,
            "last_sync_ok": False,
            "last_sync_error": "Google Calendar could not be read: Google kept failing: "
            "503 backendError",
        },
        {"ru": "Google временно не отвечает.", "en": "Google is temporarily not answering."},
        "backendError",
    ),
    "sync_failed": (
        {
            "last_sync_ok": False,
            "last_sync_error": "Google Calendar could not be read: Google kept failing: "
            "503 backendError",
        },
        {
            "ru": "Следующая попытка — ",
            "en": "We will try again by ourselves at",
        },
        "503 backendError",
    ),
    "unknown": (
        {"last_sync_ok": False, "last_sync_error": "freeBusy: Google answered 418 teapotError"},
        {"ru": "Google ответил ошибкой.", "en": "Google answered with an error."},
        "teapotError",
    ),
}


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("state", list(ERROR_STATES))
def test_google_errors_read_as_words_with_the_code_for_support(
    desktop: Page, live: Live, state: str, lang: str
) -> None:
    changes, said, raw = ERROR_STATES[state]
    live.connect_calendar()
    set_integration(live, **changes)
    page = desktop
    sign_in(page, live, INTEGRATIONS, lang)
    problem = page.locator(".problem").first
    expect(problem).to_contain_text(said[lang])
    assert raw not in main_text(page), f"{raw} is shown as the main text"
    code = page.locator(".problem-code code").first
    expect(code).to_be_hidden()
    assert_accessible(page, f"integrations, {state} ({lang})")
    if state in ("needs_reauth", "sync_failed"):
        shoot(page, f"gadmin-integrations-{state}-{lang}")
    page.locator(".problem-code summary").first.click()
    expect(code).to_contain_text(raw)  # for support, one click away


CALLBACKS = {
    "denied": (
        "result=denied&detail=access_denied",
        "access_denied",
        {"ru": "В окне Google доступ не был разрешён", "en": "access was not allowed"},
    ),
    "code_rejected": (
        "result=failed&detail=Google+refused+the+authorization+code+%28invalid_grant%29.",
        "invalid_grant",
        {"ru": "Google не принял подтверждение", "en": "Google did not accept the confirmation"},
    ),
    "partial": (
        urlencode(
            {
                "result": "partial",
                "detail": "https://www.googleapis.com/auth/calendar.freebusy "
                "https://www.googleapis.com/auth/calendar.acls",
            }
        ),
        "googleapis.com",
        {
            "ru": "видеть, когда вы заняты; ещё одно разрешение Google",
            "en": "see when you are busy; another Google permission",
        },
    ),
}


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("outcome", list(CALLBACKS))
def test_connection_outcomes_read_as_words(
    desktop: Page, live: Live, outcome: str, lang: str
) -> None:
    query, raw, said = CALLBACKS[outcome]
    page = desktop
    sign_in(page, live, INTEGRATIONS, lang)
    page.goto(f"{live.base}{INTEGRATIONS}?{query}")
    banner = page.get_by_role("status").filter(has_text=said[lang])
    expect(banner).to_be_visible()
    assert raw not in main_text(page), f"{raw} is shown as the main text"
    assert_accessible(page, f"integrations after {outcome} ({lang})")


@pytest.mark.parametrize(
    ("lang", "wrong", "other"),
    [
        ("ru", "Неверная почта или пароль.", "Wrong email or password."),
        ("en", "Wrong email or password.", "Неверная почта или пароль."),
    ],
)
def test_the_sign_in_error_speaks_the_page_language(
    phone: Page, live: Live, lang: str, wrong: str, other: str
) -> None:
    page = phone
    page.goto(f"{live.base}/admin/login?lang={lang}")
    labels = LABELS[lang]
    page.get_by_label(labels["email"]).fill(ADMIN_EMAIL)
    page.get_by_label(labels["password"]).fill("not the password at all")
    page.get_by_role("button", name=labels["sign_in"]).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(wrong)
    expect(alert).to_contain_text("Caps Lock")
    expect(alert).not_to_contain_text(other)
    assert_accessible(page, f"sign-in error ({lang})")
    shoot(page, f"gadmin-login-error-{lang}")
