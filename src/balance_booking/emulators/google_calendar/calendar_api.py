"""Routes under /calendar/v3/: bearer and scope checks, parameter parsing, Google's shapes."""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from balance_booking.emulators.google_calendar.channels import ChannelsService
from balance_booking.emulators.google_calendar.errors import GoogleApiError, bad_request, not_found
from balance_booking.emulators.google_calendar.event_model import EVENT_TYPES
from balance_booking.emulators.google_calendar.events import (
    DEFAULT_PAGE_SIZE,
    EventsService,
    ListQuery,
    parse_private_filters,
    require_dict,
)
from balance_booking.emulators.google_calendar.freebusy import FreeBusyService
from balance_booking.emulators.google_calendar.models import Calendar
from balance_booking.emulators.google_calendar.oauth_service import (
    OAuthService,
    Principal,
    TokenRefusedError,
)
from balance_booking.emulators.google_calendar.responses import google_json
from balance_booking.emulators.google_calendar.scopes import METHOD_SCOPES, RPC_METHOD_NAMES
from balance_booking.emulators.google_calendar.timefmt import parse_rfc3339, zone_or_none

_REALM = 'Bearer realm="https://accounts.google.com/"'
_CREDENTIALS_HELP = (
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    # The legacy query parameters still work at Google.
    return request.query_params.get("access_token") or request.query_params.get("oauth_token")


def authorize(oauth: OAuthService, request: Request, method: str) -> Principal:
    """401 for a missing/invalid token, 403 insufficientPermissions for a scope that lacks it."""
    try:
        principal = oauth.principal(bearer_token(request))
    except TokenRefusedError as problem:
        if problem.missing:
            raise GoogleApiError(
                401,
                "required",
                "Login Required.",
                location="Authorization",
                location_type="header",
                top_message=f"Request is missing required authentication credential. {_CREDENTIALS_HELP}",
                with_rpc_status=True,
                headers={"WWW-Authenticate": _REALM},
            ) from problem
        raise GoogleApiError(
            401,
            "authError",
            "Invalid Credentials",
            location="Authorization",
            location_type="header",
            top_message=f"Request had invalid authentication credentials. {_CREDENTIALS_HELP}",
            with_rpc_status=True,
            headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'},
        ) from problem
    accepted = METHOD_SCOPES[method]
    if not principal.scopes & accepted:
        raise GoogleApiError(
            403,
            "insufficientPermissions",
            "Insufficient Permission",
            top_message="Request had insufficient authentication scopes.",
            with_rpc_status=True,
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": "calendar-json.googleapis.com",
                        "method": RPC_METHOD_NAMES[method],
                    },
                }
            ],
            headers={
                "WWW-Authenticate": (
                    f'{_REALM}, error="insufficient_scope", scope="{" ".join(sorted(accepted))}"'
                )
            },
        )
    return principal


