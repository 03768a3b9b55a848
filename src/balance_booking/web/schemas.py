"""JSON shapes of the HTTP API (pydantic); translated to and from domain objects here only."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi.responses import JSONResponse
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from balance_booking.application.errors import AlreadyBookedError
from balance_booking.application.integration import IntegrationStatusView
from balance_booking.application.outbox_admin import EmailStatusView
from balance_booking.application.ports import CalendarEventState, ParkedMessage, WaitlistEntry
from balance_booking.application.reconcile import ReconcileSummary
from balance_booking.application.slot_guard import SlotUnavailableError
from balance_booking.domain.appointments import Appointment
from balance_booking.domain.availability import Availability, LocalWindow, Vacation
from balance_booking.domain.offers import Offer
from balance_booking.domain.services import Price, Service, ServiceFormat
from balance_booking.web.errors import ApiError, error_response
from balance_booking.web.timefmt import render

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}$")]
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}", re.ASCII)


def _slug(value: str) -> str:
    # The admin reads this message (the page shows its own words for the field): no regex.
    if _SLUG.fullmatch(value) is None:
        raise PydanticCustomError(
            "slug",
            "The web address name may use only small Latin letters, digits and hyphens, must "
            "start with a letter or digit and be at most 63 characters, e.g. first-meeting.",
        )
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Minutes = Annotated[StrictInt, Field(ge=0, le=24 * 60)]


def _clock_step(minutes: int) -> int:
    # A step that neither divides the hour nor is whole quarter hours walks the starts around
    # the clock (every 50 minutes: 10:00, 10:50, 11:40): nobody means that.
    if not (60 % minutes == 0 and minutes % 5 == 0) and minutes % 15 != 0:
        raise PydanticCustomError(
            "slot_step",
            "Start times must fit the clock: every 5, 10, 15, 20, 30 or 60 minutes, "
            "or a multiple of 15 minutes (45, 90, 120 ...).",
        )
    return minutes


# An explicit slot step; none (null or absent) means one meeting after another (step = duration).
SlotStep = Annotated[StrictInt, Field(ge=5, le=240), AfterValidator(_clock_step)]
_UTC = ZoneInfo("UTC")


class Strict(BaseModel):
    """A JSON request body: unknown keys and NUL characters are refused.

    Integer and boolean fields are declared strict where they occur, so `"5"` or `0` are refused
    as the schema's JSON types say; dates and pairs still parse from their JSON strings and lists.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: object) -> object:
        # Never valid input, and PostgreSQL text cannot hold one (the driver would fail: a 500).
        if _contains_nul(data):
            raise PydanticCustomError("nul_character", "NUL characters are not allowed.")
        return data


def _contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_contains_nul(item) for item in value)
    return False


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


_AMOUNT = re.compile(r"\d{1,8}(\.\d{1,2})?", re.ASCII)
_PRICE_MAX = Decimal(10000000)
# Plain text (domain/services.py): line breaks and tabs are fine, other control characters are not.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain_text(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "Write some text, or send null to leave it out.")
    if _CONTROL.search(value):
        raise PydanticCustomError("control", "Only plain text: no control characters.")
    return value


Description = Annotated[str, Field(max_length=2000), AfterValidator(_plain_text)]
Location = Annotated[str, Field(max_length=500), AfterValidator(_plain_text)]


class PriceOut(BaseModel):
    amount: str  # a decimal with two places, "3500.00": exact, never a float
    currency: str  # ISO 4217

    @classmethod
    def from_domain(cls, price: Price | None) -> PriceOut | None:
        if price is None:
            return None
        return cls(amount=f"{price.amount.quantize(Decimal('0.01'))}", currency=price.currency)


def _amount(value: str) -> str:
    if _AMOUNT.fullmatch(value) is None or Decimal(value) > _PRICE_MAX:
        raise PydanticCustomError(
            "price_amount",
            "The price is a decimal string with at most two decimal places and at most "
            '10000000, e.g. "3500.00".',
        )
    return value


def _currency(value: str) -> str:
    # Imported here: Babel's currency list is needed only when a price is written.
    from babel.numbers import is_currency  # noqa: PLC0415

    if not is_currency(value):
        raise PydanticCustomError(
            "price_currency", 'The currency is an ISO 4217 code in capitals, e.g. "RUB".'
        )
    return value


