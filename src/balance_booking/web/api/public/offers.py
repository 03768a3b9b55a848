"""/api/public/booking/offers: a waitlist offer, as its recipient sees it; accept or decline it
(API.md "Waitlist offers"; the token comes from the offer e-mail)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from balance_booking.application.offers import OfferView
from balance_booking.application.slot_guard import SlotUnavailableError
from balance_booking.domain.appointments import Client
from balance_booking.web.deps import PublicWrite, ServicesDep
from balance_booking.web.schemas import (
    RATE_LIMITED,
    AppointmentEnvelope,
    ClientIn,
    ConflictBody,
    ErrorBody,
    Strict,
    appointment_out,
    slot_unavailable_response,
)
from balance_booking.web.timefmt import render, zone_or_422

router = APIRouter(prefix="/api/public/booking", tags=["public"])

_TOKEN = Field(min_length=1, max_length=200)
_NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "Unknown offer or wrong token"},
}
_CLOSED: dict[int | str, dict[str, object]] = {
    409: {
        "model": ConflictBody,
        "description": "offer_closed (answered or run out), or slot_unavailable with alternatives",
    },
}


class OfferOut(BaseModel):
    id: UUID
    status: str  # open | accepted | declined | expired | withdrawn
    service_slug: str
    service_title: str
    start: str
    end: str
    timezone: str
    expires_at: str
    appointment_id: UUID | None = None


class OfferEnvelope(BaseModel):
    offer: OfferOut


class AcceptIn(Strict):
    token: str = _TOKEN
    client: ClientIn | None = None  # other contact details than the waitlist entry's


class DeclineIn(Strict):
    token: str = _TOKEN


def offer_out(view: OfferView, *, language: str = "ru") -> OfferOut:
    offer = view.offer
    zone = ZoneInfo(view.entry.timezone)
    title = view.service_title_en if language == "en" and view.service_title_en else None
    return OfferOut(
        id=offer.id,
        status=offer.status.value,
        service_slug=offer.service_slug,
        service_title=title or view.service_title,
        start=render(offer.start, zone),
        end=render(offer.end, zone),
        timezone=view.entry.timezone,
        expires_at=render(offer.expires_at, zone),
        appointment_id=offer.appointment_id,
    )


@router.get("/offers/{offer_id}", response_model=OfferEnvelope, responses=_NOT_FOUND)
def get_offer(
    offer_id: UUID,
    services: ServicesDep,
    token: Annotated[str, Query(min_length=1, max_length=200)],
) -> OfferEnvelope:
    return OfferEnvelope(offer=offer_out(services.get_offer.execute(offer_id, token=token)))


@router.post(
    "/offers/{offer_id}/accept",
    dependencies=[PublicWrite],
    status_code=201,
    response_model=AppointmentEnvelope,
    responses=_NOT_FOUND
    | _CLOSED
    | {503: {"model": ErrorBody, "description": "Google Calendar unavailable"}}
    | RATE_LIMITED,
)
def accept_offer(
    offer_id: UUID, body: AcceptIn, services: ServicesDep
) -> AppointmentEnvelope | JSONResponse:
    client = None
    if body.client is not None:
        client = Client(name=body.client.name, email=body.client.email, phone=body.client.phone)
    try:
        booked = services.accept_offer.execute(offer_id, token=body.token, client=client)
    except SlotUnavailableError as exc:
        return slot_unavailable_response(exc, zone_or_422(exc.timezone or "UTC"))
    return AppointmentEnvelope(
        appointment=appointment_out(booked.appointment, token=booked.manage_token)
    )


@router.post(
    "/offers/{offer_id}/decline",
    dependencies=[PublicWrite],
    response_model=OfferEnvelope,
    responses=_NOT_FOUND | _CLOSED | RATE_LIMITED,
)
def decline_offer(offer_id: UUID, body: DeclineIn, services: ServicesDep) -> OfferEnvelope:
    services.decline_offer.execute(offer_id, token=body.token)
    return OfferEnvelope(offer=offer_out(services.get_offer.execute(offer_id, token=body.token)))
