"""GET /api/admin/waitlist: who is waiting for a slot."""

from __future__ import annotations

from fastapi import APIRouter

from balance_booking.web.audit import AuditedRoute
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.schemas import ErrorBody, WaitlistOut, waitlist_entry_out

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuditedRoute)


@router.get(
    "/waitlist",
    response_model=WaitlistOut,
    responses={401: {"model": ErrorBody, "description": "Unauthorized"}},
)
def waitlist(_admin: AdminDep, services: ServicesDep) -> WaitlistOut:
    return WaitlistOut(entries=[waitlist_entry_out(e) for e in services.list_waitlist.execute()])
