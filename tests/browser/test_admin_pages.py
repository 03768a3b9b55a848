"""The practitioner's side in a real browser: sign in, connect Google through the emulator's
consent page, edit hours and special days, watch the slot grid change, sync; bookings, services,
the waiting list and the banners that ask for attention."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID

from playwright.sync_api import Page, expect

from balance_booking.application.ports import CalendarState
from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Live, fits_width, shoot

INTEGRATIONS = "/admin/settings/integrations"
SCHEDULE = "/admin/schedule/"


def sign_in(page: Page, live: Live, path: str) -> None:
    page.goto(live.base + path)
    expect(page).to_have_url(f"{live.base}/admin/login?next={path}")
    page.get_by_label("Электронная почта").fill(ADMIN_EMAIL)
    page.get_by_label("Пароль").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(live.base + path)


def day(page: Page, date: str, kind: str) -> list[str]:
    """The visible texts of one kind of block ("hours", "busy", "appt", "slot") on a day."""
    expect(page.locator("#admin-week")).to_have_attribute("aria-busy", "false")
    blocks = page.locator(f'#admin-week section[data-date="{date}"] .tl-{kind}')
    if kind == "slot":  # the visible start time; the full text is for screen readers
        blocks = blocks.locator('span[aria-hidden="true"]')
    # The wide grid puts a block's time on a line of its own, and a short block's end time is
    # for screen readers (a box of its own): compared as one line.
    return [re.sub(r"\s+–", "–", " ".join(text.split())) for text in blocks.all_inner_texts()]


def wait_for_week(page: Page) -> None:
    expect(page.locator("#week-status")).to_contain_text("Показана неделя")


def test_admin_connects_google_edits_hours_and_syncs(desktop: Page, live: Live) -> None:
    page = desktop
    live.emulator.control.post("/_emulator/consent", json={"action": "manual"}).raise_for_status()
    page.goto(f"{live.base}/admin/login")
    expect(page.get_by_role("heading", name="Вход для психолога")).to_be_visible()
    shoot(page, "admin-1-login")

    sign_in(page, live, INTEGRATIONS)
    status = page.locator("[data-status]").first
    expect(status).to_have_text("Не подключён")

    # Connect: Google's consent page (the emulator's), where the practitioner presses Allow.
    page.get_by_role("button", name="Подключить Google Календарь").click()
    expect(page).to_have_url(re.compile("^" + re.escape(live.emulator.base) + "/o/oauth2/"))
    expect(
        page.get_by_text("Эмоциональный баланс wants to access your Google Account")
    ).to_be_visible()
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(f"{live.base}{INTEGRATIONS}?result=connected")
    expect(page.get_by_role("status").filter(has_text="Календарь подключён.")).to_be_visible()
    expect(status).to_have_text("Подключён")
    expect(page.get_by_text("owner@example.com").first).to_be_visible()
    expect(page.locator("dd", has_text="Europe/Moscow")).to_be_visible()

    page.get_by_role("button", name="Синхронизировать").click()
    expect(page.get_by_text("Синхронизация выполнена: занятость актуальна.")).to_be_visible()
    expect(page.locator("dd", has_text="успешно")).to_be_visible()
    shoot(page, "admin-2-integrations")

    page.get_by_role("link", name="Расписание и записи").click()
    wait_for_week(page)
    assert day(page, "2026-12-01", "busy") == ["11:00–13:00 Занято в Google Календаре"]
    assert day(page, "2026-12-04", "slot")  # Friday is a working day
    assert day(page, "2026-12-05", "slot") == []  # Saturday is not (yet)

    # Saturday 10:00-13:00 from now on; Friday 4 December off.
    page.get_by_role("button", name="Суббота: Добавить часы").click()
    saturday = page.locator('.day-row[data-day="sat"]')
    saturday.get_by_label("Суббота, с").fill("10:00")
    saturday.get_by_label("Суббота, до").fill("13:00")
    page.get_by_role("button", name="+ Добавить особый день").click()
    special = page.locator(".override-row").last
    special.get_by_label("Дата").fill("2026-12-04")
    page.get_by_role("button", name="Сохранить рабочие часы").click()
    expect(page.locator("#schedule-status")).to_have_text(
        "Сохранено. Клиенты сразу видят новые часы."
    )

    wait_for_week(page)
    expect(page.locator('#admin-week section[data-date="2026-12-05"] .tl-slot')).to_have_count(3)
    assert day(page, "2026-12-05", "hours") == ["10:00–13:00"]
    assert day(page, "2026-12-04", "slot") == []
    shoot(page, "admin-3-schedule")
    saved = live.api.get("/api/admin/schedule").json()
    assert saved["weekly"]["sat"] == [["10:00", "13:00"]]
    assert saved["overrides"] == [{"date": "2026-12-04", "intervals": []}]

    # The public page follows at once.
    page.goto(f"{live.base}/booking/slot/?service=consultation")
    expect(page.locator('#week section[data-date="2026-12-05"] button.slot')).to_have_count(3)
    expect(page.locator('#week section[data-date="2026-12-04"] button.slot')).to_have_count(0)

    # Something new in Google Calendar; Sync now brings it in.
    live.busy("Семинар", "2026-12-02T15:00:00", "2026-12-02T17:00:00")
    page.goto(live.base + INTEGRATIONS)
    page.get_by_role("button", name="Синхронизировать").click()
    expect(page.get_by_text("Синхронизация выполнена: занятость актуальна.")).to_be_visible()
    page.goto(live.base + SCHEDULE)
    wait_for_week(page)
    assert day(page, "2026-12-02", "busy") == ["15:00–17:00 Занято в Google Календаре"]
    wednesday = day(page, "2026-12-02", "slot")
    assert "15:00" not in wednesday
    assert "16:00" not in wednesday
    assert "17:00" in wednesday


def test_admin_handles_bookings_services_waitlist_and_problem_banners(
    desktop: Page, live: Live
) -> None:
    live.connect_calendar()
    paid = live.api.post(
        "/api/admin/services",
        json={
            "slug": "long-session",
            "title": "Длинная сессия",
            "title_en": "Long session",
            "duration_minutes": 90,
            "slot_step_minutes": 60,
            "requires_payment": True,
        },
    )
    assert paid.status_code == 201, paid.text

    def book(slug: str, start: str, name: str) -> str:
        answer = live.api.post(
            "/api/public/booking/appointments",
            json={
                "service_slug": slug,
                "start": start,
                "timezone": "Asia/Yekaterinburg",
                "client": {"name": name, "email": f"{name.lower()}@example.com"},
                "comment": "Хочу поговорить о тревоге",
            },
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["appointment"]["id"])

    anna = book("consultation", "2026-12-01T12:00:00+05:00", "Anna")
    book("long-session", "2026-12-02T17:00:00+05:00", "Boris")
    # The outbox could not write Anna's event to Google: it is parked (the worker would do this).
    with live.container.writers() as uow:
        uow.appointments.set_calendar_event(
            UUID(anna), event_id=None, state=CalendarState.FAILED, now=datetime.now(UTC)
        )
        uow.commit()
    assert (
        live.api.post(
            "/api/public/booking/waitlist",
            json={
                "service_slug": "consultation",
                "name": "Вера",
                "email": "vera@example.com",
                "timezone": "Europe/Moscow",
                "comment": "Утром",
            },
        ).status_code
        == 201
    )

    page = desktop
    sign_in(page, live, SCHEDULE)
    bookings = page.locator("#appointments li.appt")
    expect(bookings).to_have_count(2)
    first, second = bookings.nth(0), bookings.nth(1)
    expect(first).to_contain_text("Вт, 1 дек., 10:00–10:50")  # shown in the practitioner's zone
    expect(first).to_contain_text("Часовой пояс клиента: Asia/Yekaterinburg")
    expect(first).to_contain_text("Не в Google Календаре: запись не удалась")
    expect(second).to_contain_text("Ждёт оплаты")
    expect(page.locator("#waitlist")).to_contain_text("Вера")
    wait_for_week(page)
    assert day(page, "2026-12-01", "appt") == ["10:00–10:50 Anna · Консультация психолога"]
    shoot(page, "admin-4-bookings")

    second.get_by_role("button", name="Подтвердить").click()
    expect(page.locator("#appointments-status")).to_have_text("Запись подтверждена.")
    expect(bookings.nth(1)).to_contain_text("Подтверждена")
    expect(bookings.nth(1)).to_contain_text("Добавляется в Google Календарь")

    bookings.nth(1).get_by_role("button", name="Отменить запись").click()
    bookings.nth(1).get_by_role("button", name="Да, отменить").click()
    expect(page.locator("#appointments-status")).to_have_text("Запись отменена.")
    expect(bookings.nth(1)).to_contain_text("Отменена")
    statuses = {
        a["client_name"]: a["status"]
        for a in live.api.get("/api/admin/appointments", params={"from": "2026-12-01"}).json()[
            "appointments"
        ]
    }
    assert statuses == {"Anna": "confirmed", "Boris": "cancelled"}

    # Kinds of meeting: add one, then hide it from clients.
    page.get_by_text("Добавить формат встречи").click()
    form = page.locator("#new-service-form")
    form.get_by_label("Короткое имя для ссылок").fill("couple")
    form.get_by_label("Название по-русски").fill("Парная консультация")
    form.get_by_label("Длительность, минут").fill("80")
    form.get_by_role("button", name="Добавить").click()
    expect(page.locator("#services-status")).to_have_text("Добавлено.")
    couple = page.locator('#services-list li[data-slug="couple"]')
    expect(couple).to_contain_text("80 мин")
    couple.get_by_role("button", name="Изменить").click()
    couple.get_by_label("Видна клиентам").uncheck()
    couple.get_by_role("button", name="Сохранить").click()
    # (The hidden "delete?" question mentions hiding too: look at the service's own line.)
    expect(couple.locator(".service-meta")).to_contain_text("скрыт от клиентов")
    services = {s["slug"]: s for s in live.api.get("/api/admin/services").json()["services"]}
    assert (services["couple"]["duration_minutes"], services["couple"]["active"]) == (80, False)
    assert fits_width(page)

    # Google withdraws access; the next sync shows it, next to the parked write.
    live.emulator.control.post(
        "/_emulator/revoke", json={"email": "owner@example.com"}
    ).raise_for_status()
    page.goto(live.base + INTEGRATIONS)
    page.get_by_role("button", name="Синхронизировать").click()
    expect(
        page.get_by_role("alert").filter(has_text="Google отозвал доступ к календарю.")
    ).to_be_visible()
    parked = page.locator("#parked")
    expect(parked).to_be_visible()
    expect(parked).to_contain_text("Некоторые записи не удалось внести в Google Календарь")
    expect(parked).to_contain_text("Anna")
    expect(page.locator("[data-status]").first).to_have_text("Нужно подключить заново")
    shoot(page, "admin-5-integrations-attention")
    page.goto(live.base + SCHEDULE)
    expect(page.get_by_role("alert").filter(has_text="Google отозвал доступ")).to_be_visible()


def test_admin_pages_in_english(desktop: Page, live: Live) -> None:
    page = desktop
    page.goto(f"{live.base}/admin/login?lang=en")
    expect(page.get_by_role("heading", name="Practitioner sign-in")).to_be_visible()
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill("wrong password, surely")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password.")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.base + SCHEDULE)
    expect(page.get_by_role("heading", name="Schedule and bookings", level=1)).to_be_visible()
    expect(page.locator("#week-status")).to_contain_text("Shown: the week of 30 November")
    expect(page.get_by_role("heading", name="Saturday")).to_be_visible()
    expect(page.locator('.day-row[data-day="sat"]')).to_contain_text("Day off")
