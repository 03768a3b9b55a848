"""The slots answer's direct rendering gives exactly the bytes of its pydantic model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from balance_booking.application.availability import CalendarFreshness, SlotsResult, Validity
from balance_booking.domain.availability import Availability
from balance_booking.domain.intervals import Interval
from balance_booking.domain.services import Service
from balance_booking.domain.slots import TimeSlot
from balance_booking.web.api.public.slots import render_slots
from balance_booking.web.schemas import CalendarOut, SlotOut, SlotsOut
from balance_booking.web.timefmt import render

ZONES = ["Europe/Moscow", "America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]
BASE = datetime(2026, 3, 1, tzinfo=UTC)


def _model_bytes(result: SlotsResult, window: Interval, zone: ZoneInfo, zone_name: str) -> bytes:
    """What the endpoint rendered before: the whole answer through the model."""
    synced_at = result.calendar.synced_at
    return (
        SlotsOut(
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
        .model_dump_json(by_alias=True)
        .encode()
    )


@given(
    zone_name=st.sampled_from(ZONES),
    starts=st.lists(st.integers(min_value=0, max_value=400 * 24 * 4), max_size=60, unique=True),
    synced=st.booleans(),
    slug=st.sampled_from(["session", "intake-90", "2x"]),
)
def test_direct_rendering_is_byte_identical_to_the_model(
    zone_name: str, starts: list[int], *, synced: bool, slug: str
) -> None:
    zone = ZoneInfo(zone_name)
    service = Service(slug=slug, title="S", duration=timedelta(minutes=50))
    slots = [
        TimeSlot(BASE + timedelta(minutes=15 * k), BASE + timedelta(minutes=15 * k + 50))
        for k in sorted(starts)
    ]
    result = SlotsResult(
        service=service,
        availability=Availability(timezone=zone_name, weekly={}, overrides={}),
        slots=slots,
        calendar=CalendarFreshness(
            status="ok" if synced else "not_connected",
            synced_at=BASE - timedelta(minutes=3) if synced else None,
        ),
        valid=Validity(version=1, until=None),
    )
    window = Interval(BASE, BASE + timedelta(days=31))
    assert render_slots(result, window, zone, zone_name) == _model_bytes(
        result, window, zone, zone_name
    )
