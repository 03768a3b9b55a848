"""GET /api/public/booking/slots: free slots, answered from rendered bytes while they hold."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from balance_booking.web.deps import ServicesDep
from balance_booking.web.schemas import CalendarOut, ErrorBody, SlotOut, SlotsOut
from balance_booking.web.slots_cache import RenderedAnswer
from balance_booking.web.timefmt import query_window, render, zone_or_422

router = APIRouter(prefix="/api/public/booking", tags=["public"])

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "Unknown or inactive service"},
    422: {"model": ErrorBody, "description": "Invalid query"},
    503: {
        "model": ErrorBody,
        "description": "Calendar data too old: check later or join the waitlist",
    },
}


@router.get("/slots", response_model=SlotsOut, response_model_by_alias=True, responses=_ERRORS)
def list_slots(
    services: ServicesDep,
    service_slug: Annotated[str, Query(min_length=1, max_length=63)],
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
    tz: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    zone_name = tz if tz is not None else services.owner_timezone.execute()
    zone = zone_or_422(zone_name)
    today = services.clock.now().astimezone(zone).date()
    window = query_window(from_, to, zone, today=today)
    # The hot path: a repeated query is answered with the bytes rendered the first time, for
    # as long as the use case says its answer stays true.
    key = (service_slug, window.start, window.end, zone_name)
    body = services.rendered_slots.get(key, still_valid=services.list_slots.still_valid)
    if body is None:
        result = services.list_slots.execute(service_slug=service_slug, window=window)
        synced_at = result.calendar.synced_at
        answer = SlotsOut(
            service_slug=result.service.slug,
            timezone=zone_name,
            **{"from": render(window.start, zone)},
            to=render(window.end, zone),
            slots=[
                SlotOut(start=render(s.start, zone), end=render(s.end, zone)) for s in result.slots
            ],
            calendar=CalendarOut(
                status=result.calendar.status,
                synced_at=None if synced_at is None else render(synced_at, zone),
            ),
        )
        body = answer.model_dump_json(by_alias=True).encode()
        services.rendered_slots.put(key, RenderedAnswer(body=body, valid=result.valid))
    return Response(content=body, media_type="application/json")
