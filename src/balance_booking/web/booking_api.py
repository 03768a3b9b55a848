"""Booking JSON API: appointments (public and admin), waitlist, tracking."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from balance_booking.application.ports import CalendarEventState
from balance_booking.application.slot_guard import BookingRequest, SlotUnavailableError
from balance_booking.domain.appointments import Appointment, Client
from balance_booking.domain.intervals import Interval
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.errors import ApiError, error_response
from balance_booking.web.schemas import ErrorBody, Strict
from balance_booking.web.timefmt import parse_instant, query_window, render, zone_or_422

public = APIRouter(prefix="/api/public", tags=["public"])
admin = APIRouter(prefix="/api/admin", tags=["admin"])

Email = Annotated[
    str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$", max_length=320)
]
Phone = Annotated[str, StringConstraints(pattern=r"^[0-9+()\-.\s]{5,40}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Comment = Annotated[str, StringConstraints(max_length=2000)]


class ClientIn(Strict):
    name: Name
    email: Email
    phone: Phone | None = None


class BookingIn(Strict):
    service_slug: str = Field(min_length=1, max_length=63)
    start: str = Field(max_length=40)
    timezone: str = Field(min_length=1, max_length=64)
    client: ClientIn
    comment: Comment | None = None


class AppointmentOut(BaseModel):
    id: UUID
    status: str
    service_slug: str
    start: str
    end: str
    timezone: str
    hold_expires_at: str | None
    manage_token: str | None = None


class AppointmentEnvelope(BaseModel):
    appointment: AppointmentOut


class SlotOut(BaseModel):
    start: str
    end: str


class ConflictBody(ErrorBody):
    alternatives: list[SlotOut]


class CancelIn(Strict):
    token: str = Field(min_length=1, max_length=200)


class WaitlistIn(Strict):
    service_slug: str = Field(min_length=1, max_length=63)
    name: Name
    email: Email
    phone: Phone | None = None
    timezone: str = Field(min_length=1, max_length=64)
    preferred_from: str | None = Field(default=None, max_length=40)
    preferred_to: str | None = Field(default=None, max_length=40)
    comment: Comment | None = None


class CreatedId(BaseModel):
    id: UUID


class TrackingIn(Strict):
    event: str = Field(min_length=1, max_length=64)
    properties: dict[
        Annotated[str, StringConstraints(max_length=64)],
        Annotated[str, StringConstraints(max_length=200)],
    ] = Field(max_length=20)


class CalendarEventOut(BaseModel):
    id: str | None
    state: Literal["pending", "created", "failed", "deleted"]


class AdminAppointmentOut(AppointmentOut):
    client_name: str
    client_email: str
    client_phone: str | None
    comment: str | None
    calendar_event: CalendarEventOut


class AdminAppointments(BaseModel):
    appointments: list[AdminAppointmentOut]


class WaitlistEntryOut(BaseModel):
    id: UUID
    service_slug: str
    name: str
    email: str
    phone: str | None
    timezone: str
    preferred_from: str | None
    preferred_to: str | None
    comment: str | None
    created_at: str


class WaitlistOut(BaseModel):
    entries: list[WaitlistEntryOut]


def appointment_out(appointment: Appointment, *, token: str | None = None) -> AppointmentOut:
    zone = ZoneInfo(appointment.client_timezone)
    hold = appointment.hold_expires_at
    return AppointmentOut(
        id=appointment.id,
        status=appointment.status.value,
        service_slug=appointment.service_slug,
        start=render(appointment.start, zone),
        end=render(appointment.end, zone),
        timezone=appointment.client_timezone,
        hold_expires_at=None if hold is None else render(hold, zone),
        manage_token=token,
    )


def _conflict(exc: SlotUnavailableError, zone: ZoneInfo) -> JSONResponse:
    alternatives = [
        {"start": render(s.start, zone), "end": render(s.end, zone)} for s in exc.alternatives
    ]
    return error_response(409, "slot_unavailable", str(exc), extra={"alternatives": alternatives})


_BOOKING_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "Unknown service"},
    409: {"model": ConflictBody, "description": "Slot unavailable; alternatives offered"},
    422: {"model": ErrorBody, "description": "Invalid request or Idempotency-Key reuse"},
    503: {"model": ErrorBody, "description": "Google Calendar unavailable; waitlist offered"},
}


@public.post(
    "/booking/appointments",
    status_code=201,
    response_model=AppointmentEnvelope,
    responses=_BOOKING_ERRORS,
)
def book(
    body: BookingIn,
    services: ServicesDep,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
    ] = None,
) -> AppointmentEnvelope | JSONResponse:
    zone = zone_or_422(body.timezone, field="timezone")
    request = BookingRequest(
        service_slug=body.service_slug,
        start=parse_instant(body.start, field="start"),
        timezone=body.timezone,
        client=Client(name=body.client.name, email=body.client.email, phone=body.client.phone),
        comment=body.comment,
    )
    try:
        booked = services.book.execute(request, idempotency_key=idempotency_key)
    except SlotUnavailableError as exc:
        return _conflict(exc, zone)
    if booked.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return AppointmentEnvelope(
        appointment=appointment_out(booked.appointment, token=booked.manage_token)
    )


@public.get(
    "/booking/appointments/{appointment_id}",
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


@public.post(
    "/booking/appointments/{appointment_id}/cancel",
    response_model=AppointmentEnvelope,
    responses={404: {"model": ErrorBody, "description": "Unknown appointment or wrong token"}},
)
def cancel_by_client(
    appointment_id: UUID, body: CancelIn, services: ServicesDep
) -> AppointmentEnvelope:
    appointment = services.cancel_appointment.execute(appointment_id, token=body.token)
    return AppointmentEnvelope(appointment=appointment_out(appointment))


def _optional_instant(value: str | None, *, field: str) -> datetime | None:
    return None if value is None else parse_instant(value, field=field)


@public.post(
    "/booking/waitlist",
    status_code=201,
    response_model=CreatedId,
    responses={404: {"model": ErrorBody, "description": "Unknown service"}},
)
def join_waitlist(body: WaitlistIn, services: ServicesDep) -> CreatedId:
    zone_or_422(body.timezone, field="timezone")
    start = _optional_instant(body.preferred_from, field="preferred_from")
    end = _optional_instant(body.preferred_to, field="preferred_to")
    preferred = None
    if start is not None and end is not None:
        if end <= start:
            raise ApiError(
                422,
                "invalid_request",
                "`preferred_to` must be after `preferred_from`.",
                field="preferred_to",
            )
        preferred = Interval(start, end)
    elif start is not None or end is not None:
        raise ApiError(
            422,
            "invalid_request",
            "Give both ends of the preferred range or neither.",
            field="preferred_to",
        )
    entry_id = services.join_waitlist.execute(
        service_slug=body.service_slug,
        client=Client(name=body.name, email=body.email, phone=body.phone),
        timezone=body.timezone,
        preferred=preferred,
        comment=body.comment,
    )
    return CreatedId(id=entry_id)


@public.post(
    "/tracking",
    status_code=202,
    response_class=Response,  # 202 with no body: nothing to describe in the schema
    responses={422: {"model": ErrorBody, "description": "Not in the tracking plan"}},
)
def track(body: TrackingIn, services: ServicesDep) -> Response:
    services.track_event.execute(body.event, dict(body.properties))
    return Response(status_code=202)


def _event_out(state: CalendarEventState) -> CalendarEventOut:
    known = ("pending", "created", "failed", "deleted")
    value = state.state if state.state in known else "pending"
    return CalendarEventOut(id=state.event_id, state=value)


@admin.get(
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
                calendar_event=_event_out(state),
            )
            for appointment, state in rows
        ]
    )


@admin.post(
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
        return _conflict(exc, zone)
    return AppointmentEnvelope(appointment=appointment_out(appointment))


@admin.post(
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


@admin.get(
    "/waitlist",
    response_model=WaitlistOut,
    responses={401: {"model": ErrorBody, "description": "Unauthorized"}},
)
def waitlist(_admin: AdminDep, services: ServicesDep) -> WaitlistOut:
    def instant(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat(timespec="seconds")

    return WaitlistOut(
        entries=[
            WaitlistEntryOut(
                id=e.entry_id,
                service_slug=e.service_slug,
                name=e.name,
                email=e.email,
                phone=e.phone,
                timezone=e.timezone,
                preferred_from=instant(e.preferred_from),
                preferred_to=instant(e.preferred_to),
                comment=e.comment,
                created_at=e.created_at.isoformat(timespec="seconds"),
            )
            for e in services.list_waitlist.execute()
        ]
    )
