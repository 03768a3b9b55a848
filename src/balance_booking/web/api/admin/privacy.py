"""/api/admin/clients and /api/admin/audit: data requests and the audit log (API.md "Privacy
and data rights"; docs/privacy.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from balance_booking.application.ports import AuditEntry, ConsentRecord
from balance_booking.domain.availability import local_to_utc
from balance_booking.web.audit import AuditedRoute
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.schemas import (
    EMAIL_PATTERN,
    AdminAppointmentOut,
    Email,
    ErrorBody,
    Strict,
    WaitlistEntryOut,
    admin_appointment_out,
    waitlist_entry_out,
)
from balance_booking.web.timefmt import is_date, parse_date, parse_instant, zone_or_422

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuditedRoute)

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid admin credentials"},
    422: {"model": ErrorBody, "description": "Invalid request"},
}
# Before any booking could exist: "no lower bound" for the audit log's `from`.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ConsentOut(BaseModel):
    id: UUID
    policy_url: str
    given_at: str
    appointment_id: UUID | None
    waitlist_entry_id: UUID | None


def _consent_out(record: ConsentRecord) -> ConsentOut:
    return ConsentOut(
        id=record.consent_id,
        policy_url=record.policy_url,
        given_at=record.given_at.isoformat(timespec="seconds"),
        appointment_id=record.appointment_id,
        waitlist_entry_id=record.waitlist_entry_id,
    )


class ClientDataOut(BaseModel):
    appointments: list[AdminAppointmentOut]
    waitlist: list[WaitlistEntryOut]
    consents: list[ConsentOut]


class EraseIn(Strict):
    email: Email


class ErasedOut(BaseModel):
    erased: dict[str, int]


@router.get("/clients", name="client.export", response_model=ClientDataOut, responses=_ERRORS)
def export_client_data(
    _admin: AdminDep,
    services: ServicesDep,
    email: Annotated[str, Query(max_length=320, pattern=EMAIL_PATTERN)],
    download: bool = False,  # noqa: FBT001, FBT002 - a query flag
) -> ClientDataOut | JSONResponse:
    """Everything stored about the person with this e-mail address; `download=true` answers it
    as a file (the admin page's button)."""
    data = services.export_client.execute(email)
    body = ClientDataOut(
        appointments=[admin_appointment_out(a, state) for a, state in data.appointments],
        waitlist=[waitlist_entry_out(entry) for entry in data.waitlist],
        consents=[_consent_out(record) for record in data.consents],
    )
    if not download:
        return body
    return JSONResponse(
        body.model_dump(mode="json"),
        headers={
            "Content-Disposition": 'attachment; filename="client-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/clients/erase", name="client.erase", response_model=ErasedOut, responses=_ERRORS)
def erase_client_data(body: EraseIn, _admin: AdminDep, services: ServicesDep) -> ErasedOut:
    """Cancel the person's future appointments (they get the e-mail) and erase their data."""
    return ErasedOut(erased=services.erase_client.execute(body.email))


class AuditEntryOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    target: str | None
    ip: str | None


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]
    # The `before` of the next (older) page, or None on the last page.
    next_before: int | None = None


def _bound(value: str | None, *, field: str, services: ServicesDep, end: bool) -> datetime | None:
    """A `from`/`to` value: a local date in the owner's zone (`to` includes it) or an instant."""
    if value is None:
        return None
    if is_date(value):
        day = parse_date(value, field=field)
        zone = zone_or_422(services.owner_timezone.execute())
        return local_to_utc(day + timedelta(days=1) if end else day, 0, zone)
    return parse_instant(value, field=field)


def _entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.entry_id or 0,
        at=entry.at.isoformat(timespec="seconds"),
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        ip=entry.ip,
    )


@router.get("/audit", response_model=AuditOut, responses=_ERRORS)
def audit_log(
    _admin: AdminDep,
    services: ServicesDep,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditOut:
    """Admin actions, newest first; `before` (an entry id) pages back."""
    start = _bound(from_, field="from", services=services, end=False) or _EPOCH
    finish = _bound(to, field="to", services=services, end=True) or (
        services.clock.now() + timedelta(days=1)
    )
    entries = services.list_audit.execute(start, finish, before_id=before, limit=limit + 1)
    page = entries[:limit]
    return AuditOut(
        entries=[_entry_out(entry) for entry in page],
        next_before=page[-1].entry_id if len(entries) > limit and page else None,
    )
