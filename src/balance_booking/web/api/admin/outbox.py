"""/api/admin/integrations/email and /api/admin/outbox: e-mail health, parked messages, retry."""

from __future__ import annotations

from fastapi import APIRouter

from balance_booking.web.audit import AuditedRoute
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.schemas import (
    EmailStatusOut,
    ErrorBody,
    ParkedMessageOut,
    ParkedMessagesOut,
    RequeuedOut,
)

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuditedRoute)

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid admin credentials"},
}


@router.get("/integrations/email", response_model=EmailStatusOut, responses=_ERRORS)
def email_status(_admin: AdminDep, services: ServicesDep) -> EmailStatusOut:
    """E-mail: off (SMTP_URL unset), ok, or failing since a time with the last error."""
    return EmailStatusOut.from_view(services.email_status.execute())


@router.get("/outbox/parked", response_model=ParkedMessagesOut, responses=_ERRORS)
def parked_messages(_admin: AdminDep, services: ServicesDep) -> ParkedMessagesOut:
    """Messages of every kind given up on (e-mails, Google writes), oldest first."""
    parked = services.list_parked.execute()
    return ParkedMessagesOut(messages=[ParkedMessageOut.from_parked(p) for p in parked])


@router.post(
    "/outbox/{message_id}/retry",
    name="outbox.retry",
    response_model=RequeuedOut,
    responses=_ERRORS
    | {404: {"model": ErrorBody, "description": "No parked message with this id"}},
)
def retry_parked(message_id: int, _admin: AdminDep, services: ServicesDep) -> RequeuedOut:
    """Try a parked message again: due at once, its failure clock restarted."""
    services.retry_parked.execute(message_id)
    return RequeuedOut(id=message_id)
