"""POST /api/public/tracking: product analytics events from the booking pages."""

from __future__ import annotations

from fastapi import APIRouter, Response

from balance_booking.web.deps import PublicWrite, ServicesDep
from balance_booking.web.schemas import RATE_LIMITED, ErrorBody, TrackingIn

router = APIRouter(prefix="/api/public", tags=["public"])


@router.post(
    "/tracking",
    dependencies=[PublicWrite],
    status_code=202,
    response_class=Response,  # 202 with no body: nothing to describe in the schema
    responses={
        422: {"model": ErrorBody, "description": "Not in the tracking plan"},
        **RATE_LIMITED,
    },
)
def track(body: TrackingIn, services: ServicesDep) -> Response:
    services.track_event.execute(body.event, dict(body.properties))
    return Response(status_code=202)
