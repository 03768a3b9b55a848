"""GET /api/admin/availability/explain: why one start of a service is or is not offered."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from balance_booking.web.audit import AuditedRoute
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.explain_text import reason_message
from balance_booking.web.i18n import request_language
from balance_booking.web.schemas import ErrorBody
from balance_booking.web.timefmt import parse_instant, render, zone_or_422

# Audited like every admin router; a read writes no entry (application/audit.py).
router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuditedRoute)


class IntervalOut(BaseModel):
    start: str
    end: str


class ReasonOut(BaseModel):
    code: str
    message: str
    interval: IntervalOut | None = None


class ExplanationOut(BaseModel):
    """API.md "Explainable availability"; `timezone` (the owner's, in which every time is
    written), `service_slug` and `language` (of the messages) are extensions."""

    offered: bool
    service_slug: str
    start: str
    end: str
    timezone: str
    language: Literal["ru", "en"]
    reasons: list[ReasonOut]


@router.get(
    "/availability/explain",
    response_model=ExplanationOut,
    response_model_exclude_none=True,
    responses={
        401: {"model": ErrorBody, "description": "Missing or invalid admin credentials"},
        404: {"model": ErrorBody, "description": "Unknown service"},
        422: {"model": ErrorBody, "description": "Invalid start or language"},
    },
)
def explain_availability(
    *,
    _admin: AdminDep,
    services: ServicesDep,
    request: Request,
    response: Response,
    service_slug: Annotated[str, Query(min_length=1, max_length=63)],
    start: Annotated[str, Query(max_length=40)],
    lang: Annotated[Literal["ru", "en"] | None, Query()] = None,
) -> ExplanationOut:
    """Every rule that keeps a slot of the service starting at `start` out of the public slots
    answer, with the interval responsible. `offered` is true iff there is none.

    Messages are in `lang`, else the language of the request (the `bb_lang` cookie, then
    Accept-Language), else Russian. Times are in the owner's zone. Reads only.
    """
    instant = parse_instant(start, field="start")
    result = services.explain_availability.execute(service_slug=service_slug, start=instant)
    zone = zone_or_422(result.timezone, field="start")
    language = lang or request_language(request)
    language = "en" if language == "en" else "ru"
    explanation = result.explanation
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = language
    return ExplanationOut(
        offered=explanation.offered,
        service_slug=explanation.service.slug,
        start=render(explanation.start, zone),
        end=render(explanation.end, zone),
        timezone=result.timezone,
        language=language,
        reasons=[
            ReasonOut(
                code=reason.code.value,
                message=reason_message(
                    reason, explanation, lang=language, zone=zone, synced_at=result.synced_at
                ),
                interval=None
                if reason.interval is None
                else IntervalOut(
                    start=render(reason.interval.start, zone),
                    end=render(reason.interval.end, zone),
                ),
            )
            for reason in explanation.reasons
        ],
    )
