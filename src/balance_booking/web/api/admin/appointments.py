"""/api/admin/appointments: the bookings in a range; book for a client (one time or a weekly
series), confirm, move or cancel one; cancel the rest of a series."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from balance_booking.application.ports import CalendarEventState, CalendarState
from balance_booking.application.self_service import AdminBookingRequest, CollisionError
from balance_booking.application.slot_guard import SlotUnavailableError
from balance_booking.domain.appointments import Client
from balance_booking.web.audit import AuditedRoute
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.schemas import (
    AdminAppointments,
    AppointmentEnvelope,
    ConflictBody,
    ErrorBody,
    admin_appointment_out,
    appointment_out,
    slot_unavailable_response,
)
from balance_booking.web.self_service_schemas import (
    AdminBookedOut,
    AdminBookingIn,
    AdminRescheduleIn,
    CollisionBody,
    SeriesCancelledOut,
    collision_response,
)
from balance_booking.web.timefmt import parse_instant, query_window, zone_or_422

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuditedRoute)


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
        appointments=[admin_appointment_out(appointment, state) for appointment, state in rows]
    )


@router.post(
    "/appointments/{appointment_id}/confirm",
    name="appointment.confirm",
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
    name="appointment.cancel",
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


_COLLISION_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Unauthorized"},
    404: {"model": ErrorBody, "description": "Unknown service or appointment"},
    409: {"model": CollisionBody, "description": "Collides with busy or booked time"},
    422: {"model": ErrorBody, "description": "Invalid request"},
    503: {"model": ErrorBody, "description": "Google Calendar unavailable for the live check"},
}


@router.post(
    "/appointments",
    name="appointment.create",
    status_code=201,
    response_model=AdminBookedOut,
    responses=_COLLISION_ERRORS,
)
def book_for_client(
    body: AdminBookingIn, _admin: AdminDep, services: ServicesDep
) -> AdminBookedOut | JSONResponse:
    zone = zone_or_422(body.timezone, field="timezone")
    request = AdminBookingRequest(
        service_slug=body.service_slug,
        start=parse_instant(body.start, field="start"),
        timezone=body.timezone,
        client=Client(name=body.client.name, email=body.client.email, phone=body.client.phone),
        comment=body.comment,
        notify=body.notify,
        weekly=None if body.repeat is None else body.repeat.weekly,
        language=body.language,
    )
    try:
        booked = services.book_for_client.execute(request)
    except CollisionError as exc:
        return collision_response(exc, zone)
    return AdminBookedOut(
        appointments=[
            admin_appointment_out(
                item.appointment,
                CalendarEventState(event_id=None, state=CalendarState.PENDING),
                token=item.manage_token,
            )
            for item in booked
        ]
    )


@router.post(
    "/appointments/{appointment_id}/reschedule",
    name="appointment.reschedule",
    response_model=AppointmentEnvelope,
    responses=_COLLISION_ERRORS,
)
def reschedule_by_admin(
    appointment_id: UUID, body: AdminRescheduleIn, _admin: AdminDep, services: ServicesDep
) -> AppointmentEnvelope | JSONResponse:
    start = parse_instant(body.start, field="start")
    try:
        appointment = services.reschedule_appointment.execute(
            appointment_id, start=start, token=None
        )
    except CollisionError as exc:
        return collision_response(exc, zone_or_422(services.owner_timezone.execute()))
    return AppointmentEnvelope(appointment=appointment_out(appointment))


@router.post(
    "/series/{series_id}/cancel",
    name="series.cancel",
    response_model=SeriesCancelledOut,
    responses={
        401: {"model": ErrorBody, "description": "Unauthorized"},
        404: {"model": ErrorBody, "description": "Unknown series"},
    },
)
def cancel_series(series_id: UUID, _admin: AdminDep, services: ServicesDep) -> SeriesCancelledOut:
    return SeriesCancelledOut(cancelled=services.cancel_series.execute(series_id))
