"""/api/admin/schedule: the weekly hours and special days."""

from __future__ import annotations

from fastapi import APIRouter

from balance_booking.web.audit import AuditedRoute
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.schemas import ErrorBody, ScheduleIn, ScheduleOut

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuditedRoute)

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid admin credentials"},
    422: {"model": ErrorBody, "description": "Invalid request"},
}


@router.get("/schedule", response_model=ScheduleOut, responses=_ERRORS)
def get_schedule(_admin: AdminDep, services: ServicesDep) -> ScheduleOut:
    return ScheduleOut.from_domain(services.get_schedule.execute())


@router.put("/schedule", name="schedule.replace", response_model=ScheduleOut, responses=_ERRORS)
def put_schedule(body: ScheduleIn, _admin: AdminDep, services: ServicesDep) -> ScheduleOut:
    return ScheduleOut.from_domain(services.replace_schedule.execute(body.to_domain()))
