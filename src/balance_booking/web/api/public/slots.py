"""GET /api/public/booking/slots: free slots, answered from rendered bytes while they hold."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response

from balance_booking.application.availability import SlotsResult
from balance_booking.domain.intervals import Interval
from balance_booking.web.deps import ServicesDep
from balance_booking.web.schemas import CalendarOut, ErrorBody, SlotsOut
from balance_booking.web.slots_cache import RenderedAnswer
from balance_booking.web.timefmt import query_window, render, render_slot_instant, zone_or_422

router = APIRouter(prefix="/api/public/booking", tags=["public"])

_EMPTY_SLOTS = '"slots":[]'

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "Unknown or inactive service"},
    422: {"model": ErrorBody, "description": "Invalid query"},
    503: {
        "model": ErrorBody,
        "description": "Calendar data too old: check later or join the waitlist",
    },
}


def render_slots(result: SlotsResult, window: Interval, zone: ZoneInfo, zone_name: str) -> bytes:
    """`SlotsOut` as JSON bytes, the same bytes as `model_dump_json(by_alias=True)` gives.

    The envelope goes through the model; the slot list, which is most of the answer, is
    written directly: each slot is two RFC 3339 strings (ASCII, nothing to escape) in a fixed
    shape, and validating hundreds of `SlotOut` models costs more than the rest of a cache miss
    (docs/benchmarks.md). tests/unit/web/test_slots_rendering.py holds it to the model.
    """
    synced_at = result.calendar.synced_at
    envelope = SlotsOut(
        service_slug=result.service.slug,
        timezone=zone_name,
        **{"from": render(window.start, zone)},
        to=render(window.end, zone),
        slots=[],
        calendar=CalendarOut(
            status=result.calendar.status,
            synced_at=None if synced_at is None else render(synced_at, zone),
        ),
    ).model_dump_json(by_alias=True)
    slots = ",".join(
        [
            f'{{"start":"{render_slot_instant(slot.start, zone)}",'
            f'"end":"{render_slot_instant(slot.end, zone)}"}}'
            for slot in result.slots
        ]
    )
    head, marker, tail = envelope.partition(_EMPTY_SLOTS)
    if not marker:  # the model's shape changed: fall back to it whole
        raise RuntimeError("SlotsOut no longer renders an empty slot list as expected")
    return f'{head}"slots":[{slots}]{tail}'.encode()


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
        body = render_slots(result, window, zone, zone_name)
        services.rendered_slots.put(key, RenderedAnswer(body=body, valid=result.valid))
    return Response(content=body, media_type="application/json")
