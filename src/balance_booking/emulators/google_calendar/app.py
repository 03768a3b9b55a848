"""Assembly of the emulator: one FastAPI app serving Google's OAuth and Calendar paths."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import fastapi
import uvicorn
from fastapi import Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from balance_booking.emulators.google_calendar.calendar_api import build_calendar_router
from balance_booking.emulators.google_calendar.channels import ChannelsService
from balance_booking.emulators.google_calendar.clock import EmulatorClock
from balance_booking.emulators.google_calendar.config import EmulatorConfig
from balance_booking.emulators.google_calendar.control import (
    build_control_router,
    build_root_redirect,
)
from balance_booking.emulators.google_calendar.errors import GoogleApiError, OAuthError
from balance_booking.emulators.google_calendar.events import EventsService
from balance_booking.emulators.google_calendar.faults import (
    CALENDAR_PREFIX,
    FaultBook,
    FaultMiddleware,
)
from balance_booking.emulators.google_calendar.freebusy import FreeBusyService
from balance_booking.emulators.google_calendar.models import State
from balance_booking.emulators.google_calendar.oauth import build_oauth_router
from balance_booking.emulators.google_calendar.oauth_service import OAuthService
from balance_booking.emulators.google_calendar.pages import Pages
from balance_booking.emulators.google_calendar.push import PushNotifier
from balance_booking.emulators.google_calendar.responses import (
    google_error_response,
    oauth_error_response,
)
from balance_booking.emulators.google_calendar.store import Store

__all__ = ["EmulatorConfig", "create_emulator_app", "run_emulator"]


def create_emulator_app(config: EmulatorConfig) -> fastapi.FastAPI:
    """A fresh emulator (its own state, clock and push worker) configured by `config`."""
    clock = EmulatorClock()
    store = Store(config=config, clock=clock)
    notifier = PushNotifier(store=store, config=config)
    faults = FaultBook()
    pages = Pages()

    def on_change(state: State, calendar_id: str) -> None:
        notifier.calendar_changed(state, calendar_id)

    oauth = OAuthService(store=store, config=config)
    events = EventsService(store=store, config=config, on_change=on_change)
    freebusy = FreeBusyService(store=store, config=config)
    channels = ChannelsService(store=store, config=config, notifier=notifier)

    @asynccontextmanager
    async def lifespan(_: fastapi.FastAPI) -> AsyncIterator[None]:
        yield
        notifier.stop()

    app = fastapi.FastAPI(
        title="Google Calendar emulator",
        lifespan=lifespan,
        docs_url="/_emulator/docs",
        redoc_url=None,
        openapi_url="/_emulator/openapi.json",
    )
    app.include_router(build_oauth_router(oauth=oauth, store=store, pages=pages))
    app.include_router(
        build_calendar_router(oauth=oauth, events=events, freebusy=freebusy, channels=channels)
    )
    app.include_router(
        build_control_router(
            config=config,
            clock=clock,
            store=store,
            faults=faults,
            notifier=notifier,
            oauth=oauth,
            events=events,
            pages=pages,
        )
    )
    app.include_router(build_root_redirect())
    app.add_middleware(FaultMiddleware, faults=faults)

    @app.exception_handler(GoogleApiError)
    async def google_error(request: Request, exc: GoogleApiError) -> Response:
        return google_error_response(request, exc)

    @app.exception_handler(OAuthError)
    async def oauth_error(_: Request, exc: OAuthError) -> Response:
        return oauth_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        # Calendar callers expect Google's error JSON; the control API keeps FastAPI's 422.
        if request.url.path.startswith(CALENDAR_PREFIX):
            return google_error_response(
                request, GoogleApiError(400, "invalid", "Invalid request: " + str(exc.errors()[:1]))
            )
        return await request_validation_exception_handler(request, exc)

    return app


def run_emulator(*, host: str, port: int, config: EmulatorConfig) -> None:
    """Serve the emulator until interrupted (blocking)."""
    uvicorn.run(create_emulator_app(config), host=host, port=port, log_level="info")
