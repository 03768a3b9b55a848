"""GET /api/public/booking/services: the kinds of meeting clients may book."""

from __future__ import annotations

from fastapi import APIRouter

from balance_booking.web.deps import ServicesDep
from balance_booking.web.schemas import PriceOut, PublicService, PublicServices

router = APIRouter(prefix="/api/public/booking", tags=["public"])


@router.get("/services", response_model=PublicServices)
def list_services(services: ServicesDep) -> PublicServices:
    return PublicServices(
        services=[
            PublicService(
                slug=s.slug,
                title=s.title,
                duration_minutes=int(s.duration.total_seconds() // 60),
                requires_payment=s.requires_payment,
                description=s.description,
                description_en=s.description_en,
                price=PriceOut.from_domain(s.price),
                format=s.format,
                location=s.location,
            )
            for s in services.list_public_services.execute()
        ]
    )
