"""Public pages: /booking/slot/ (choose and book), /booking/manage/{id} (view, cancel, .ics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import quote, urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from balance_booking.application.email import invite_uid
from balance_booking.application.errors import (
    CalendarUnavailableError,
    ConflictError,
    NotFoundError,
)
from balance_booking.application.offers import OfferView
from balance_booking.application.ports import CalendarInvite, InviteStatus
from balance_booking.application.service_info import invite_description, invite_location
from balance_booking.application.slot_guard import SlotUnavailableError
from balance_booking.domain.appointments import Appointment, AppointmentStatus
from balance_booking.domain.services import Service
from balance_booking.web.deps import ServicesDep
from balance_booking.web.i18n import request_language
from balance_booking.web.service_view import ServiceInfo, service_info
from balance_booking.web.templating import TemplatesDep
from balance_booking.web.zones import picker_data, weekday_initials

router = APIRouter(include_in_schema=False)

BOOKING_PAGE = "/booking/slot/"
# The manage link carries a secret: never cache it, never leak it in a Referer, never index it.
_PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Frame-Options": "DENY",
}
TokenQuery = Annotated[str | None, Query(max_length=200)]


@dataclass(frozen=True, slots=True)
class ServiceChoice:
    """A service as the booking page shows it, titled in the visitor's language."""

    slug: str
    title: str
    minutes: int
    max_days_ahead: int
    requires_payment: bool
    info: ServiceInfo  # price, format, location, description (UX round 2)


def _title(service: Service, lang: str) -> str:
    return service.title_en if lang == "en" and service.title_en else service.title