def _bool(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    if raw.lower() in {"true", "1"}:
        return True
    if raw.lower() in {"false", "0"}:
        return False
    raise bad_request(f"Invalid value for {name}: {raw}", reason="invalid", location=name)


def _time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return parse_rfc3339(raw)
    except ValueError as exc:
        raise bad_request(
            f"Invalid value for {name}: {raw}", reason="invalid", location=name
        ) from exc


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_request(
            f"Invalid value for {name}: {raw}", reason="invalid", location=name
        ) from exc
    if value < 1:
        raise bad_request(f"Invalid value for {name}: {raw}", reason="invalid", location=name)
    return value


def _zone(request: Request) -> ZoneInfo | None:
    raw = request.query_params.get("timeZone")
    if raw is None:
        return None
    zone = zone_or_none(raw)
    if zone is None:
        raise bad_request(f"Invalid time zone: {raw}", reason="invalid", location="timeZone")
    return zone


def list_query(request: Request) -> ListQuery:
    params = request.query_params
    event_types = params.getlist("eventTypes")
    unknown = [t for t in event_types if t not in EVENT_TYPES]
    if unknown:
        raise bad_request(
            f"Invalid value for eventTypes: {unknown[0]}", reason="invalid", location="eventTypes"
        )
    return ListQuery(
        time_min=_time(request, "timeMin"),
        time_max=_time(request, "timeMax"),
        single_events=_bool(request, "singleEvents"),
        order_by=params.get("orderBy"),
        show_deleted=_bool(request, "showDeleted"),
        sync_token=params.get("syncToken"),
        page_token=params.get("pageToken"),
        max_results=_int(request, "maxResults", DEFAULT_PAGE_SIZE),
        updated_min=_time(request, "updatedMin"),
        private_properties=parse_private_filters(
            params.getlist("privateExtendedProperty"), "privateExtendedProperty"
        ),
        shared_properties=parse_private_filters(
            params.getlist("sharedExtendedProperty"), "sharedExtendedProperty"
        ),
        q=params.get("q"),
        ical_uid=params.get("iCalUID"),
        event_types=frozenset(event_types) if event_types else None,
        time_zone=_zone(request),
        present=frozenset(params.keys()),
    )


def parse_json_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise GoogleApiError(400, "parseError", "Parse Error") from exc
    return require_dict(parsed)


def _calendar_entry(calendar: Calendar) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": "calendar#calendarListEntry",
        "etag": f'"{zlib.crc32(f"{calendar.id}|{calendar.summary}|{calendar.timezone}".encode())}"',
        "id": calendar.id,
        "summary": calendar.summary,
        "timeZone": calendar.timezone,
        "colorId": "14",
        "backgroundColor": "#9fe1e7",
        "foregroundColor": "#000000",
        "selected": True,
        "accessRole": "owner",
        "defaultReminders": [{"method": "popup", "minutes": 30}],
        "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    }
    if calendar.description:
        entry["description"] = calendar.description
    if calendar.primary:
        entry["primary"] = True
        entry["notificationSettings"] = {
            "notifications": [
                {"type": "eventCreation", "method": "email"},
                {"type": "eventChange", "method": "email"},
                {"type": "eventCancellation", "method": "email"},
                {"type": "eventResponse", "method": "email"},
            ]
        }
    else:
        entry["dataOwner"] = calendar.owner_email
    return entry


def build_calendar_router(
    *,
    oauth: OAuthService,
    events: EventsService,
    freebusy: FreeBusyService,
    channels: ChannelsService,
) -> APIRouter:
    router = APIRouter(prefix="/calendar/v3")

    async def with_body(
        request: Request,
        method: str,
        handler: Callable[[Principal, dict[str, Any]], Any],
        *,
        empty: bool = False,
    ) -> Response:
        """Read the body on the event loop; check the token, parse and act in a worker thread."""
        raw = await request.body()

        def run() -> Any:
            principal = authorize(oauth, request, method)
            return handler(principal, parse_json_body(raw))

        result = await run_in_threadpool(run)
        if empty:
            return Response(status_code=204)
        return google_json(request, result)

    @router.get("/users/me/calendarList")
    def calendar_list(request: Request) -> Response:
        principal = authorize(oauth, request, "calendarList.list")
        calendars = events.calendars_of(principal.email)
        items = [_calendar_entry(c) for c in calendars]
        # The list only changes through the control API, so a token is a digest of the entries:
        # an unchanged list syncs to no items; any change returns the whole list again.
        digest = hashlib.sha256(
            json.dumps(items, sort_keys=True, default=str).encode()
        ).hexdigest()[:24]
        token = f"CL{digest}"
        presented = request.query_params.get("syncToken")
        if presented is not None:
            if not re.fullmatch(r"CL[0-9a-f]{24}", presented):
                raise GoogleApiError(
                    410,
                    "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                    location="syncToken",
                    location_type="parameter",
                )
            if presented == token:
                items = []
        return google_json(
            request,
            {
                "kind": "calendar#calendarList",
                "etag": '"p33c9vs0p9tpa0g"',
                "nextSyncToken": token,
                "items": items,
            },
        )

    @router.get("/users/me/calendarList/{calendar_id}")
    def calendar_list_get(request: Request, calendar_id: str) -> Response:
        principal = authorize(oauth, request, "calendarList.get")
        calendar = events.calendar(email=principal.email, calendar_id=calendar_id)
        return google_json(request, _calendar_entry(calendar))

    @router.get("/users/me/settings")
    def settings_list(request: Request) -> Response:
        principal = authorize(oauth, request, "settings.list")
        calendar = events.calendar(email=principal.email, calendar_id="primary")
        items = [_setting(name, value) for name, value in _settings(calendar).items()]
        return google_json(
            request, {"kind": "calendar#settings", "etag": '"settings"', "items": items}
        )

    @router.get("/users/me/settings/{setting}")
    def settings_get(request: Request, setting: str) -> Response:
        principal = authorize(oauth, request, "settings.get")
        calendar = events.calendar(email=principal.email, calendar_id="primary")
        values = _settings(calendar)
        if setting not in values:
            raise not_found()
        return google_json(request, _setting(setting, values[setting]))

    @router.get("/calendars/{calendar_id}")
    def calendars_get(request: Request, calendar_id: str) -> Response:
        principal = authorize(oauth, request, "calendars.get")
        calendar = events.calendar(email=principal.email, calendar_id=calendar_id)
        body: dict[str, Any] = {
            "kind": "calendar#calendar",
            "etag": _calendar_entry(calendar)["etag"],
            "id": calendar.id,
            "summary": calendar.summary,
            "timeZone": calendar.timezone,
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }
        if calendar.description:
            body["description"] = calendar.description
        return google_json(request, body)

    @router.post("/freeBusy")
    async def freebusy_query(request: Request) -> Response:
        def run(principal: Principal, body: dict[str, Any]) -> Any:
            return freebusy.query(email=principal.email, body=body)

        return await with_body(request, "freebusy.query", run)

    @router.get("/calendars/{calendar_id}/events")
    def events_list(request: Request, calendar_id: str) -> Response:
        principal = authorize(oauth, request, "events.list")
        result = events.list_events(
            email=principal.email, calendar_id=calendar_id, query=list_query(request)
        )
        return google_json(request, result)

    @router.post("/calendars/{calendar_id}/events")
    async def events_insert(request: Request, calendar_id: str) -> Response:
        def run(principal: Principal, body: dict[str, Any]) -> Any:
            return events.insert(
                email=principal.email,
                calendar_id=calendar_id,
                body=body,
                base_url=str(request.base_url),
            )

        return await with_body(request, "events.insert", run)

    @router.post("/calendars/{calendar_id}/events/watch")
    async def events_watch(request: Request, calendar_id: str) -> Response:
        def run(principal: Principal, body: dict[str, Any]) -> Any:
            return channels.watch(
                principal=principal,
                calendar_id=calendar_id,
                body=body,
                base_url=str(request.base_url),
            )

        return await with_body(request, "events.watch", run)

    @router.get("/calendars/{calendar_id}/events/{event_id}")
    def events_get(request: Request, calendar_id: str, event_id: str) -> Response:
        principal = authorize(oauth, request, "events.get")
        result = events.get(
            email=principal.email,
            calendar_id=calendar_id,
            event_id=event_id,
            time_zone=_zone(request),
        )
        return google_json(request, result)

    @router.get("/calendars/{calendar_id}/events/{event_id}/instances")
    def events_instances(request: Request, calendar_id: str, event_id: str) -> Response:
        principal = authorize(oauth, request, "events.instances")
        query = list_query(request)
        result = events.instances(
            email=principal.email, calendar_id=calendar_id, event_id=event_id, query=query
        )
        return google_json(request, result)

    @router.patch("/calendars/{calendar_id}/events/{event_id}")
    async def events_patch(request: Request, calendar_id: str, event_id: str) -> Response:
        def run(principal: Principal, body: dict[str, Any]) -> Any:
            return events.patch(
                email=principal.email,
                calendar_id=calendar_id,
                event_id=event_id,
                body=body,
                if_match=request.headers.get("if-match"),
            )

        return await with_body(request, "events.patch", run)

    @router.put("/calendars/{calendar_id}/events/{event_id}")
    async def events_update(request: Request, calendar_id: str, event_id: str) -> Response:
        def run(principal: Principal, body: dict[str, Any]) -> Any:
            return events.patch(
                email=principal.email,
                calendar_id=calendar_id,
                event_id=event_id,
                body=body,
                if_match=request.headers.get("if-match"),
                replace=True,
            )

        return await with_body(request, "events.update", run)

    @router.delete("/calendars/{calendar_id}/events/{event_id}")
    def events_delete(request: Request, calendar_id: str, event_id: str) -> Response:
        principal = authorize(oauth, request, "events.delete")
        events.delete(
            email=principal.email,
            calendar_id=calendar_id,
            event_id=event_id,
            if_match=request.headers.get("if-match"),
        )
        return Response(status_code=204)

    @router.post("/channels/stop")
    async def channels_stop(request: Request) -> Response:
        def run(principal: Principal, body: dict[str, Any]) -> None:
            channels.stop(principal=principal, body=body)

        return await with_body(request, "channels.stop", run, empty=True)

    @router.api_route(
        "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    def unknown(rest: str) -> Response:
        del rest
        raise not_found()

    return router


def _settings(calendar: Calendar) -> dict[str, str]:
    return {
        "timezone": calendar.timezone,
        "locale": "en",
        "weekStart": "1",
        "format24HourTime": "true",
    }


def _setting(name: str, value: str) -> dict[str, Any]:
    return {"kind": "calendar#setting", "etag": f'"{name}"', "id": name, "value": value}
