"""The FastAPI app factory: routers, error handlers and service endpoints."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from balance_booking import __version__
from balance_booking.web import (
    api,
    pages_admin,
    pages_audit,
    pages_auth,
    pages_booking,
    pages_integrations,
)
from balance_booking.web.audit import require_audited_admin_routes
from balance_booking.web.auth import install_auth_handlers
from balance_booking.web.deps import ServicesDep, WebServices
from balance_booking.web.edge import DOCS_PATH, BodyLimitMiddleware, SecurityHeadersMiddleware
from balance_booking.web.errors import error_response, install_error_handlers
from balance_booking.web.i18n import LanguageMiddleware
from balance_booking.web.nul_guard import RejectNulMiddleware
from balance_booking.web.request_id import RequestIdMiddleware
from balance_booking.web.schemas import ErrorBody
from balance_booking.web.templating import STATIC_DIR, build_templates
from balance_booking.web.threads import RequestThreads


def create_app(services: WebServices) -> FastAPI:
    """Build the web app around already-wired use cases."""

    threads = RequestThreads()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        threads.start()
        try:
            yield
        finally:
            await run_in_threadpool(threads.close)
            # A push-triggered sync still running finishes before the process (or test) moves on.
            await run_in_threadpool(services.push_syncs.close)

    app = FastAPI(
        lifespan=lifespan,
        title="balance-booking",
        version=__version__,
        description="Booking API of «Эмоциональный баланс» (see API.md).",
        # The Swagger page loads its assets from a CDN: development only (API.md "Public edge").
        docs_url=DOCS_PATH if services.edge.docs else None,
        redoc_url=None,
    )
    app.state.services = services
    app.state.threads = threads
    app.state.templates = build_templates()
    app.add_middleware(RejectNulMiddleware)
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(RequestIdMiddleware)
    # Outermost: the size limit before anything reads a body, the headers on every answer.
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, options=services.edge)
    install_error_handlers(app)
    install_auth_handlers(app)

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["service"],
        responses={503: {"model": ErrorBody, "description": "The database does not answer"}},
    )
    def readyz(services: ServicesDep) -> JSONResponse:
        if services.database_ready():
            return JSONResponse({"status": "ok"})
        return error_response(503, "not_ready", "The database does not answer.")

    @app.get("/metrics", tags=["service"], include_in_schema=False)
    def metrics(request: Request) -> Response:
        expected = services.edge.metrics_token
        if expected is not None:
            presented = request.headers.get("authorization", "")
            if not hmac.compare_digest(presented.encode(), f"Bearer {expected}".encode()):
                return error_response(
                    401,
                    "unauthorized",
                    "Metrics need the metrics token.",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    # The JSON API first, hottest routers first (see api.ROUTERS): routes are matched in order.
    for router in api.ROUTERS:
        app.include_router(router)
    app.include_router(pages_booking.router)
    app.include_router(pages_auth.router)
    app.include_router(pages_integrations.router)
    app.include_router(pages_admin.router)
    app.include_router(pages_audit.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    require_audited_admin_routes(app)

    return app
