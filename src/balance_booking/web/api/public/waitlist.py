"""POST /api/public/booking/waitlist: a client asks to hear of a free slot (once: joining again
for the same service and window answers 200 with the entry they have)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response

from balance_booking.domain.appointments import Client
from balance_booking.domain.intervals import Interval
from balance_booking.web.deps import PublicWrite, ServicesDep
from balance_booking.web.errors import ApiError
from balance_booking.web.schemas import RATE_LIMITED, ErrorBody, WaitlistIn, WaitlistJoined
from balance_booking.web.timefmt import parse_instant, zone_or_422

router = APIRouter(prefix="/api/public/booking", tags=["public"])


def _optional_instant(value: str | None, *, field: str) -> datetime | None:
    return None if value is None else parse_instant(value, field=field)


@router.post(
    "/waitlist",
    dependencies=[PublicWrite],
    status_code=201,
    response_model=WaitlistJoined,
    responses={
        200: {
            "model": WaitlistJoined,
            "description": "Already on the list for this service and window: the existing "
            'entry, `"already_waiting": true`, nothing stored',
        },
        404: {"model": ErrorBody, "description": "Unknown service"},
        422: {"model": ErrorBody, "description": "Invalid request, or consent_required"},
        **RATE_LIMITED,
    },
)
def join_waitlist(body: WaitlistIn, services: ServicesDep, response: Response) -> WaitlistJoined:
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
    joined = services.join_waitlist.execute(
        service_slug=body.service_slug,
        client=Client(name=body.name, email=body.email, phone=body.phone),
        timezone=body.timezone,
        preferred=preferred,
        comment=body.comment,
        consent=body.consent,
        language=body.language,
    )
    if joined.already_waiting:
        response.status_code = 200  # nothing new: the entry they have is the answer
    return WaitlistJoined(id=joined.entry_id, already_waiting=joined.already_waiting)