def _choice(service: Service, lang: str) -> ServiceChoice:
    return ServiceChoice(
        slug=service.slug,
        title=_title(service, lang),
        minutes=int(service.duration.total_seconds() // 60),
        max_days_ahead=service.max_days_ahead,
        requires_payment=service.requires_payment,
        info=service_info(service, lang),
    )


@router.get("/booking/", response_class=HTMLResponse)
def booking_home() -> Response:
    return RedirectResponse(BOOKING_PAGE, status_code=307)


@dataclass(frozen=True, slots=True)
class MoveContext:
    """The booking page in "move" mode: the same week picker, for an existing appointment."""

    appointment_id: str
    token: str
    when: Appointment
    closed: bool  # inside the service's change cut-off: the client cannot move it online


@router.get(BOOKING_PAGE, response_class=HTMLResponse)
def booking_page(
    request: Request,
    *,
    services: ServicesDep,
    templates: TemplatesDep,
    service: Annotated[str | None, Query(max_length=63)] = None,
    move: Annotated[str | None, Query(max_length=64)] = None,
    token: TokenQuery = None,
) -> Response:
    lang = request_language(request)
    choices = [_choice(s, lang) for s in services.list_public_services.execute()]
    moving = None
    headers = None
    if move is not None:
        # "Move to another time" from the manage page: the appointment's own service only.
        try:
            appointment = _find_appointment(services, move, token)
        except NotFoundError:
            return _missing(request, templates)
        if appointment.status not in _ACTIVE:
            return RedirectResponse(_manage_url(appointment.id, token or ""), status_code=303)
        own = _service(services, appointment.service_slug)
        choices = [] if own is None else [_choice(own, lang)]
        service = appointment.service_slug
        moving = MoveContext(
            appointment_id=str(appointment.id),
            token=token or "",
            when=appointment,
            closed=own is None or not appointment.client_may_change(own, now=services.clock.now()),
        )
        headers = _PRIVATE_HEADERS  # the URL holds the manage token
    return templates.TemplateResponse(
        request,
        "booking.html",
        {
            "services": choices,
            "selected_slug": service,
            "owner_tz": services.owner_timezone.execute(),
            "zone_picker": picker_data(lang, at=services.clock.now()),
            "weekdays": weekday_initials(lang),
            "now_iso": services.clock.now().astimezone(UTC).isoformat(timespec="seconds"),
            "move": moving,
            "privacy_policy_url": services.privacy_policy_url,
            # The done screen promises the e-mail with the manage link only when one goes out.
            "mail_enabled": services.email_status.enabled,
        },
        headers=headers,
    )


_ACTIVE = frozenset({AppointmentStatus.CONFIRMED, AppointmentStatus.PENDING_PAYMENT})


def _manage_url(appointment_id: UUID, token: str, **extra: str) -> str:
    query = urlencode({"token": token, **extra})
    return f"/booking/manage/{appointment_id}?{query}"


def _service(services: ServicesDep, slug: str) -> Service | None:
    return next((s for s in services.list_services.execute() if s.slug == slug), None)


def _find_appointment(services: ServicesDep, appointment_id: str, token: str | None) -> Appointment:
    if not token:
        raise NotFoundError("No manage token.")
    try:
        parsed = UUID(appointment_id)
    except ValueError as exc:
        raise NotFoundError("Not an appointment id.") from exc
    return services.get_appointment.execute(parsed, token=token)


def _service_title(services: ServicesDep, slug: str, lang: str) -> str:
    for service in services.list_services.execute():
        if service.slug == slug:
            return _title(service, lang)
    return slug


def _missing(request: Request, templates: TemplatesDep) -> Response:
    return templates.TemplateResponse(
        request, "manage_missing.html", {}, status_code=404, headers=_PRIVATE_HEADERS
    )


@router.get("/booking/manage/{appointment_id}", response_class=HTMLResponse)
def manage_page(
    request: Request,
    *,
    appointment_id: str,
    services: ServicesDep,
    templates: TemplatesDep,
    token: TokenQuery = None,
    cancelled: Annotated[str | None, Query(max_length=8)] = None,
    moved: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    try:
        appointment = _find_appointment(services, appointment_id, token)
    except NotFoundError:
        return _missing(request, templates)
    lang = request_language(request)
    active = appointment.status in _ACTIVE
    own = _service(services, appointment.service_slug)
    now = services.clock.now()
    return templates.TemplateResponse(
        request,
        "manage.html",
        {
            "appointment": appointment,
            "service_title": _service_title(services, appointment.service_slug, lang),
            "service_info": None if own is None else service_info(own, lang),
            "token": token,
            "active": active,
            "upcoming": appointment.start > now,
            # Inside the cut-off the client may neither cancel nor move online (API.md).
            "changeable": own is not None and appointment.client_may_change(own, now=now),
            "cutoff_minutes": 0 if own is None else int(own.change_cutoff.total_seconds() // 60),
            "move_url": f"{BOOKING_PAGE}?{urlencode({'move': str(appointment.id), 'token': token or ''})}",
            "just_cancelled": cancelled == "1",
            "just_moved": moved == "1",
            "offset": _offset(appointment.start, appointment.client_timezone),
        },
        headers=_PRIVATE_HEADERS,
    )


@router.post("/booking/manage/{appointment_id}", response_class=HTMLResponse)
def cancel_without_script(
    request: Request,
    appointment_id: str,
    services: ServicesDep,
    templates: TemplatesDep,
    token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The cancel form for browsers without JavaScript (the script calls the JSON API)."""
    query = f"?token={quote(token, safe='')}"
    try:
        appointment = _find_appointment(services, appointment_id, token)
        if services.public_writes is not None:
            services.public_writes.check(request.client.host if request.client else "unknown")
        services.cancel_appointment.execute(appointment.id, token=token)
        query += "&cancelled=1"
    except NotFoundError:
        return _missing(request, templates)
    except ConflictError:
        # No longer cancellable (a hold that ran out, or inside the change cut-off): the page
        # shows its status or how to reach the psychologist, never "cancelled".
        pass
    return RedirectResponse(f"/booking/manage/{appointment_id}{query}", status_code=303)


def _offset(instant: datetime, zone: str) -> str:
    offset = instant.astimezone(ZoneInfo(zone)).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


@router.get("/booking/manage/{appointment_id}/calendar.ics")
def calendar_file(
    request: Request,
    appointment_id: str,
    services: ServicesDep,
    templates: TemplatesDep,
    token: TokenQuery = None,
) -> Response:
    """The booking as an iCalendar file: times in UTC, so every calendar app places it right."""
    try:
        appointment = _find_appointment(services, appointment_id, token)
    except NotFoundError:
        return _missing(request, templates)
    lang = request_language(request)
    # From PUBLIC_BASE_URL, never the Host header (API.md "Public edge").
    base = services.edge.public_base_url.rstrip("/")
    manage_url = f"{base}/booking/manage/{appointment.id}?token={quote(token or '', safe='')}"
    invite = ics_invite(
        appointment,
        title=_service_title(services, appointment.service_slug, lang),
        service=_service(services, appointment.service_slug),
        organizer_name="Эмоциональный баланс" if lang == "ru" else "Emotional Balance",
        manage_url=manage_url,
        now=services.clock.now(),
        lang=lang,
    )
    return Response(
        services.calendar_files.invite(invite),
        media_type="text/calendar; charset=utf-8",
        headers=_PRIVATE_HEADERS
        | {"Content-Disposition": 'attachment; filename="balance-booking.ics"'},
    )


def ics_invite(
    appointment: Appointment,
    *,
    title: str,
    organizer_name: str,
    manage_url: str,
    now: datetime,
    lang: str,
    service: Service | None = None,
) -> CalendarInvite:
    """The appointment as an .ics event; the same UID as the e-mails' attachments.

    DESCRIPTION and LOCATION carry the service's own facts (what it is, where, how the video link
    arrives), never anything about the client.
    """
    status = {
        AppointmentStatus.CONFIRMED: InviteStatus.CONFIRMED,
        AppointmentStatus.PENDING_PAYMENT: InviteStatus.TENTATIVE,
    }.get(appointment.status, InviteStatus.CANCELLED)
    note = (
        "Посмотреть или отменить запись: " if lang == "ru" else "View or cancel the booking: "
    ) + manage_url
    return CalendarInvite(
        uid=invite_uid(appointment.id),
        # Each move made a newer version; a cancellation is one more.
        sequence=appointment.sequence + (1 if status is InviteStatus.CANCELLED else 0),
        start=appointment.start,
        end=appointment.end,
        summary=f"{title} · {organizer_name}",
        description=invite_description(service, lang, note=note),
        location=invite_location(service, lang),
        url=manage_url,
        status=status,
        stamp=now,
    )


# ---- waitlist offers (API.md "Waitlist offers"): the page the offer e-mail links to ----------

OFFER_PAGE = "/booking/offers/{offer_id}"


def _offer_view(services: ServicesDep, offer_id: str, token: str | None) -> OfferView:
    if not token:
        raise NotFoundError("No offer token.")
    try:
        parsed = UUID(offer_id)
    except ValueError as exc:
        raise NotFoundError("Not an offer id.") from exc
    return services.get_offer.execute(parsed, token=token)


def _offer_page(
    request: Request,
    templates: TemplatesDep,
    services: ServicesDep,
    view: OfferView,
    *,
    token: str,
    outcome: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = request_language(request)
    offer = view.offer
    title = view.service_title_en if lang == "en" and view.service_title_en else None
    return templates.TemplateResponse(
        request,
        "offer.html",
        {
            "offer": offer,
            "zone": view.entry.timezone,
            "offset": _offset(offer.start, view.entry.timezone),
            "service_title": title or view.service_title,
            "open": offer.is_open_at(services.clock.now()),
            "token": token,
            "outcome": outcome,
            "booking_url": f"{BOOKING_PAGE}?{urlencode({'service': offer.service_slug})}",
        },
        status_code=status_code,
        headers=_PRIVATE_HEADERS,
    )


@router.get("/booking/offers/{offer_id}", response_class=HTMLResponse)
def offer_page(
    request: Request,
    *,
    offer_id: str,
    services: ServicesDep,
    templates: TemplatesDep,
    token: TokenQuery = None,
) -> Response:
    """A time held for someone on the waiting list: book it or let the next person have it."""
    try:
        view = _offer_view(services, offer_id, token)
    except NotFoundError:
        return _missing(request, templates)
    return _offer_page(request, templates, services, view, token=token or "")


@router.post("/booking/offers/{offer_id}", response_class=HTMLResponse)
def answer_offer(
    request: Request,
    *,
    offer_id: str,
    services: ServicesDep,
    templates: TemplatesDep,
    token: Annotated[str, Form(max_length=200)] = "",
    answer: Annotated[Literal["accept", "decline"], Form()] = "accept",
) -> Response:
    """The offer page's two buttons (plain forms: the page needs no script)."""
    try:
        view = _offer_view(services, offer_id, token)
    except NotFoundError:
        return _missing(request, templates)
    if services.public_writes is not None:
        services.public_writes.check(request.client.host if request.client else "unknown")
    outcome = "declined"
    try:
        if answer == "accept":
            booked = services.accept_offer.execute(view.offer.id, token=token)
            url = _manage_url(booked.appointment.id, booked.manage_token)
            return RedirectResponse(url, status_code=303)
        services.decline_offer.execute(view.offer.id, token=token)
    except SlotUnavailableError:
        outcome = "taken"
    except CalendarUnavailableError:
        outcome = "unavailable"
    except ConflictError:
        outcome = "closed"
    view = _offer_view(services, offer_id, token)
    return _offer_page(request, templates, services, view, token=token, outcome=outcome)
