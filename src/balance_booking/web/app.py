"""The FastAPI app factory: routers, error handlers and service endpoints."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from balance_booking import __version__
from balance_booking.web import admin_api, integrations_api, public
from balance_booking.web.deps import ServicesDep, WebServices
from balance_booking.web.errors import error_response, install_error_handlers


def create_app(services: WebServices) -> FastAPI:
    """Build the web app around already-wired use cases."""
    app = FastAPI(
        title="balance-booking",
        version=__version__,
        description="Booking API of «Эмоциональный баланс» (see API.md).",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.services = services
    install_error_handlers(app)
    app.include_router(public.router)
    app.include_router(admin_api.router)
    app.include_router(integrations_api.router)

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["service"])
    def readyz(services: ServicesDep) -> JSONResponse:
        if services.database_ready():
            return JSONResponse({"status": "ok"})
        return error_response(503, "not_ready", "The database does not answer.")

    @app.get("/metrics", tags=["service"], include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
