"""/admin/schedule/ (hours, overrides, services, bookings, busy time, waitlist) and its busy API."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from balance_booking.web.deps import AdminDep, PageAdminDep, ServicesDep
from balance_booking.web.schemas import ErrorBody, service_defaults
from balance_booking.web.templating import TemplatesDep
from balance_booking.web.timefmt import query_window, render, zone_or_422

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/admin", tags=["admin"])

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


class BusyBlockOut(BaseModel):
    start: str
    end: str


class BusyOut(BaseModel):
    """The busy mirror in a range, in the owner's zone (extension of API.md; docs/pages.md)."""

    timezone: str
    from_: str = Field(serialization_alias="from")
    to: str
    busy: list[BusyBlockOut]


@api.get(
    "/busy",
    response_model=BusyOut,
    responses={
        401: {"model": ErrorBody, "description": "Missing or invalid admin credentials"},
        422: {"model": ErrorBody, "description": "Invalid range"},
    },
)
def busy_blocks(
    _admin: AdminDep,
    services: ServicesDep,
    response: Response,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> BusyOut:
    """Busy time imported from Google Calendar (as of the last sync) overlapping the range.

    `from`/`to` work as for the public slots: local dates in the owner's zone (both included) or
    RFC 3339 instants; default this week.
    """
    response.headers["Cache-Control"] = "no-store"
    zone_name = services.owner_timezone.execute()
    zone = zone_or_422(zone_name)
    window = query_window(from_, to, zone, today=services.clock.now().astimezone(zone).date())
    return BusyOut(
        timezone=zone_name,
        from_=render(window.start, zone),
        to=render(window.end, zone),
        busy=[
            BusyBlockOut(start=render(block.start, zone), end=render(block.end, zone))
            for block in services.list_busy.execute(window)
        ],
    )
