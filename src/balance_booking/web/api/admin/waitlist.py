"""/api/admin/waitlist: who is waiting for a slot, what is offered to them; take one off."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

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
    return WaitlistOut(
        entries=[
            waitlist_entry_out(row.entry, row.offer) for row in services.list_waitlist.execute()
        ]
    )


@router.delete(
    "/waitlist/{entry_id}",
    name="waitlist.remove",
    status_code=204,
    responses={
        401: {"model": ErrorBody, "description": "Unauthorized"},
        404: {"model": ErrorBody, "description": "Unknown entry"},
    },
)
def remove_entry(entry_id: UUID, _admin: AdminDep, services: ServicesDep) -> Response:
    """Take someone off the waiting list; a time held for them is released."""
    services.remove_waitlist_entry.execute(entry_id)
    return Response(status_code=204)
