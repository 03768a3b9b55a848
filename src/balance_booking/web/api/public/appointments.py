"""/api/public/booking/appointments: book a slot, look a booking up, move or cancel it (client
token)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from balance_booking.application.errors import AlreadyBookedError
from balance_booking.application.slot_guard import BookingRequest, SlotUnavailableError
from balance_booking.domain.appointments import Client
from balance_booking.web.deps import (
    PublicWrite,
    ServicesDep,
    ThreadsDep,
    WebServices,
    limit_public_writes,
)
from balance_booking.web.schemas import (
    RATE_LIMITED,
    AlreadyBookedBody,
    AppointmentEnvelope,
    BookingIn,
    CancelIn,
    ConflictBody,
    ErrorBody,
    already_booked_response,
    appointment_out,
    slot_unavailable_response,
)
from balance_booking.web.self_service_schemas import RescheduleIn
from balance_booking.web.timefmt import parse_instant, zone_or_422

router = APIRouter(prefix="/api/public/booking", tags=["public"])

_BOOKING_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "Unknown service"},
    409: {
        "model": ConflictBody | AlreadyBookedBody | ErrorBody,
        "description": "slot_unavailable (alternatives offered), already_booked (the client holds "
        "this slot already; the confirmation is sent again) or booking_limit_reached",
    },
    422: {
        "model": ErrorBody,
        "description": "Invalid request, Idempotency-Key reuse, or consent_required",
    },
    503: {"model": ErrorBody, "description": "Google Calendar unavailable; waitlist offered"},
    **RATE_LIMITED,
}


@router.post(
    "/appointments",
    status_code=201,
    response_model=AppointmentEnvelope,
    responses=_BOOKING_ERRORS,
)
async def book(
    *,
    body: BookingIn,
    services: ServicesDep,
    threads: ThreadsDep,
    http: Request,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
    ] = None,
) -> AppointmentEnvelope | JSONResponse:
    # The app's own threads (web/threads.py): fifty visitors arriving at once find them started.
    return await threads.run(_book, body, services, http, response, idempotency_key)


def _book(
    body: BookingIn,
    services: WebServices,
    http: Request,
    response: Response,
    idempotency_key: str | None,
) -> AppointmentEnvelope | JSONResponse:
    # The write limit in the endpoint's own thread rather than as a dependency (PublicWrite):
    # a sync dependency is one more trip through the thread pool, and fifty visitors racing
    # for one slot spent a tenth of the server's time on those trips. A body that fails
    # validation (422) is not counted: it stores nothing.
    limit_public_writes(http, services)
    zone = zone_or_422(body.timezone, field="timezone")
    request = BookingRequest(
        service_slug=body.service_slug,
        start=parse_instant(body.start, field="start"),
        timezone=body.timezone,
        client=Client(name=body.client.name, email=body.client.email, phone=body.client.phone),
        comment=body.comment,
        language=body.language,
        consent=body.consent,
    )
    try:
        booked = services.book.execute(request, idempotency_key=idempotency_key)
    except SlotUnavailableError as exc:
        return slot_unavailable_response(exc, zone)
    except AlreadyBookedError as exc:
        return already_booked_response(exc)
    if booked.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return AppointmentEnvelope(
        appointment=appointment_out(booked.appointment, token=booked.manage_token)
    )


@router.get(
    "/appointments/{appointment_id}",
    response_model=AppointmentEnvelope,
    responses={404: {"model": ErrorBody, "description": "Unknown appointment or wrong token"}},
)
def get_appointment(
    appointment_id: UUID,
    services: ServicesDep,
    token: Annotated[str, Query(min_length=1, max_length=200)],
) -> AppointmentEnvelope:
    appointment = services.get_appointment.execute(appointment_id, token=token)
    return AppointmentEnvelope(appointment=appointment_out(appointment))


@router.post(
    "/appointments/{appointment_id}/cancel",
    dependencies=[PublicWrite],
    response_model=AppointmentEnvelope,
    responses={
        404: {"model": ErrorBody, "description": "Unknown appointment or wrong token"},
        409: {"model": ErrorBody, "description": "change_window_closed"},
        **RATE_LIMITED,
    },
)
def cancel_by_client(
    appointment_id: UUID, body: CancelIn, services: ServicesDep
) -> AppointmentEnvelope:
    appointment = services.cancel_appointment.execute(appointment_id, token=body.token)
    return AppointmentEnvelope(appointment=appointment_out(appointment))


@router.post(
    "/appointments/{appointment_id}/reschedule",
    dependencies=[PublicWrite],
    response_model=AppointmentEnvelope,
    responses={
        404: {"model": ErrorBody, "description": "Unknown appointment or wrong token"},
        409: {
            "model": ConflictBody,
            "description": "slot_unavailable (alternatives offered) or change_window_closed",
        },
        422: {"model": ErrorBody, "description": "Invalid request"},
        503: {"model": ErrorBody, "description": "Google Calendar unavailable"},
        **RATE_LIMITED,
    },
)
def reschedule_by_client(
    appointment_id: UUID, body: RescheduleIn, services: ServicesDep
) -> AppointmentEnvelope | JSONResponse:
    if body.timezone is not None:
        zone_or_422(body.timezone, field="timezone")
    start = parse_instant(body.start, field="start")
    try:
        appointment = services.reschedule_appointment.execute(
            appointment_id, start=start, token=body.token, timezone=body.timezone
        )
    except SlotUnavailableError as exc:
        # In the zone asked for, else the one the appointment was booked in.
        return slot_unavailable_response(exc, zone_or_422(exc.timezone or "UTC"))
    return AppointmentEnvelope(appointment=appointment_out(appointment, timezone=body.timezone))
