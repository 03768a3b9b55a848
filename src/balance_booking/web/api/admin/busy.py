"""GET /api/admin/busy: the busy mirror imported from Google Calendar, in the owner's zone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from balance_booking.web.audit import AuditedRoute
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.schemas import BusyBlockOut, BusyOut, ErrorBody
from balance_booking.web.timefmt import query_window, render, zone_or_422

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuditedRoute)


@router.get(
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