class PriceIn(Strict):
    amount: Annotated[str, AfterValidator(_amount)]
    currency: Annotated[str, AfterValidator(_currency)]

    def to_domain(self) -> Price:
        return Price(amount=Decimal(self.amount), currency=self.currency)


class PublicService(BaseModel):
    slug: str
    title: str
    duration_minutes: int
    requires_payment: bool
    description: str | None
    description_en: str | None
    price: PriceOut | None
    format: ServiceFormat
    location: str | None


class PublicServices(BaseModel):
    services: list[PublicService]


class SlotOut(BaseModel):
    start: str
    end: str


class CalendarOut(BaseModel):
    status: Literal["ok", "not_connected", "disabled"]
    synced_at: str | None


class SlotsOut(BaseModel):
    service_slug: str
    timezone: str
    from_: str = Field(serialization_alias="from", validation_alias="from")
    to: str
    slots: list[SlotOut]
    calendar: CalendarOut


class OverrideIn(Strict):
    date: Annotated[date, Field(ge=date(1900, 1, 1), le=date(9000, 12, 31))]
    intervals: list[tuple[HHMM, HHMM]]


_SANE_DATE = Field(ge=date(1900, 1, 1), le=date(9000, 12, 31))


class VacationIn(Strict):
    """Days off from `from` to `to`, both included (owner-local dates)."""

    first: Annotated[date, _SANE_DATE] = Field(alias="from")
    last: Annotated[date, _SANE_DATE] = Field(alias="to")


class ScheduleIn(Strict):
    timezone: str = Field(min_length=1, max_length=64)
    weekly: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[tuple[HHMM, HHMM]]]
    overrides: list[OverrideIn] = Field(default_factory=list, max_length=1000)
    vacations: list[VacationIn] = Field(default_factory=list, max_length=100)

    def to_domain(self) -> Availability:
        weekly = {
            WEEKDAYS.index(day): tuple(LocalWindow.parse(a, b) for a, b in windows)
            for day, windows in self.weekly.items()
        }
        overrides: dict[date, tuple[LocalWindow, ...]] = {}
        for override in self.overrides:
            overrides[override.date] = tuple(LocalWindow.parse(a, b) for a, b in override.intervals)
        return Availability(
            timezone=self.timezone,
            weekly=weekly,
            overrides=overrides,
            vacations=tuple(Vacation(v.first, v.last) for v in self.vacations),
        )


class OverrideOut(BaseModel):
    date: date
    intervals: list[tuple[str, str]]


class VacationOut(BaseModel):
    first: date = Field(serialization_alias="from")
    last: date = Field(serialization_alias="to")


class ScheduleOut(BaseModel):
    timezone: str
    weekly: dict[str, list[tuple[str, str]]]
    overrides: list[OverrideOut]
    vacations: list[VacationOut]

    @classmethod
    def from_domain(cls, availability: Availability) -> ScheduleOut:
        return cls(
            timezone=availability.timezone,
            weekly={
                name: [w.format() for w in availability.weekly.get(index, ())]
                for index, name in enumerate(WEEKDAYS)
            },
            overrides=[
                OverrideOut(date=day, intervals=[w.format() for w in windows])
                for day, windows in sorted(availability.overrides.items())
            ],
            vacations=[VacationOut(first=v.first, last=v.last) for v in availability.vacations],
        )


_CUTOFF_MAX_MINUTES = 30 * 24 * 60  # 30 days (domain/services.py)


