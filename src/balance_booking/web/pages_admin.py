"""/admin/schedule/: hours, overrides, services, bookings, busy time, waitlist (one page)."""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from balance_booking.web.audit import AuditedRoute
from balance_booking.web.deps import PageAdminDep, ServicesDep
from balance_booking.web.schemas import service_defaults
from balance_booking.web.templating import TemplatesDep

router = APIRouter(include_in_schema=False, route_class=AuditedRoute)

SCHEDULE_PAGE = "/admin/schedule/"


@router.get("/admin", response_class=HTMLResponse)
@router.get("/admin/", response_class=HTMLResponse)
def admin_home() -> Response:
    return RedirectResponse(SCHEDULE_PAGE, status_code=307)


@router.get(SCHEDULE_PAGE, response_class=HTMLResponse)
def schedule_page(
    request: Request, admin: PageAdminDep, services: ServicesDep, templates: TemplatesDep
) -> Response:
    status = services.integration_status.execute()
    return templates.TemplateResponse(
        request,
        "schedule.html",
        {
            "admin": admin,
            "owner_tz": services.owner_timezone.execute(),
            "now_iso": services.clock.now().astimezone(UTC).isoformat(timespec="seconds"),
            "calendar_status": status.status,
            "calendar_enabled": status.enabled,
            "service_defaults": service_defaults(),
        },
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )
