"""/_emulator/: the control API for tests and demos (never part of Google's surface)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from balance_booking.emulators.google_calendar.clock import EmulatorClock
from balance_booking.emulators.google_calendar.config import EmulatorConfig
from balance_booking.emulators.google_calendar.errors import GoogleApiError, not_found
from balance_booking.emulators.google_calendar.events import EventsService
from balance_booking.emulators.google_calendar.faults import FaultBook
from balance_booking.emulators.google_calendar.models import (
    Calendar,
    ConsentPolicy,
    EmulatorSettings,
    OAuthClient,
)
from balance_booking.emulators.google_calendar.oauth_service import OAuthService
from balance_booking.emulators.google_calendar.pages import Pages, WeekRequest
from balance_booking.emulators.google_calendar.push import PushNotifier
from balance_booking.emulators.google_calendar.store import Store, add_user
from balance_booking.emulators.google_calendar.timefmt import format_utc_millis, zone_or_none


class ClientSpec(BaseModel):
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    redirect_uris: list[str]
    name: str | None = None


class UserSpec(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    timezone: str | None = None
    name: str | None = None


class CalendarSpec(BaseModel):
    email: str | None = None
    id: str | None = None
    summary: str
    timezone: str | None = None
    description: str = ""


class FaultSpec(BaseModel):
    path_prefix: str | None = None
    method: str | None = None
    status: int | None = Field(default=None, ge=100, le=599)
    reason: str | None = None
    retry_after: int | None = Field(default=None, ge=0)
    latency_ms: int = Field(default=0, ge=0)
    count: int = Field(default=1, ge=0)  # 0: until DELETE /_emulator/faults
    drop_response: bool = False


class OutageSpec(BaseModel):
    down: bool


class RevokeSpec(BaseModel):
    email: str
    client_id: str | None = None


class ExpireSyncSpec(BaseModel):
    calendar_id: str | None = None


class ClockSpec(BaseModel):
    advance_seconds: float = Field(ge=0)


class SeedEventSpec(BaseModel):
    email: str | None = None
    calendar_id: str = "primary"
    event: dict[str, Any]


class SettingsSpec(BaseModel):
    """A partial update of EmulatorSettings (unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid")

    refresh_token_lifetime_seconds: int | None = Field(default=None, ge=1)
    deleted_event_writes: Literal["forbidden", "restore"] = "forbidden"
    freebusy_max_days: int = Field(default=90, ge=1)
    freebusy_errors: dict[str, str] = Field(default_factory=dict)


class ConsentSpec(BaseModel):
    action: str = Field(pattern=r"^(allow|deny|manual)$")
    scopes: list[str] | None = None
    email: str | None = None


def build_control_router(
    *,
    config: EmulatorConfig,
    clock: EmulatorClock,
    store: Store,
    faults: FaultBook,
    notifier: PushNotifier,
    oauth: OAuthService,
    events: EventsService,
    pages: Pages,
) -> APIRouter:
    router = APIRouter(prefix="/_emulator")

    def owner(email: str | None) -> str:
        return email or config.default_user_email

    @router.get("/settings")
    def get_settings() -> dict[str, Any]:
        with store.read() as state:
            return state.settings.model_dump()

    @router.post("/settings")
    def set_settings(spec: SettingsSpec) -> dict[str, Any]:
        """Change the given settings only; the others keep their values."""
        with store.write() as state:
            merged = state.settings.model_dump() | spec.model_dump(exclude_unset=True)
            state.settings = EmulatorSettings.model_validate(merged)
            return state.settings.model_dump()

    @router.post("/reset")
    def reset() -> dict[str, Any]:
        faults.clear()
        notifier.clear()
        store.reset()
        return {"ok": True}

    @router.post("/clients", status_code=201)
    def register_client(spec: ClientSpec) -> dict[str, Any]:
        client = OAuthClient(
            client_id=spec.client_id,
            client_secret=spec.client_secret,
            redirect_uris=spec.redirect_uris,
            name=spec.name or spec.client_id,
        )
        with store.write() as state:
            state.clients[client.client_id] = client
        return client.model_dump()

    @router.get("/clients")
    def list_clients() -> list[dict[str, Any]]:
        with store.read() as state:
            return [c.model_dump() for c in state.clients.values()]

    @router.post("/users", status_code=201)
    def create_user(spec: UserSpec) -> dict[str, Any]:
        timezone = spec.timezone or config.default_timezone
        if zone_or_none(timezone) is None:
            raise GoogleApiError(400, "invalid", f"Unknown time zone {timezone}")
        with store.write() as state:
            user = add_user(state, email=spec.email, timezone=timezone, name=spec.name)
            return user.model_dump()

    @router.post("/calendars", status_code=201)
    def create_calendar(spec: CalendarSpec) -> dict[str, Any]:
        email = owner(spec.email)
        timezone = spec.timezone or config.default_timezone
        if zone_or_none(timezone) is None:
            raise GoogleApiError(400, "invalid", f"Unknown time zone {timezone}")
        with store.write() as state:
            if email not in state.users:
                raise not_found()
            calendar_id = spec.id or f"c_{len(state.calendars):04d}@group.calendar.google.com"
            if calendar_id in state.calendars:
                raise GoogleApiError(409, "duplicate", "The requested identifier already exists.")
            calendar = Calendar(
                id=calendar_id,
                owner_email=email,
                summary=spec.summary,
                timezone=timezone,
                description=spec.description,
            )
            state.calendars[calendar_id] = calendar
            state.events.setdefault(calendar_id, {})
            return calendar.model_dump()

    @router.post("/faults", status_code=201)
    def add_fault(spec: FaultSpec) -> dict[str, Any]:
        if spec.status is None and spec.latency_ms == 0 and not spec.drop_response:
            raise GoogleApiError(
                400, "invalid", "A fault needs a status, latency_ms or drop_response."
            )
        fault = faults.add(
            path_prefix=spec.path_prefix,
            method=spec.method,
            status=spec.status,
            reason=spec.reason,
            retry_after=spec.retry_after,
            latency_ms=spec.latency_ms,
            count=spec.count,
            drop_response=spec.drop_response,
        )
        return fault.to_json()

    @router.get("/faults")
    def list_faults() -> dict[str, Any]:
        return {"faults": faults.snapshot(), "outage": faults.outage}

    @router.delete("/faults")
    def clear_faults() -> dict[str, Any]:
        faults.clear()
        return {"ok": True}

    @router.post("/outage")
    def outage(spec: OutageSpec) -> dict[str, Any]:
        faults.set_outage(down=spec.down)
        return {"down": spec.down}

    @router.post("/revoke")
    def revoke(spec: RevokeSpec) -> dict[str, Any]:
        return {"revoked_tokens": oauth.revoke_user(spec.email, spec.client_id)}

    @router.post("/expire-sync-tokens")
    def expire_sync_tokens(spec: ExpireSyncSpec | None = None) -> dict[str, Any]:
        with store.write() as state:
            targets = [spec.calendar_id] if spec and spec.calendar_id else list(state.calendars)
            for calendar_id in targets:
                state.sync_generation[calendar_id] = state.sync_generation.get(calendar_id, 0) + 1
        return {"expired": targets}

    @router.get("/clock")
    def get_clock() -> dict[str, Any]:
        return {"now": format_utc_millis(clock.now()), "offset_seconds": clock.offset_seconds}

    @router.post("/clock")
    def advance_clock(spec: ClockSpec) -> dict[str, Any]:
        with store.write():
            now = clock.advance(spec.advance_seconds)
        return {"now": format_utc_millis(now), "offset_seconds": clock.offset_seconds}

    @router.post("/consent")
    def set_consent(spec: ConsentSpec) -> dict[str, Any]:
        with store.write() as state:
            state.consent_policy = ConsentPolicy(
                action=spec.action, scopes=spec.scopes, email=spec.email
            )
            return state.consent_policy.model_dump()

    @router.delete("/consent")
    def clear_consent() -> dict[str, Any]:
        with store.write() as state:
            state.consent_policy = None
        return {"auto_consent": config.auto_consent}

    @router.post("/events", status_code=201)
    def seed_event(spec: SeedEventSpec, request: Request) -> dict[str, Any]:
        email = owner(spec.email)
        return events.insert(
            email=email,
            calendar_id=spec.calendar_id,
            body=spec.event,
            base_url=str(request.base_url),
        )

    @router.patch("/events/{event_id}")
    def patch_event(event_id: str, spec: SeedEventSpec) -> dict[str, Any]:
        return events.patch(
            email=owner(spec.email),
            calendar_id=spec.calendar_id,
            event_id=event_id,
            body=spec.event,
            if_match=None,
            restore_deleted=True,
        )

    @router.delete("/events/{event_id}", status_code=204)
    def delete_event(
        event_id: str, email: str | None = None, calendar_id: str = "primary"
    ) -> Response:
        events.delete(email=owner(email), calendar_id=calendar_id, event_id=event_id, if_match=None)
        return Response(status_code=204)

    @router.get("/state")
    def dump_state() -> dict[str, Any]:
        with store.read() as state:
            return {
                "now": format_utc_millis(clock.now()),
                "users": [u.model_dump() for u in state.users.values()],
                "calendars": [c.model_dump() for c in state.calendars.values()],
                "clients": [c.model_dump() for c in state.clients.values()],
                "grants": [g.model_dump() for g in state.grants],
                "refresh_tokens": [t.model_dump() for t in state.refresh_tokens.values()],
                "access_tokens": [t.model_dump() for t in state.access_tokens.values()],
                "events": {
                    calendar_id: [
                        r.resource for r in sorted(records.values(), key=lambda r: r.order)
                    ]
                    for calendar_id, records in state.events.items()
                },
                "channels": [c.model_dump() for c in state.channels.values()],
                "sync_generation": dict(state.sync_generation),
                "consent_policy": state.consent_policy.model_dump()
                if state.consent_policy
                else None,
                "faults": faults.snapshot(),
                "outage": faults.outage,
                "push_deliveries": notifier.recent(),
            }

    @router.get("/pushes")
    def pushes() -> list[dict[str, Any]]:
        return notifier.recent()

    @router.get("/calendar", response_class=HTMLResponse)
    def week_page(
        request: Request,
        week: date | None = None,
        email: str | None = None,
        calendar_id: str = "primary",
        eid: str | None = None,
    ) -> HTMLResponse:
        html = pages.week(
            events=events,
            request=WeekRequest(
                email=owner(email),
                calendar_id=calendar_id,
                week=week,
                highlight=eid,
                now=clock.now(),
            ),
            base=str(request.base_url).rstrip("/"),
        )
        return HTMLResponse(html)

    @router.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        with store.read() as state:
            users = sorted(state.users)
        return HTMLResponse(
            pages.render("index.html", base=str(request.base_url).rstrip("/"), users=users)
        )

    return router


def build_root_redirect() -> APIRouter:
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/_emulator/", status_code=302)

    return router
