"""/api/admin/appointments: the bookings in a range; confirm or cancel one."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from balance_booking.application.slot_guard import SlotUnavailableError
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.schemas import (
    AdminAppointmentOut,
    AdminAppointments,
    AppointmentEnvelope,
    ConflictBody,
    ErrorBody,
    appointment_out,
    calendar_event_out,
    slot_unavailable_response,
)
from balance_booking.web.timefmt import query_window, zone_or_422

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get(
    "/appointments",
    response_model=AdminAppointments,
    responses={401: {"model": ErrorBody, "description": "Unauthorized"}},
)
def list_appointments(
    _admin: AdminDep,
    services: ServicesDep,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[
        Literal["pending_payment", "confirmed", "cancelled", "expired"] | None, Query()
    ] = None,
) -> AdminAppointments:
    zone = zone_or_422(services.owner_timezone.execute())
    window = query_window(from_, to, zone, today=services.clock.now().astimezone(zone).date())
    rows = services.list_appointments.execute(window, status=status)
    return AdminAppointments(
        appointments=[
            AdminAppointmentOut(
                **appointment_out(appointment).model_dump(),
                client_name=appointment.client.name,
                client_email=appointment.client.email,
                client_phone=appointment.client.phone,
                comment=appointment.comment,
                calendar_event=calendar_event_out(state),
            )
            for appointment, state in rows
        ]
    )


@router.post(
    "/appointments/{appointment_id}/confirm",
    response_model=AppointmentEnvelope,
    responses={
        401: {"model": ErrorBody, "description": "Unauthorized"},
        404: {"model": ErrorBody, "description": "Unknown appointment"},
        409: {"model": ConflictBody, "description": "Conflict in Google or not pending"},
        503: {"model": ErrorBody, "description": "Google Calendar unavailable for the re-check"},
    },
)
def confirm(
    appointment_id: UUID, _admin: AdminDep, services: ServicesDep
) -> AppointmentEnvelope | JSONResponse:
    try:
        appointment = services.confirm_appointment.execute(appointment_id)
    except SlotUnavailableError as exc:
        zone = zone_or_422(services.owner_timezone.execute())
        return slot_unavailable_response(exc, zone)
    return AppointmentEnvelope(appointment=appointment_out(appointment))


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentEnvelope,
    responses={
        401: {"model": ErrorBody, "description": "Unauthorized"},
        404: {"model": ErrorBody, "description": "Unknown appointment"},
    },
)
def cancel_by_admin(
    appointment_id: UUID, _admin: AdminDep, services: ServicesDep
) -> AppointmentEnvelope:
    appointment = services.cancel_appointment.execute(appointment_id, token=None)
    return AppointmentEnvelope(appointment=appointment_out(appointment))
