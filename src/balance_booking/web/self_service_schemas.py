"""Bodies of the self-service and admin-booking endpoints (API.md "Client self-service and admin
bookings") and the 409 that names every colliding occurrence."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool, StrictInt

from balance_booking.application.self_service import CollisionError
from balance_booking.domain.collisions import MAX_WEEKLY_OCCURRENCES
from balance_booking.web.errors import error_response
from balance_booking.web.schemas import (
    AdminAppointmentOut,
    Comment,
    Email,
    ErrorBody,
    Name,
    Phone,
    Strict,
)
from balance_booking.web.timefmt import render


class RescheduleIn(Strict):
    """The client's move: the manage token and the new start (an instant)."""

    token: str = Field(min_length=1, max_length=200)
    start: str = Field(max_length=40)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)


class AdminRescheduleIn(Strict):
    start: str = Field(max_length=40)


class AdminClientIn(Strict):
    """A client the practitioner books: an e-mail address is optional (a phone call)."""

    name: Name
    email: Email | None = None
    phone: Phone | None = None


class RepeatIn(Strict):
    weekly: StrictInt = Field(ge=1, le=MAX_WEEKLY_OCCURRENCES)


class AdminBookingIn(Strict):
    service_slug: str = Field(min_length=1, max_length=63)
    start: str = Field(max_length=40)
    timezone: str = Field(min_length=1, max_length=64)
    client: AdminClientIn
    comment: Comment | None = None
    notify: StrictBool = True
    repeat: RepeatIn | None = None
    language: Literal["ru", "en"] = "ru"


class AdminBookedOut(BaseModel):
    appointments: list[AdminAppointmentOut]


class SeriesCancelledOut(BaseModel):
    cancelled: int


class CollisionOut(BaseModel):
    start: str
    end: str
    reason: Literal["past", "busy", "booked", "buffer"]


class CollisionBody(ErrorBody):
    conflicts: list[CollisionOut]


def collision_response(exc: CollisionError, zone: ZoneInfo) -> JSONResponse:
    """409 `slot_unavailable` naming every colliding occurrence (a CollisionBody)."""
    conflicts = [
        {
            "start": render(slot.start, zone),
            "end": render(slot.end, zone),
            "reason": collision.reason.value,
        }
        for slot, collision in exc.conflicts
    ]
    return error_response(409, "slot_unavailable", str(exc), extra={"conflicts": conflicts})