class ServiceOut(BaseModel):
    slug: str
    title: str
    title_en: str | None
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    slot_step_minutes: int
    min_notice_minutes: int
    max_days_ahead: int
    daily_limit: int | None
    requires_payment: bool
    active: bool
    change_cutoff_minutes: int
    description: str | None
    description_en: str | None
    price: PriceOut | None
    format: ServiceFormat
    location: str | None

    @classmethod
    def from_domain(cls, service: Service) -> ServiceOut:
        def minutes(value: timedelta) -> int:
            return int(value.total_seconds() // 60)

        return cls(
            slug=service.slug,
            title=service.title,
            title_en=service.title_en,
            duration_minutes=minutes(service.duration),
            buffer_before_minutes=minutes(service.buffer_before),
            buffer_after_minutes=minutes(service.buffer_after),
            slot_step_minutes=minutes(service.step),
            min_notice_minutes=minutes(service.min_notice),
            max_days_ahead=service.max_days_ahead,
            daily_limit=service.daily_limit,
            requires_payment=service.requires_payment,
            active=service.active,
            change_cutoff_minutes=minutes(service.change_cutoff),
            description=service.description,
            description_en=service.description_en,
            price=PriceOut.from_domain(service.price),
            format=service.format,
            location=service.location,
        )


class ServicesOut(BaseModel):
    services: list[ServiceOut]


class ServiceIn(Strict):
    slug: Slug
    title: str = Field(min_length=1, max_length=200)
    title_en: str | None = Field(default=None, min_length=1, max_length=200)
    duration_minutes: Minutes
    buffer_before_minutes: Minutes = 0
    buffer_after_minutes: Minutes = 0
    slot_step_minutes: SlotStep | None = None
    min_notice_minutes: StrictInt = Field(default=0, ge=0, le=60 * 24 * 365)
    max_days_ahead: StrictInt = Field(default=90, ge=1, le=730)
    daily_limit: StrictInt | None = Field(default=None, ge=1, le=1000)
    requires_payment: StrictBool = False
    active: StrictBool = True
    change_cutoff_minutes: StrictInt = Field(default=0, ge=0, le=_CUTOFF_MAX_MINUTES)
    description: Description | None = None
    description_en: Description | None = None
    price: PriceIn | None = None
    format: ServiceFormat = ServiceFormat.EITHER
    location: Location | None = None

    def to_domain(self) -> Service:
        return Service(
            slug=self.slug,
            title=self.title,
            title_en=self.title_en,
            duration=timedelta(minutes=self.duration_minutes),
            buffer_before=timedelta(minutes=self.buffer_before_minutes),
            buffer_after=timedelta(minutes=self.buffer_after_minutes),
            slot_step=None
            if self.slot_step_minutes is None
            else timedelta(minutes=self.slot_step_minutes),
            min_notice=timedelta(minutes=self.min_notice_minutes),
            max_days_ahead=self.max_days_ahead,
            daily_limit=self.daily_limit,
            requires_payment=self.requires_payment,
            active=self.active,
            change_cutoff=timedelta(minutes=self.change_cutoff_minutes),
            description=self.description,
            description_en=self.description_en,
            price=None if self.price is None else self.price.to_domain(),
            format=self.format,
            location=self.location,
        )


def service_defaults() -> dict[str, object]:
    """What POST /api/admin/services assumes for each field it does not require.

    The admin page's "new kind of meeting" form starts from these (rendered into the page), so
    the page and the API never disagree about a default.
    """
    return {
        name: field.default
        for name, field in ServiceIn.model_fields.items()
        if not field.is_required()
    }


class ServicePatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    title_en: str | None = Field(default=None, min_length=1, max_length=200)
    duration_minutes: Minutes | None = None
    buffer_before_minutes: Minutes | None = None
    buffer_after_minutes: Minutes | None = None
    slot_step_minutes: SlotStep | None = None
    min_notice_minutes: StrictInt | None = Field(default=None, ge=0, le=60 * 24 * 365)
    max_days_ahead: StrictInt | None = Field(default=None, ge=1, le=730)
    daily_limit: StrictInt | None = Field(default=None, ge=1, le=1000)
    requires_payment: StrictBool | None = None
    active: StrictBool | None = None
    change_cutoff_minutes: StrictInt | None = Field(default=None, ge=0, le=_CUTOFF_MAX_MINUTES)
    description: Description | None = None
    description_en: Description | None = None
    price: PriceIn | None = None
    format: ServiceFormat | None = None
    location: Location | None = None

    def changes(self) -> dict[str, object]:
        """Domain field changes for the fields the client sent (explicit null clears)."""
        sent = self.model_dump(exclude_unset=True)
        minutes_fields = {
            "duration_minutes": "duration",
            "buffer_before_minutes": "buffer_before",
            "buffer_after_minutes": "buffer_after",
            "slot_step_minutes": "slot_step",
            "min_notice_minutes": "min_notice",
            "change_cutoff_minutes": "change_cutoff",
        }
        changes: dict[str, object] = {}
        for key, value in sent.items():
            if value is None and key not in _NULLABLE:
                raise ApiError(422, "invalid_request", "This field cannot be null.", field=key)
            if key in minutes_fields:
                changes[minutes_fields[key]] = None if value is None else timedelta(minutes=value)
            elif key == "price":
                changes[key] = None if self.price is None else self.price.to_domain()
            elif key == "format":
                changes[key] = ServiceFormat(value)
            else:
                changes[key] = value
        return changes


_NULLABLE = frozenset(
    {
        "title_en",
        "slot_step_minutes",
        "daily_limit",
        "description",
        "description_en",
        "price",
        "location",
    }
)


EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=320)]
Phone = Annotated[str, StringConstraints(pattern=r"^[0-9+()\-.\s]{5,40}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Comment = Annotated[str, StringConstraints(max_length=2000)]


class ClientIn(Strict):
    name: Name
    email: Email
    phone: Phone | None = None


class BookingIn(Strict):
    service_slug: str = Field(min_length=1, max_length=63)
    start: str = Field(max_length=40)
    timezone: str = Field(min_length=1, max_length=64)
    client: ClientIn
    comment: Comment | None = None
    # The language of the messages the client gets (API.md "E-mail"); default Russian.
    language: Literal["ru", "en"] = "ru"
    # The privacy policy box: required (true) when PRIVACY_POLICY_URL is set.
    consent: bool = False


class AppointmentOut(BaseModel):
    id: UUID
    status: str
    service_slug: str
    start: str
    end: str
    timezone: str
    hold_expires_at: str | None
    manage_token: str | None = None
    series_id: UUID | None = None  # a weekly series booked by the admin


class AppointmentEnvelope(BaseModel):
    appointment: AppointmentOut


# The answer every public write may get (API.md "Public edge"), for the OpenAPI document.
RATE_LIMITED: dict[int | str, dict[str, object]] = {
    429: {"model": ErrorBody, "description": "rate_limited: too many writes from this address"}
}


class ConflictBody(ErrorBody):
    alternatives: list[SlotOut]


class AlreadyBookedBody(ErrorBody):
    """409 `already_booked`: the client holds this slot already. Nothing about the booking is
    told beyond what the request said; the manage link goes to the booking's e-mail address."""

    email_resent: bool


def already_booked_response(exc: AlreadyBookedError) -> JSONResponse:
    """409 `already_booked` (an AlreadyBookedBody)."""
    return error_response(409, "already_booked", str(exc), extra={"email_resent": exc.email_resent})


def slot_unavailable_response(exc: SlotUnavailableError, zone: ZoneInfo) -> JSONResponse:
    """409 `slot_unavailable` with the nearest free slots rendered in `zone` (a ConflictBody)."""
    alternatives = [
        {"start": render(s.start, zone), "end": render(s.end, zone)} for s in exc.alternatives
    ]
    return error_response(409, "slot_unavailable", str(exc), extra={"alternatives": alternatives})


class CancelIn(Strict):
    token: str = Field(min_length=1, max_length=200)


class WaitlistJoined(BaseModel):
    """The entry a join answers with (201 new; 200 `already_waiting`: the one they had)."""

    id: UUID
    already_waiting: bool = False


class WaitlistIn(Strict):
    service_slug: str = Field(min_length=1, max_length=63)
    name: Name
    email: Email
    phone: Phone | None = None
    timezone: str = Field(min_length=1, max_length=64)
    preferred_from: str | None = Field(default=None, max_length=40)
    preferred_to: str | None = Field(default=None, max_length=40)
    comment: Comment | None = None
    consent: bool = False  # as in BookingIn
    language: Literal["ru", "en"] = "ru"  # of the e-mails it gets (offers)


class CreatedId(BaseModel):
    id: UUID


class TrackingIn(Strict):
    event: str = Field(min_length=1, max_length=64)
    properties: dict[
        Annotated[str, StringConstraints(max_length=64)],
        Annotated[str, StringConstraints(max_length=200)],
    ] = Field(max_length=20)


class CalendarEventOut(BaseModel):
    id: str | None
    state: Literal["pending", "created", "failed", "deleted"]


def appointment_out(
    appointment: Appointment, *, token: str | None = None, timezone: str | None = None
) -> AppointmentOut:
    """The appointment in the client's time zone (or in `timezone` when they asked for one)."""
    timezone = timezone or appointment.client_timezone
    zone = ZoneInfo(timezone)
    hold = appointment.hold_expires_at
    return AppointmentOut(
        id=appointment.id,
        status=appointment.status.value,
        service_slug=appointment.service_slug,
        start=render(appointment.start, zone),
        end=render(appointment.end, zone),
        timezone=timezone,
        hold_expires_at=None if hold is None else render(hold, zone),
        manage_token=token,
        series_id=appointment.series_id,
    )


def calendar_event_out(state: CalendarEventState) -> CalendarEventOut:
    known = ("pending", "created", "failed", "deleted")
    value = state.state if state.state in known else "pending"
    return CalendarEventOut(id=state.event_id, state=value)


class MoveOut(BaseModel):
    """One earlier time of an appointment (in the appointment's time zone)."""

    from_start: str
    from_end: str
    to_start: str
    to_end: str
    moved_by: Literal["client", "admin"]
    moved_at: str


class AdminAppointmentOut(AppointmentOut):
    client_name: str
    client_email: str | None
    client_phone: str | None
    comment: str | None
    calendar_event: CalendarEventOut
    moves: list[MoveOut] = Field(default_factory=list)


def admin_appointment_out(
    appointment: Appointment, state: CalendarEventState, *, token: str | None = None
) -> AdminAppointmentOut:
    zone = ZoneInfo(appointment.client_timezone)
    return AdminAppointmentOut(
        **appointment_out(appointment, token=token).model_dump(),
        client_name=appointment.client.name,
        client_email=appointment.client.email,
        client_phone=appointment.client.phone,
        comment=appointment.comment,
        calendar_event=calendar_event_out(state),
        moves=[
            MoveOut(
                from_start=render(move.from_start, zone),
                from_end=render(move.from_end, zone),
                to_start=render(move.to_start, zone),
                to_end=render(move.to_end, zone),
                moved_by=move.moved_by.value,
                moved_at=render(move.moved_at, zone),
            )
            for move in appointment.moves
        ],
    )


class AdminAppointments(BaseModel):
    appointments: list[AdminAppointmentOut]


class WaitlistEntryOut(BaseModel):
    id: UUID
    service_slug: str
    name: str
    email: str
    phone: str | None
    timezone: str
    preferred_from: str | None
    preferred_to: str | None
    comment: str | None
    created_at: str
    status: str = "waiting"  # waiting | offered | booked | expired
    offer: WaitlistOfferOut | None = None  # the time held for it now, while offered


class WaitlistOfferOut(BaseModel):
    id: UUID
    start: str
    end: str
    expires_at: str


def waitlist_entry_out(entry: WaitlistEntry, offer: Offer | None = None) -> WaitlistEntryOut:
    def instant(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat(timespec="seconds")

    return WaitlistEntryOut(
        id=entry.entry_id,
        service_slug=entry.service_slug,
        name=entry.name,
        email=entry.email,
        phone=entry.phone,
        timezone=entry.timezone,
        preferred_from=instant(entry.preferred_from),
        preferred_to=instant(entry.preferred_to),
        comment=entry.comment,
        created_at=entry.created_at.isoformat(timespec="seconds"),
        status=entry.status.value,
        offer=None
        if offer is None
        else WaitlistOfferOut(
            id=offer.id,
            start=instant(offer.start) or "",
            end=instant(offer.end) or "",
            expires_at=instant(offer.expires_at) or "",
        ),
    )


class WaitlistOut(BaseModel):
    entries: list[WaitlistEntryOut]


class PushOut(BaseModel):
    active: bool
    expires_at: str | None


class ReconcileOut(BaseModel):
    """What a sync did to our exported events (extension of API.md; docs/export.md)."""

    at: str | None
    checked: int
    restored: int
    moved_back: int
    removed: int
    failed: int
    error: str | None

    @classmethod
    def from_summary(cls, summary: ReconcileSummary, *, at: str | None) -> ReconcileOut:
        return cls(
            at=at,
            checked=summary.checked,
            restored=summary.restored,
            moved_back=summary.moved_back,
            removed=summary.removed,
            failed=summary.failed,
            error=summary.error,
        )


class IntegrationOut(BaseModel):
    enabled: bool
    status: str
    account_email: str | None
    calendar_id: str | None
    timezone: str | None
    last_sync_at: str | None
    last_sync_ok: bool | None
    last_error: str | None
    next_sync_at: str | None
    busy_intervals: int
    push: PushOut
    reconcile: ReconcileOut | None = None
    # Google fidelity, round 2 (API.md).
    blocking_calendars: int = 1
    refresh_token_expires_at: str | None = None
    oauth_client_rejected: bool = False
    writes_paused_until: str | None = None

    @classmethod
    def from_view(cls, view: IntegrationStatusView) -> IntegrationOut:
        def instant(value: datetime | None) -> str | None:
            return None if value is None else value.astimezone(_UTC).isoformat(timespec="seconds")

        return cls(
            enabled=view.enabled,
            status=view.status,
            account_email=view.account_email,
            calendar_id=view.calendar_id,
            timezone=view.timezone,
            last_sync_at=instant(view.last_sync_at),
            last_sync_ok=view.last_sync_ok,
            last_error=view.last_error,
            next_sync_at=instant(view.next_sync_at),
            busy_intervals=view.busy_intervals,
            push=PushOut(active=view.push_active, expires_at=instant(view.push_expires_at)),
            reconcile=None
            if view.reconcile is None
            else ReconcileOut.from_summary(view.reconcile, at=instant(view.last_reconcile_at)),
            blocking_calendars=view.blocking_calendars,
            refresh_token_expires_at=instant(view.refresh_token_expires_at),
            oauth_client_rejected=view.oauth_client_rejected,
            writes_paused_until=instant(view.writes_paused_until),
        )


class ConnectOut(BaseModel):
    authorization_url: str


class SettingsIn(Strict):
    enabled: StrictBool


class SyncOut(BaseModel):
    status: str
    busy_intervals: int
    changed: bool
    duration_ms: int
    reconcile: ReconcileOut | None = None


class BusyBlockOut(BaseModel):
    start: str
    end: str


class BusyOut(BaseModel):
    """The busy mirror in a range, in the owner's zone (extension of API.md; docs/pages.md)."""

    timezone: str
    from_: str = Field(serialization_alias="from")
    to: str
    busy: list[BusyBlockOut]


class SessionOut(BaseModel):
    kind: Literal["token", "session"]
    label: str
    csrf_token: str | None
    expires_at: str | None


class WebhookOut(BaseModel):
    result: Literal["sync_scheduled", "ignored"]
    reason: str | None = None


# --- the outbox as the admin sees it (docs/email.md) ------------------------------------------


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(_UTC).isoformat(timespec="seconds")


class EmailStatusOut(BaseModel):
    enabled: bool
    status: Literal["off", "ok", "failing"]
    failing_since: str | None
    last_error: str | None
    pending: int
    parked: int
    practitioner_notices: bool
    reminders: list[str]

    @classmethod
    def from_view(cls, view: EmailStatusView) -> EmailStatusOut:
        return cls(
            enabled=view.enabled,
            status=view.status.value,
            failing_since=_instant(view.failing_since),
            last_error=view.last_error,
            pending=view.pending,
            parked=view.parked,
            practitioner_notices=view.practitioner_notices,
            reminders=list(view.reminders),
        )


class ParkedMessageOut(BaseModel):
    id: int
    kind: str
    topic: str
    appointment_id: UUID | None
    attempts: int
    reason: str | None
    parked_at: str

    @classmethod
    def from_parked(cls, parked: ParkedMessage) -> ParkedMessageOut:
        message = parked.message
        return cls(
            id=message.message_id,
            kind=message.kind,
            topic=message.topic,
            appointment_id=message.appointment_id,
            attempts=message.attempts,
            reason=parked.reason,
            parked_at=parked.parked_at.astimezone(_UTC).isoformat(timespec="seconds"),
        )


class ParkedMessagesOut(BaseModel):
    messages: list[ParkedMessageOut]


class RequeuedOut(BaseModel):
    id: int
    status: Literal["pending"] = "pending"
