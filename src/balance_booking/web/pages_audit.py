"""/admin/audit/: the log of admin actions, newest first, a page at a time (docs/privacy.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from balance_booking.domain.availability import local_to_utc
from balance_booking.web.audit import AuditedRoute
from balance_booking.web.deps import PageAdminDep, ServicesDep
from balance_booking.web.errors import ApiError
from balance_booking.web.i18n import request_language
from balance_booking.web.templating import TemplatesDep
from balance_booking.web.timefmt import parse_date

router = APIRouter(include_in_schema=False, route_class=AuditedRoute)

AUDIT_PAGE = "/admin/audit/"
PAGE_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# What each action is called on the page (the log stores the route's name, see web/audit.py).
ACTIONS: dict[str, tuple[str, str]] = {
    "admin.sign_in": ("Вход в кабинет", "Signed in"),
    "admin.sign_out": ("Выход из кабинета", "Signed out"),
    "schedule.replace": ("Изменено рабочее время", "Working hours changed"),
    "service.create": ("Добавлен вид встречи", "Kind of meeting added"),
    "service.update": ("Изменён вид встречи", "Kind of meeting changed"),
    "service.delete": ("Удалён вид встречи", "Kind of meeting deleted"),
    "appointment.create": ("Клиент записан администратором", "Client booked by the admin"),
    "appointment.confirm": ("Запись подтверждена", "Booking confirmed"),
    "appointment.cancel": ("Запись отменена", "Booking cancelled"),
    "appointment.reschedule": ("Запись перенесена", "Booking moved"),
    "series.cancel": ("Отменены оставшиеся встречи серии", "Rest of a series cancelled"),
    "google.connect": ("Начато подключение Google Календаря", "Google Calendar connection started"),
    "google.connect_complete": ("Google Календарь подключён", "Google Calendar connected"),
    "google.disconnect": ("Google Календарь отключён", "Google Calendar disconnected"),
    "google.sync": ("Синхронизация с Google", "Google sync"),
    "google.calendars": ("Выбраны календари, занимающие время", "Blocking calendars chosen"),
    "google.settings": ("Изменены настройки Google Календаря", "Google Calendar settings changed"),
    "token.revoke": ("Отозван API-токен", "API token revoked"),
    "token.create": ("Создан API-токен", "API token created"),
    "admin.create": ("Создан вход в кабинет", "Admin account created"),
    "keys.rotate": ("Перешифрованы ключи доступа к Google", "Google token keys rotated"),
    "outbox.retry": ("Повторная отправка сообщения", "Message retried"),
    "waitlist.remove": ("Удалена запись из листа ожидания", "Waiting-list entry removed"),
    "client.export": ("Выгружены данные клиента", "Client data exported"),
    "client.erase": ("Удалены данные клиента", "Client data erased"),
}


def _day(value: str | None, *, field: str) -> str | None:
    if not value:
        return None
    return parse_date(value, field=field).isoformat()


@router.get(AUDIT_PAGE, response_class=HTMLResponse)
def audit_page(
    request: Request,
    *,
    admin: PageAdminDep,
    services: ServicesDep,
    templates: TemplatesDep,
    from_: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    to: Annotated[str | None, Query(max_length=10)] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    zone = ZoneInfo(services.owner_timezone.execute())
    try:
        first, last = _day(from_, field="from"), _day(to, field="to")
    except ApiError:
        first = last = None
    start = _EPOCH if first is None else local_to_utc(parse_date(first, field="from"), 0, zone)
    end = (
        services.clock.now() + timedelta(days=1)
        if last is None
        else local_to_utc(parse_date(last, field="to") + timedelta(days=1), 0, zone)
    )
    entries = services.list_audit.execute(start, end, before_id=before, limit=PAGE_SIZE + 1)
    page = entries[:PAGE_SIZE]
    lang = request_language(request)
    older = None
    if len(entries) > PAGE_SIZE and page:
        query = {k: v for k, v in (("from", first), ("to", last)) if v}
        older = f"{AUDIT_PAGE}?{urlencode(query | {'before': page[-1].entry_id})}"
    rows = [
        {
            "when": entry.at.astimezone(zone).strftime("%d.%m.%Y %H:%M:%S"),
            "iso": entry.at.isoformat(timespec="seconds"),
            "actor": entry.actor,
            "action": ACTIONS.get(entry.action, (entry.action, entry.action))[
                0 if lang == "ru" else 1
            ],
            "code": entry.action,
            "target": entry.target or "",
            "ip": entry.ip or "",
        }
        for entry in page
    ]
    return templates.TemplateResponse(
        request,
        "audit.html",
        {
            "admin": admin,
            "rows": rows,
            "older": older,
            "newest": AUDIT_PAGE if before is not None else None,
            "first": first or "",
            "last": last or "",
            "zone": zone.key,
        },
        headers={"Cache-Control": "no-store"},
    )
